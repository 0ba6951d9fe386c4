// DSSE envelopes (https://github.com/secure-systems-lab/dsse) as data: the types, the limits on untrusted ones, strict base64, and strict parsing that never looks inside the payload.
import { parseJsonStrict } from './strict-json.js';

/**
 * One signature of an envelope.
 *
 * `keyid` and `sig` are DSSE's. `role`, `signer` and `signed_at` are deployctl's sign-off annotations
 * (which runbook role signed, who, when). They sit OUTSIDE the signed bytes, so anyone can edit them:
 * they never add trust. Trust comes from the key: `role` only says which role a signature is meant
 * for, and it counts for that role only if the key that verified it is one the runbook allows for
 * that role (decideSignoff in signoff.ts), so editing it can at most drop a sign-off or move it
 * between roles that key may sign for.
 */
export interface Signature {
  /** `sha256:<hex>` of the signer's SPKI DER. An unauthenticated hint for picking the key to try first. */
  keyid: string;
  /** Base64 Ed25519 signature over PAE(payloadType, payload): deployctl writes the standard alphabet, padded. */
  sig: string;
  /** Unsigned annotation: the runbook role this signature is meant to sign off for. */
  role?: string;
  /** Unsigned annotation: the person who signed. */
  signer?: string;
  /** Unsigned annotation: when it was signed (ISO-8601). */
  signed_at?: string;
}

/** The DSSE JSON envelope. `payload` is base64 of the serialized body. */
export interface Envelope {
  payloadType: string;
  payload: string;
  signatures: Signature[];
}

export type SignatureAnnotations = Pick<Signature, 'role' | 'signer' | 'signed_at'>;

/** Bounds for untrusted envelopes (`record verify` reads files from anywhere). */
export const ENVELOPE_LIMITS = {
  /** Decoded payload bytes. */
  payloadBytes: 8 * 1024 * 1024,
  payloadTypeChars: 256,
  /** Enough for one sign-off per role (a runbook has at most 100 roles) and then some. */
  signatures: 256,
  keyidChars: 256,
  /** Base64 characters of one signature (an Ed25519 signature is 88). */
  sigChars: 1024,
  roleChars: 64,
  signerChars: 256,
  signedAtChars: 64,
} as const;

// ---------------------------------------------------------------------------------------------
// Strict base64

/**
 * Decode base64 only when the text is in canonical form, so one byte string has one accepted spelling per
 * alphabet: no whitespace, no characters outside the alphabet, exact `=` padding, zero trailing bits.
 * DSSE says verifiers must accept both alphabets, standard (what deployctl writes) and URL-safe; RFC 4648
 * pads both, and so do Go's StdEncoding/URLEncoding that other DSSE verifiers use. Mixing the two is rejected.
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  const urlSafe = /[-_]/.test(text);
  if (urlSafe && /[+/]/.test(text)) return undefined;
  const standard = urlSafe ? text.replace(/-/g, '+').replace(/_/g, '/') : text;
  const bytes = Buffer.from(standard, 'base64');
  // Buffer.from is lenient (skips junk, tolerates missing padding); the round trip is what makes it strict.
  if (bytes.toString('base64') !== standard) return undefined;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const BASE64_CHARS = /^[A-Za-z0-9+/=_-]*$/;

// ---------------------------------------------------------------------------------------------
// Strict parsing

export interface EnvelopeProblem {
  /** Where, as a JSON path: `payload`, `signatures[1].sig`. Empty for the envelope itself. */
  path: string;
  code: 'not-json' | 'duplicate-key' | 'not-object' | 'missing' | 'wrong-type' | 'unknown-field' | 'too-large' | 'empty' | 'bad-base64' | 'bad-text';
  message: string;
}

export interface ParsedEnvelope {
  envelope: Envelope;
  /** The base64-decoded payload. Unauthenticated until verifyEnvelope says otherwise. */
  payload: Uint8Array;
  /** Each signature's decoded bytes, by index. */
  sigs: Uint8Array[];
}

export type ParseEnvelopeResult = { ok: true; parsed: ParsedEnvelope } | { ok: false; problems: EnvelopeProblem[] };

