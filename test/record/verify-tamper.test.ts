// Tampering: every byte of the payload, the payloadType and the signature flipped in turn is rejected (exit 1); so are re-encoded edits, unknown keys; one key counts once.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../src/commands/record.js';
import { addSignature, parseEnvelope, parseEnvelopeJson, signEnvelope, type Envelope } from '../../src/record/dsse.js';
import { encodeStatement, STATEMENT_PAYLOAD_TYPE, type RecordStatement } from '../../src/record/statement.js';
import { prepareTrust, verifyParsedRecord, verifyRecordFile, type CheckedRecord, type RecordVerification, type Trust } from '../../src/record/verify.js';
import { makeWorkspace, recordSchemaValidator, statementBytes, smallPredicate, type Workspace } from '../fixtures/records/workspace.js';

let ws: Workspace;
let trust: Trust;
let original: Envelope;

beforeAll(() => {
  ws = makeWorkspace();
  const prepared = prepareTrust({}, { cwd: ws.dir, env: {}, validate: recordSchemaValidator });
  if (!prepared.ok) throw new Error(prepared.message);
  trust = prepared.trust;
  original = ws.readEnvelope();
});
afterAll(() => ws.cleanup());

function verify(envelope: Envelope): RecordVerification {
  const parsed = parseEnvelope(JSON.parse(JSON.stringify(envelope)));
  if (!parsed.ok) throw new Error(`the tampered envelope is not well-formed: ${JSON.stringify(parsed.problems)}`);
  return verifyParsedRecord(ws.record, parsed.parsed, trust);
}

function checked(v: RecordVerification): CheckedRecord {
  if (v.verdict === 'unreadable') throw new Error(v.problem.message);
  return v;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

describe('the untouched record', () => {
  it('verifies with the run key from .deployctl/keys/ and exits 0', () => {
    const v = checked(verify(original));
    expect(v.verdict).toBe('valid');
    expect(exitCodeOf(v)).toBe(0);
    expect(v.signatures).toHaveLength(1);
    expect(v.signatures[0]).toMatchObject({ state: 'valid', keyLabel: path.join('.deployctl', 'keys', 'deployctl.pub') });
  });
});

describe('flipping bytes', () => {
  it('rejects every single flipped byte of the payload (exit 1)', () => {
    const payload = Buffer.from(original.payload, 'base64');
    expect(payload.length).toBeGreaterThan(1000);
    const accepted: number[] = [];
    for (let i = 0; i < payload.length; i++) {
      const flipped = Buffer.from(payload);
      flipped[i] = flipped[i]! ^ 0xff;
      const v = verify({ ...original, payload: b64(flipped) });
      if (v.verdict !== 'invalid' || exitCodeOf(v) !== 1) accepted.push(i);
    }
    expect(accepted).toEqual([]);
  });

  it('rejects every single flipped bit of the statement head and tail (type, subject name and digest) (exit 1)', () => {
    const payload = Buffer.from(original.payload, 'base64');
    const positions = [...Array(payload.length).keys()].filter((i) => i < 128 || i >= payload.length - 128);
    let rejected = 0;
    for (const i of positions) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = Buffer.from(payload);
        flipped[i] = flipped[i]! ^ (1 << bit);
        if (exitCodeOf(verify({ ...original, payload: b64(flipped) })) === 1) rejected++;
      }
    }
    expect(rejected).toBe(positions.length * 8);
  });

  it('rejects every flipped character of the payloadType (exit 1)', () => {
    const type = original.payloadType;
    const accepted: string[] = [];
    for (let i = 0; i < type.length; i++) {
      for (const mask of [0x01, 0x20, 0xff]) {
        const changed = type.slice(0, i) + String.fromCharCode(type.charCodeAt(i) ^ mask) + type.slice(i + 1);
        const v = verify({ ...original, payloadType: changed });
        if (v.verdict !== 'invalid' || exitCodeOf(v) !== 1) accepted.push(changed);
      }
    }
    expect(accepted).toEqual([]);
  });

  it('rejects every flipped byte and bit of the signature (exit 1), naming it tampered: its keyid names a trusted key', () => {
    const sig = Buffer.from(original.signatures[0]!.sig, 'base64');
    expect(sig.length).toBe(64);
    let rejected = 0;
    let total = 0;
    for (let i = 0; i < sig.length; i++) {
      for (const mask of [0xff, 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80]) {
        total++;
        const flipped = Buffer.from(sig);
        flipped[i] = flipped[i]! ^ mask;
        const v = checked(verify({ ...original, signatures: [{ ...original.signatures[0]!, sig: b64(flipped) }] }));
        if (v.verdict === 'invalid' && exitCodeOf(v) === 1 && v.signatures[0]?.state === 'tampered') rejected++;
      }
    }
    expect(rejected).toBe(total);
  });

  it('never accepts a record file with any byte flipped inside the payload, payloadType or sig text: exit 1, or 2 when it no longer parses', () => {
    const file = path.join(ws.dir, ws.record);
    const text = fs.readFileSync(file, 'utf8');
    const ranges = ['"payloadType": "', '"payload": "', '"sig": "'].map((marker) => {
      const start = text.indexOf(marker) + marker.length;
      return [start, text.indexOf('"', start)] as const;
    });
    const copy = path.join(ws.dir, 'flipped.json');
    const outcomes = { invalid: 0, unreadable: 0, valid: 0 };
    // Every position of the short fields; every 5th of the payload text (the decoded payload is covered byte by byte above).
    for (const [index, [start, end]] of ranges.entries()) {
      for (let i = start; i < end; i += index === 1 ? 5 : 1) {
        const bytes = Buffer.from(text, 'utf8');
        bytes[i] = bytes[i]! ^ 0x01;
        fs.writeFileSync(copy, bytes);
        outcomes[verifyRecordFile('flipped.json', trust).verdict]++;
      }
    }
    expect(outcomes.valid).toBe(0);
    expect(outcomes.invalid).toBeGreaterThan(0);
  });
});

