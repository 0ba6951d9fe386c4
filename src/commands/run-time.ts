// `run --time-scale N` and `--t0 TIME`: the run's clock (a rehearsal's) and its T, fixed when a run starts and kept on resume.
import { CliError } from '../errors.js';
import type { RunState } from '../engine/state.js';
import { rehearsalClock, type RehearsalClock } from '../ports/rehearsal-clock.js';
import type { Clock } from '../ports/types.js';

export interface RunTime {
  /** The run's clock: the plan's waits and every recorded time (a rehearsal's runs N times faster while it waits). */
  clock: Clock | RehearsalClock;
  /** Steps' own clock: timeouts, latencies, retry pauses (never scaled). */
  stepClock: Clock;
  rehearsal?: { timeScale: number };
  t0?: number;
}

/** At most a million times faster: a year in half a minute is rehearsal enough, and beyond it timers lose their meaning. */
const MAX_TIME_SCALE = 1_000_000;

/**
 * The run's time from the options, or from the journal of the run being resumed: a resumed rehearsal keeps its scale,
 * and its clock reads on from the plan time its journal reached, the time it was down counted as waiting (nobody
 * watched then, as nobody would have on the day); a resumed run keeps its T.
 * `resumedFrom`: the plan time of the journal's last event, and the real time it was written (the journal's mtime).
 */
export function runTime(options: { timeScale?: string; t0?: string }, resumed: RunState | undefined, base: Clock, resumedFrom?: { plan: number; real: number }): RunTime {
  const scale = options.timeScale !== undefined ? parseTimeScale(options.timeScale) : undefined;
  const t0 = options.t0 !== undefined ? parseT0(options.t0) : undefined;
  if (resumed !== undefined) {
    const kept = resumed.rehearsal;
    if (scale !== undefined && scale !== kept?.timeScale) {
      throw new CliError(
        kept === undefined
          ? `--time-scale ${options.timeScale} cannot turn a real run into a rehearsal: the run being resumed ran in real time`
          : `--time-scale ${options.timeScale} cannot change a rehearsal that is being resumed: it runs at ${kept.timeScale}× since it started`,
        { hint: 'resume without --time-scale (the run keeps its own), or start a new run' },
      );
    }
    if (t0 !== undefined && t0 !== resumed.t0) {
      throw new CliError('--t0 cannot move the timeline of a run that is being resumed: its T was fixed when it started', { hint: 'resume without --t0, or start a new run' });
    }
    const real = base.now();
    const clock =
      kept === undefined
        ? base
        : rehearsalClock(base, kept.timeScale, {
            plan: resumedFrom === undefined ? real : resumedFrom.plan + Math.max(0, real - resumedFrom.real) * kept.timeScale,
            real,
          });
    return { clock, stepClock: base, ...(kept !== undefined ? { rehearsal: kept } : {}), ...(resumed.t0 !== undefined ? { t0: resumed.t0 } : {}) };
  }
  if (scale === undefined) return { clock: base, stepClock: base, ...(t0 !== undefined ? { t0 } : {}) };
  const now = base.now();
  return { clock: rehearsalClock(base, scale, { plan: now, real: now }), stepClock: base, rehearsal: { timeScale: scale }, ...(t0 !== undefined ? { t0 } : {}) };
}

export function parseTimeScale(text: string): number {
  const scale = /^[0-9]+(\.[0-9]+)?$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(scale > 0) || scale > MAX_TIME_SCALE) {
    throw new CliError(`--time-scale ${text} is not a speed-up: give a number above 0 and at most ${MAX_TIME_SCALE}`, {
      hint: 'e.g. --time-scale 720 rehearses a 24-hour runbook in about 2 minutes (every wait of the plan divided by 720)',
    });
  }
  return scale;
}

/** `2026-11-26T05:10:00Z`, with a zone: a T without one would mean different moments on different machines. */
export function parseT0(text: string): number {
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
  const ms = iso.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new CliError(`--t0 ${text} is not an ISO-8601 time with a zone`, { hint: "write it like 2026-11-26T05:10:00Z (UTC) or 2026-11-26T06:10:00+01:00: T, which the phases' at: offsets count from" });
  }
  return ms;
}

/** While a person is asked, a rehearsal's plan time runs N times faster (a prompt is waiting); otherwise the prompter as it is. */
export function promptsAsWaits<P extends { ask(request: never): Promise<unknown> }>(prompter: P | undefined, clock: Clock | RehearsalClock): P | undefined {
  if (prompter === undefined || !('waitingOn' in clock)) return prompter;
  return { ...prompter, ask: (request: never) => clock.waitingOn(prompter.ask(request)) } as P;
}
