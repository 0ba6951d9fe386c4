// What expressions see of a watch: `steps.<id>.ticks`, `.failed_ticks`, `.uptime`, `.last.checks.<check>`, `.checks.<check>.metrics`.
import type { StepDoc } from '../runbook/types.js';
import type { ProbeMetrics, TickCheck } from './events.js';
import { watchMetrics, watchUptime, type WatchState } from './watch-state.js';

export interface TickCheckView {
  status: TickCheck['status'] | 'pending';
  ok: boolean;
  reason: string;
  metrics: Record<string, unknown>;
  result: number | null;
  exit_code: number | null;
}

export interface WatchView {
  /** Ticks recorded so far (missed ones too). */
  ticks: number;
  planned_ticks: number;
  passed_ticks: number;
  failed_ticks: number;
  inconclusive_ticks: number;
  missed_ticks: number;
  /** passing ticks ÷ ticks: 0.0 before the first. */
  uptime: number;
  /** The last tick that ran: its number, status, and each check (`pending` before the first tick). */
  last: { n: number; status: string; checks: Record<string, TickCheckView> };
  /** Each check over the window: its tick counts, and for http checks every request as one probe (`metrics`). */
  checks: Record<string, { passed: number; failed: number; inconclusive: number; skipped: number; metrics: Record<string, unknown>; result: number | null }>;
}

const NO_TICKS = { ticks: 0, planned_ticks: 0, passed_ticks: 0, failed_ticks: 0, inconclusive_ticks: 0, missed_ticks: 0, uptime: 0 };

const metricsView = (m: ProbeMetrics | undefined): Record<string, unknown> => (m === undefined ? {} : { ...m, statuses: { ...m.statuses } });

/** What a step that is no watch shows (shared: expressions only read it, and a runbook has many steps). */
const NOT_A_WATCH: WatchView = { ...NO_TICKS, last: { n: 0, status: 'none', checks: {} }, checks: {} };

/** The window fields of `steps.<id>`: zeros and empty maps for a step that is no watch, or a watch not yet started. */
export function watchView(step: StepDoc | undefined, watch: WatchState | undefined): WatchView {
  if (step?.watch === undefined) return NOT_A_WATCH;
  const declared = step?.watch?.checks.map((c) => c.id) ?? [];
  const lastChecks: Record<string, TickCheckView> = Object.create(null) as Record<string, TickCheckView>;
  for (const id of declared) lastChecks[id] = { status: 'pending', ok: false, reason: '', metrics: {}, result: null, exit_code: null };
  for (const c of watch?.last?.checks ?? []) {
    lastChecks[c.id] = {
      status: c.status,
      ok: c.status === 'passed',
      reason: c.reason ?? '',
      metrics: metricsView(c.metrics),
      result: c.result ?? null,
      exit_code: c.exitCode ?? null,
    };
  }
  const checks: WatchView['checks'] = Object.create(null) as WatchView['checks'];
  for (const id of declared) {
    const tally = watch?.checks[id];
    checks[id] = {
      passed: tally?.passed ?? 0,
      failed: tally?.failed ?? 0,
      inconclusive: tally?.inconclusive ?? 0,
      skipped: tally?.skipped ?? 0,
      metrics: metricsView(tally?.metrics),
      result: tally?.lastResult ?? null,
    };
  }
  const last = { n: watch?.last?.n ?? 0, status: watch?.last?.status ?? 'none', checks: lastChecks };
  if (watch === undefined) return { ...NO_TICKS, planned_ticks: 0, last, checks };
  return {
    ticks: watch.ticks,
    planned_ticks: watch.plan.plannedTicks,
    passed_ticks: watch.passed,
    failed_ticks: watch.failed,
    inconclusive_ticks: watch.inconclusive,
    missed_ticks: watch.missed,
    uptime: watchUptime(watch),
    last,
    checks,
  };
}

/** Every request of the window, for `steps.<id>.metrics` of a watch (while it runs, too). */
export function watchMetricsView(watch: WatchState | undefined): Record<string, unknown> {
  return watch === undefined ? {} : metricsView(watchMetrics(watch));
}
