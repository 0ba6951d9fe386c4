// A signed record and ways to damage it, for the record fuzz tests: the original, an attacker's key, envelope mutations, and an oracle that judges a mutant without deployctl's parser.
import * as crypto from 'node:crypto';
import fc from 'fast-check';
import { keyIdOf, signEnvelope, type Envelope } from '../../src/record/dsse.js';
import { buildStatement, encodeStatement, stableStringify, STATEMENT_PAYLOAD_TYPE } from '../../src/record/statement.js';
import { FIXTURE_SUBJECT, fullPredicate } from '../record/predicate-fixture.js';
import { applyByteOps, applyTreeOps, byteOps, cloneValue, interestingKey, interestingString, jsonishValue, objectFromEntries, treeOps, type ByteOp } from './mutators.js';

export const trusted = crypto.generateKeyPairSync('ed25519');
export const attacker = crypto.generateKeyPairSync('ed25519');
export const TRUSTED_ID = keyIdOf(trusted.publicKey);
export const ATTACKER_ID = keyIdOf(attacker.publicKey);

export const PAYLOAD = encodeStatement(buildStatement(fullPredicate(), FIXTURE_SUBJECT));
export const ORIGINAL: Envelope = signEnvelope(STATEMENT_PAYLOAD_TYPE, PAYLOAD, trusted.privateKey, { signer: 'ana', signed_at: '2026-11-26T15:31:10.000Z' });
export const ORIGINAL_SIG = Buffer.from(ORIGINAL.signatures[0]!.sig, 'base64');
export const ORIGINAL_TEXT = `${JSON.stringify(ORIGINAL, null, 2)}\n`;
export const STATEMENT = JSON.parse(new TextDecoder().decode(PAYLOAD)) as unknown;

// ---------------------------------------------------------------------------------------------
// The oracle: what a mutant still has of the original, judged without deployctl's parser.

export const b64 = (bytes: Uint8Array, alphabet: Alphabet = 'standard') => {
  const standard = Buffer.from(bytes).toString('base64');
  if (alphabet === 'standard') return standard;
  if (alphabet === 'url') return standard.replace(/\+/g, '-').replace(/\//g, '_');
  if (alphabet === 'unpadded') return standard.replace(/=+$/, '');
  return standard.replace(/.{1,76}/g, '$&\n').trimEnd();
};
export type Alphabet = 'standard' | 'url' | 'unpadded' | 'mime';

/** Node's decoder is lenient (both alphabets, missing padding, junk skipped): it says what bytes a field could mean. */
export const lenient = (text: unknown): Buffer | undefined => (typeof text === 'string' ? Buffer.from(text, 'base64') : undefined);

export interface Intact {
  /** The payload decodes to the signed bytes and payloadType is the signed type. */
  signedBytes: boolean;
  /** Some signature entry carries the original signature bytes. */
  originalSig: boolean;
  /** Every signature that names the trusted key's keyid is the original signature. */
  trustedClaimsIntact: boolean;
}

export function intact(text: string): Intact {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { signedBytes: false, originalSig: false, trustedClaimsIntact: false };
  }
  const env = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const payload = lenient(env['payload']);
  const signedBytes = env['payloadType'] === STATEMENT_PAYLOAD_TYPE && payload !== undefined && payload.equals(PAYLOAD);
  const sigs = Array.isArray(env['signatures']) ? (env['signatures'] as unknown[]) : [];
  const entries = sigs.map((s) => (typeof s === 'object' && s !== null ? (s as Record<string, unknown>) : {}));
  const isOriginal = (s: Record<string, unknown>) => lenient(s['sig'])?.equals(ORIGINAL_SIG) === true;
  return {
    signedBytes,
    originalSig: entries.some(isOriginal),
    trustedClaimsIntact: entries.every((s) => s['keyid'] !== TRUSTED_ID || isOriginal(s)),
  };
}

// ---------------------------------------------------------------------------------------------
// Mutations of the envelope object

export type Encoder = 'stable' | 'json' | 'pretty';
export const encode = (value: unknown, encoder: Encoder) =>
  new TextEncoder().encode(encoder === 'stable' ? stableStringify(value) : encoder === 'json' ? JSON.stringify(value) : JSON.stringify(value, null, 2));

