// Metric thresholds (`metrics: { p95_ms: { max: 500 } }`): judge measured values and say why, in each metric's unit.
import { METRIC_NAMES, type MetricName, type MetricsDoc } from '../runbook/types.js';
import type { ProbeResult } from './http.js';

/** Measured values by metric name; a missing or non-finite value was not measured. */
export type MeasuredMetrics = { readonly [K in MetricName]?: number | undefined };

/** Latency percentiles read as people say them (`p95 612 ms`); other metrics keep their runbook key. */
const LABELS: Partial<Record<MetricName, string>> = { p50_ms: 'p50', p95_ms: 'p95', p99_ms: 'p99' };
const RATES: ReadonlySet<string> = new Set<MetricName>(['error_rate', 'success_rate']);

/**
 * One sentence per threshold not met, measured against the limit in the metric's unit:
 * `p95 612 ms > max 500 ms`, `duration_ms 1500 ms > max 1000 ms`,
 * `error_rate 0.05 > max 0.001 (5% > 0.1%)`, `success_rate 0.95 < min 1 (95% < 100%)`.
 * Rates are fractions in runbooks, so they are shown as written there, then as percentages.
 * A limit holds at equality (`max: 500` passes 500 ms). A metric with a threshold but no
 * measurement fails: `p95_ms not measured`. Checked in `METRIC_NAMES` order.
 */
export function checkThresholds(measured: MeasuredMetrics, thresholds: MetricsDoc): string[] {
  const failures: string[] = [];
  for (const name of METRIC_NAMES) {
    const threshold = thresholds[name];
    if (threshold === undefined) continue;
    const value = measured[name];
    if (value === undefined || !Number.isFinite(value)) {
      failures.push(`${name} not measured`);
      continue;
    }
    if (threshold.max !== undefined && value > threshold.max) failures.push(describeBreach(name, value, '>', 'max', threshold.max));
    if (threshold.min !== undefined && value < threshold.min) failures.push(describeBreach(name, value, '<', 'min', threshold.min));
  }
  return failures;
}

function describeBreach(name: MetricName, value: number, op: '<' | '>', bound: 'min' | 'max', limit: number): string {
  const label = LABELS[name] ?? name;
  if (RATES.has(name)) {
    const [v, l] = distinctPair(value, limit, formatFraction);
    const [vp, lp] = distinctPair(value, limit, formatPercent);
    return `${label} ${v} ${op} ${bound} ${l} (${vp} ${op} ${lp})`;
  }
  const [v, l] = distinctPair(value, limit, name.endsWith('_ms') ? formatMs : formatPlain);
  return `${label} ${v} ${op} ${bound} ${l}`;
}

type Formatter = (value: number, extraDigits?: number) => string;

/** Format two different numbers with enough digits that they do not read the same (`500.4 ms > max 500 ms`, not `500 ms > max 500 ms`). */
function distinctPair(a: number, b: number, format: Formatter): [string, string] {
  for (let extra = 0; extra < 8; extra++) {
    const pair: [string, string] = [format(a, extra), format(b, extra)];
    if (a === b || pair[0] !== pair[1]) return pair;
  }
  return [String(a), String(b)];
}

/** Whole milliseconds from 100 ms up, one decimal below: `612 ms`, `1500 ms`, `3.4 ms`. */
function formatMs(ms: number, extraDigits = 0): string {
  return `${trimmed(ms, (Math.abs(ms) >= 100 ? 0 : 1) + extraDigits)} ms`;
}

/** Up to 4 significant digits: `0.05`, `0.001`, `0.3333`, `1`. */
function formatFraction(value: number, extraDigits = 0): string {
  return String(Number(value.toPrecision(4 + extraDigits)));
}

/** Up to 3 significant digits, never rounding to a whole 100% or 0% that was not: `5%`, `0.1%`, `99.95%`. */
function formatPercent(fraction: number, extraDigits = 0): string {
  const percent = fraction * 100;
  let digits = 3 + extraDigits;
  let text = String(Number(percent.toPrecision(digits)));
  while (((text === '100' && percent !== 100) || (text === '0' && percent !== 0)) && digits < 15) {
    text = String(Number(percent.toPrecision(++digits)));
  }
  return `${text}%`;
}

function formatPlain(value: number, extraDigits = 0): string {
  return trimmed(value, Number.isInteger(value) ? 0 : 2 + extraDigits);
}

function trimmed(value: number, decimals: number): string {
  return String(Number(value.toFixed(Math.min(decimals, 20))));
}

export interface ProbeVerdict {
  ok: boolean;
  /** One line: the thresholds not met, or how many requests failed and why. */
  reason?: string;
  /** Thresholds not met first, then the distinct sample failures with their counts. */
  failures: string[];
}

/**
 * The verdict on a probe. Thresholds decide, and failed requests always count: when the step sets no threshold on
 * error_rate or success_rate, it is held to error_rate max 0 — a latency threshold alone must not pass a probe whose
 * every request answered 500 fast. A probe with no completed request fails either way. `duration_ms` is the probe's
 * own wall time.
 *
 * A failed warm-up request fails the probe too, whatever the thresholds. Warm-up requests are not samples (they are
 * in no metric, error_rate included), but a wrong answer or none at all is the server's doing, never the client's
 * start-up that the warm-up is there to absorb: it is evidence, and must not vanish behind the samples that passed
 * after it. When the samples fail anyway, their reason stands alone (the record still counts the failed warm-up).
 */
export function judgeProbe(result: ProbeResult, thresholds?: MetricsDoc): ProbeVerdict {
  const verdict = judgeSamples(result, thresholds);
  const warmup = result.warmup;
  if (!verdict.ok || warmup === undefined || warmup.failed === 0) return verdict;
  const why =
    warmup.failed === 1
      ? `a warm-up request failed (not a sample; the samples passed): ${warmup.firstError ?? 'request failed'}`
      : `${warmup.failed} of ${warmup.requests} warm-up requests failed (not samples; the samples passed): ${warmup.failures.slice(0, 3).join('; ')}`;
  return { ok: false, reason: why, failures: warmup.failures.map((failure) => `warm-up: ${failure}`) };
}

function judgeSamples(result: ProbeResult, thresholds?: MetricsDoc): ProbeVerdict {
  const { metrics } = result;
  if (metrics.samples === 0) return { ok: false, reason: 'no request completed', failures: ['no request completed'] };
  if (thresholds !== undefined && Object.keys(thresholds).length > 0) {
    const judged: MetricsDoc = thresholds.error_rate !== undefined || thresholds.success_rate !== undefined ? thresholds : { ...thresholds, error_rate: { max: 0 } };
    const breaches = checkThresholds({ ...metrics, duration_ms: result.durationMs }, judged);
    if (breaches.length === 0) return { ok: true, failures: [] };
    return { ok: false, reason: breaches.join('; '), failures: [...breaches, ...result.failures] };
  }
  if (metrics.errors === 0) return { ok: true, failures: [] };
  const why = metrics.samples === 1 ? (result.firstError ?? 'request failed') : `${metrics.errors} of ${metrics.samples} requests failed: ${result.failures.slice(0, 3).join('; ')}`;
  return { ok: false, reason: why, failures: [...result.failures] };
}
