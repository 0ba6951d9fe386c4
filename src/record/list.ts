// The records of a state store (the records directory, or a database table), newest first, each verified (keys and runbooks loaded once for all of them).
import type { RecordFileEntry } from '../ports/state-dir.js';
import { clean } from './format.js';
import { verifyRecordBytes, verifyRecordFile, type RecordVerification, type Trust } from './verify.js';

export { recordFilesNewestFirst, type RecordFileEntry } from '../ports/state-dir.js';

export interface RecordListRow {
  file: string;
  runbook?: string;
  status?: string;
  /** When the deployment started (from the record), else when the file was sealed. */
  date: string;
  verification: 'valid' | 'invalid' | 'unreadable';
  /** Why it is invalid or unreadable, in a few words. */
  reason?: string;
  run?: string;
  /** When the run ended, as its signed record says. */
  ended?: string;
  /** A newer valid record of the same run exists (the run was resumed and sealed again): this one is history. */
  superseded?: boolean;
  /** `--time-scale`: a rehearsal, not a deployment (the scale). */
  rehearsal?: number;
}

export function listRecords(entries: readonly RecordFileEntry[], trust: Trust, shownPath: (file: string) => string): RecordListRow[] {
  const rows = entries.map((entry) => toRow(entry, entry.bytes !== undefined ? verifyRecordBytes(entry.file, entry.bytes, trust) : verifyRecordFile(entry.file, trust), shownPath(entry.file)));
  // Of the valid records of one run, the one that ended last (by its signed ended_at, not its file's name or age)
  // is the run's record; the others were sealed before the run was resumed and sealed again.
  const valid = rows.filter((row) => row.verification === 'valid' && row.run !== undefined && row.ended !== undefined);
  const latest = new Map<string, number>();
  for (const row of valid) latest.set(row.run!, Math.max(latest.get(row.run!) ?? -Infinity, Date.parse(row.ended!)));
  for (const row of valid) if (Date.parse(row.ended!) < latest.get(row.run!)!) row.superseded = true;
  return rows;
}

function toRow(entry: RecordFileEntry, verification: RecordVerification, file: string): RecordListRow {
  const sealed = new Date(entry.time).toISOString();
  if (verification.verdict === 'unreadable') return { file, date: sealed, verification: 'unreadable', reason: verification.problem.code };
  const predicate = verification.statement?.predicate;
  return {
    file,
    ...(predicate !== undefined ? { runbook: predicate.runbook.name, status: predicate.status, run: predicate.run_id, ended: predicate.ended_at } : {}),
    ...(predicate?.rehearsal === true ? { rehearsal: predicate.time_scale ?? 1 } : {}),
    date: predicate?.started_at ?? sealed,
    verification: verification.verdict,
    ...(verification.verdict === 'invalid' ? { reason: verification.failures[0] ?? 'does not verify' } : {}),
  };
}

/** One aligned line per record: file, runbook, status, date, verification. */
export function renderRecordList(rows: readonly RecordListRow[]): string {
  const cells = rows.map((r) => [
    clean(r.file, 200),
    clean(r.runbook ?? '-', 64),
    `${clean(r.status ?? '-', 16)}${r.rehearsal !== undefined ? ` (REHEARSAL ${r.rehearsal}×)` : ''}${r.superseded ? ' (superseded: resumed later)' : ''}`,
    clean(r.date.replace(/\.\d+(?=Z|[+-])/, ''), 40),
    r.verification === 'valid' ? 'valid' : r.verification === 'invalid' ? `INVALID${r.reason ? ` (${clean(r.reason, 120)})` : ''}` : `UNREADABLE (${clean(r.reason ?? '', 40)})`,
  ]);
  const header = ['RECORD', 'RUNBOOK', 'STATUS', 'STARTED', 'VERIFICATION'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!))).join('  ');
  return [line(header), ...cells.map(line)].join('\n');
}