export type EnvelopeOp =
  | { op: 'payload-tree'; ops: Parameters<typeof applyTreeOps>[1]; encoder: Encoder; alphabet: Alphabet }
  | { op: 'payload-bytes'; ops: ByteOp[]; alphabet: Alphabet }
  | { op: 'payload-alphabet'; alphabet: Alphabet }
  | { op: 'payload-text'; ops: ByteOp[] }
  | { op: 'payload-type'; value: unknown }
  | { op: 'sig-bytes'; index: number; ops: ByteOp[] }
  | { op: 'sig-alphabet'; index: number; alphabet: Alphabet }
  | { op: 'sig-truncate'; index: number; length: number }
  | { op: 'keyid'; index: number; value: unknown }
  | { op: 'annotation'; index: number; field: string; value: unknown }
  | { op: 'duplicate-sig'; index: number }
  | { op: 'delete-sig'; index: number }
  | { op: 'swap-sigs'; index: number; with: number }
  | { op: 'attacker-sig'; over: 'original' | 'current'; claim: 'trusted' | 'attacker' | 'none'; replace: boolean }
  | { op: 'envelope-tree'; ops: Parameters<typeof applyTreeOps>[1] }
  | { op: 'reorder'; seed: number };

export const alphabet = fc.constantFrom<Alphabet>('standard', 'standard', 'url', 'unpadded', 'mime');
const index = fc.nat({ max: 7 });
const PAYLOAD_TYPES: unknown[] = [
  STATEMENT_PAYLOAD_TYPE,
  'application/vnd.in-toto+JSON',
  `${STATEMENT_PAYLOAD_TYPE} `,
  'application/json',
  'application/vnd.in-toto+json\u0000',
  'application/vnd.іn-toto+json',
  '',
  '\ud800',
  'x'.repeat(300),
  null,
  1,
  [STATEMENT_PAYLOAD_TYPE],
];

export const envelopeOp: fc.Arbitrary<EnvelopeOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('payload-tree' as const), ops: treeOps, encoder: fc.constantFrom<Encoder>('stable', 'stable', 'json', 'pretty'), alphabet }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('payload-bytes' as const), ops: byteOps, alphabet }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('payload-alphabet' as const), alphabet }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('payload-text' as const), ops: byteOps }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('payload-type' as const), value: fc.oneof(fc.constantFrom(...PAYLOAD_TYPES), interestingString) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('sig-bytes' as const), index, ops: byteOps }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('sig-alphabet' as const), index, alphabet }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('sig-truncate' as const), index, length: fc.nat({ max: 66 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('keyid' as const), index, value: fc.oneof(fc.constantFrom<unknown>(TRUSTED_ID, ATTACKER_ID, '', undefined, null, 7, TRUSTED_ID.toUpperCase()), interestingString) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('annotation' as const), index, field: fc.oneof(fc.constantFrom('role', 'signer', 'signed_at', 'extra'), interestingKey), value: jsonishValue }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicate-sig' as const), index }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete-sig' as const), index }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('swap-sigs' as const), index, with: index }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('attacker-sig' as const),
      over: fc.constantFrom('original' as const, 'current' as const),
      claim: fc.constantFrom('trusted' as const, 'attacker' as const, 'none' as const),
      replace: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('envelope-tree' as const), ops: treeOps }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reorder' as const), seed: fc.nat() }) },
);

type Sig = Record<string, unknown>;

