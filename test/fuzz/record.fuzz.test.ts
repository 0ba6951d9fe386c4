// Fuzzing record verification (issue 7 item 3): mutated records never make verification throw, and verify only when the signed bytes are untouched.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvelopeJson, verifyEnvelope } from '../../src/record/dsse.js';
import { parseStatement, stableStringify, STATEMENT_PAYLOAD_TYPE } from '../../src/record/statement.js';
import { prepareTrust, verifyRecordFile, type Trust } from '../../src/record/verify.js';
import { applyByteOps, applyTreeOps, cloneValue, fuzzParams, treeOps } from './mutators.js';
import { alphabet, applyEnvelopeOps, b64, encode, envelopeOp, intact, jsonByteOp, ORIGINAL, ORIGINAL_TEXT, PAYLOAD, STATEMENT, trusted, type Encoder } from './record-mutants.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const LIMIT_MS = 2000;

let tmp = '';
let trust: Trust;
let counter = 0;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'deployctl-record-fuzz-'));
  // The record names runbooks/phase65.yaml: verification finds it (roles, digest) relative to cwd.
  mkdirSync(path.join(tmp, 'runbooks'));
  copyFileSync(path.join(ROOT, 'runbooks/phase65.yaml'), path.join(tmp, 'runbooks/phase65.yaml'));
  mkdirSync(path.join(tmp, '.deployctl/keys'), { recursive: true });
  writeFileSync(path.join(tmp, '.deployctl/keys/trusted.pub'), trusted.publicKey.export({ type: 'spki', format: 'pem' }));
  const prepared = prepareTrust({}, { cwd: tmp, env: {} });
  if (!prepared.ok) throw new Error(prepared.message);
  trust = prepared.trust;
});

afterAll(() => {
  if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
});

/** Verify one mutant through the `record verify` path (file → parse → signatures → statement) and through verifyEnvelope alone. */
function checkMutant(kind: string, text: string | Uint8Array): void {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text);
  const asText = bytes.toString('utf8');
  const file = path.join(tmp, `mutant-${counter++ % 8}.json`);
  writeFileSync(file, bytes);
  const facts = intact(asText);
  const show = () => `${kind} mutant:\n${asText.length > 4000 ? `${asText.slice(0, 4000)}…` : asText}`;

  const started = performance.now();
  let verdict: string;
  try {
    verdict = verifyRecordFile(file, trust).verdict;
  } catch (error) {
    throw new Error(`verifyRecordFile threw: ${(error as Error).stack ?? String(error)}\n${show()}`);
  }
  const ms = performance.now() - started;
  if (ms >= LIMIT_MS) expect.fail(`verification took ${ms.toFixed(0)} ms\n${show()}`);

  if (verdict === 'valid') {
    expect(facts, `a record verified although its signed bytes or signature changed\n${show()}`).toMatchObject({ signedBytes: true, originalSig: true });
  }
  // The converse: an envelope deployctl parses, with the signed bytes and the trusted signature intact, and no
  // signature claiming the trusted key that does not verify, is still the same record.
  const parsed = parseEnvelopeJson(bytes);
  if (parsed.ok && facts.signedBytes && facts.originalSig && facts.trustedClaimsIntact) {
    expect(verdict, `an untouched record (formatting, annotations, extra signatures) stopped verifying\n${show()}`).toBe('valid');
  }

  // The DSSE layer alone, on the parsed JSON: `verified` means exactly the signed payload and type.
  let json: unknown;
  try {
    json = JSON.parse(asText);
  } catch {
    return;
  }
  const result = verifyEnvelope(json, [{ key: trusted.publicKey, label: 'trusted' }]);
  if (result.status === 'verified') {
    expect(Buffer.from(result.payload!).equals(PAYLOAD) && result.payloadType === STATEMENT_PAYLOAD_TYPE, `verifyEnvelope verified other bytes\n${show()}`).toBe(true);
    expect(parseStatement(result.payload!).ok).toBe(true);
  }
}

describe('fuzzing record verification', () => {
  it('verifies the unmutated record, in every formatting deployctl or a JSON tool might give it', () => {
    for (const text of [ORIGINAL_TEXT, JSON.stringify(ORIGINAL), `\n\t${JSON.stringify(ORIGINAL, null, '\t')}\r\n`, stableStringify(ORIGINAL)]) {
      expect(verifyRecordFile(path.join(tmp, write(text)), trust).verdict).toBe('valid');
      checkMutant('original', text);
    }
  });

  it('never verifies a byte-flipped envelope unless the signed payload, type and signature are untouched', () => {
    fc.assert(
      fc.property(fc.array(jsonByteOp, { minLength: 1, maxLength: 4 }), fc.boolean(), (ops, compact) => {
        const text = compact ? JSON.stringify(ORIGINAL) : ORIGINAL_TEXT;
        checkMutant('text', applyByteOps(Buffer.from(text), ops));
      }),
      fuzzParams(300),
    );
  });

  it('never verifies a changed payload re-encoded under the original signature', () => {
    fc.assert(
      fc.property(treeOps, fc.constantFrom<Encoder>('stable', 'stable', 'json', 'pretty'), alphabet, fc.boolean(), (ops, encoder, alpha, compact) => {
        const env = cloneValue(ORIGINAL) as unknown as Record<string, unknown>;
        env['payload'] = b64(encode(applyTreeOps(STATEMENT, ops), encoder), alpha);
        checkMutant('payload', compact ? JSON.stringify(env) : JSON.stringify(env, null, 2));
      }),
      fuzzParams(300),
    );
  });

  it('never verifies an envelope whose signatures, keyids, payloadType or shape were changed, unless the signed bytes survive', () => {
    fc.assert(
      fc.property(fc.array(envelopeOp, { minLength: 1, maxLength: 4 }), fc.constantFrom(0, 2), fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.array(jsonByteOp, { minLength: 1, maxLength: 2 }) }), (ops, indent, textOps) => {
        let text: string;
        try {
          text = JSON.stringify(applyEnvelopeOps(ops), null, indent) ?? 'undefined';
        } catch {
          fc.pre(false);
          return;
        }
        checkMutant('envelope', textOps === null ? text : applyByteOps(Buffer.from(text), textOps));
      }),
      fuzzParams(400),
    );
  });
});

function write(text: string): string {
  const name = `direct-${counter++}.json`;
  writeFileSync(path.join(tmp, name), text);
  return name;
}
