// Role keys (`roles.<id>.keys`) are sign-offs only: a record re-signed with a role key after its content was changed is never valid (issue 12).
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordExportCommand, recordListCommand, recordShowCommand, recordSignCommand, recordVerifyCommand } from '../../src/commands/record.js';
import { addSignature, signEnvelope, type Envelope } from '../../src/record/dsse.js';
import { STATEMENT_PAYLOAD_TYPE } from '../../src/record/statement.js';
import { commandResult, commandResultAsync, makeWorkspace, type Workspace } from '../fixtures/records/workspace.js';

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

/** What an attacker holding only a role's private key does: decode the real record, change it, sign it with that key. */
function forge(roleKey: 'lead' | 'qa', edit: (statement: { predicate: Record<string, unknown> }) => void, keepRunSignature = false): Envelope {
  const real = ws.readEnvelope();
  const statement = JSON.parse(Buffer.from(real.payload, 'base64').toString('utf8')) as { predicate: Record<string, unknown> };
  edit(statement);
  const forged = signEnvelope(STATEMENT_PAYLOAD_TYPE, new TextEncoder().encode(JSON.stringify(statement)), ws.keys[roleKey].privateKey, { role: roleKey, signer: 'mallory' });
  return keepRunSignature ? { ...forged, signatures: [...real.signatures, ...forged.signatures] } : forged;
}

const edits: [string, 'lead' | 'qa', (s: { predicate: Record<string, unknown> }) => void][] = [
  ['status failed → succeeded, re-signed with the lead key', 'lead', (s) => Object.assign(s.predicate, { status: 'succeeded', exit_code: 0 })],
  ['operator changed, re-signed with the qa key', 'qa', (s) => Object.assign(s.predicate, { operator: 'mallory' })],
];

describe('a record re-signed with only a role key', () => {
  it.each(edits)('%s: verify exits 1 and says a role key only signs off', (_name, key, edit) => {
    ws.writeEnvelope(forge(key, edit));
    const r = run((ctx) => recordVerifyCommand(ws.record, {}, ctx));
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).not.toMatch(/^VALID/m);
    expect(r.stdout.split('\n').at(-1)).toMatch(/^INVALID: no signature verifies with a run key/);
    // It says what the signature is, so the auditor knows who forged it.
    expect(r.stdout).toMatch(new RegExp(`signature #1 .*role ${key}'s key .*only signs off on a record a run key has made valid`));
    const json = JSON.parse(run((ctx) => recordVerifyCommand(ws.record, { json: true }, ctx)).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ verdict: 'invalid', signoffs: null, run: { authentic: false } });
  });

  it.each(edits)('%s: also with --runbook given, and with the real run signature kept beside it', (_name, key, edit) => {
    ws.writeEnvelope(forge(key, edit, true));
    expect(run((ctx) => recordVerifyCommand(ws.record, {}, ctx)).code).toBe(1);
    ws.writeEnvelope(forge(key, edit));
    expect(run((ctx) => recordVerifyCommand(ws.record, { runbook: 'small.yaml' }, ctx)).code).toBe(1);
  });

  it.each(edits)('%s: list says INVALID, show is not VERIFIED and shows no sign-off, export refuses', async (_name, key, edit) => {
    ws.writeEnvelope(forge(key, edit));
    const list = await runAsync((ctx) => recordListCommand({ json: true }, ctx));
    expect((JSON.parse(list.stdout) as { verification: string }[]).map((row) => row.verification)).toEqual(['invalid']);
    const shown = run((ctx) => recordShowCommand(ws.record, {}, ctx));
    expect(shown.code).toBe(1);
    expect(shown.stdout).not.toContain('VERIFIED record');
    expect(shown.stdout).toContain('!!! UNVERIFIED RECORD');
    // Under the banner, no role shows as signed: sign-offs count only on a valid record.
    expect(shown.stdout.slice(shown.stdout.indexOf('\nSign-offs\n'))).not.toMatch(/✔/);
    expect(run((ctx) => recordExportCommand(ws.record, { format: 'markdown' }, ctx)).code).toBe(1);
  });

  it('an untouched record signed only by a role key is not valid either: nothing but a run key makes a record valid', () => {
    const real = ws.readEnvelope();
    ws.writeEnvelope(signEnvelope(STATEMENT_PAYLOAD_TYPE, Buffer.from(real.payload, 'base64'), ws.keys.lead.privateKey, { role: 'lead' }));
    const r = run((ctx) => recordVerifyCommand(ws.record, {}, ctx));
    expect(r.code).toBe(1);
    // The fix is named: the run's public key.
    expect(r.stdout).toContain('--pubkey');
    // Giving that key as a run key is refused (review 1 item 3): a role key never makes a record valid.
    expect(run((ctx) => recordVerifyCommand(ws.record, { pubkey: [ws.keys.lead.pub] }, ctx)).code).toBe(2);
  });

  it('record sign refuses to add a sign-off to such a record', () => {
    ws.writeEnvelope(forge('lead', edits[0]![2]));
    const before = fs.readFileSync(path.join(ws.dir, ws.record));
    const r = run((ctx) => recordSignCommand(ws.record, { role: 'qa', key: ws.keys.qa.key }, ctx));
    expect(r.code).toBe(1);
    expect(fs.readFileSync(path.join(ws.dir, ws.record)).equals(before)).toBe(true);
  });
});

