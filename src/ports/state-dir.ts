// The state directory (`./.deployctl/`): runs and their journals, records, keys, and the per-runbook lock.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { compactUtcStamp } from './clock.js';
import { listDirectory, makeDirectory, openAppendLog, openRegularFile, readTextFile, statPath, withPath, writeAll, writeFileAtomic, type AppendLog } from './fs.js';
import { readProcStat } from './proc.js';

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
 * One run per runbook at a time. A lock left by a dead process on this host is taken over (and reported). Taking
 * over is itself exclusive: only the process that creates `<name>.lock.takeover` may remove the stale lock, and it
 * checks again, under that claim, that the lock is still the stale one it saw — so two processes that both find
 * the same stale lock cannot both end up holding the runbook.
 */
export function acquireLock(dir: Pick<StateDir, 'locksDir'>, name: string, info: Omit<LockInfo, 'user' | 'host' | 'pid' | 'since'>, now: number): AcquireResult {
  makeDirectory(dir.locksDir);
  const file = path.join(dir.locksDir, `${name}.lock`);
  let mine: LockInfo = { user: safeUser(), host: os.hostname(), pid: process.pid, since: new Date(now).toISOString(), ...info };
  let replacedStale: LockInfo | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createExclusive(file, `${JSON.stringify(mine)}\n`)) {
      const ours = () => {
        const current = readLock(file);
        return current?.pid === mine.pid && current.runId === mine.runId && current.since === mine.since;
      };
      const release = () => {
        try {
          if (ours()) fs.rmSync(file, { force: true });
        } catch {
          // Already gone.
        }
      };
      const setRunId = (runId: string) => {
        if (!ours()) return;
        mine = { ...mine, runId };
        writeFileAtomic(file, `${JSON.stringify(mine)}\n`);
      };
      return replacedStale ? { ok: true, release, setRunId, replacedStale } : { ok: true, release, setRunId };
    }
    const holder = readLock(file);
    if (!isStaleLock(file, holder, now)) return { ok: false, holder, file };
    const claim = `${file}.takeover`;
    if (!createExclusive(claim, `${process.pid}\n`)) {
      // Someone else is taking it over; a claim left by a crash is cleared once it is old.
      if (isOlderThan(claim, 10_000, now)) fs.rmSync(claim, { force: true });
      return { ok: false, holder, file };
    }
    try {
      const again = readLock(file);
      if (JSON.stringify(again) !== JSON.stringify(holder) || !isStaleLock(file, again, now)) return { ok: false, holder: again, file };
      replacedStale = holder ?? { user: 'unknown', host: os.hostname(), pid: 0, runId: 'unknown', since: 'unknown', runbook: name };
      fs.rmSync(file, { force: true });
    } finally {
      fs.rmSync(claim, { force: true });
    }
  }
  return { ok: false, holder: readLock(file), file };
}

function isStaleLock(file: string, holder: LockInfo | undefined, now: number): boolean {
  return holder === undefined ? isOlderThan(file, 10_000, now) : holder.host === os.hostname() && !isAlive(holder.pid);
}

/** Create `file` with `text` only if it does not exist; fsync'd. False when it exists. */
function createExclusive(file: string, text: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeAll(fd, Buffer.from(text, 'utf8'));
    fs.fsyncSync(fd);
  } catch (error) {
    // A full disk: no empty lock left behind to block the next run.
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw withPath(error, file);
  }
  fs.closeSync(fd);
  return true;
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
    .filter((l): l is LockInfo => l !== undefined && l.host === os.hostname() && isAlive(l.pid));
}

/** Who holds the lock of a runbook now, if anyone. */
export function lockHolder(dir: Pick<StateDir, 'locksDir'>, name: string): LockInfo | undefined {
  return readLock(path.join(dir.locksDir, `${name}.lock`));
}

/** A lock is one short JSON line; anything bigger, or not a regular file (a FIFO planted there), is not a lock. */
const MAX_LOCK_BYTES = 64 * 1024;

function readLock(file: string): LockInfo | undefined {
  try {
    const value = JSON.parse(readTextFile(file, MAX_LOCK_BYTES)) as LockInfo;
    return typeof value.pid === 'number' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** An unreadable lock (a crash between creating and writing it) is stale once it is a few seconds old. */
function isOlderThan(file: string, ms: number, now: number): boolean {
  try {
    return now - fs.statSync(file).mtimeMs > ms;
  } catch {
    return true;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (dead, not yet reaped by its parent) still answers kill(pid, 0); on Linux /proc says what it is.
  const stat = readProcStat(pid);
  return stat === undefined || stat.state !== 'Z';
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
