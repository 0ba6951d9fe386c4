// The one file-lock implementation: an exclusive lock file (created with O_EXCL, mode 0600), waited for up to a limit; a lock left by a dead process on this host (pid and start time) is taken over. Used by record sign and by the runbook and host locks (state-dir.ts).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { readTextFile, withPath, writeAll, writeFileAtomic } from './fs.js';
import { isSameLiveProcess, isZombieState, readProcStat } from './proc.js';

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

/** A holder with the fields its taker added (`E`: a runbook lock's run id, runbook, user…). */
export type Held<E extends object> = LockHolder & E;

export type LockResult<E extends object = object> =
  | {
      ok: true;
      /** Remove the lock, only while it is still this holder's (someone may have removed and retaken it by hand). */
      release: () => void;
      /** Rewrite the added fields (atomically), only while the lock is still this holder's. */
      update: (fields: Partial<E>) => void;
      tookOverFrom?: Held<E>;
    }
  /** Someone else held it for the whole wait (or, with `waitMs: 0`, when asked). */
  | { ok: false; reason: 'held'; lockFile: string; holder?: Held<E>; waitedMs: number }
  /** The lock file could not be created (a read-only or foreign-owned directory…). */
  | { ok: false; reason: 'error'; lockFile: string; code: string; message: string; error: unknown };

export interface LockOptions<E extends object = object> {
  /** What is taking it, in words; a waiting process shows it. */
  what: string;
  /** More fields for the lock file, shown to whoever finds it held. */
  fields?: E;
  /** The clock (ms) for `since` and for the age of an unreadable lock or a takeover claim; default the system's. */
  now?: number;
  /** How long to wait for a holder to finish. */
  waitMs: number;
  /** How long a lock file with no readable holder (its creator died before writing it) is given before it counts as stale. */
  unreadableStaleMs?: number;
}

const POLL_MS = 20;

/** A lock is one short JSON line; anything bigger is not a lock. */
const MAX_LOCK_BYTES = 64 * 1024;

/** Take `lockFile`, waiting up to `waitMs` while a live process holds it. Never throws for an expected failure. */
export function acquireFileLock<E extends object = object>(lockFile: string, options: LockOptions<E>): LockResult<E> {
  const started = Date.now();
  const now = () => options.now ?? Date.now();
  const startTime = readProcStat(process.pid)?.startTime;
  let mine: Held<E> = {
    ...(options.fields as E),
    pid: process.pid,
    host: os.hostname(),
    since: new Date(now()).toISOString(),
    what: options.what,
    ...(startTime !== undefined ? { startTime } : {}),
    token: randomBytes(8).toString('hex'),
  };
  const text = `${JSON.stringify(mine)}\n`;
  const unreadableStaleMs = options.unreadableStaleMs ?? 10_000;
  let tookOverFrom: Held<E> | undefined;
  for (let round = 0; ; round++) {
    let created: boolean;
    try {
      created = createExclusive(lockFile, text);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      return { ok: false, reason: 'error', lockFile, code: e.code ?? 'unknown', message: e.message, error };
    }
    if (created) {
      const ours = () => readHolder(lockFile)?.token === mine.token;
      const release = () => {
        try {
          if (ours()) fs.rmSync(lockFile, { force: true });
        } catch {
          // Gone already.
        }
      };
      const update = (fields: Partial<E>) => {
        if (!ours()) return;
        mine = { ...mine, ...fields };
        writeFileAtomic(lockFile, `${JSON.stringify(mine)}\n`, 0o600);
      };
      return tookOverFrom !== undefined ? { ok: true, release, update, tookOverFrom } : { ok: true, release, update };
    }
    const holder = readHolder<E>(lockFile);
    if (isStale(lockFile, holder, unreadableStaleMs, now())) {
      const removed = removeStale(lockFile, holder, unreadableStaleMs, now());
      if (removed !== undefined) {
        tookOverFrom = removed;
        continue;
      }
      // Another process is taking it over: wait like for a holder.
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
  } catch (error) {
    // A full disk: no empty lock left behind to block the next taker.
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw withPath(error, file);
  }
  fs.closeSync(fd);
  return true;
}

/** Who holds `file`, if it names one: a pid and a host at least (a lock written before tokens existed has none). */
export function readHolder<E extends object = object>(file: string, maxBytes = MAX_LOCK_BYTES): Held<E> | undefined {
  try {
    // Bounded, and never a FIFO or a device planted in the lock's place: that is not a lock.
    const value = JSON.parse(readTextFile(file, maxBytes)) as Partial<LockHolder>;
    if (typeof value.pid !== 'number' || typeof value.host !== 'string') return undefined;
    return { ...value, token: typeof value.token === 'string' ? value.token : '' } as Held<E>;
  } catch {
    return undefined;
  }
}

/**
 * Whether the holder still runs: on another host it is taken as running (nothing here can tell); on this one, the
 * process with its pid must be alive, not a zombie, and (where the lock names one) have its start time: a reused pid is
 * another process.
 */
export function isHolderAlive(holder: Pick<LockHolder, 'pid' | 'host' | 'startTime'>): boolean {
  if (holder.host !== os.hostname()) return true;
  if (holder.startTime !== undefined && readProcStat(holder.pid) !== undefined) return isSameLiveProcess(holder.pid, holder.startTime);
  return isAlive(holder.pid);
}

function isStale(file: string, holder: LockHolder | undefined, unreadableStaleMs: number, now: number): boolean {
  // Unreadable: its creator may be writing it this very moment, so only an old one is abandoned.
  if (holder === undefined) return isOlderThan(file, unreadableStaleMs, now, false);
  return !isHolderAlive(holder);
}

/** `file` was last written more than `ms` before `now`; `gone` when it does not exist. */
function isOlderThan(file: string, ms: number, now: number, gone: boolean): boolean {
  try {
    return now - fs.statSync(file).mtimeMs > ms;
  } catch {
    return gone;
  }
}

/** The process `pid` runs (kill(pid, 0)), and is not a zombie (dead, not yet reaped by its parent, which still answers kill). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = readProcStat(pid);
  return stat === undefined || !isZombieState(stat.state);
}

/**
 * Remove a stale lock, exclusively: only the process that creates `<lock>.takeover` may, and it checks again under that
 * claim that the lock is still the one it judged stale, so two waiters that both saw it cannot remove a fresh lock.
 */
function removeStale<E extends object>(lockFile: string, seen: Held<E> | undefined, unreadableStaleMs: number, now: number): Held<E> | undefined {
  const claim = `${lockFile}.takeover`;
  let claimed = false;
  try {
    claimed = createExclusive(claim, `${process.pid}\n`);
  } catch {
    return undefined;
  }
  if (!claimed) {
    // Another waiter is taking it over; a claim left by a crash is cleared once it is old.
    if (isOlderThan(claim, 10_000, now, false)) fs.rmSync(claim, { force: true });
    return undefined;
  }
  try {
    const again = readHolder<E>(lockFile);
    if (JSON.stringify(again) !== JSON.stringify(seen) || !isStale(lockFile, again, unreadableStaleMs, now)) return undefined;
    fs.rmSync(lockFile, { force: true });
    return seen ?? ({ pid: 0, host: os.hostname(), since: 'unknown', what: 'unknown', token: '' } as Held<E>);
  } finally {
    fs.rmSync(claim, { force: true });
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Block this thread for `ms`: the commands that lock are synchronous, and nothing else runs while they wait. */
function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
