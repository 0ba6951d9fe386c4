// DSSE v1 signatures (https://github.com/secure-systems-lab/dsse): PAE, Ed25519 signing, and verification before the payload is read (the envelope itself: envelope.ts).
import * as crypto from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { decodeBase64, ENVELOPE_LIMITS, parseEnvelope, type Envelope, type EnvelopeProblem, type Signature, type SignatureAnnotations } from './envelope.js';

// The envelope's types and strict parsing, for the modules that know them from here.
export * from './envelope.js';

const ED25519_SIGNATURE_BYTES = 64;

// ---------------------------------------------------------------------------------------------
// PAE

/** DSSE pre-authentication encoding: `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII decimal bytes. */
export function pae(payloadType: string, payload: Uint8Array | string): Uint8Array {
  const type = Buffer.from(payloadType, 'utf8');
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const head = Buffer.from(`DSSEv1 ${type.length} `, 'ascii');
  const middle = Buffer.from(` ${body.length} `, 'ascii');
  const out = Buffer.concat([head, type, middle, body]);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

// ---------------------------------------------------------------------------------------------
// Keys

/** `sha256:` + hex SHA-256 of the public key's SPKI DER. A private key is reduced to its public half first. */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? crypto.createPublicKey(key) : key;
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${crypto.createHash('sha256').update(der).digest('hex')}`;
}

function assertEd25519PrivateKey(key: KeyObject): void {
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') {
    // A programming error: keys reach here through loadPrivateKey, which already checked.
    throw new TypeError(`DSSE signing needs an Ed25519 private key, got a ${key.asymmetricKeyType ?? key.type} ${key.type} key`);
  }
}

// ---------------------------------------------------------------------------------------------
// Signing

function signatureFor(payloadType: string, payload: Uint8Array, privateKey: KeyObject, annotations: SignatureAnnotations | undefined): Signature {
  assertEd25519PrivateKey(privateKey);
  const sig = crypto.sign(null, pae(payloadType, payload), privateKey);
  const signature: Signature = { keyid: keyIdOf(privateKey), sig: sig.toString('base64') };
  if (annotations?.role !== undefined) signature.role = annotations.role;
  if (annotations?.signer !== undefined) signature.signer = annotations.signer;
  if (annotations?.signed_at !== undefined) signature.signed_at = annotations.signed_at;
  return signature;
}

/** Sign `payloadBytes` as a new envelope with one signature. */
export function signEnvelope(payloadType: string, payloadBytes: Uint8Array, privateKey: KeyObject, annotations?: SignatureAnnotations): Envelope {
  return {
    payloadType,
    payload: Buffer.from(payloadBytes.buffer, payloadBytes.byteOffset, payloadBytes.byteLength).toString('base64'),
    signatures: [signatureFor(payloadType, payloadBytes, privateKey, annotations)],
  };
}

export type AddSignatureResult =
  | { added: true; envelope: Envelope; keyid: string }
  /** This key already has a valid signature (at `existingIndex`): nothing changed. */
  | { added: false; reason: 'already-signed'; envelope: Envelope; keyid: string; existingIndex: number }
  /** The envelope already holds ENVELOPE_LIMITS.signatures signatures: nothing changed. */
  | { added: false; reason: 'too-many-signatures'; envelope: Envelope; keyid: string };

/**
 * Add one signature by `privateKey` (a new envelope; the input is not modified). Idempotent: when a
 * signature that verifies with this key is already present, returns the envelope unchanged with
 * `added: false`. A signature that merely claims this key's keyid but does not verify does not count.
 * The caller should have verified the envelope first: this only signs the bytes it is given.
 */
export function addSignature(envelope: Envelope, privateKey: KeyObject, annotations?: SignatureAnnotations): AddSignatureResult {
  assertEd25519PrivateKey(privateKey);
  const keyid = keyIdOf(privateKey);
  const payload = decodeBase64(envelope.payload);
  if (payload === undefined) throw new TypeError('addSignature: the envelope payload is not canonical base64; parse the envelope with parseEnvelope first');
  const message = pae(envelope.payloadType, payload);
  const publicKey = crypto.createPublicKey(privateKey);
  const existingIndex = envelope.signatures.findIndex((s) => {
    const sig = decodeBase64(s.sig);
    return sig !== undefined && verifySafely(message, publicKey, sig);
  });
  if (existingIndex !== -1) return { added: false, reason: 'already-signed', envelope, keyid, existingIndex };
  if (envelope.signatures.length >= ENVELOPE_LIMITS.signatures) return { added: false, reason: 'too-many-signatures', envelope, keyid };
  const signature = signatureFor(envelope.payloadType, payload, privateKey, annotations);
  return { added: true, envelope: { ...envelope, signatures: [...envelope.signatures, signature] }, keyid };
}

// ---------------------------------------------------------------------------------------------
// Verification

export interface TrustedKey {
  /** An Ed25519 public key (a private key is reduced to its public half). */
  key: KeyObject;
  /** How to name it to people: a file path, `role qa: keys/qa.pub`. */
  label: string;
}

export interface SignatureVerdict {
  index: number;
  /** The keyid the signature claims (unauthenticated). */
  keyid: string;
  valid: boolean;
  /** The label of the trusted key it verifies with. */
  keyLabel?: string;
  /** The real keyid of that key (may differ from the claimed one). */
  verifiedKeyId?: string;
  /** Valid, but by the same key as an earlier signature: counted once. */
  duplicateOf?: number;
  /** Why it is not valid, in a sentence. */
  reason?: string;
  /** The unsigned annotations, echoed for display. */
  role?: string;
  signer?: string;
  signed_at?: string;
}

export type VerifyEnvelopeResult =
  | { status: 'malformed'; problems: EnvelopeProblem[] }
  | {
      /** `verified`: at least `threshold` distinct trusted keys signed. `unverified`: fewer; do not read the payload as fact. */
      status: 'verified' | 'unverified';
      payloadType: string;
      /** The verified payload bytes; present only when status is `verified`. */
      payload?: Uint8Array;
      signatures: SignatureVerdict[];
      /** Valid signatures counted by distinct key. */
      validCount: number;
      /** The distinct keyids (SPKI sha256) of the keys that produced valid signatures, in signature order. */
      validKeyIds: string[];
      threshold: number;
    };

export interface VerifyOptions {
  /** Distinct trusted keys needed for `verified`; default 1. */
  threshold?: number;
}

interface PreparedKey {
  key: KeyObject;
  label: string;
  id: string;
}

function verifySafely(message: Uint8Array, key: KeyObject, sig: Uint8Array): boolean {
  try {
    return crypto.verify(null, message, key, sig);
  } catch {
    return false;
  }
}

/**
 * Verify an envelope against trusted keys. Parses the envelope strictly first, then checks every
 * signature over PAE(payloadType, payload bytes), all before anything may parse the payload.
 * The keyid only orders the keys tried: the hinted key first, then every other trusted key.
 * Never throws on malformed input.
 */
export function verifyEnvelope(input: unknown, trustedKeys: readonly TrustedKey[], options: VerifyOptions = {}): VerifyEnvelopeResult {
  const threshold = Math.max(1, Math.floor(options.threshold ?? 1));
  const parsedResult = parseEnvelope(input);
  if (!parsedResult.ok) return { status: 'malformed', problems: parsedResult.problems };
  const { envelope, payload, sigs } = parsedResult.parsed;

  const keys: PreparedKey[] = [];
  for (const trusted of trustedKeys) {
    try {
      const key = trusted.key.type === 'private' ? crypto.createPublicKey(trusted.key) : trusted.key;
      if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') continue;
      keys.push({ key, label: trusted.label, id: keyIdOf(key) });
    } catch {
      // An unusable key object trusts nothing.
    }
  }

  const message = pae(envelope.payloadType, payload);
  const firstIndexByKey = new Map<string, number>();
  const validKeyIds: string[] = [];
  const verdicts = envelope.signatures.map((signature, index): SignatureVerdict => {
    const verdict: SignatureVerdict = { index, keyid: signature.keyid, valid: false };
    if (signature.role !== undefined) verdict.role = signature.role;
    if (signature.signer !== undefined) verdict.signer = signature.signer;
    if (signature.signed_at !== undefined) verdict.signed_at = signature.signed_at;
    const sig = sigs[index] as Uint8Array;
    if (sig.byteLength !== ED25519_SIGNATURE_BYTES) {
      verdict.reason = `the signature is ${sig.byteLength} bytes; an Ed25519 signature is ${ED25519_SIGNATURE_BYTES}`;
      return verdict;
    }
    if (keys.length === 0) {
      verdict.reason = 'no trusted public keys were given to check it with';
      return verdict;
    }
    const hinted = keys.filter((k) => k.id === signature.keyid);
    const ordered = [...hinted, ...keys.filter((k) => k.id !== signature.keyid)];
    const match = ordered.find((k) => verifySafely(message, k.key, sig));
    if (match === undefined) {
      verdict.reason =
        hinted.length > 0
          ? `it does not verify with the trusted key its keyid names (${hinted[0]?.label}), nor with any other trusted key: the record or the signature was changed`
          : 'it does not verify with any trusted key (signed by an unknown key, or the record was changed)';
      return verdict;
    }
    verdict.valid = true;
    verdict.keyLabel = match.label;
    verdict.verifiedKeyId = match.id;
    const earlier = firstIndexByKey.get(match.id);
    if (earlier === undefined) {
      firstIndexByKey.set(match.id, index);
      validKeyIds.push(match.id);
    } else {
      verdict.duplicateOf = earlier;
    }
    return verdict;
  });

  const validCount = validKeyIds.length;
  const status = validCount >= threshold ? 'verified' : 'unverified';
  return {
    status,
    payloadType: envelope.payloadType,
    ...(status === 'verified' ? { payload } : {}),
    signatures: verdicts,
    validCount,
    validKeyIds,
    threshold,
  };
}
