// `record sign` on a record kept in a state store (`postgres:<name>`): the same decision as on a file (planSignature), made again on the stored bytes while the store holds the record (its row locked), written in the same transaction and read back.
import * as path from 'node:path';
import { faultPoint } from '../faults.js';
import type { StateStore } from '../ports/state/store.js';
import { loadPrivateKey, type LoadPrivateKeyResult } from './keys.js';
import { parseRecordBytes, type ReadRecordResult } from './read.js';
import { checkSigner, DEFAULT_SIGN_LOCK_WAIT_MS, isSignedIn, planSignature, signedResult, type Plan, type SignResult } from './sign.js';
import type { Trust } from './trust.js';

export interface StoredSignRequest {
  /** The record's name in the store. */
  name: string;
  /** As shown: `postgres:<name>`. */
  label: string;
  /** The bytes it was read as (to decide refusals at once, before waiting for anyone). */
  bytes: Uint8Array;
  role: string;
  keyFile: string;
  signer: string;
  now: number;
  lockWaitMs?: number;
}

/**
 * Sign off a stored record. Refusals come back at once, decided on the bytes as read; then the store runs the change
 * on the bytes stored now, under the record's lock (SELECT … FOR UPDATE on PostgreSQL), so a sign-off that landed
 * meanwhile is kept and this one is decided again on top of it. Every sign-off that says "signed" is in the store, read
 * back; one that is not says why.
 */
export async function signStoredRecord(store: StateStore, request: StoredSignRequest, trust: Trust): Promise<SignResult> {
  const signer = request.signer.trim();
  const badSigner = checkSigner(signer);
  if (badSigner !== undefined) return badSigner;
  let loadedKey: LoadPrivateKeyResult | undefined;
  const key = () => (loadedKey ??= loadPrivateKey(path.resolve(trust.env.cwd, request.keyFile)));
  const asFile = { file: request.label, role: request.role, now: request.now };
  const plan = (read: ReadRecordResult): Plan => planSignature(read, asFile, signer, key, trust);

  const unlocked = plan(parseRecordBytes(request.label, request.bytes));
  if (unlocked.kind === 'refuse') return unlocked.result;

  const update = await store.updateRecord<Plan>(
    request.name,
    (current) => {
      faultPoint('sign-locked');
      // Unchanged since it was read: what was decided stands. Changed (another sign-off landed): decide again.
      const locked = Buffer.from(current).equals(Buffer.from(unlocked.bytes)) ? unlocked : plan(parseRecordBytes(request.label, current));
      if (locked.kind === 'refuse') return { result: locked };
      return { result: locked, write: Buffer.from(`${JSON.stringify(locked.envelope, null, 2)}\n`, 'utf8') };
    },
    { waitMs: request.lockWaitMs ?? DEFAULT_SIGN_LOCK_WAIT_MS, what: 'deployctl record sign' },
  );
  switch (update.kind) {
    case 'missing':
      return { kind: 'missing', file: request.label, where: update.where };
    case 'locked':
      return { kind: 'stored-locked', file: request.label, lock: update.lock, waitedMs: update.waitedMs, inDatabase: update.inDatabase, ...(update.holder !== undefined ? { holder: update.holder } : {}) };
    case 'failed':
      return update.stage === 'lock'
        ? { kind: 'lock-failed', file: request.label, lockFile: update.lock, code: update.code, message: update.message }
        : { kind: 'write-failed', file: request.label, code: update.code, message: update.message };
    case 'done':
      break;
  }
  const locked = update.result;
  if (locked.kind === 'refuse') return locked.result;
  const loaded = key();
  if (!loaded.ok) throw new Error('the signing key loaded before the update and not after'); // planSignature returned it already
  if (update.stored === undefined || !isSignedIn(request.label, update.stored, loaded.key, loaded.keyId)) return { kind: 'not-stored', file: request.label, where: store.where };
  return signedResult(locked, loaded.keyId, update.lock, update.tookOverFrom);
}
