// `record sign`: add one role's sign-off to a verified record, by the rule the sign-off table counts it (decideSignoff); under an exclusive lock on the record, rewritten atomically.
import { createPublicKey } from 'node:crypto';
import * as path from 'node:path';
import { faultPoint } from '../faults.js';
import { acquireFileLock, type LockHolder } from '../ports/file-lock.js';
import type { RecordLockHolder } from '../ports/state/store.js';
import { readFileLimited, realPath, statPath, writeFileAtomic } from '../ports/fs.js';
import { addSignature, verifyEnvelope, type Envelope } from './dsse.js';
import { loadPrivateKey, type KeyError, type LoadPrivateKeyResult } from './keys.js';
import { decideSignoff, type SignoffRole } from './signoff.js';
import { MAX_RECORD_FILE_BYTES, parseRecordBytes, readRecordFile, type ReadRecordResult } from './read.js';
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
  /** How long to wait for another `record sign` on the same record to finish (default 10 s). */
  lockWaitMs?: number;
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
  /** Another `record sign` held the record's lock for the whole wait: nothing was written. */
  | { kind: 'locked'; file: string; lockFile: string; holder?: LockHolder; waitedMs: number }
  /** The lock file could not be created (read-only, foreign-owned or full directory): nothing was written. */
  | { kind: 'lock-failed'; file: string; lockFile: string; code: string; message: string }
  /** Writing the signed record failed: the record is as it was. */
  | { kind: 'write-failed'; file: string; code: string; message: string }
  /** The file read back after writing lacks the new signature. */
  | { kind: 'not-on-disk'; file: string }
  /** A record kept in a state store (`postgres:<name>`): it is not there (any more). */
  | { kind: 'missing'; file: string; where: string }
  /** Another sign-off held the stored record (its row in the database) for the whole wait: nothing was written. */
  | { kind: 'stored-locked'; file: string; lock: string; holder?: RecordLockHolder; waitedMs: number; inDatabase: boolean }
  /** The stored record read back after the write lacks the new signature. */
  | { kind: 'not-stored'; file: string; where: string }
  | {
      kind: 'signed';
      keyId: string;
      role: SignoffRole;
      /** The role lists no keys: the signature is annotated with the role and shows as "unverified identity". */
      unverifiedIdentity: boolean;
      signatures: number;
      keyWarning?: string;
      runbookChanged: boolean;
      /** A lock left by a process that died was taken over. */
      tookOverLockFrom?: LockHolder;
      /** The lock that was held while signing: a lock file, or the row of the record in the database. */
      lockFile: string;
    };

const MAX_SIGNER_CHARS = 256;
export const DEFAULT_SIGN_LOCK_WAIT_MS = 10_000;

export type Plan =
  | { kind: 'refuse'; result: SignResult }
  | { kind: 'sign'; bytes: Uint8Array; envelope: Envelope; role: SignoffRole; unverifiedIdentity: boolean; runbookChanged: boolean; keyWarning?: string };

/** What a sign-off that landed says: its key, role and count, and the lock held while it was written. */
export function signedResult(signed: Extract<Plan, { kind: 'sign' }>, keyId: string, lockFile: string, tookOverFrom: LockHolder | undefined): SignResult {
  return {
    kind: 'signed',
    keyId,
    role: signed.role,
    unverifiedIdentity: signed.unverifiedIdentity,
    signatures: signed.envelope.signatures.length,
    runbookChanged: signed.runbookChanged,
    lockFile,
    ...(signed.keyWarning !== undefined ? { keyWarning: signed.keyWarning } : {}),
    ...(tookOverFrom !== undefined ? { tookOverLockFrom: tookOverFrom } : {}),
  };
}

/**
 * Decide first without the lock, so that every refusal comes back at once whoever else is signing; then, holding the
 * record's lock (`.<name>.lock` beside it), read it again and sign what is there now. Two sign-offs at once are thus
 * one after the other: each is in the file, or its command failed and said so.
 */
export function signRecord(request: SignRequest, trust: Trust): SignResult {
  const signer = request.signer.trim();
  const badSigner = checkSigner(signer);
  if (badSigner !== undefined) return badSigner;
  let loadedKey: LoadPrivateKeyResult | undefined;
  const key = () => (loadedKey ??= loadPrivateKey(path.resolve(trust.env.cwd, request.keyFile)));
  const plan = (read: ReadRecordResult): Plan => planSignature(read, request, signer, key, trust);

  const unlocked = plan(readRecordFile(request.file, trust.env.cwd));
  if (unlocked.kind === 'refuse') return unlocked.result;

  // Rewrite the file a symlink points at, not the link; lock that file, whichever name reached it.
  const requested = path.resolve(trust.env.cwd, request.file);
  const target = realPath(requested) ?? requested;
  const lockFile = path.join(path.dirname(target), `.${path.basename(target)}.lock`);
  const lock = acquireFileLock(lockFile, { what: 'deployctl record sign', waitMs: request.lockWaitMs ?? DEFAULT_SIGN_LOCK_WAIT_MS });
  if (!lock.ok) {
    if (lock.reason === 'held') return { kind: 'locked', file: request.file, lockFile, waitedMs: lock.waitedMs, ...(lock.holder !== undefined ? { holder: lock.holder } : {}) };
    return { kind: 'lock-failed', file: request.file, lockFile, code: lock.code, message: lock.message };
  }
  try {
    faultPoint('sign-locked');
    const again = readRecordFile(target, trust.env.cwd);
    // Unchanged while we waited: what was decided stands. Changed (another sign-off landed): decide again on the new bytes.
    const locked = again.ok && Buffer.from(again.bytes).equals(Buffer.from(unlocked.bytes)) ? unlocked : plan(again);
    if (locked.kind === 'refuse') return locked.result;
    const loaded = key();
    if (!loaded.ok) throw new Error('the signing key loaded before taking the lock and not after'); // planSignature returned it already
    try {
      writeFileAtomic(target, `${JSON.stringify(locked.envelope, null, 2)}\n`, fileMode(target));
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      return { kind: 'write-failed', file: request.file, code: e.code ?? 'unknown', message: e.message };
    }
    if (!isSignedOnDisk(target, loaded.key, loaded.keyId)) return { kind: 'not-on-disk', file: request.file };
    return signedResult(locked, loaded.keyId, lockFile, lock.tookOverFrom);
  } finally {
    lock.release();
  }
}

