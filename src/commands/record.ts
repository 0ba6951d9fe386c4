// `deployctl record show|verify|sign|export|list`: read, verify, sign off and export signed deployment records (exit 0 valid, 1 does not verify, 2 unreadable or misused).
import { fileFailure, isFileFailure } from '../ports/fs-failure.js';
import * as path from 'node:path';
import type { Io } from '../cli/io.js';
import { CliError, ExitCode } from '../errors.js';
import { currentUser, stateDir } from '../ports/state-dir.js';
import type { SchemaValidator } from '../runbook/schema.js';
import { closest } from '../runbook/suggest.js';
import { renderRecordJson, renderRecordMarkdown } from '../record/export.js';
import { clean } from '../record/format.js';
import { listRecords, recordFilesNewestFirst, renderRecordList } from '../record/list.js';
import { openStateStore, resolveState } from '../ports/state/location.js';
import {
  alreadySignedMessage,
  keyNotListedMessage,
  keyOfOtherRoleMessage,
  keyUsedMessage,
  noRecordsMessage,
  noRunbookForSignMessage,
  runbookChangedNote,
  signedMessage,
  signLockedMessage,
  signLockFailedMessage,
  signWriteFailedMessage,
  notOnDiskMessage,
  tookOverLockNote,
  unknownRoleMessage,
  UNREADABLE_HINT,
  unverifiedExportMessage,
  unverifiedIdentityNote,
  unverifiedSignMessage,
  type Message,
} from '../record/messages.js';
import { notFollowedWords, renderRecordSummary, renderVerificationReport } from '../record/show.js';
import { signRecord } from '../record/sign.js';
import { prepareTrust, verifyRecordBytes, verifyRecordFile, type RecordVerification, type Trust, type UnreadableRecord } from '../record/verify.js';
import { unsignedFileAnswers } from '../record/verify-answers.js';
import { existsSync } from 'node:fs';
import { roleKeyGivenAsRunKey } from '../record/trust.js';

export interface RecordContext {
  io: Io;
  cwd: string;
  env: NodeJS.ProcessEnv;
  now: () => number;
  /** The record schema validator; tests pass one compiled at test time. */
  validate?: SchemaValidator;
  /** How long `record sign` waits for another sign-off of the same record (default 10 s). */
  signLockWaitMs?: number;
}

export function defaultRecordContext(io: Io): RecordContext {
  return { io, cwd: process.cwd(), env: io.env, now: Date.now };
}

export interface TrustFlags {
  /** `--pubkey`, repeatable. */
  pubkey?: string[];
  runbook?: string;
}

export const RECORD_SUBCOMMANDS = ['show', 'verify', 'sign', 'export', 'list'] as const;

/** A full, read-only or foreign-owned directory gets the hint every other command gives for it (who owns what, df -h). */
function withStorageHint(message: Message, code: string, file: string): Message {
  if (!isFileFailure(Object.assign(new Error(code), { code }))) return message;
  const explained = fileFailure(Object.assign(new Error(code), { code, path: file, syscall: 'open' }), process.cwd(), 'run record sign again');
  return explained.hint === undefined ? message : { ...message, hint: explained.hint };
}

function fail(message: Message, exitCode: number, details: readonly string[] = []): never {
  throw new CliError(message.message, { exitCode, details, ...(message.hint !== undefined ? { hint: message.hint } : {}) });
}

function trustFrom(flags: TrustFlags, ctx: RecordContext): Trust {
  const prepared = prepareTrust(
    { ...(flags.pubkey !== undefined ? { pubkeys: flags.pubkey } : {}), ...(flags.runbook !== undefined ? { runbook: flags.runbook } : {}) },
    { cwd: ctx.cwd, env: ctx.env, ...(ctx.validate !== undefined ? { validate: ctx.validate } : {}) },
  );
  if (!prepared.ok) fail(prepared, ExitCode.usage, prepared.details.map((d) => `  ${d}`));
  return prepared.trust;
}