export function applyEnvelopeOps(ops: readonly EnvelopeOp[]): unknown {
  let env: unknown = cloneValue(ORIGINAL);
  for (const op of ops) {
    if (typeof env !== 'object' || env === null || Array.isArray(env)) break;
    const e = env as Record<string, unknown>;
    const sigs = Array.isArray(e['signatures']) ? (e['signatures'] as unknown[]) : undefined;
    const sigAt = (i: number): Sig | undefined => {
      if (sigs === undefined || sigs.length === 0) return undefined;
      const s = sigs[i % sigs.length];
      return typeof s === 'object' && s !== null && !Array.isArray(s) ? (s as Sig) : undefined;
    };
    const currentPayload = () => lenient(e['payload']) ?? Buffer.alloc(0);
    switch (op.op) {
      case 'payload-tree':
        e['payload'] = b64(encode(applyTreeOps(STATEMENT, op.ops), op.encoder), op.alphabet);
        break;
      case 'payload-bytes':
        e['payload'] = b64(applyByteOps(currentPayload(), op.ops), op.alphabet);
        break;
      case 'payload-alphabet':
        e['payload'] = b64(currentPayload(), op.alphabet);
        break;
      case 'payload-text':
        if (typeof e['payload'] === 'string') e['payload'] = Buffer.from(applyByteOps(Buffer.from(e['payload'], 'latin1'), op.ops)).toString('latin1');
        break;
      case 'payload-type':
        e['payloadType'] = op.value;
        break;
      case 'sig-bytes': {
        const s = sigAt(op.index);
        if (s) s['sig'] = b64(applyByteOps(lenient(s['sig']) ?? Buffer.alloc(0), op.ops));
        break;
      }
      case 'sig-alphabet': {
        const s = sigAt(op.index);
        if (s) s['sig'] = b64(lenient(s['sig']) ?? Buffer.alloc(0), op.alphabet);
        break;
      }
      case 'sig-truncate': {
        const s = sigAt(op.index);
        if (s) s['sig'] = b64((lenient(s['sig']) ?? Buffer.alloc(0)).subarray(0, op.length));
        break;
      }
      case 'keyid': {
        const s = sigAt(op.index);
        if (s) {
          if (op.value === undefined) delete s['keyid'];
          else s['keyid'] = op.value;
        }
        break;
      }
      case 'annotation': {
        const s = sigAt(op.index);
        if (s) Object.defineProperty(s, op.field, { value: op.value, enumerable: true, writable: true, configurable: true });
        break;
      }
      case 'duplicate-sig':
        if (sigs && sigs.length > 0) sigs.push(cloneValue(sigs[op.index % sigs.length]));
        break;
      case 'delete-sig':
        if (sigs && sigs.length > 0) sigs.splice(op.index % sigs.length, 1);
        break;
      case 'swap-sigs':
        if (sigs && sigs.length > 1) {
          const i = op.index % sigs.length;
          const j = op.with % sigs.length;
          [sigs[i], sigs[j]] = [sigs[j], sigs[i]];
        }
        break;
      case 'attacker-sig': {
        // The attacker signs what they like with their own key, and may claim to be the trusted key.
        const payloadType = typeof e['payloadType'] === 'string' ? e['payloadType'] : STATEMENT_PAYLOAD_TYPE;
        const signed = signEnvelope(payloadType, op.over === 'original' ? PAYLOAD : currentPayload(), attacker.privateKey).signatures[0]!;
        const entry: Sig = { sig: signed.sig };
        if (op.claim === 'trusted') entry['keyid'] = TRUSTED_ID;
        if (op.claim === 'attacker') entry['keyid'] = ATTACKER_ID;
        if (op.replace || sigs === undefined) e['signatures'] = [entry];
        else sigs.push(entry);
        break;
      }
      case 'envelope-tree':
        env = applyTreeOps(env, op.ops);
        break;
      case 'reorder': {
        const keys = Object.keys(e);
        const rotated = [...keys.slice(op.seed % Math.max(1, keys.length)), ...keys.slice(0, op.seed % Math.max(1, keys.length))];
        env = objectFromEntries(rotated.map((k) => [k, e[k]]));
        break;
      }
    }
  }
  return env;
}

const JSON_BYTES = [...' \n\t\r{}[]:,"\\0123456789abcdefAZaz+/=-_e.'].map((c) => c.charCodeAt(0));
export const jsonByteOp: fc.Arbitrary<ByteOp> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat({ max: 1_000_000 }), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat({ max: 1_000_000 }), byte: fc.oneof(fc.constantFrom(...JSON_BYTES), fc.integer({ min: 0, max: 255 })) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat({ max: 1_000_000 }), bytes: fc.array(fc.constantFrom(...JSON_BYTES), { minLength: 1, maxLength: 3 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat({ max: 1_000_000 }), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat({ max: 1_000_000 }) }),
);


/** Any kind of damaged record, as the bytes of a file: text flips, a re-encoded changed payload, or envelope edits. */
export const recordMutant: fc.Arbitrary<{ how: string; bytes: Uint8Array }> = fc.oneof(
  fc.array(jsonByteOp, { minLength: 1, maxLength: 4 }).map((ops) => ({ how: 'bytes', bytes: applyByteOps(Buffer.from(ORIGINAL_TEXT), ops) })),
  fc.tuple(treeOps, fc.constantFrom<Encoder>('stable', 'json', 'pretty'), alphabet).map(([ops, encoder, alpha]) => {
    const env = cloneValue(ORIGINAL) as unknown as Record<string, unknown>;
    env['payload'] = b64(encode(applyTreeOps(STATEMENT, ops), encoder), alpha);
    return { how: 'payload', bytes: Buffer.from(JSON.stringify(env, null, 2)) };
  }),
  fc.array(envelopeOp, { minLength: 1, maxLength: 4 }).map((ops) => {
    let text: string;
    try {
      text = JSON.stringify(applyEnvelopeOps(ops), null, 2) ?? 'undefined';
    } catch {
      text = '{}';
    }
    return { how: 'envelope', bytes: Buffer.from(text) };
  }),
);
