// Every sentence `deployctl record …` says to the user about a refusal or an outcome, each naming the fix.
import { didYouMean } from '../runbook/suggest.js';
import { clean, shortKeyId } from './format.js';
import type { LockHolder } from '../ports/file-lock.js';
import type { RecordLockHolder } from '../ports/state/store.js';
import { storageWords } from '../ports/fs-failure.js';
import type { SignoffRole } from './signoff.js';

export interface Message {
  message: string;
  hint?: string;
}

export const UNREADABLE_HINT = 'a deployment record is the JSON file deployctl run writes to .deployctl/records/; check the path, or copy the file again if it was cut short';

export function noRecordsMessage(dir: string): Message {
  return {
    message: `no records in ${dir}`,
    hint: 'deployctl run RUNBOOK writes one there when a run ends; or name a record file: deployctl record show FILE',
  };
}

export function unverifiedExportMessage(file: string): Message {
  return {
    message: `${file} does not verify; refusing to export it as if it were a true record`,
    hint: 'deployctl record verify FILE says why; --unverified exports it anyway, marked UNVERIFIED',
  };
}

export function unverifiedSignMessage(file: string): Message {
  return {
    message: `refusing to sign ${file}: it does not verify, and a sign-off would vouch for content that may be forged`,
    hint: 'deployctl record verify FILE says why (give --pubkey or --runbook if the signer key is simply not known here)',
  };
}

export function noRunbookForSignMessage(runbookPath: string | undefined, notFollowed?: string): Message {
  if (notFollowed !== undefined && runbookPath !== undefined) {
    return {
      message: `cannot check which keys may sign for a role: the record names its runbook by ${notFollowed} (${clean(runbookPath, 300)}), and a record's runbook is followed only by a relative path inside this directory (the record chose that name, and key files beside a runbook elsewhere are nobody's here to vouch for)`,
      hint: `if that is the runbook of the run, give it with --runbook ${clean(runbookPath, 300)}`,
    };
  }
  return {
    message: `cannot check which keys may sign for a role: the runbook ${runbookPath === undefined ? 'of this record' : clean(runbookPath, 300)} was not found or does not load`,
    hint: 'give the runbook file with --runbook PATH (role keys are read from its roles: … keys:)',
  };
}

export function unknownRoleMessage(role: string, roles: readonly SignoffRole[]): Message {
  return {
    message: `--role '${clean(role, 64)}' is not a role of the runbook${didYouMean(role, roles.map((r) => r.id))}`,
    hint: `Roles: ${roles.map((r) => `${r.id} (${clean(r.title, 100)})`).join(', ')}.`,
  };
}

export function keyNotListedMessage(keyFile: string, keyId: string, role: SignoffRole): Message {
  const listed = (role.keys ?? []).map((k) => (k.keyId !== undefined ? `${k.path} (${shortKeyId(k.keyId)})` : `${k.path} (unusable: ${clean(k.error ?? 'not loaded', 200)})`));
  return {
    message: `${keyFile} (${shortKeyId(keyId)}) is not a key the runbook lists for role ${role.id} (${clean(role.title, 100)}); it lists: ${listed.join(', ')}`,
    hint: `sign with the private half of one of those keys, or have the runbook list this key's .pub under roles.${role.id}.keys`,
  };
}

export function keyOfOtherRoleMessage(keyFile: string, keyId: string, role: SignoffRole, otherRoles: readonly string[]): Message {
  return {
    message: `${keyFile} (${shortKeyId(keyId)}) is the key the runbook lists for ${otherRoles.map((r) => clean(r, 64)).join(', ')}; role ${role.id} (${clean(role.title, 100)}) lists no keys, and a key given to one role cannot claim a role that lists none`,
    hint: `sign with ${role.id}'s own key (deployctl keygen --name ${role.id}), and list its .pub under roles.${role.id}.keys so the sign-off is verified`,
  };
}

export function keyUsedMessage(file: string, keyId: string, index: number, existingRole: string | undefined, role: SignoffRole): Message {
  const used = existingRole === undefined ? `signature #${index + 1}, which signs off for no role (the run's own signature is one)` : `signature #${index + 1}, for role ${clean(existingRole, 64)}`;
  return {
    message: `this key (${shortKeyId(keyId)}) already signed ${file} (${used}); a key signs a record once, so it cannot also sign off for ${role.id}`,
    hint: `sign with ${role.id}'s own key (deployctl keygen --name ${role.id}, then list its .pub under roles.${role.id}.keys in the runbook)`,
  };
}

export function unverifiedIdentityNote(role: SignoffRole): string {
  return `role ${role.id} (${clean(role.title, 100)}) lists no keys in the runbook, so nothing proves who holds this key: the sign-off is annotated role=${role.id} and shows as "unverified identity". List the key's .pub under roles.${role.id}.keys to make sign-offs for ${role.id} count.`;
}

export function signedMessage(file: string, role: SignoffRole, signer: string, keyId: string, count: number): string {
  return `signed off ${file} for role ${role.id} (${clean(role.title, 100)}) as ${clean(signer, 100)} with key ${shortKeyId(keyId)}; the record now has ${count} signature${count === 1 ? '' : 's'}`;
}

