// The clock port: the system clock for real runs and a manual clock that tests advance by hand.
import type { Clock } from './types.js';

/** Node's setTimeout fires at once for delays above 2^31-1 ms (~24.8 days); longer waits are chained. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

function toDelay(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/**
 * Call `callback` after `ms` (chained past Node's 24.8-day limit). `unref` timers do not keep the
 * process alive: escalation and status timers must not hold a finished run open.
 */
function startTimer(ms: number, callback: () => void, unref: boolean): { cancel(): void } {
  let handle: NodeJS.Timeout | undefined;
  let cancelled = false;
  const arm = (remaining: number): void => {
    const step = Math.min(remaining, MAX_TIMEOUT_MS);
    handle = setTimeout(() => {
      if (cancelled) return;
      if (remaining > step) arm(remaining - step);
      else callback();
    }, step);
    if (unref) handle.unref();
  };
  arm(toDelay(ms));
  return {
    cancel() {
      cancelled = true;
      if (handle !== undefined) clearTimeout(handle);
    },
  };
}

/**
 * The real clock. `sleep` keeps the process alive (a retry delay is work in progress) and, when
 * `signal` aborts, resolves early instead of rejecting: callers check `signal.aborted` afterwards,
 * so an abort during a pause follows the same path as an abort between two requests.
 * `setTimer` timers are unref'd: a pending escalation never keeps deployctl from exiting.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep(ms, signal) {
    const delay = toDelay(ms);
    if (delay === 0 || signal?.aborted === true) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        timer.cancel();
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = startTimer(delay, done, false);
      signal?.addEventListener('abort', done, { once: true });
    });
  },
  setTimer: (ms, callback) => startTimer(ms, callback, true),
};

/**
 * A UTC time for names that sort by it: `20261126T151500Z` to the second, `20261126T151500123Z` to the millisecond
 * (run ids, record file names).
 */
export function compactUtcStamp(ms: number, precision: 'seconds' | 'milliseconds'): string {
  const stamp = new Date(ms).toISOString().replace(/[-:]/g, '');
  return precision === 'seconds' ? stamp.replace(/\.\d+Z$/, 'Z') : stamp.replace('.', '');
}

/** A clock that only moves when a test says so. */
export interface ManualClock extends Clock {
  /**
   * Move time forward by `ms`, firing every timer and resolving every sleep that falls due, in
   * due-time order (ties in the order they were created). Before each one fires, `now()` reads its
   * due time; after each, pending promise callbacks run, so a timer or sleep they create is fired
   * too if it falls due within the same advance. Await it; advances must not overlap.
   */
  advance(ms: number): Promise<void>;
  /**
   * Let pending promise callbacks run, then advance to the next timer or sleep and fire it (and
   * any due at the same instant). False when none is pending: `while (await clock.runNext());`
   * drives retry loops and probes with intervals to the end.
   */
  runNext(): Promise<boolean>;
  /** Timers and sleeps not yet fired or cancelled. */
  pending(): number;
  /** The due time (on the `monotonic()` scale) of the next pending timer or sleep. */
  nextDue(): number | undefined;
}

interface Scheduled {
  due: number;
  seq: number;
  fire: () => void;
}

/** Guards against a callback that re-arms a zero-delay timer forever. */
const MAX_FIRINGS_PER_ADVANCE = 100_000;

/**
 * A manual clock for tests. `now()` starts at `start` (wall time, ms since the epoch) and
 * `monotonic()` at 0; both move only through `advance`/`runNext`.
 * `sleep(0)` (or negative) resolves at once, like the system clock; `setTimer(0)` fires at the
 * next advance, even `advance(0)`. An aborted `sleep` resolves early and leaves the queue.
 */
export function createManualClock(start = 0): ManualClock {
  let elapsed = 0;
  let seq = 0;
  let advancing = false;
  const queue: Scheduled[] = [];

  const schedule = (ms: number, fire: () => void): Scheduled => {
    const entry: Scheduled = { due: elapsed + toDelay(ms), seq: seq++, fire };
    queue.push(entry);
    return entry;
  };
  const unschedule = (entry: Scheduled): void => {
    const index = queue.indexOf(entry);
    if (index !== -1) queue.splice(index, 1);
  };
  const earliest = (): Scheduled | undefined => {
    let best: Scheduled | undefined;
    for (const entry of queue) {
      if (best === undefined || entry.due < best.due || (entry.due === best.due && entry.seq < best.seq)) best = entry;
    }
    return best;
  };
  // A macrotask boundary: every promise continuation queued so far runs before it.
  const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  /** Fire everything due up to `target`, then leave the clock at `target`. */
  const runUntil = async (target: number): Promise<void> => {
    if (advancing) throw new Error('ManualClock.advance is already running: await the previous advance first');
    advancing = true;
    try {
      await settle();
      let firings = 0;
      for (let next = earliest(); next !== undefined && next.due <= target; next = earliest()) {
        if (++firings > MAX_FIRINGS_PER_ADVANCE) {
          throw new Error(`ManualClock: more than ${MAX_FIRINGS_PER_ADVANCE} timers fired in one advance; a timer keeps re-arming itself`);
        }
        unschedule(next);
        elapsed = Math.max(elapsed, next.due);
        next.fire();
        await settle();
      }
      elapsed = Math.max(elapsed, target);
    } finally {
      advancing = false;
    }
  };

  return {
    now: () => start + elapsed,
    monotonic: () => elapsed,
    sleep(ms, signal) {
      if (toDelay(ms) === 0 || signal?.aborted === true) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const onAbort = (): void => {
          unschedule(entry);
          resolve();
        };
        const entry = schedule(ms, () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    setTimer(ms, callback) {
      const entry = schedule(ms, callback);
      return { cancel: () => unschedule(entry) };
    },
    advance(ms) {
      return runUntil(elapsed + toDelay(ms));
    },
    async runNext() {
      // Let code that is about to sleep (a worker between two awaits) schedule it first.
      await settle();
      const next = earliest();
      if (next === undefined) return false;
      await runUntil(next.due);
      return true;
    },
    pending: () => queue.length,
    nextDue: () => earliest()?.due,
  };
}