const ENVELOPE_FIELDS = new Set(['payloadType', 'payload', 'signatures']);
const SIGNATURE_FIELDS = new Set(['keyid', 'sig', 'role', 'signer', 'signed_at']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Whether a string survives a UTF-8 round trip (no lone surrogates), so its PAE bytes mean exactly it. */
function isWellFormedText(text: string): boolean {
  return Buffer.from(text, 'utf8').toString('utf8') === text;
}

/** Parse envelope JSON text or bytes. Never throws. */
export function parseEnvelopeJson(input: string | Uint8Array): ParseEnvelopeResult {
  // The payload is base64 (4/3 larger) inside JSON; leave room for signatures and annotations.
  const maxChars = Math.ceil((ENVELOPE_LIMITS.payloadBytes * 4) / 3) + 1024 * 1024;
  const length = typeof input === 'string' ? input.length : input.byteLength;
  if (length > maxChars) {
    return { ok: false, problems: [{ path: '', code: 'too-large', message: `the envelope is ${length} bytes; at most ${maxChars} are accepted` }] };
  }
  const json = parseJsonStrict(typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8'));
  if (!json.ok) {
    if (json.kind === 'syntax') return { ok: false, problems: [{ path: '', code: 'not-json', message: `not JSON: ${json.message}` }] };
    return { ok: false, problems: [{ path: json.pointer, code: 'duplicate-key', message: duplicateKeyMessage(json.key, json.pointer) }] };
  }
  return parseEnvelope(json.value);
}

/** Why an envelope with a key twice is refused rather than read. */
export function duplicateKeyMessage(key: string, pointer: string): string {
  return `the key "${key.slice(0, 64)}" appears twice (at ${pointer.slice(0, 200)}); an envelope with a duplicate key is refused, since JSON readers disagree on which one counts`;
}

/**
 * Check that a JSON value is exactly a DSSE envelope: the three fields with their types, no others;
 * canonical base64; bounded sizes. Collects every problem. Never throws; never looks inside the payload.
 */
export function parseEnvelope(value: unknown): ParseEnvelopeResult {
  const problems: EnvelopeProblem[] = [];
  const problem = (path: string, code: EnvelopeProblem['code'], message: string) => problems.push({ path, code, message });
  if (!isPlainObject(value)) {
    return { ok: false, problems: [{ path: '', code: 'not-object', message: `a DSSE envelope must be a JSON object, not ${typeName(value)}` }] };
  }
  for (const key of Object.keys(value)) {
    if (!ENVELOPE_FIELDS.has(key)) problem(key, 'unknown-field', `unknown field '${key.slice(0, 64)}' (a DSSE envelope has payloadType, payload, signatures)`);
  }

  const payloadType = value['payloadType'];
  if (payloadType === undefined) problem('payloadType', 'missing', 'payloadType is missing');
  else if (typeof payloadType !== 'string') problem('payloadType', 'wrong-type', `payloadType must be a string, not ${typeName(payloadType)}`);
  else if (payloadType.length === 0) problem('payloadType', 'empty', 'payloadType is empty');
  else if (payloadType.length > ENVELOPE_LIMITS.payloadTypeChars) problem('payloadType', 'too-large', `payloadType is longer than ${ENVELOPE_LIMITS.payloadTypeChars} characters`);
  else if (!isWellFormedText(payloadType)) problem('payloadType', 'bad-text', 'payloadType is not well-formed Unicode');

  const payloadText = value['payload'];
  let payload: Uint8Array | undefined;
  if (payloadText === undefined) problem('payload', 'missing', 'payload is missing');
  else if (typeof payloadText !== 'string') problem('payload', 'wrong-type', `payload must be a base64 string, not ${typeName(payloadText)}`);
  else if (payloadText.length > Math.ceil((ENVELOPE_LIMITS.payloadBytes * 4) / 3) + 4) {
    problem('payload', 'too-large', `payload is larger than ${ENVELOPE_LIMITS.payloadBytes} bytes`);
  } else {
    payload = BASE64_CHARS.test(payloadText) ? decodeBase64(payloadText) : undefined;
    if (payload === undefined) problem('payload', 'bad-base64', 'payload is not canonical base64 (standard or URL-safe alphabet, exact = padding, no whitespace)');
  }

  const signatures = value['signatures'];
  const parsedSignatures: Signature[] = [];
  const sigs: Uint8Array[] = [];
  if (signatures === undefined) problem('signatures', 'missing', 'signatures is missing');
  else if (!Array.isArray(signatures)) problem('signatures', 'wrong-type', `signatures must be an array, not ${typeName(signatures)}`);
  else if (signatures.length === 0) problem('signatures', 'empty', 'the envelope has no signatures');
  else if (signatures.length > ENVELOPE_LIMITS.signatures) problem('signatures', 'too-large', `more than ${ENVELOPE_LIMITS.signatures} signatures`);
  else {
    signatures.forEach((entry: unknown, index) => {
      const at = `signatures[${index}]`;
      if (!isPlainObject(entry)) {
        problem(at, 'wrong-type', `${at} must be an object, not ${typeName(entry)}`);
        return;
      }
      const before = problems.length;
      for (const key of Object.keys(entry)) {
        if (!SIGNATURE_FIELDS.has(key)) problem(`${at}.${key.slice(0, 64)}`, 'unknown-field', `unknown field '${key.slice(0, 64)}' in ${at} (allowed: keyid, sig, role, signer, signed_at)`);
      }
      // DSSE: "an unset keyid MUST be treated the same as set-but-empty".
      const keyid = entry['keyid'] === undefined ? '' : entry['keyid'];
      checkText(keyid, `${at}.keyid`, ENVELOPE_LIMITS.keyidChars, true, problem);
      const sigText = entry['sig'];
      let sig: Uint8Array | undefined;
      if (sigText === undefined) problem(`${at}.sig`, 'missing', `${at}.sig is missing`);
      else if (typeof sigText !== 'string') problem(`${at}.sig`, 'wrong-type', `${at}.sig must be a base64 string, not ${typeName(sigText)}`);
      else if (sigText.length === 0) problem(`${at}.sig`, 'empty', `${at}.sig is empty`);
      else if (sigText.length > ENVELOPE_LIMITS.sigChars) problem(`${at}.sig`, 'too-large', `${at}.sig is longer than ${ENVELOPE_LIMITS.sigChars} characters`);
      else {
        sig = BASE64_CHARS.test(sigText) ? decodeBase64(sigText) : undefined;
        if (sig === undefined) problem(`${at}.sig`, 'bad-base64', `${at}.sig is not canonical base64`);
      }
      const optional = [
        ['role', ENVELOPE_LIMITS.roleChars],
        ['signer', ENVELOPE_LIMITS.signerChars],
        ['signed_at', ENVELOPE_LIMITS.signedAtChars],
      ] as const;
      for (const [field, max] of optional) {
        if (entry[field] !== undefined) checkText(entry[field], `${at}.${field}`, max, false, problem);
      }
      if (problems.length === before && sig !== undefined) {
        const signature: Signature = { keyid: keyid as string, sig: sigText as string };
        for (const [field] of optional) if (entry[field] !== undefined) signature[field] = entry[field] as string;
        parsedSignatures.push(signature);
        sigs.push(sig);
      }
    });
  }

  if (problems.length > 0 || payload === undefined) return { ok: false, problems };
  return {
    ok: true,
    parsed: { envelope: { payloadType: payloadType as string, payload: payloadText as string, signatures: parsedSignatures }, payload, sigs },
  };
}

function checkText(
  value: unknown,
  path: string,
  max: number,
  allowEmpty: boolean,
  problem: (path: string, code: EnvelopeProblem['code'], message: string) => void,
): void {
  if (typeof value !== 'string') problem(path, 'wrong-type', `${path} must be a string, not ${typeName(value)}`);
  else if (!allowEmpty && value.length === 0) problem(path, 'empty', `${path} is empty`);
  else if (value.length > max) problem(path, 'too-large', `${path} is longer than ${max} characters`);
  else if (!isWellFormedText(value)) problem(path, 'bad-text', `${path} is not well-formed Unicode`);
}