/**
 * Refuse (exit 2) a `--pubkey` that is a role's sign-off key in the runbook the records name: it would make a role key
 * a run key, and a record changed and re-signed with that key alone would verify VALID. Call after verifying.
 */
function refuseRoleKeyAsRunKey(trust: Trust): void {
  const found = roleKeyGivenAsRunKey(trust);
  if (found === undefined) return;
  fail(
    {
      message: `--pubkey ${clean(found.pubkey, 200)} is the key role ${clean(found.role, 64)} signs off with (${clean(found.runbook, 200)} lists it under roles.${clean(found.role, 64)}.keys): a role key only signs off, it never makes a record valid, so it is not taken as a run key`,
      hint: "give the public key the run signed with instead: .deployctl/keys/deployctl.pub of the machine (and directory) that ran it; the runbook's role keys are checked for sign-offs by themselves",
    },
    ExitCode.usage,
  );
}

function failUnreadable(v: UnreadableRecord): never {
  fail({ message: v.problem.message, hint: UNREADABLE_HINT }, ExitCode.usage, v.problem.details.map((d) => `  ${d}`));
}

/** A record to read: a file, or one the state store holds (a PostgreSQL row, named `postgres:<name>` as `record list` shows it). */
export type RecordTarget = string | { label: string; bytes: Uint8Array };

const labelOf = (target: RecordTarget): string => (typeof target === 'string' ? target : target.label);

function verifyTarget(target: RecordTarget, trust: Trust): RecordVerification {
  return typeof target === 'string' ? verifyRecordFile(target, trust) : verifyRecordBytes(target.label, target.bytes, trust);
}

/**
 * What `record show|verify|export|sign RECORD --state URL|DIR` reads: `postgres:<name>` (or a bare name) from a
 * PostgreSQL state, the record of that name in a state directory's records, else the file as given; with no RECORD
 * (show), the newest the state holds. The context comes back with the directory's keys as run keys, as `record list`.
 * Without --state and without a `postgres:` name, nothing is opened.
 */
export async function resolveRecordTarget(file: string | undefined, state: string | undefined, ctx: RecordContext): Promise<{ target: RecordTarget | undefined; ctx: RecordContext }> {
  const fromDatabase = file?.startsWith('postgres:') === true;
  if (state === undefined && !fromDatabase) return { target: file, ctx };
  const { location, localDir } = resolveState(state, ctx.env, ctx.cwd);
  if (location.kind !== 'postgres') {
    if (fromDatabase) {
      fail({ message: `${clean(file!, 200)} names a record kept in PostgreSQL, but the state here is the directory ${shown(ctx, localDir.root)}`, hint: 'give the database it is in: --state postgres://user@host/database (or set DEPLOYCTL_STATE)' }, ExitCode.usage);
    }
    const local = { ...ctx, env: { ...ctx.env, DEPLOYCTL_STATE_DIR: localDir.root } };
    if (file === undefined) return { target: undefined, ctx: local };
    const inRecords = path.join(localDir.recordsDir, path.basename(file));
    return { target: !existsSync(path.resolve(ctx.cwd, file)) && existsSync(inRecords) ? shown(ctx, inRecords) : file, ctx: local };
  }
  const store = await openStateStore(location);
  try {
    const records = await store.listRecords();
    if (file === undefined) {
      const newest = records[0];
      if (newest === undefined) fail({ message: `no records in ${store.where} yet`, hint: 'deployctl run --state … stores one there when a run ends' }, ExitCode.usage);
      return { target: { label: `postgres:${newest.name}`, bytes: newest.bytes ?? new Uint8Array() }, ctx };
    }
    const name = fromDatabase ? file.slice('postgres:'.length) : file;
    const found = records.find((r) => r.name === name);
    if (found?.bytes !== undefined) return { target: { label: `postgres:${found.name}`, bytes: found.bytes }, ctx };
    if (!fromDatabase && existsSync(path.resolve(ctx.cwd, file))) return { target: file, ctx };
    return fail({ message: `no record ${clean(name, 200)} in ${store.where}`, hint: `deployctl record list --state … lists the records there (as postgres:<name>)` }, ExitCode.usage);
  } finally {
    await store.close();
  }
}

