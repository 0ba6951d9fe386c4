// `deployctl record sign`: add a role's sign-off to a record file (under its lock file) or to a record kept in the state store (`postgres:<name>`, under its row lock).
import { ExitCode } from '../errors.js';
import { currentUser } from '../ports/state-dir.js';
import { openStateStore, resolveState } from '../ports/state/location.js';
import {
  alreadySignedMessage,
  keyNotListedMessage,
  keyOfOtherRoleMessage,
  keyUsedMessage,
  noRunbookForSignMessage,
  notOnDiskMessage,
  notStoredMessage,
  runbookChangedNote,
  signedMessage,
  signLockedMessage,
  signLockFailedMessage,
  signWriteFailedMessage,
  storedLockedMessage,
  storedMissingMessage,
  tookOverLockNote,
  unknownRoleMessage,
  unverifiedIdentityNote,
  unverifiedSignMessage,
} from '../record/messages.js';
import { notFollowedWords, renderVerificationReport } from '../record/show.js';
import { signRecord, type SignResult } from '../record/sign.js';
import { signStoredRecord } from '../record/sign-stored.js';
import { verifyRecordBytes, verifyRecordFile } from '../record/verify.js';
import { fail, failUnreadable, refuseRoleKeyAsRunKey, trustFrom, withStorageHint, type RecordContext, type TrustFlags } from './record-common.js';

export interface SignFlags extends TrustFlags {
  role: string;
  key: string;
  operator?: string;
  /** Where a stored record is kept (`postgres://…`); default $DEPLOYCTL_STATE. */
  state?: string;
}

/** Sign off a record file, under its lock file `.<name>.lock`. */
export function recordSignCommand(file: string, flags: SignFlags, ctx: RecordContext): number {
  const trust = trustFrom(flags, ctx);
  // The record's runbook is read by verifying it first: a role key given as a run key is refused before anything is signed.
  if (flags.pubkey !== undefined && flags.pubkey.length > 0) {
    verifyRecordFile(file, trust);
    refuseRoleKeyAsRunKey(trust);
  }
  const signer = signerOf(flags, ctx);
  const result = signRecord({ file, role: flags.role, keyFile: flags.key, signer, now: ctx.now(), ...(ctx.signLockWaitMs !== undefined ? { lockWaitMs: ctx.signLockWaitMs } : {}) }, trust);
  return report(result, file, signer, flags, ctx);
}

/**
 * Sign off a record kept in the state store (`postgres:<name>`, as `record list --state` prints it): decided as for a
 * file, then written back into the store while it holds the record (on PostgreSQL its row, locked in one transaction).
 */
export async function recordSignStoredCommand(target: { label: string; bytes: Uint8Array; name?: string }, flags: SignFlags, ctx: RecordContext): Promise<number> {
  const trust = trustFrom(flags, ctx);
  if (flags.pubkey !== undefined && flags.pubkey.length > 0) {
    verifyRecordBytes(target.label, target.bytes, trust);
    refuseRoleKeyAsRunKey(trust);
  }
  const signer = signerOf(flags, ctx);
  const name = target.name ?? target.label.replace(/^postgres:/, '');
  const store = await openStateStore(resolveState(flags.state, ctx.env, ctx.cwd).location);
  let result: SignResult;
  try {
    result = await signStoredRecord(
      store,
      { name, label: target.label, bytes: target.bytes, role: flags.role, keyFile: flags.key, signer, now: ctx.now(), ...(ctx.signLockWaitMs !== undefined ? { lockWaitMs: ctx.signLockWaitMs } : {}) },
      trust,
    );
  } finally {
    await store.close();
  }
  return report(result, target.label, signer, flags, ctx);
}

function signerOf(flags: SignFlags, ctx: RecordContext): string {
  return flags.operator ?? ctx.env['DEPLOYCTL_OPERATOR'] ?? currentUser();
}

/** Say what came of a sign-off, and the exit code: 0 signed (or signed already), 1 not written, 2 refused. */
function report(result: SignResult, file: string, signer: string, flags: SignFlags, ctx: RecordContext): number {
  const { io } = ctx;
  switch (result.kind) {
    case 'unreadable':
      return failUnreadable(result.verification);
    case 'unverified':
      io.err(renderVerificationReport(result.verification));
      return fail(unverifiedSignMessage(file), ExitCode.failed);
    case 'no-runbook':
      return fail(
        noRunbookForSignMessage(result.verification.runbook?.path, result.verification.runbook?.notFollowed !== undefined ? notFollowedWords(result.verification.runbook.notFollowed) : undefined),
        ExitCode.usage,
        (result.verification.runbook?.problems ?? []).map((p) => `  ${p}`),
      );
    case 'unknown-role':
      return fail(unknownRoleMessage(result.role, result.roles), ExitCode.usage);
    case 'bad-signer':
      return fail({ message: `--operator: ${result.message}` }, ExitCode.usage);
    case 'key-error':
      return fail({ message: `--key ${flags.key}: ${result.error.message}`, ...(result.error.hint !== undefined ? { hint: result.error.hint } : {}) }, ExitCode.usage);
    case 'key-not-listed':
      return fail(keyNotListedMessage(flags.key, result.keyId, result.role), ExitCode.usage);
    case 'key-of-other-role':
      return fail(keyOfOtherRoleMessage(flags.key, result.keyId, result.role, result.otherRoles), ExitCode.usage);
    case 'key-used':
      // One key, one signature: it cannot sign off for a second role. Saying "nothing changed" would hide that.
      return fail(keyUsedMessage(file, result.keyId, result.existingIndex, result.existingRole, result.role), ExitCode.usage);
    case 'already-signed':
      if (result.keyWarning !== undefined) io.err(`deployctl: warning: ${result.keyWarning}`);
      io.out(alreadySignedMessage(file, result.keyId, result.existingIndex));
      return ExitCode.ok;
    case 'too-many-signatures':
      return fail({ message: `${file} already holds the most signatures a record may carry; nothing was added` }, ExitCode.failed);
    case 'locked':
      return fail(signLockedMessage(file, result.lockFile, result.holder, result.waitedMs), ExitCode.failed);
    case 'lock-failed':
      return fail(withStorageHint(signLockFailedMessage(file, result.lockFile, result.code, result.message), result.code, result.lockFile), ExitCode.failed);
    case 'write-failed':
      return fail(withStorageHint(signWriteFailedMessage(file, result.code, result.message), result.code, file), ExitCode.failed);
    case 'not-on-disk':
      return fail(notOnDiskMessage(file), ExitCode.failed);
    case 'stored-locked':
      return fail(storedLockedMessage(file, result.lock, result.holder, result.waitedMs, result.inDatabase), ExitCode.failed);
    case 'not-stored':
      return fail(notStoredMessage(file, result.where), ExitCode.failed);
    case 'missing':
      return fail(storedMissingMessage(file, result.where), ExitCode.usage);
    case 'signed':
      if (result.keyWarning !== undefined) io.err(`deployctl: warning: ${result.keyWarning}`);
      if (result.tookOverLockFrom !== undefined) io.err(`deployctl: note: ${tookOverLockNote(result.lockFile, result.tookOverLockFrom)}`);
      io.out(signedMessage(file, result.role, signer, result.keyId, result.signatures));
      if (result.unverifiedIdentity) io.out(unverifiedIdentityNote(result.role));
      if (result.runbookChanged) io.out(runbookChangedNote());
      return ExitCode.ok;
  }
}

