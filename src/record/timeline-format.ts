// The record's time, for people: rehearsal or real, planned against actual per phase, the deployment against its target, each watch window.
import { formatDuration, formatOffset } from '../runbook/duration.js';
import { clean, formatNumber } from './format.js';
import type { RecordPhase, RecordPredicate, RecordTick, RecordWatch } from './types.js';

const MARKS: Record<RecordTick['status'], string> = { passed: '✔', failed: '✖', inconclusive: '?', missed: '∅' };
/** Ticks shown one by one (the failing, inconclusive and missed ones); the strip shows them all. */
const TICKS_LISTED = 20;
const STRIP_WIDTH = 48;

/** `REHEARSAL at 720×: its times are plan times (1m 42s of real time)`; undefined for a real run. */
export function describeRehearsal(p: RecordPredicate): string | undefined {
  if (p.rehearsal !== true) return undefined;
  const scale = p.time_scale ?? 1;
  return `REHEARSAL at ${formatNumber(scale)}× (run --time-scale): every wait of the plan (ticks, windows, status updates, escalations, prompts) ran ${formatNumber(scale)} times faster, the work at its real pace; its times are plan times`;
}

/** `24h 30m; deployment 14m from deploy to verification (target 20m, within)`, or the plain form's line. */
export function describeDuration(p: RecordPredicate): string {
  const took = formatDuration(p.duration_ms);
  const target = p.target_duration_ms;
  if (p.deploy_phases === undefined) {
    if (target === undefined) return took;
    return p.duration_ms <= target ? `${took} (target ${formatDuration(target)}, within)` : `${took} (target ${formatDuration(target)}, OVER by ${formatDuration(p.duration_ms - target)})`;
  }
  const span = `${clean(p.deploy_phases.from, 64)} to ${clean(p.deploy_phases.to, 64)}`;
  const deploy = p.deploy_duration_ms;
  if (deploy === undefined) return `${took}; deployment (${span}) not reached`;
  const verdict = target === undefined ? '' : deploy <= target ? ` (target ${formatDuration(target)}, within)` : ` (target ${formatDuration(target)}, OVER by ${formatDuration(deploy - target)})`;
  return `${took}; deployment ${formatDuration(deploy)} from ${span}${verdict}`;
}

/** A time on the record's timeline: `T+12m` when T is known (exact to the second), else the ISO time. */
function onTimeline(p: RecordPredicate, iso: string | undefined): string {
  if (iso === undefined) return '—';
  const t0 = p.t0 !== undefined ? Date.parse(p.t0) : Number.NaN;
  const at = Date.parse(iso);
  if (!Number.isFinite(t0) || !Number.isFinite(at)) return clean(iso, 64);
  return formatOffset(Math.round((at - t0) / 1000) * 1000);
}

/** `planned T+10m → T+30m, actual T+12m → T+31m, 1m past its window`: the phase against the plan. */
export function describePhaseTiming(p: RecordPredicate, phase: RecordPhase): string | undefined {
  if (phase.planned_start === undefined && phase.planned_end === undefined) return undefined;
  const planned = `planned ${onTimeline(p, phase.planned_start)} → ${onTimeline(p, phase.planned_end)}`;
  const actual = phase.started_at !== undefined ? `, actual ${onTimeline(p, phase.started_at)} → ${onTimeline(p, phase.ended_at)}` : ', not run';
  const over = phase.overrun_ms !== undefined && phase.overrun_ms > 0 ? `, ${formatDuration(phase.overrun_ms)} past its window` : '';
  return `${planned}${actual}${over}`;
}

/** Cells for a timeline table: planned start, planned end, actual start, actual end, overrun. */
export function phaseTimingCells(p: RecordPredicate, phase: RecordPhase): string[] {
  return [
    onTimeline(p, phase.planned_start),
    onTimeline(p, phase.planned_end),
    onTimeline(p, phase.started_at),
    onTimeline(p, phase.ended_at),
    phase.overrun_ms !== undefined && phase.overrun_ms > 0 ? `${formatDuration(phase.overrun_ms)} over` : '',
  ];
}

/**
 * A watch window in a few lines: its schedule and tally, each check over the window, the strip of ticks, and the ticks
 * that did not pass (with why). Bounded however many ticks it had.
 */
export function describeWatch(w: RecordWatch, p: RecordPredicate): string[] {
  const schedule = `every ${formatDuration(w.every_ms)}${w.window_ms !== undefined ? ` for ${formatDuration(w.window_ms)}` : ''}`;
  const tally = [`${w.passed} passed`, w.failed > 0 ? `${w.failed} failed (limit ${w.failure_limit})` : '', w.inconclusive > 0 ? `${w.inconclusive} without data` : '', w.missed > 0 ? `${w.missed} missed` : ''].filter((s) => s !== '');
  const lines = [`window ${schedule}: ${w.ticks}/${w.planned_ticks} ticks, ${tally.join(', ')}; uptime ${formatNumber(w.uptime * 100)}%`];
  for (const c of w.checks) {
    const numbers = c.metrics !== undefined ? `; ${c.metrics.samples} requests, ${c.metrics.errors} failed (${formatNumber(c.metrics.error_rate * 100)}%), worst tick p95 ${formatNumber(c.metrics.p95_ms)} ms` : c.last_result !== undefined ? `; last value ${c.last_result === null ? 'none' : formatNumber(c.last_result)}` : '';
    lines.push(`  ${clean(c.id, 64)} (${c.kind}): ${c.passed} passed${c.failed > 0 ? `, ${c.failed} failed` : ''}${c.inconclusive > 0 ? `, ${c.inconclusive} without data` : ''}${c.skipped > 0 ? `, ${c.skipped} skipped` : ''}${numbers}`);
  }
  const log = w.tick_log ?? [];
  if (log.length > 0) {
    const marks = log.flatMap((t) => Array.from({ length: t.through !== undefined ? t.through - t.n + 1 : 1 }, () => MARKS[t.status] ?? '?')).join('');
    for (let i = 0; i < marks.length; i += STRIP_WIDTH) lines.push(`  ticks ${String(i + 1).padStart(3)}: ${[...marks].slice(i, i + STRIP_WIDTH).join('')}`);
    const notPassed = log.filter((t) => t.status !== 'passed');
    for (const t of notPassed.slice(0, TICKS_LISTED)) {
      const which = t.through !== undefined ? `ticks ${t.n}-${t.through}` : `tick ${t.n}`;
      lines.push(`  ${MARKS[t.status]} ${which} at ${onTimeline(p, t.at)}: ${t.status}${t.reason !== undefined ? `: ${clean(t.reason, 300)}` : ''}`);
    }
    if (notPassed.length > TICKS_LISTED) lines.push(`  … and ${notPassed.length - TICKS_LISTED} more ticks that did not pass (record export --format json has each)`);
  } else if (w.ticks > 0) {
    lines.push('  (the ticks themselves are not in this record: the journal could not be read when it was sealed)');
  }
  for (const d of w.decisions) {
    lines.push(`  owner decided ${d.decision.toUpperCase()} at ${onTimeline(p, d.at)} after ${d.inconclusive} ticks without data (${d.answered_from === 'automatic' ? 'no one to ask: failed closed' : d.answered_from})`);
  }
  return lines;
}
