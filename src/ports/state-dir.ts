// The state directory (`./.deployctl/`): runs and their journals, records, keys, and the per-runbook lock.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { compactUtcStamp } from './clock.js';
import { acquireFileLock, isAlive, isHolderAlive, readHolder } from './file-lock.js';
import { listDirectory, makeDirectory, openAppendLog, openRegularFile, readTextFile, statPath, withPath, writeAll, writeFileAtomic, type AppendLog } from './fs.js';

export { isAlive, isHolderAlive } from './file-lock.js';

export interface StateDir {
  root: string;
  runsDir: string;
  recordsDir: string;
  keysDir: string;
  locksDir: string;
}

export function stateDir(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): StateDir {
  return stateDirAt(path.resolve(cwd, env['DEPLOYCTL_STATE_DIR'] ?? '.deployctl'));
}

export function stateDirAt(root: string): StateDir {
  return {
    root,
    runsDir: path.join(root, 'runs'),
    recordsDir: path.join(root, 'records'),
    keysDir: path.join(root, 'keys'),
    locksDir: path.join(root, 'locks'),
  };
}

/**
 * Sortable by time, unique enough for one team: `20261126T151500123Z-3f9a1c`. To the millisecond, so that "the newest
 * run" is never a coin toss between two runs started in the same second (a dry run, then the real one).
 */
export function newRunId(now: number): string {
  return `${compactUtcStamp(now, 'milliseconds')}-${randomBytes(3).toString('hex')}`;
}

/** Also the to-the-second ids of earlier versions, so their runs still resume, show and verify. */
const RUN_ID_PATTERN = '\\d{8}T\\d{6}(?:\\d{3})?Z-[0-9a-f]{6}';
const RUN_ID = new RegExp(`^${RUN_ID_PATTERN}$`);

export function isRunId(text: string): boolean {
  return RUN_ID.test(text);
}

export function journalPath(dir: StateDir, runId: string): string {
  return path.join(dir.runsDir, runId, 'journal.jsonl');
}

/** Open a run's journal for appending; after a crash the last line may be torn, so start on a fresh line. */
export function openJournal(dir: StateDir, runId: string): AppendLog {
  const file = journalPath(dir, runId);
  let needsNewline = false;
  let fd: number | undefined;
  try {
    fd = openRegularFile(file);
  } catch (error) {
    // No journal yet: a new run. Anything else (a FIFO planted there, no permission) is said, not written past.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (fd !== undefined) {
    try {
      const size = fs.fstatSync(fd).size;
      if (size > 0) {
        const last = Buffer.alloc(1);
        fs.readSync(fd, last, 0, 1, size - 1);
        needsNewline = last[0] !== 0x0a;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  const log = openAppendLog(file);
  if (needsNewline) log.append('\n', true);
  return log;
}

/** Journals are one JSON line per event with at most 64 KiB of output per step: this is far beyond any real one. */
const MAX_JOURNAL_BYTES = 256 * 1024 * 1024;

/**
 * A run's journal, or undefined when the run has none. A journal that is there but cannot be read (not a regular
 * file, no permission) throws Node's error (ENOTREG, EACCES…), never blocks: the caller says so.
 */
export function readJournalText(dir: StateDir, runId: string): string | undefined {
  try {
    return readTextFile(journalPath(dir, runId), MAX_JOURNAL_BYTES);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Run ids, newest first. */
export function listRunIds(dir: StateDir): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir.runsDir);
  } catch {
    return [];
  }
  return sortRunIdsNewestFirst(entries.filter(isRunId));
}

/** Run ids, newest first, to the millisecond: an earlier version's to-the-second id counts as its second's first millisecond. */
export function sortRunIdsNewestFirst(ids: readonly string[]): string[] {
  const key = (id: string) => id.replace(/^(\d{8}T\d{6})Z/, '$1000Z');
  return [...ids].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)).reverse();
}

export interface LockInfo {
  user: string;
  host: string;
  pid: number;
  runId: string;
  since: string;
  runbook: string;
  /** Where the run keeps its state (absolute): another directory's `status` can read its journal there. */
  stateRoot?: string;
  /** The directory the run was started from (runbook paths in the journal are relative to it). */
  cwd?: string;
}