export function alreadySignedMessage(file: string, keyId: string, index: number): string {
  return `${file} already carries a valid signature by this key (${shortKeyId(keyId)}, signature #${index + 1}): nothing changed`;
}

export function runbookChangedNote(): string {
  return 'note: the runbook changed since the run, so the role keys it lists now do not count for this record';
}

function holderWords(holder: LockHolder | undefined): string {
  if (holder === undefined) return 'another deployctl record sign';
  return `${clean(holder.what, 100)} (pid ${holder.pid} on ${clean(holder.host, 100)}, since ${clean(holder.since, 64)})`;
}

/** What a failed write or lock means for this file system error, and what to do. */
function fileSystemHint(code: string, what: string): string {
  if (code === 'EACCES' || code === 'EPERM') return `the directory is not writable by you: ${what} a copy of the record in a directory you can write to, or ask its owner`;
  if (code === 'EROFS') return `the file system is read-only: copy the record somewhere writable and ${what} the copy`;
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'the disk (or your quota) is full: free some space, then run the command again';
  return 'check the directory of the record, then run the command again';
}

/** Node's own text when it says more than the code (`EROFS: read-only file system, open '…'` says nothing more). */
function lockDetail(code: string, detail: string): string {
  return detail.startsWith(`${code}:`) || detail === '' ? '' : ` (${clean(detail, 200)})`;
}

export function signLockedMessage(file: string, lockFile: string, holder: LockHolder | undefined, waitedMs: number): Message {
  return {
    message: `${clean(file, 300)} is being signed by ${holderWords(holder)}; waited ${(waitedMs / 1000).toFixed(1)} s for it to finish, and nothing was written`,
    hint: `run the command again once it has finished; if no record sign is running${holder !== undefined ? ` as pid ${holder.pid}` : ''}, remove ${clean(lockFile, 300)}`,
  };
}

export function signLockFailedMessage(file: string, lockFile: string, code: string, detail: string): Message {
  return {
    // One sentence like every other file-system refusal (fs-failure.ts): the file, the cause in words, the code.
    message: `cannot write ${clean(file, 300)}: ${storageWords(clean(code, 32))}: its lock file ${clean(lockFile, 300)} cannot be created${lockDetail(code, detail)}; nothing was written, the record is as it was`,
    hint: fileSystemHint(code, 'sign'),
  };
}

export function signWriteFailedMessage(file: string, code: string, detail: string): Message {
  return {
    message: `cannot write ${clean(file, 300)}: ${storageWords(clean(code, 32))}: the signed record was not written${lockDetail(code, detail)}; the record is as it was`,
    hint: fileSystemHint(code, 'sign'),
  };
}

export function notOnDiskMessage(file: string): Message {
  return {
    message: `${clean(file, 300)} was written, but read back it does not carry the new signature: a program other than deployctl record sign (which waits for the lock) changed it at the same moment, or the file system lost the write`,
    hint: `deployctl record verify ${clean(file, 300)} shows what it holds now; run the command again to sign it`,
  };
}

export function tookOverLockNote(lockFile: string, holder: LockHolder): string {
  return `took over the lock ${clean(lockFile, 300)} left by ${holderWords(holder)}, which is no longer running`;
}

/** A record kept in a state store whose lock (its row in the database) another sign-off held for the whole wait. */
export function storedLockedMessage(label: string, lock: string, holder: RecordLockHolder | undefined, waitedMs: number, inDatabase: boolean): Message {
  const where = holder?.pid === undefined ? '' : inDatabase ? `database session ${holder.pid} from ${clean(holder.host ?? 'an unknown host', 100)}` : `pid ${holder.pid} on ${clean(holder.host ?? 'an unknown host', 100)}`;
  const details = [where, holder?.since !== undefined ? `since ${clean(holder.since, 64)}` : ''].filter((d) => d !== '').join(', ');
  const who = holder === undefined ? 'another deployctl record sign' : `${clean(holder.what, 100)}${details !== '' ? ` (${details})` : ''}`;
  return {
    message: `${clean(label, 300)} is being signed by ${who}; waited ${(waitedMs / 1000).toFixed(1)} s for it to finish, and nothing was written`,
    hint: inDatabase
      ? `run the command again once it has finished; it holds ${clean(lock, 300)} until its transaction ends${holder?.pid !== undefined ? ` (if nothing is signing there, the database's owner can end that session: SELECT pg_terminate_backend(${holder.pid}))` : ''}`
      : `run the command again once it has finished; if no record sign is running${holder?.pid !== undefined ? ` as pid ${holder.pid}` : ''}, remove ${clean(lock, 300)}`,
  };
}

export function notStoredMessage(label: string, where: string): Message {
  return {
    message: `${clean(label, 300)} was written to ${clean(where, 300)}, but read back it does not carry the new signature: something other than deployctl record sign (which waits for the record's lock) changed it at the same moment`,
    hint: `deployctl record verify ${clean(label, 300)} --state … shows what it holds now; run the command again to sign it`,
  };
}

export function storedMissingMessage(label: string, where: string): Message {
  return {
    message: `${clean(label, 300)} is no longer in ${clean(where, 300)} (it was removed while being signed): nothing was signed`,
    hint: 'deployctl record list --state … lists the records there (as postgres:<name>)',
  };
}