function shown(ctx: RecordContext, file: string): string {
  const relative = path.relative(ctx.cwd, file);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

// ---------------------------------------------------------------------------------------------
// verify

export interface VerifyFlags extends TrustFlags {
  json?: boolean;
}

export function recordVerifyCommand(file: RecordTarget, flags: VerifyFlags, ctx: RecordContext): number {
  const trust = trustFrom(flags, ctx);
  const v = verifyTarget(file, trust);
  refuseRoleKeyAsRunKey(trust);
  if (flags.json) {
    ctx.io.out(JSON.stringify(verificationJson(v), null, 2));
    return exitCodeOf(v);
  }
  if (v.verdict === 'unreadable') failUnreadable(v);
  ctx.io.out(renderVerificationReport(v));
  return exitCodeOf(v);
}

export function exitCodeOf(v: RecordVerification): number {
  return v.verdict === 'valid' ? ExitCode.ok : v.verdict === 'invalid' ? ExitCode.failed : ExitCode.usage;
}

/** The `--json` shape of a verification: stable, snake_case, full key ids. */
export function verificationJson(v: RecordVerification): Record<string, unknown> {
  if (v.verdict === 'unreadable') return { record: v.file, verdict: 'unreadable', problem: { code: v.problem.code, message: v.problem.message, details: v.problem.details } };
  const p = v.statement?.predicate;
  return {
    record: v.file,
    verdict: v.verdict,
    failures: v.failures,
    warnings: v.warnings,
    signatures: v.signatures.map((s) => ({
      index: s.index,
      keyid: s.keyid,
      state: s.state,
      valid: s.state === 'valid' || s.state === 'duplicate',
      verified_keyid: s.verifiedKeyId ?? null,
      key: s.keyLabel ?? null,
      key_class: s.keyClass ?? null,
      counts_for: s.countsFor,
      reason: s.reason ?? null,
      role: s.role ?? null,
      signer: s.signer ?? null,
      signed_at: s.signed_at ?? null,
    })),
    trusted_keys: v.trustedKeys.map((k) => ({ keyid: k.keyId, sources: k.sources, class: k.keyClass })),
    // Read from the payload: nothing but a verified signature vouches for them, so an invalid record has neither.
    runbook:
      v.runbook === undefined || v.verdict !== 'valid'
        ? null
        : {
            path: v.runbook.path,
            state: v.runbook.state,
            recorded_sha256: v.runbook.recorded,
            current_sha256: v.runbook.current ?? null,
            roles_checked: v.runbook.rolesChecked,
            not_followed: v.runbook.notFollowed ?? null,
            problems: v.runbook.problems,
          },
    signoffs: v.verdict !== 'valid' ? null : v.signoffs.rows.map((r) => ({
      role: r.role,
      title: r.title,
      state: r.state,
      by: r.by.map((e) => ({ index: e.index, keyid: e.keyid, key: e.keyLabel ?? null, signer: e.signer ?? null, signed_at: e.signed_at ?? null, verified: e.verified, answer: e.answer ?? null })),
    })),
    notes: v.verdict !== 'valid' ? [] : v.signoffs.notes,
    // Each answer people gave (issue 14), its signature checked against the runbook's people.
    answers: (v.answers ?? []).map((a) => ({
      prompt_id: a.answer.prompt_id,
      slot: a.answer.slot,
      role: a.answer.role ?? null,
      person: a.answer.person ?? null,
      operator: a.answer.operator ?? null,
      on_behalf_of: a.answer.on_behalf_of ?? null,
      via: a.answer.via,
      answers_file: a.answer.answers_file ?? null,
      answer: a.answer.answer,
      state: a.state,
      key: a.keyLabel ?? null,
      keyid: a.keyId ?? a.answer.signature?.keyid ?? null,
      reason: a.reason ?? null,
    })),
    // Answers taken from --answers that no person's key vouches for (the operator's, on the roles' behalf): not a failure.
    unsigned_file_answers: v.verdict === 'valid' && p !== undefined ? unsignedFileAnswers(p) : [],
    run:
      p === undefined
        ? null
        : { authentic: v.verdict === 'valid', run_id: p.run_id, runbook: p.runbook.name, status: p.status, started_at: p.started_at, ended_at: p.ended_at },
    statement_problems: v.statementProblems,
  };
}

// ---------------------------------------------------------------------------------------------
// show

/** Show a record (default: the newest in the records directory). Exit 0 when it verifies, 1 when not (shown under a warning), 2 when unreadable. */
export function recordShowCommand(file: RecordTarget | undefined, flags: TrustFlags, ctx: RecordContext, extra: readonly string[] = []): number {
  if (typeof file === 'string' && (extra.length > 0 || (!file.includes('/') && !file.endsWith('.json')))) {
    const typo = closest(file, RECORD_SUBCOMMANDS);
    if (typo !== undefined && typo !== file) {
      fail({ message: `unknown record command '${clean(file, 64)}'; did you mean '${typo}'?`, hint: `deployctl record ${RECORD_SUBCOMMANDS.join('|')} …` }, ExitCode.usage);
    }
    if (extra.length > 0) fail({ message: `record show takes one RECORD file, not ${extra.length + 1} arguments`, hint: `deployctl record ${RECORD_SUBCOMMANDS.join('|')} …` }, ExitCode.usage);
  }
  const target = file ?? newestRecord(ctx);
  const trust = trustFrom(flags, ctx);
  const v = verifyTarget(target, trust);
  refuseRoleKeyAsRunKey(trust);
  if (v.verdict === 'unreadable') failUnreadable(v);
  ctx.io.out(renderRecordSummary(v));
  if (v.verdict !== 'valid') ctx.io.err(`deployctl: ${clean(labelOf(target), 300)} does NOT verify; the content above may be forged or altered (deployctl record verify says why)`);
  return exitCodeOf(v);
}

function newestRecord(ctx: RecordContext): string {
  const dir = stateDir(ctx.env, ctx.cwd).recordsDir;
  const newest = recordFilesNewestFirst(dir)[0];
  if (newest === undefined) fail(noRecordsMessage(shown(ctx, dir)), ExitCode.usage);
  return shown(ctx, newest.file);
}

// ---------------------------------------------------------------------------------------------
// sign

export interface SignFlags extends TrustFlags {
  role: string;
  key: string;
  operator?: string;
}

export function recordSignCommand(target: RecordTarget, flags: SignFlags, ctx: RecordContext): number {
  if (typeof target !== 'string') {
    // A sign-off is written into the record file under a lock; a database row has neither yet.
    fail(
      {
        message: `${clean(target.label, 200)} is kept in PostgreSQL, and record sign can only add a sign-off to a record file: nothing was signed`,
        hint: 'sign the file the run wrote (its path is in the run\'s summary, on the machine that ran it: .deployctl/records/)',
      },
      ExitCode.usage,
    );
  }
  const file = target;
  const trust = trustFrom(flags, ctx);
  // The record's runbook is read by verifying it first: a role key given as a run key is refused before anything is signed.
  if (flags.pubkey !== undefined && flags.pubkey.length > 0) {
    verifyRecordFile(file, trust);
    refuseRoleKeyAsRunKey(trust);
  }
  const signer = flags.operator ?? ctx.env['DEPLOYCTL_OPERATOR'] ?? currentUser();
  const result = signRecord({ file, role: flags.role, keyFile: flags.key, signer, now: ctx.now(), ...(ctx.signLockWaitMs !== undefined ? { lockWaitMs: ctx.signLockWaitMs } : {}) }, trust);
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
    case 'signed':
      if (result.keyWarning !== undefined) io.err(`deployctl: warning: ${result.keyWarning}`);
      if (result.tookOverLockFrom !== undefined) io.err(`deployctl: note: ${tookOverLockNote(result.lockFile, result.tookOverLockFrom)}`);
      io.out(signedMessage(file, result.role, signer, result.keyId, result.signatures));
      if (result.unverifiedIdentity) io.out(unverifiedIdentityNote(result.role));
      if (result.runbookChanged) io.out(runbookChangedNote());
      return ExitCode.ok;
  }
}