/** Verify the record as read, check the role and the key by decideSignoff, and make the signed envelope (not written). */
export function planSignature(read: ReadRecordResult, request: Pick<SignRequest, 'file' | 'role' | 'now'>, signer: string, key: () => LoadPrivateKeyResult, trust: Trust): Plan {
  const refuse = (result: SignResult): Plan => ({ kind: 'refuse', result });
  if (!read.ok) return refuse({ kind: 'unreadable', verification: { verdict: 'unreadable', file: request.file, problem: read.problem } });
  const verification = verifyParsedRecord(request.file, read.parsed, trust);
  if (verification.verdict !== 'valid') return refuse({ kind: 'unverified', verification });
  const roles = verification.runbookTrust?.roles;
  if (roles === undefined) return refuse({ kind: 'no-runbook', verification });
  const role = roles.find((r) => r.id === request.role);
  if (role === undefined) return refuse({ kind: 'unknown-role', role: request.role, roles });

  const loaded = key();
  if (!loaded.ok) return refuse({ kind: 'key-error', error: loaded.error });
  // The table's own rule: a sign-off this refuses would never show, and one it accepts always does.
  const decision = decideSignoff(roles, role.id, loaded.keyId);
  if (!decision.counts) {
    return refuse(
      decision.why === 'listed-for-other' ? { kind: 'key-of-other-role', role, keyId: loaded.keyId, otherRoles: decision.roles } : { kind: 'key-not-listed', role, keyId: loaded.keyId },
    );
  }

  const added = addSignature(read.parsed.envelope, loaded.key, { role: role.id, signer, signed_at: new Date(request.now).toISOString() });
  const keyWarning = loaded.warning !== undefined ? { keyWarning: loaded.warning } : {};
  if (!added.added) {
    if (added.reason === 'too-many-signatures') return refuse({ kind: 'too-many-signatures', keyId: loaded.keyId });
    // A key signs once, and only its first signature counts: for the role it is annotated with, or for none.
    const existingRole = read.parsed.envelope.signatures[added.existingIndex]?.role;
    if (existingRole === role.id) return refuse({ kind: 'already-signed', keyId: loaded.keyId, existingIndex: added.existingIndex, ...keyWarning });
    return refuse({ kind: 'key-used', keyId: loaded.keyId, role, existingIndex: added.existingIndex, ...(existingRole !== undefined ? { existingRole } : {}) });
  }
  return {
    kind: 'sign',
    bytes: read.bytes,
    envelope: added.envelope,
    role,
    unverifiedIdentity: decision.as === 'unverified-identity',
    runbookChanged: verification.runbook?.state === 'changed',
    ...keyWarning,
  };
}

function fileMode(file: string): number {
  const info = statPath(file);
  return info === undefined ? 0o644 : info.mode & 0o777;
}

/** The signer's name, as the `signer` annotation takes it: a refusal, or undefined when it will do. */
export function checkSigner(signer: string): SignResult | undefined {
  if (signer === '' || signer.length > MAX_SIGNER_CHARS || /[\u0000-\u001f\u007f]/.test(signer)) {
    return { kind: 'bad-signer', message: `the signer name must be 1 to ${MAX_SIGNER_CHARS} printable characters` };
  }
  return undefined;
}

/** Trust what is on disk: read it back and check that the new signature verifies there. */
function isSignedOnDisk(file: string, privateKey: Parameters<typeof createPublicKey>[0], keyId: string): boolean {
  let bytes: Uint8Array;
  try {
    const read = readFileLimited(file, MAX_RECORD_FILE_BYTES);
    if (!read.ok) return false;
    bytes = read.bytes;
  } catch {
    return false;
  }
  return isSignedIn(file, bytes, privateKey, keyId);
}

/** The record `bytes` carry a signature by `keyId` that verifies with the public half of `privateKey`. */
export function isSignedIn(file: string, bytes: Uint8Array, privateKey: Parameters<typeof createPublicKey>[0], keyId: string): boolean {
  const parsed = parseRecordBytes(file, bytes);
  if (!parsed.ok) return false;
  const result = verifyEnvelope(parsed.parsed.envelope, [{ key: createPublicKey(privateKey), label: 'the signing key' }]);
  return result.status !== 'malformed' && result.validKeyIds.includes(keyId);
}
