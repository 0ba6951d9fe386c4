// A watch's window folded from its events into counts and running totals: constant size however many ticks it has.
import type { EventOf, ProbeMetrics, RunEvent, TickCheck, WatchPlan, WatchTick } from './events.js';

/** One check's tally over the window. */
export interface CheckTally {
  kind: TickCheck['kind'];
  passed: number;
  failed: number;
  inconclusive: number;
  skipped: number;
  /**
   * http checks: every request of the window. samples, errors, statuses and the mean add up over the ticks (so the error
   * rate resolves 1 in `samples`); p50/p95/p99/max are the worst tick's.
   */
  metrics?: ProbeMetrics;
  /** prometheus, or http with json_path: the number read at its last tick. */
  lastResult?: number | null;
}

/**
 * The window as the journal tells it: its plan, how many ticks of each kind, the last tick, each check's tally. The
 * ticks themselves stay in the journal (and the record): a window of 10,000 ticks costs no more memory than one of 10.
 */
export interface WatchState {
  plan: WatchPlan;
  /** Highest slot recorded (ticks run and missed): the next tick is the slot after it. */
  lastSlot: number;
  /** Slots recorded: passed + failed + inconclusive + missed. */
  ticks: number;
  passed: number;
  failed: number;
  inconclusive: number;
  missed: number;
  /** Inconclusive and missed ticks since the owner last chose to continue: what `inconclusive_limit` is held against. */
  unsettled: number;
  /** The last tick that ran (not a missed one). */
  last?: WatchTick;
  /** The status of the last slot recorded, missed included: a RESOLVED follows a failing or missed tick. */
  lastStatus?: WatchTick['status'];
  checks: Record<string, CheckTally>;
  decisions: { at: number; decision: 'continue' | 'fail'; by: EventOf<'watch-decided'>['by']; answeredFrom: EventOf<'watch-decided'>['answeredFrom']; inconclusive: number }[];
}

export function openWatch(plan: WatchPlan): WatchState {
  return { plan, lastSlot: 0, ticks: 0, passed: 0, failed: 0, inconclusive: 0, missed: 0, unsettled: 0, checks: {}, decisions: [] };
}

/** Fold one tick (or one run of missed ticks) into the window. Pure. */
export function addTick(watch: WatchState, tick: WatchTick): WatchState {
  const slots = tick.status === 'missed' ? Math.max(1, (tick.through ?? tick.n) - tick.n + 1) : 1;
  const next: WatchState = {
    ...watch,
    lastSlot: Math.max(watch.lastSlot, tick.through ?? tick.n),
    ticks: watch.ticks + slots,
    lastStatus: tick.status,
  };
  switch (tick.status) {
    case 'passed':
      next.passed += 1;
      break;
    case 'failed':
      next.failed += 1;
      break;
    case 'inconclusive':
      next.inconclusive += 1;
      next.unsettled += 1;
      break;
    case 'missed':
      next.missed += slots;
      next.unsettled += slots;
      break;
  }
  if (tick.status !== 'missed') {
    next.last = tick;
    const checks = { ...watch.checks };
    for (const check of tick.checks) checks[check.id] = tallyCheck(checks[check.id], check);
    next.checks = checks;
  }
  return next;
}

export function decideWatch(watch: WatchState, event: EventOf<'watch-decided'>): WatchState {
  return {
    ...watch,
    unsettled: event.decision === 'continue' ? 0 : watch.unsettled,
    decisions: [...watch.decisions, { at: event.at, decision: event.decision, by: event.by, answeredFrom: event.answeredFrom, inconclusive: event.inconclusive }],
  };
}

function tallyCheck(tally: CheckTally | undefined, check: TickCheck): CheckTally {
  const next: CheckTally = tally === undefined ? { kind: check.kind, passed: 0, failed: 0, inconclusive: 0, skipped: 0 } : { ...tally };
  next[check.status] += 1;
  if (check.metrics !== undefined) next.metrics = next.metrics === undefined ? { ...check.metrics, statuses: { ...check.metrics.statuses } } : mergeProbeMetrics(next.metrics, check.metrics);
  if (check.result !== undefined) next.lastResult = check.result;
  return next;
}

/**
 * Two probes' numbers as one: counts and the mean add up (so the error rate is over every request), percentiles and the
 * maximum are the worse of the two (the percentiles of the union cannot be had from the two summaries; the worst tick's
 * is what a threshold on them means anyway).
 */
export function mergeProbeMetrics(a: ProbeMetrics, b: ProbeMetrics): ProbeMetrics {
  const samples = a.samples + b.samples;
  const errors = a.errors + b.errors;
  const statuses: Record<string, number> = { ...a.statuses };
  for (const [code, count] of Object.entries(b.statuses)) statuses[code] = (statuses[code] ?? 0) + count;
  return {
    samples,
    errors,
    error_rate: samples === 0 ? 0 : errors / samples,
    success_rate: samples === 0 ? 0 : (samples - errors) / samples,
    p50_ms: Math.max(a.p50_ms, b.p50_ms),
    p95_ms: Math.max(a.p95_ms, b.p95_ms),
    p99_ms: Math.max(a.p99_ms, b.p99_ms),
    max_ms: Math.max(a.max_ms, b.max_ms),
    mean_ms: samples === 0 ? 0 : (a.mean_ms * a.samples + b.mean_ms * b.samples) / samples,
    statuses,
  };
}

/** passing ticks ÷ ticks (missed ones count, as not passing); 0 before the first tick. */
export function watchUptime(watch: WatchState | undefined): number {
  return watch === undefined || watch.ticks === 0 ? 0 : watch.passed / watch.ticks;
}

/** Every request the window's http checks sent, as one probe: its error rate is the window's. */
export function watchMetrics(watch: WatchState): ProbeMetrics | undefined {
  let total: ProbeMetrics | undefined;
  for (const tally of Object.values(watch.checks)) {
    if (tally.metrics === undefined) continue;
    total = total === undefined ? tally.metrics : mergeProbeMetrics(total, tally.metrics);
  }
  return total;
}

/** Every watch's ticks, by step id, in journal order: what the record lists (the state keeps only the tally). */
export function collectTicks(events: Iterable<RunEvent>): Map<string, { at: number; tick: WatchTick }[]> {
  const ticks = new Map<string, { at: number; tick: WatchTick }[]>();
  for (const event of events) {
    if (event.kind !== 'watch-tick') continue;
    let list = ticks.get(event.stepId);
    if (list === undefined) ticks.set(event.stepId, (list = []));
    list.push({ at: event.at, tick: event.tick });
  }
  return ticks;
}
