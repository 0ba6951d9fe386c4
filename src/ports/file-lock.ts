// An exclusive lock on one file (a lock file beside it, created with O_EXCL), waited for up to a limit; a lock left by a dead process on this host is taken over.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { writeAll } from './fs.js';
import { isSameLiveProcess, readProcStat } from './proc.js';

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  since: string;
  /** What holds it, in words (`deployctl record sign`). */
  what: string;
  /** The holder's start time (/proc), so a reused pid is not mistaken for the holder. */
  startTime?: number;
  /** Makes each holder's content unique, so a takeover removes exactly the lock it judged stale. */
  token: string;
}

export type LockResult =
  | { ok: true; release: () => void; tookOverFrom?: LockHolder }
  /** Someone else held it for the whole wait. */
  | { ok: false; reason: 'held'; lockFile: string; holder?: LockHolder; waitedMs: number }
  /** The lock file could not be created (a read-only or foreign-owned directory…). */
  | { ok: false; reason: 'error'; lockFile: string; code: string; message: string };

export interface LockOptions {
  /** What is taking it, in words; a waiting process shows it. */
  what: string;
  /** How long to wait for a holder to finish. */
  waitMs: number;
  /** How long a lock file with no readable holder (its creator died before writing it) is given before it counts as stale. */
  unreadableStaleMs?: number;
}

const POLL_MS = 20;

/** Take `lockFile`, waiting up to `waitMs` while a live process holds it. Never throws for an expected failure. */
export function acquireFileLock(lockFile: string, options: LockOptions): LockResult {
  const started = Date.now();
  const startTime = readProcStat(process.pid)?.startTime;
  const mine: LockHolder = {
    pid: process.pid,
    host: os.hostname(),
    since: new Date(started).toISOString(),
    what: options.what,
    ...(startTime !== undefined ? { startTime } : {}),
    token: randomBytes(8).toString('hex'),
  };
  const text = `${JSON.stringify(mine)}\n`;
  let tookOverFrom: LockHolder | undefined;
  for (let round = 0; ; round++) {
    let created: boolean;
    try {
      created = createExclusive(lockFile, text);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      return { ok: false, reason: 'error', lockFile, code: e.code ?? 'unknown', message: e.message };
    }
    if (created) {
      const release = () => {
        // Remove it only while it is still ours.
        if (readHolder(lockFile)?.token === mine.token) fs.rmSync(lockFile, { force: true });
      };
      return tookOverFrom !== undefined ? { ok: true, release, tookOverFrom } : { ok: true, release };
    }
    const holder = readHolder(lockFile);
    if (isStale(lockFile, holder, options.unreadableStaleMs ?? 10_000)) {
      const removed = removeStale(lockFile, holder, options.unreadableStaleMs ?? 10_000);
      if (removed !== undefined) tookOverFrom = removed;
      continue;
    }
    const waited = Date.now() - started;
    if (waited >= options.waitMs) return { ok: false, reason: 'held', lockFile, waitedMs: waited, ...(holder !== undefined ? { holder } : {}) };
    // A little jitter, so that waiters do not wake in step.
    sleepSync(POLL_MS + ((round * 7 + process.pid) % 11));
  }
}

/** Create `file` with `text` only if it does not exist, fsync'd. False when it exists. */
function createExclusive(file: string, text: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeAll(fd, Buffer.from(text, 'utf8'));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const value = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockHolder>;
    if (typeof value.pid !== 'number' || typeof value.host !== 'string' || typeof value.token !== 'string') return undefined;
    return value as LockHolder;
  } catch {
    return undefined;
  }
}

function isStale(file: string, holder: LockHolder | undefined, unreadableStaleMs: number): boolean {
  if (holder === undefined) {
    // Its creator may be writing it this very moment: only an old one is abandoned.
    try {
      return Date.now() - fs.statSync(file).mtimeMs > unreadableStaleMs;
    } catch {
      return false; // Gone already: the next round creates it.
    }
  }
  if (holder.host !== os.hostname()) return false; // Another machine's process: nothing here can tell whether it lives.
  if (holder.startTime !== undefined && readProcStat(holder.pid) !== undefined) return !isSameLiveProcess(holder.pid, holder.startTime);
  return !isAlive(holder.pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove a stale lock, exclusively: only the process that creates `<lock>.takeover` may, and it checks again under that
 * claim that the lock is still the one it judged stale, so two waiters that both saw it cannot remove a fresh lock.
 */
function removeStale(lockFile: string, seen: LockHolder | undefined, unreadableStaleMs: number): LockHolder | undefined {
  const claim = `${lockFile}.takeover`;
  let claimed = false;
  try {
    claimed = createExclusive(claim, `${process.pid}\n`);
  } catch {
    return undefined;
  }
  if (!claimed) {
    // Another waiter is taking it over; a claim left by a crash is cleared once it is old.
    try {
      if (Date.now() - fs.statSync(claim).mtimeMs > 10_000) fs.rmSync(claim, { force: true });
    } catch {
      // Gone already.
    }
    sleepSync(POLL_MS);
    return undefined;
  }
  try {
    const again = readHolder(lockFile);
    if (again?.token !== seen?.token || !isStale(lockFile, again, unreadableStaleMs)) return undefined;
    fs.rmSync(lockFile, { force: true });
    return seen ?? { pid: 0, host: os.hostname(), since: 'unknown', what: 'unknown', token: '' };
  } finally {
    fs.rmSync(claim, { force: true });
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Block this thread for `ms`: the commands that lock are synchronous, and nothing else runs while they wait. */
function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
