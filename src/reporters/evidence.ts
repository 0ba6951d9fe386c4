// The evidence behind a verdict, in one line: a gate condition with the values behind it, a probe's latency and errors, a check's reading.
import type { CheckReading, GateCondition, ProbeMetrics } from '../engine/events.js';
import { conditionLine, formatNumber } from '../expr/explain.js';
import { inert } from '../inert.js';

/**
 * A condition's line in the task list: its mark, its name, and its value with the values behind it
 * (src/expr/explain.ts conditionLine: `42.0 < 5.0 → false   [<text>]`, `steps.a.ok is false (6 of 7 hold) → false`).
 * An attestation shows its answer (its text was the question just asked). One short line each: a gate of six
 * conditions must leave room for its phase and its prompt on a 24-line terminal.
 */
export function formatCondition(c: GateCondition): string {
  const mark = c.ok ? '✔' : '✖';
  const error = c.error !== undefined ? ` (${c.error})` : '';
  if (c.kind === 'confirm') return inert(`${mark} ${c.name}: attested ${c.value === true ? 'yes' : c.value === false ? 'no' : '(not answered)'}${error}`);
  return inert(`${mark} ${c.name}: ${conditionLine(c)}${error}`);
}

/** `p50 12 ms · p95 30 ms · errors 0/50 (0%)`: a probe's numbers, shown as soon as it finishes. */
export function formatProbeMetrics(m: ProbeMetrics): string {
  const pct = m.error_rate * 100;
  const rate = pct === 0 ? '0%' : pct < 0.1 ? '<0.1%' : `${Number(pct.toFixed(1))}%`;
  return `p50 ${Math.round(m.p50_ms)} ms · p95 ${Math.round(m.p95_ms)} ms · errors ${m.errors}/${m.samples} (${rate})`;
}

/** `result 0.0476` (or `3 series`, `no data`): what a check read, beside its step as a probe's p50/p95 are. */
export function formatCheckReading(check: Pick<CheckReading, 'result' | 'results'>): string {
  if (check.result !== null) return `result ${formatNumber(check.result)}`;
  if (check.results.length > 1) return `${check.results.length} series`;
  if (check.results.length === 1) return `result ${inert(String(check.results[0]!.value))}`;
  return 'no data';
}
