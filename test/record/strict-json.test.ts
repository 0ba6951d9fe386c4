// Duplicate JSON keys are refused, never resolved: in the envelope (`payload` twice), in a signature, and anywhere in the signed statement.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordListCommand, recordSignCommand, recordVerifyCommand } from '../../src/commands/record.js';
import { parseEnvelopeJson, signEnvelope } from '../../src/record/dsse.js';
import { encodeStatement, parseStatement, STATEMENT_PAYLOAD_TYPE } from '../../src/record/statement.js';
import { findDuplicateKey, parseJsonStrict } from '../../src/record/strict-json.js';
import { commandResult, commandResultAsync, makeWorkspace, recordSchemaValidator, smallPredicate, statementBytes, type Workspace } from '../fixtures/records/workspace.js';

describe('findDuplicateKey', () => {
  const cases: [string, string, { key: string; pointer: string } | undefined][] = [
    ['no keys', '[1, "a", null, true]', undefined],
    ['distinct keys', '{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}', undefined],
    ['the same key in sibling objects', '[{"k":1},{"k":2}]', undefined],
    ['the same key at two depths', '{"k":{"k":{"k":1}}}', undefined],
    ['a top-level duplicate', '{"payload":"a","payload":"b"}', { key: 'payload', pointer: '/payload' }],
    ['a duplicate spelled with an escape', '{"payload":"a","\\u0070ayload":"b"}', { key: 'payload', pointer: '/payload' }],
    ['a duplicate deep inside arrays', '{"a":[{"b":[{"c":1,"c":2}]}]}', { key: 'c', pointer: '/a/0/b/0/c' }],
    ['the second element of an array', '{"a":[{"x":1},{"x":1,"y":2,"x":3}]}', { key: 'x', pointer: '/a/1/x' }],
    ['a duplicate after strings full of braces, quotes and escapes', '{"s":"{\\"s\\":1}\\\\","t":"]}[{,","s":0}', { key: 's', pointer: '/s' }],
    ['a key that is only a backslash', '{"\\\\":1,"\\\\":2}', { key: '\\', pointer: '/\\' }],
    ['pointer escapes for ~ and /', '{"a/b":{"c~d":1,"c~d":2}}', { key: 'c~d', pointer: '/a~1b/c~0d' }],
    ['__proto__ twice', '{"__proto__":1,"__proto__":2}', { key: '__proto__', pointer: '/__proto__' }],
    ['an empty key twice', '{"":1,"":2}', { key: '', pointer: '/' }],
    ['whitespace everywhere', ' { "a" : 1 ,\n\t"a" : 2 } ', { key: 'a', pointer: '/a' }],
  ];

  it.each(cases)('%s', (_name, text, expected) => {
    // The scanner reads text JSON.parse accepted.
    expect(() => JSON.parse(text)).not.toThrow();
    const found = findDuplicateKey(text);
    if (expected === undefined) expect(found).toBeUndefined();
    else expect(found).toMatchObject(expected);
  });

  it('does not recurse: 100,000 nested arrays and objects are scanned', () => {
    const deep = `${'[{"a":'.repeat(50_000)}1${'}]'.repeat(50_000)}`;
    expect(findDuplicateKey(deep)).toBeUndefined();
    const dup = `${'[{"a":'.repeat(50_000)}{"z":1,"z":2}${'}]'.repeat(50_000)}`;
    expect(findDuplicateKey(dup)?.key).toBe('z');
  });

  it('parseJsonStrict says which key is duplicated, and passes syntax errors through', () => {
    expect(parseJsonStrict('{"a":1,"a":2}')).toMatchObject({ ok: false, kind: 'duplicate-key', key: 'a', pointer: '/a' });
    expect(parseJsonStrict('{"a":')).toMatchObject({ ok: false, kind: 'syntax' });
    expect(parseJsonStrict('{"a":[1,{"b":2}]}')).toEqual({ ok: true, value: { a: [1, { b: 2 }] } });
  });
});

let ws: Workspace;
beforeEach(() => {
  ws = makeWorkspace();
});
afterEach(() => ws.cleanup());

function run(fn: (ctx: ReturnType<Workspace['ctx']>) => number) {
  return commandResult(ws.ctx(), fn);
}

