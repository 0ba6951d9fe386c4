// A rehearsal's clock (`run --time-scale N`): the plan's time runs N times faster while deployctl waits, at its own pace while it works.
import type { Clock } from './types.js';

/**
 * A Clock for a rehearsal, plus the one thing only the CLI tells it: when deployctl waits on a person.
 *
 * DESIGN: `--time-scale N` divides every duration deployctl waits for by N; step timeouts and measured latencies are
 * not scaled. So the plan's time (what `now()` reads, what every event and record time is) runs N times faster while
 * deployctl waits — a sleep on this clock (a watch between its ticks), or a prompt (`waitingOn`) — and at the real
 * pace while it works (a command, a probe): a rehearsal shows the day as it would be, the waits compressed, the work
 * taking what it takes. Timers (status updates, escalation `after`, the timeline's windows) fire when the plan's time
 * reaches them, so they shrink exactly where the waiting is. Nothing else knows about the scale.
 */
export interface RehearsalClock extends Clock {
  /** deployctl is waiting on `promise` (a person at a prompt): the plan's time runs N times faster until it settles. */
  waitingOn<T>(promise: Promise<T>): Promise<T>;
  readonly scale: number;
}

interface PlanTimer {
  due: number;
  seq: number;
  callback: () => void;
}

/**
 * `start`: where the plan's time stands at the real time `start.real` (a new rehearsal: both are now; a resumed one:
 * the plan time its journal reached, plus the time it was down, as waiting).
 */
export function rehearsalClock(base: Clock, scale: number, start: { plan: number; real: number }): RehearsalClock {
  if (!(Number.isFinite(scale) && scale > 0)) throw new Error(`rehearsalClock: scale must be a positive number, got ${scale}`);
  // The plan's time is piecewise linear in real time: from (realAt, planAt) on, at `rate` plan ms per real ms.
  let realAt = start.real;
  let planAt = start.plan;
  let monoRealAt = base.monotonic();
  let monoPlanAt = 0;
  let waiting = 0;
  const rate = (): number => (waiting > 0 ? scale : 1);
  const now = (): number => planAt + (base.now() - realAt) * rate();
  const monotonic = (): number => monoPlanAt + (base.monotonic() - monoRealAt) * rate();
  /** A new segment from here, before the rate changes. */
  const rebase = (): void => {
    planAt = now();
    realAt = base.now();
    monoPlanAt = monotonic();
    monoRealAt = base.monotonic();
  };

  // Plan-time timers share one real timer, armed for the earliest and re-armed whenever the rate changes.
  const timers: PlanTimer[] = [];
  let seq = 0;
  let armed: { cancel(): void } | undefined;
  const arm = (): void => {
    armed?.cancel();
    armed = undefined;
    let next: PlanTimer | undefined;
    for (const t of timers) if (next === undefined || t.due < next.due || (t.due === next.due && t.seq < next.seq)) next = t;
    if (next === undefined) return;
    // Rounded up to whole real ms: waking early would read a plan time short of the due one (fireDue re-arms then).
    armed = base.setTimer(Math.max(0, Math.ceil((next.due - now()) / rate())), fireDue);
  };
  const fireDue = (): void => {
    armed = undefined;
    const due = timers.filter((t) => t.due <= now()).sort((a, b) => a.due - b.due || a.seq - b.seq);
    for (const t of due) {
      const index = timers.indexOf(t);
      if (index === -1) continue;
      timers.splice(index, 1);
      t.callback();
    }
    arm();
  };
  const changeWaiting = (delta: number): void => {
    rebase();
    waiting += delta;
    arm();
  };

  return {
    scale,
    now,
    monotonic,
    async sleep(ms, signal) {
      if (!(Number.isFinite(ms) && ms > 0) || signal?.aborted === true) return;
      // A sleep is waiting: the whole of it runs at N, so it lasts ms / N of real time (kept alive like any sleep).
      changeWaiting(+1);
      try {
        await base.sleep(Math.ceil(ms / scale), signal);
      } finally {
        changeWaiting(-1);
      }
    },
    setTimer(ms, callback) {
      const timer: PlanTimer = { due: now() + (Number.isFinite(ms) && ms > 0 ? ms : 0), seq: seq++, callback };
      timers.push(timer);
      arm();
      return {
        cancel() {
          const index = timers.indexOf(timer);
          if (index === -1) return;
          timers.splice(index, 1);
          arm();
        },
      };
    },
    waitingOn(promise) {
      changeWaiting(+1);
      return promise.finally(() => changeWaiting(-1));
    },
  };
}