// ---------------------------------------------------------------------------------------------
// export

export interface ExportFlags extends TrustFlags {
  format: 'markdown' | 'json';
  unverified?: boolean;
}

export function recordExportCommand(target: RecordTarget, flags: ExportFlags, ctx: RecordContext): number {
  const file = labelOf(target);
  const trust = trustFrom(flags, ctx);
  const v = verifyTarget(target, trust);
  refuseRoleKeyAsRunKey(trust);
  if (v.verdict === 'unreadable') failUnreadable(v);
  if (v.verdict !== 'valid') {
    if (!flags.unverified || v.statement === undefined) {
      ctx.io.err(renderVerificationReport(v));
      fail(unverifiedExportMessage(file), ExitCode.failed);
    }
    ctx.io.err(`deployctl: warning: ${clean(file, 300)} does NOT verify; exporting it marked UNVERIFIED because of --unverified`);
  }
  ctx.io.out(flags.format === 'json' ? renderRecordJson(v) : renderRecordMarkdown(v));
  // With --unverified the export was asked for and is marked: it succeeded.
  return ExitCode.ok;
}

// ---------------------------------------------------------------------------------------------
// list

export interface ListFlags extends TrustFlags {
  json?: boolean;
  /** Where runs are kept: a postgres:// URL (the team's records) or a directory (default: $DEPLOYCTL_STATE, else the local state directory). */
  state?: string;
}