/** run() for the commands that are async (record list reads the state store). */
async function runAsync(fn: (ctx: ReturnType<Workspace['ctx']>) => Promise<number>) {
  return commandResultAsync(ws.ctx(), fn);
}

const write = (text: string) => fs.writeFileSync(path.join(ws.dir, ws.record), text);

describe('a record file with a duplicate key', () => {
  const forgedPayload = () => {
    const statement = JSON.parse(Buffer.from(ws.readEnvelope().payload, 'base64').toString('utf8')) as { predicate: { status: string } };
    statement.predicate.status = 'succeeded';
    return Buffer.from(JSON.stringify(statement)).toString('base64');
  };

  it.each([
    ['payload twice, the real one last', () => {
      const e = ws.readEnvelope();
      return `{"payloadType":${JSON.stringify(e.payloadType)},"payload":${JSON.stringify(forgedPayload())},"payload":${JSON.stringify(e.payload)},"signatures":${JSON.stringify(e.signatures)}}`;
    }, 'payload'],
    ['payload twice, the real one first', () => {
      const e = ws.readEnvelope();
      return `{"payloadType":${JSON.stringify(e.payloadType)},"payload":${JSON.stringify(e.payload)},"signatures":${JSON.stringify(e.signatures)},"payload":${JSON.stringify(forgedPayload())}}`;
    }, 'payload'],
    ['signatures twice', () => {
      const e = ws.readEnvelope();
      return `{"payloadType":${JSON.stringify(e.payloadType)},"payload":${JSON.stringify(e.payload)},"signatures":[],"signatures":${JSON.stringify(e.signatures)}}`;
    }, 'signatures'],
    ['a role twice inside a signature', () => {
      const e = ws.readEnvelope();
      const sig = JSON.stringify(e.signatures[0]).replace(/^\{/, '{"role":"qa","role":"lead",');
      return `{"payloadType":${JSON.stringify(e.payloadType)},"payload":${JSON.stringify(e.payload)},"signatures":[${sig}]}`;
    }, 'role'],
  ])('%s: verify, sign and list refuse it (exit 2), naming the key', async (_name, make, key) => {
    write(make());
    const r = run((ctx) => recordVerifyCommand(ws.record, {}, ctx));
    expect(r.code, r.stdout).toBe(2);
    expect(r.stderr).toContain(`has the key "${key}" twice`);
    expect(r.stderr).toContain('JSON readers disagree on which one counts');
    expect(run((ctx) => recordSignCommand(ws.record, { role: 'lead', key: ws.keys.lead.key }, ctx)).code).toBe(2);
    const listed = JSON.parse((await runAsync((ctx) => recordListCommand({ json: true }, ctx))).stdout) as { verification: string; reason?: string }[];
    expect(listed).toMatchObject([{ verification: 'unreadable', reason: 'duplicate-key' }]);
    expect(parseEnvelopeJson(make())).toMatchObject({ ok: false, problems: [{ code: 'duplicate-key' }] });
  });
});

describe('a signed statement with a duplicate key', () => {
  it('is not a deployment record, even with a valid run-key signature: verify exits 1 and names where', () => {
    const text = new TextDecoder().decode(statementBytes(smallPredicate())).replace('"status":"failed"', '"status":"succeeded","status":"failed"');
    expect(text).toContain('"status":"succeeded","status":"failed"');
    ws.writeEnvelope(signEnvelope(STATEMENT_PAYLOAD_TYPE, new TextEncoder().encode(text), ws.keys.run.privateKey));
    const r = run((ctx) => recordVerifyCommand(ws.record, {}, ctx));
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toContain('INVALID: the signed payload is not a valid deployment record statement');
    expect(r.stdout).toContain('the key "status" appears twice at /predicate/phases/0/status');
  });

  it('parseStatement refuses it at any depth', () => {
    const bytes = encodeStatement({ ...JSON.parse(new TextDecoder().decode(statementBytes(smallPredicate()))) });
    expect(parseStatement(bytes, recordSchemaValidator).ok).toBe(true);
    const text = new TextDecoder().decode(bytes).replace('"kind":"run"', '"kind":"run","kind":"confirm"');
    expect(text).toContain('"kind":"run","kind":"confirm"');
    const parsed = parseStatement(new TextEncoder().encode(text), recordSchemaValidator);
    expect(parsed).toMatchObject({ ok: false, problems: [{ path: '/predicate/phases/0/steps/0/kind' }] });
  });
});