describe('edits that re-encode the payload', () => {
  const edited = (): Uint8Array => {
    const statement = JSON.parse(Buffer.from(original.payload, 'base64').toString('utf8')) as RecordStatement;
    statement.predicate.status = 'succeeded';
    statement.predicate.exit_code = 0;
    return encodeStatement(statement);
  };

  it('rejects status failed→succeeded re-encoded canonically and re-base64d under the old signature (exit 1)', () => {
    const v = checked(verify({ ...original, payload: b64(edited()) }));
    expect(v.verdict).toBe('invalid');
    expect(exitCodeOf(v)).toBe(1);
    expect(v.signatures[0]?.state).toBe('tampered');
    // The content is still shown (for `record show`), but never as verified.
    expect(v.statement?.predicate.status).toBe('succeeded');
  });

  it('rejects the same edit re-signed by a key nobody trusts (exit 1, not counted)', () => {
    const forged = signEnvelope(STATEMENT_PAYLOAD_TYPE, edited(), ws.keys.stranger.privateKey);
    const v = checked(verify(forged));
    expect(v.verdict).toBe('invalid');
    expect(exitCodeOf(v)).toBe(1);
    expect(v.signatures[0]).toMatchObject({ state: 'unknown-key' });
    expect(v.failures[0]).toMatch(/no signature verifies with a run key/);
  });

  it('rejects a statement with the runbook digest changed, whoever re-encodes it', () => {
    const statement = JSON.parse(Buffer.from(original.payload, 'base64').toString('utf8')) as RecordStatement;
    statement.subject[0].digest.sha256 = 'f'.repeat(64);
    statement.predicate.runbook.sha256 = 'f'.repeat(64);
    expect(verify({ ...original, payload: b64(encodeStatement(statement)) }).verdict).toBe('invalid');
  });
});

describe('signatures that do not count', () => {
  it('a signature by an unknown key alone: not counted, exit 1', () => {
    const only = signEnvelope(STATEMENT_PAYLOAD_TYPE, statementBytes(smallPredicate()), ws.keys.stranger.privateKey);
    const v = checked(verify(only));
    expect(v.verdict).toBe('invalid');
    expect(exitCodeOf(v)).toBe(1);
    expect(v.validCount).toBe(0);
  });

  it('a signature by an unknown key beside a trusted one: not counted, and the record still verifies', () => {
    const added = addSignature(original, ws.keys.stranger.privateKey, { role: 'lead', signer: 'mallory' });
    if (!added.added) throw new Error('not added');
    const v = checked(verify(added.envelope));
    expect(v.verdict).toBe('valid');
    expect(v.validCount).toBe(1);
    expect(v.signatures.map((s) => s.state)).toEqual(['valid', 'unknown-key']);
    // Claiming role lead does not make it lead's sign-off: lead lists keys/lead.pub.
    expect(v.signoffs.rows.find((r) => r.role === 'lead')?.state).toBe('missing');
  });

  it('two signatures from the same key count once', () => {
    const sig = original.signatures[0]!;
    const v = checked(verify({ ...original, signatures: [sig, { ...sig, role: 'lead', signer: 'someone else' }] }));
    expect(v.verdict).toBe('valid');
    expect(v.validCount).toBe(1);
    expect(v.signatures.map((s) => s.state)).toEqual(['valid', 'duplicate']);
    expect(v.signatures[1]?.reason).toMatch(/same key as signature #1: counted once/);
  });

  it('two signatures by a role key count as one sign-off', () => {
    const first = addSignature(original, ws.keys.lead.privateKey, { role: 'lead', signer: 'Ana' });
    if (!first.added) throw new Error('not added');
    const leadSig = first.envelope.signatures[1]!;
    const v = checked(verify({ ...first.envelope, signatures: [...first.envelope.signatures, { ...leadSig, signer: 'Ana again' }] }));
    const lead = v.signoffs.rows.find((r) => r.role === 'lead');
    expect(lead?.state).toBe('signed');
    expect(lead?.by).toHaveLength(1);
  });

  it('an edited keyid is only a hint: the signature still verifies with the key that made it', () => {
    const v = checked(verify({ ...original, signatures: [{ ...original.signatures[0]!, keyid: 'sha256:' + '0'.repeat(64) }] }));
    expect(v.verdict).toBe('valid');
  });

  it('a second signature whose keyid names a trusted key but does not verify makes the record invalid (tampered)', () => {
    const first = addSignature(original, ws.keys.lead.privateKey, { role: 'lead' });
    if (!first.added) throw new Error('not added');
    const sigs = first.envelope.signatures;
    const bad = Buffer.from(sigs[1]!.sig, 'base64');
    bad[10] = bad[10]! ^ 1;
    const v = checked(verify({ ...first.envelope, signatures: [sigs[0]!, { ...sigs[1]!, sig: b64(bad) }] }));
    expect(v.verdict).toBe('invalid');
    expect(v.failures.join('\n')).toMatch(/signature #2 .* does not verify with the trusted key its keyid names/);
  });
});

describe('the file as a whole', () => {
  it('parseEnvelopeJson and verifyRecordFile agree on the untouched file', () => {
    const text = fs.readFileSync(path.join(ws.dir, ws.record), 'utf8');
    expect(parseEnvelopeJson(text).ok).toBe(true);
    expect(verifyRecordFile(ws.record, trust).verdict).toBe('valid');
  });
});