export type AcquireResult =
  | {
      ok: true;
      release: () => void;
      /** Name the run the lock is for, once it is known (a bare --resume learns its run id after locking). */
      setRunId: (runId: string) => void;
      replacedStale?: LockInfo;
    }
  | { ok: false; holder: LockInfo | undefined; file: string };

/**
 * One run per runbook at a time, through file-lock.ts (mode 0600; a holder is alive when its pid runs with the start
 * time it wrote). A lock left by a dead process on this host is taken over (and reported); taking over is itself
 * exclusive (`<name>.lock.takeover`), so two processes that both find the same stale lock cannot both end up holding
 * the runbook. Never waits: a live holder is reported at once.
 */
export function acquireLock(dir: Pick<StateDir, 'locksDir'>, name: string, info: Omit<LockInfo, 'user' | 'host' | 'pid' | 'since'>, now: number): AcquireResult {
  makeDirectory(dir.locksDir);
  const file = path.join(dir.locksDir, `${name}.lock`);
  const fields: Omit<LockInfo, 'host' | 'pid' | 'since'> = { user: safeUser(), ...info };
  const result = acquireFileLock(file, { what: `deployctl run ${info.runbook}`, fields, waitMs: 0, now });
  if (!result.ok) {
    if (result.reason === 'error') throw withPath(result.error, file);
    return { ok: false, holder: result.holder, file };
  }
  const setRunId = (runId: string) => result.update({ runId });
  return result.tookOverFrom !== undefined
    ? { ok: true, release: result.release, setRunId, replacedStale: result.tookOverFrom }
    : { ok: true, release: result.release, setRunId };
}

/**
 * Host-wide locks, beside the state directory's own: the state directory is per working directory, so a second
 * checkout, or `cd runbooks && deployctl run phase65.yaml`, would otherwise deploy the same runbook at the same time.
 */
export function hostLocks(env: NodeJS.ProcessEnv = process.env): Pick<StateDir, 'locksDir'> {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const root = env['DEPLOYCTL_LOCK_DIR'] ?? path.join(os.tmpdir(), `deployctl-${uid ?? 0}`);
  makeDirectory(root);
  refuseUnsafeLockDir(root, uid, env['DEPLOYCTL_LOCK_DIR'] !== undefined);
  return { locksDir: path.join(root, 'locks') };
}

/**
 * The host lock directory lives in a shared place ($TMPDIR): one another user made first, or one anybody can write
 * to, would let them remove or fake the locks. It must be a real directory (not a symlink), ours, and writable only
 * by us.
 */
function refuseUnsafeLockDir(root: string, uid: number | undefined, fromEnv: boolean): void {
  const info = fs.lstatSync(root);
  const why = !info.isDirectory()
    ? 'is not a directory (a symlink?)'
    : uid !== undefined && info.uid !== uid
      ? `belongs to uid ${info.uid}, not to you (uid ${uid})`
      : (info.mode & 0o022) !== 0
        ? `can be written by ${info.mode & 0o002 ? 'anyone' : 'its group'} (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')})`
        : undefined;
  if (why === undefined) return;
  throw new CliError(`the host lock directory ${root} ${why}, so its locks cannot be trusted; nothing was run`, {
    exitCode: ExitCode.usage,
    hint: fromEnv
      ? 'point DEPLOYCTL_LOCK_DIR at a directory of your own with mode 0700'
      : `remove ${root} if it is not yours to keep (deployctl makes it again, 0700), or set DEPLOYCTL_LOCK_DIR to a directory of your own with mode 0700`,
  });
}