describe('role keys on a valid record', () => {
  it('count as sign-offs beside the run signature, and the verdict counts run keys apart from sign-offs', () => {
    const signed = addSignature(ws.readEnvelope(), ws.keys.qa.privateKey, { role: 'qa', signer: 'Carol' });
    if (!signed.added) throw new Error('not added');
    ws.writeEnvelope(signed.envelope);
    const r = run((ctx) => recordVerifyCommand(ws.record, {}, ctx));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/signature #2 keyid sha256:[0-9a-f]{64}: valid, key role qa: keys\/qa\.pub; signs off for qa/);
    expect(r.stdout).toMatch(/QA Lead \(qa\)\s+signed by Carol/);
    expect(r.stdout.split('\n').at(-1)).toBe('VALID: signed by 1 run key, 1 sign-off; run 20261126T151500Z-3f9a1c of small, failed');
  });
});

describe('--pubkey naming a key the runbook lists for a role (review 1 item 3)', () => {
  // The README once told auditors to pass `--pubkey keys/qa.pub`: that made QA's sign-off key a run key, and a record
  // forged and re-signed with QA's key alone verified VALID.
  it.each(edits)('%s: verify --pubkey <that role key> refuses (exit 2) and names the run key to give instead', (_name, key, edit) => {
    ws.writeEnvelope(forge(key, edit));
    for (const flags of [{ pubkey: [ws.keys[key].pub] }, { pubkey: [ws.keys[key].pub], runbook: 'small.yaml' }, { pubkey: [ws.keys[key].pub], json: true }]) {
      const r = run((ctx) => recordVerifyCommand(ws.record, flags, ctx));
      expect(r.code, r.stdout).toBe(2);
      expect(r.stdout).not.toMatch(/VALID|"verdict": "valid"/);
      expect(r.stderr).toContain(`--pubkey ${ws.keys[key].pub} is the key role ${key} signs off with`);
      expect(r.stderr).toContain('.deployctl/keys/deployctl.pub');
    }
  });

  it('list, show and export refuse it too; the run key given by --pubkey is accepted', async () => {
    ws.writeEnvelope(forge('qa', edits[1]![2]));
    const list = await runAsync((ctx) => recordListCommand({ pubkey: [ws.keys.qa.pub] }, ctx));
    expect(list.code).toBe(2);
    expect(list.stdout).toBe('');
    expect(list.stderr).toContain('role qa');
    expect(run((ctx) => recordShowCommand(ws.record, { pubkey: [ws.keys.qa.pub] }, ctx)).code).toBe(2);
    expect(run((ctx) => recordExportCommand(ws.record, { pubkey: [ws.keys.qa.pub], format: 'json' }, ctx)).code).toBe(2);
    // The run's own public key is what an auditor gives: the forgery is INVALID with it.
    const honest = run((ctx) => recordVerifyCommand(ws.record, { pubkey: [ws.keys.run.pub] }, ctx));
    expect(honest.code).toBe(1);
  });
});
