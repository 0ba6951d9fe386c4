// `record sign`: add one role's sign-off to a verified record, by the same rule the sign-off table counts it (decideSignoff), and rewrite the file atomically.
import { createPublicKey } from 'node:crypto';
import * as path from 'node:path';
import { readFileLimited, readTextFile, realPath, statPath, writeFileAtomic } from '../ports/fs.js';
import { addSignature, verifyEnvelope } from './dsse.js';
import { loadPrivateKey, type KeyError } from './keys.js';
import { decideSignoff, type SignoffRole } from './signoff.js';
import { MAX_RECORD_FILE_BYTES, readRecordFile } from './read.js';
import type { Trust } from './trust.js';
import { verifyParsedRecord, type CheckedRecord, type RecordVerification } from './verify.js';

export interface SignRequest {
  /** The record file, as given. */
  file: string;
  role: string;
  /** The private key file, as given. */
  keyFile: string;
  /** Who signs (the `signer` annotation). */
  signer: string;
  now: number;
}

export type SignResult =
  | { kind: 'unreadable'; verification: RecordVerification & { verdict: 'unreadable' } }
  | { kind: 'unverified'; verification: CheckedRecord }
  | { kind: 'no-runbook'; verification: CheckedRecord }
  | { kind: 'unknown-role'; role: string; roles: SignoffRole[] }
  | { kind: 'bad-signer'; message: string }
  | { kind: 'key-error'; error: KeyError }
  | { kind: 'key-not-listed'; role: SignoffRole; keyId: string }
  /** The role lists no keys, and the runbook lists this key for other roles. */
  | { kind: 'key-of-other-role'; role: SignoffRole; keyId: string; otherRoles: string[] }
  /** This key already signed off for this role: nothing to do. */
  | { kind: 'already-signed'; keyId: string; existingIndex: number; keyWarning?: string }
  /** This key already signed the record, for another role or for none (the run's own signature): a key signs once. */
  | { kind: 'key-used'; keyId: string; role: SignoffRole; existingIndex: number; existingRole?: string }
  | { kind: 'too-many-signatures'; keyId: string }
  | { kind: 'changed-concurrently' }
  | {
      kind: 'signed';
      keyId: string;
      role: SignoffRole;
      /** The role lists no keys: the signature is annotated with the role and shows as "unverified identity". */
      unverifiedIdentity: boolean;
      signatures: number;
      keyWarning?: string;
      runbookChanged: boolean;
    };

const MAX_SIGNER_CHARS = 256;
/** Another `record sign` may rewrite the file between our read and our write: start over this many times. */
const ATTEMPTS = 3;

export function signRecord(request: SignRequest, trust: Trust): SignResult {
  const signer = request.signer.trim();
  if (signer === '' || signer.length > MAX_SIGNER_CHARS || /[\u0000-\u001f\u007f]/.test(signer)) {
    return { kind: 'bad-signer', message: `the signer name must be 1 to ${MAX_SIGNER_CHARS} printable characters` };
  }
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const read = readRecordFile(request.file, trust.env.cwd);
    if (!read.ok) return { kind: 'unreadable', verification: { verdict: 'unreadable', file: request.file, problem: read.problem } };
    const verification = verifyParsedRecord(request.file, read.parsed, trust);
    if (verification.verdict !== 'valid') return { kind: 'unverified', verification };
    const roles = verification.runbookTrust?.roles;
    if (roles === undefined) return { kind: 'no-runbook', verification };
    const role = roles.find((r) => r.id === request.role);
    if (role === undefined) return { kind: 'unknown-role', role: request.role, roles };

    const key = loadPrivateKey(path.resolve(trust.env.cwd, request.keyFile));
    if (!key.ok) return { kind: 'key-error', error: key.error };
    // The table's own rule: a sign-off this refuses would never show, and one it accepts always does.
    const decision = decideSignoff(roles, role.id, key.keyId);
    if (!decision.counts) {
      return decision.why === 'listed-for-other' ? { kind: 'key-of-other-role', role, keyId: key.keyId, otherRoles: decision.roles } : { kind: 'key-not-listed', role, keyId: key.keyId };
    }

    const added = addSignature(read.parsed.envelope, key.key, { role: role.id, signer, signed_at: new Date(request.now).toISOString() });
    const keyWarning = key.warning !== undefined ? { keyWarning: key.warning } : {};
    if (!added.added) {
      if (added.reason === 'already-signed') {
        // A key signs once, and only its first signature counts: for the role it is annotated with, or for none.
        const existingRole = read.parsed.envelope.signatures[added.existingIndex]?.role;
        if (existingRole === role.id) return { kind: 'already-signed', keyId: key.keyId, existingIndex: added.existingIndex, ...keyWarning };
        return { kind: 'key-used', keyId: key.keyId, role, existingIndex: added.existingIndex, ...(existingRole !== undefined ? { existingRole } : {}) };
      }
      return { kind: 'too-many-signatures', keyId: key.keyId };
    }

    // Rewrite the file a symlink points at, not the link.
    const requested = path.resolve(trust.env.cwd, request.file);
    const target = realPath(requested) ?? requested;
    if (!sameBytes(target, read.bytes)) continue;
    writeFileAtomic(target, `${JSON.stringify(added.envelope, null, 2)}\n`, fileMode(target));
    assertSignedOnDisk(target, key.key, key.keyId);
    return {
      kind: 'signed',
      keyId: key.keyId,
      role,
      unverifiedIdentity: decision.as === 'unverified-identity',
      signatures: added.envelope.signatures.length,
      runbookChanged: verification.runbook?.state === 'changed',
      ...keyWarning,
    };
  }
  return { kind: 'changed-concurrently' };
}

function fileMode(file: string): number {
  const info = statPath(file);
  return info === undefined ? 0o644 : info.mode & 0o777;
}

function sameBytes(file: string, bytes: Uint8Array): boolean {
  try {
    const now = readFileLimited(file, MAX_RECORD_FILE_BYTES);
    return now.ok && Buffer.from(now.bytes).equals(Buffer.from(bytes));
  } catch {
    return false;
  }
}

/** Trust what is on disk: read it back and check the new signature verifies there. */
function assertSignedOnDisk(file: string, privateKey: Parameters<typeof createPublicKey>[0], keyId: string): void {
  const written = JSON.parse(readTextFile(file)) as unknown;
  const result = verifyEnvelope(written, [{ key: createPublicKey(privateKey), label: 'the signing key' }]);
  if (result.status === 'malformed' || !result.validKeyIds.includes(keyId)) {
    throw new Error(`the record rewritten to ${file} does not carry a valid signature by ${keyId} after writing; the disk or file system may be failing`);
  }
}