/** Every live holder of a host-wide lock: deployments running on this host, from any directory. */
export function liveHostLocks(locks: Pick<StateDir, 'locksDir'>): LockInfo[] {
  let names: string[];
  try {
    names = fs.readdirSync(locks.locksDir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.lock'))
    .map((n) => readLock(path.join(locks.locksDir, n)))
    .filter((l): l is LockInfo => l !== undefined && l.host === os.hostname() && isHolderAlive(l));
}

/** Who holds the lock of a runbook now, if anyone. */
export function lockHolder(dir: Pick<StateDir, 'locksDir'>, name: string): LockInfo | undefined {
  return readLock(path.join(dir.locksDir, `${name}.lock`));
}

/** A lock is one short JSON line; anything bigger, or not a regular file (a FIFO planted there), is not a lock. */
const MAX_LOCK_BYTES = 64 * 1024;

function readLock(file: string): LockInfo | undefined {
  return readHolder<LockInfo>(file, MAX_LOCK_BYTES);
}

/** The same bound as record/verify.ts MAX_RECORD_FILE_BYTES. */
const MAX_SEALED_RECORD_BYTES = 16 * 1024 * 1024;

/**
 * The sealed record of how run `runId` ended (`status`) in the records directory, if it is there: a crash between
 * the journal's run-finished and the record's rename leaves a finished run without one, and a resume then seals it.
 */
export function findSealedRecord(dir: StateDir, runId: string, status: string): string | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(dir.recordsDir);
  } catch {
    return undefined;
  }
  for (const name of names.filter((n) => n.endsWith(`-${runId}.json`) && !n.startsWith('.')).sort().reverse()) {
    const file = path.join(dir.recordsDir, name);
    let text: string;
    try {
      text = readTextFile(file, MAX_SEALED_RECORD_BYTES);
    } catch {
      continue;
    }
    if (isSealedRecordOf(text, runId, status)) return file;
  }
  return undefined;
}

/** Whether an envelope's payload says it is the record of run `runId` ending `status` (not verified: only which file to trust next). */
export function isSealedRecordOf(text: string, runId: string, status: string): boolean {
  try {
    const envelope = JSON.parse(text) as { payload?: unknown };
    if (typeof envelope.payload !== 'string') return false;
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as { predicate?: { run_id?: unknown; status?: unknown } };
    return statement.predicate?.run_id === runId && statement.predicate.status === status;
  } catch {
    // Unreadable or not a record: not the record of this run.
    return false;
  }
}

/** writeFileAtomic's temporaries (`.<record>.<pid>.<ms>.tmp`) of a run's records, left by a crash while sealing: removed once their writer is gone. */
export function removeRecordTemporaries(dir: StateDir, runId: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir.recordsDir);
  } catch {
    return;
  }
  for (const name of names) {
    const match = new RegExp(`^\\..*-(${RUN_ID_PATTERN})\\.json\\.(\\d+)\\.\\d+\\.tmp$`).exec(name);
    if (match === null || match[1] !== runId || isAlive(Number(match[2]))) continue;
    fs.rmSync(path.join(dir.recordsDir, name), { force: true });
  }
}

export interface RecordFileEntry {
  /** Absolute path; or, for a record kept in a database, how it is shown. */
  file: string;
  name: string;
  /** When it was sealed: the time in its name (`<runbook>-<YYYYMMDDTHHMMSSmmmZ>-<run id>.json`), else its modification time. */
  time: number;
  /** The envelope, for a record that is not a file (a database row). */
  bytes?: Uint8Array;
}

const SEALED_STAMP = /-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})?Z-/;

/** `*.json` files of a records directory, newest first; an absent directory has none. */
export function recordFilesNewestFirst(dir: string): RecordFileEntry[] {
  const names = listDirectory(dir) ?? [];
  const entries: RecordFileEntry[] = [];
  for (const name of names) {
    // Dot files are writeFileAtomic's temporaries.
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    const file = path.join(dir, name);
    const stamp = SEALED_STAMP.exec(name);
    let time = stamp ? Date.UTC(Number(stamp[1]), Number(stamp[2]) - 1, Number(stamp[3]), Number(stamp[4]), Number(stamp[5]), Number(stamp[6]), Number(stamp[7] ?? 0)) : Number.NaN;
    if (Number.isNaN(time)) {
      const info = statPath(file);
      if (info === undefined) continue;
      time = info.mtimeMs;
    }
    entries.push({ file, name, time });
  }
  return entries.sort((a, b) => b.time - a.time || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
}

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env['USER'] ?? 'unknown';
  }
}

export function currentUser(): string {
  return safeUser();
}
