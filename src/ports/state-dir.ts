// The state directory (`./.deployctl/`): runs and their journals, records, keys, and the per-runbook lock.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openAppendLog, type AppendLog } from './fs.js';

export interface StateDir {
  root: string;
  runsDir: string;
  recordsDir: string;
  keysDir: string;
  locksDir: string;
}

export function stateDir(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): StateDir {
  const root = path.resolve(cwd, env['DEPLOYCTL_STATE_DIR'] ?? '.deployctl');
  return {
    root,
    runsDir: path.join(root, 'runs'),
    recordsDir: path.join(root, 'records'),
    keysDir: path.join(root, 'keys'),
    locksDir: path.join(root, 'locks'),
  };
}

/** Sortable by time, unique enough for one team: `20261126T151500Z-3f9a1c`. */
export function newRunId(now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

const RUN_ID = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;

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
  try {
    const fd = fs.openSync(file, 'r');
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
  } catch {
    // A new journal.
  }
  const log = openAppendLog(file);
  if (needsNewline) log.append('\n', true);
  return log;
}

export function readJournalText(dir: StateDir, runId: string): string | undefined {
  try {
    return fs.readFileSync(journalPath(dir, runId), 'utf8');
  } catch {
    return undefined;
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
  return entries.filter(isRunId).sort().reverse();
}

export interface LockInfo {
  user: string;
  host: string;
  pid: number;
  runId: string;
  since: string;
  runbook: string;
}

export type AcquireResult = { ok: true; release: () => void; replacedStale?: LockInfo } | { ok: false; holder: LockInfo | undefined; file: string };

/** One run per runbook at a time. A lock left by a dead process on this host is taken over (and reported). */
export function acquireLock(dir: StateDir, name: string, info: Omit<LockInfo, 'user' | 'host' | 'pid' | 'since'>, now: number): AcquireResult {
  fs.mkdirSync(dir.locksDir, { recursive: true });
  const file = path.join(dir.locksDir, `${name}.lock`);
  const mine: LockInfo = { user: safeUser(), host: os.hostname(), pid: process.pid, since: new Date(now).toISOString(), ...info };
  let replacedStale: LockInfo | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o644);
      fs.writeSync(fd, `${JSON.stringify(mine)}\n`);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      const release = () => {
        try {
          const current = readLock(file);
          if (current?.pid === mine.pid && current.runId === mine.runId) fs.rmSync(file, { force: true });
        } catch {
          // Already gone.
        }
      };
      return replacedStale ? { ok: true, release, replacedStale } : { ok: true, release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readLock(file);
      const stale = holder === undefined ? isOlderThan(file, 10_000, now) : holder.host === os.hostname() && !isAlive(holder.pid);
      if (stale) {
        replacedStale = holder ?? { user: 'unknown', host: os.hostname(), pid: 0, runId: 'unknown', since: 'unknown', runbook: name };
        fs.rmSync(file, { force: true });
        continue;
      }
      return { ok: false, holder, file };
    }
  }
  return { ok: false, holder: readLock(file), file };
}

/** Who holds the lock of a runbook now, if anyone. */
export function lockHolder(dir: StateDir, name: string): LockInfo | undefined {
  return readLock(path.join(dir.locksDir, `${name}.lock`));
}

function readLock(file: string): LockInfo | undefined {
  try {
    const value = JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
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
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
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
