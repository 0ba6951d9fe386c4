// `deployctl record show|verify|sign|export|list`: read, verify, sign off and export signed deployment records (exit 0 valid, 1 does not verify, 2 unreadable or misused).
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import { ExitCode } from '../errors.js';
import { stateDir } from '../ports/state-dir.js';
import { closest } from '../runbook/suggest.js';
import { renderRecordJson, renderRecordMarkdown } from '../record/export.js';
import { clean } from '../record/format.js';
import { listRecords, recordFilesNewestFirst, renderRecordList } from '../record/list.js';
import { openStateStore, resolveState } from '../ports/state/location.js';
import { noRecordsMessage, unverifiedExportMessage } from '../record/messages.js';
import { renderRecordSummary, renderVerificationReport } from '../record/show.js';
import type { RecordVerification } from '../record/verify.js';
import { unsignedFileAnswers } from '../record/verify-answers.js';
import { fail, failUnreadable, labelOf, refuseRoleKeyAsRunKey, RECORD_SUBCOMMANDS, shown, trustFrom, verifyTarget, type RecordContext, type RecordTarget, type TrustFlags } from './record-common.js';

export { defaultRecordContext, RECORD_SUBCOMMANDS, type RecordContext, type RecordTarget, type TrustFlags } from './record-common.js';
export { recordSignCommand, recordSignStoredCommand, type SignFlags } from './record-sign.js';

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
      return { target: { label: `postgres:${newest.name}`, bytes: newest.bytes ?? new Uint8Array(), name: newest.name }, ctx };
    }
    const name = fromDatabase ? file.slice('postgres:'.length) : file;
    const found = records.find((r) => r.name === name);
    if (found?.bytes !== undefined) return { target: { label: `postgres:${found.name}`, bytes: found.bytes, name: found.name }, ctx };
    if (!fromDatabase && existsSync(path.resolve(ctx.cwd, file))) return { target: file, ctx };
    return fail({ message: `no record ${clean(name, 200)} in ${store.where}`, hint: `deployctl record list --state … lists the records there (as postgres:<name>)` }, ExitCode.usage);
  } finally {
    await store.close();
  }
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