export async function recordListCommand(flags: ListFlags, ctx: RecordContext): Promise<number> {
  const { location, localDir } = resolveState(flags.state, ctx.env, ctx.cwd);
  const store = await openStateStore(location);
  let stored;
  try {
    stored = await store.listRecords();
  } finally {
    await store.close();
  }
  if (stored.length === 0) {
    if (flags.json) ctx.io.out('[]');
    else if (store.directory !== undefined) {
      ctx.io.err(`No records in ${shown(ctx, localDir.recordsDir)} (deployctl run writes one there when a run ends; records live under the directory a run was started from, so run this there, or set DEPLOYCTL_STATE_DIR).`);
    } else ctx.io.err(`No records in ${store.where} yet (deployctl run --state … stores one there when a run ends).`);
    return ExitCode.ok;
  }
  // A directory given with --state is where this list's keys are too.
  const trust = trustFrom(flags, location.kind === 'directory' ? { ...ctx, env: { ...ctx.env, DEPLOYCTL_STATE_DIR: localDir.root } } : ctx);
  // A key file in .deployctl/keys that was passed over (a FIFO planted there, a private key) changes what verifies: say so.
  for (const warning of trust.warnings) ctx.io.err(`deployctl: warning: ${warning}`);
  const entries = stored.map((r) => ({ file: r.file ?? r.where, name: r.name, time: r.time, ...(r.bytes !== undefined ? { bytes: r.bytes } : {}) }));
  const rows = listRecords(entries, trust, (f) => (path.isAbsolute(f) ? shown(ctx, f) : f));
  refuseRoleKeyAsRunKey(trust);
  ctx.io.out(flags.json ? JSON.stringify(rows, null, 2) : renderRecordList(rows));
  return ExitCode.ok;
}
