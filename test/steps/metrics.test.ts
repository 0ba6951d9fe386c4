// Metric thresholds: every comparison, unit and edge as a table; the verdict on a probe with and without thresholds.
import { describe, expect, it } from 'vitest';
import type { ProbeMetrics } from '../../src/engine/events.js';
import type { MetricsDoc } from '../../src/runbook/types.js';
import type { ProbeResult } from '../../src/steps/http.js';
import { checkThresholds, judgeProbe, type MeasuredMetrics } from '../../src/steps/metrics.js';

describe('checkThresholds', () => {
  it.each<[string, MeasuredMetrics, MetricsDoc, string[]]>([
    ['a p95 over its max', { p95_ms: 612 }, { p95_ms: { max: 500 } }, ['p95 612 ms > max 500 ms']],
    ['a p95 at its max', { p95_ms: 500 }, { p95_ms: { max: 500 } }, []],
    ['a p95 under its max', { p95_ms: 499.9 }, { p95_ms: { max: 500 } }, []],
    ['a p95 just over its max, with enough digits to tell', { p95_ms: 500.4 }, { p95_ms: { max: 500 } }, ['p95 500.4 ms > max 500 ms']],
    ['a p50 over its max', { p50_ms: 12.34 }, { p50_ms: { max: 10 } }, ['p50 12.3 ms > max 10 ms']],
    ['a p99 over its max', { p99_ms: 1200 }, { p99_ms: { max: 1000 } }, ['p99 1200 ms > max 1000 ms']],
    ['a max latency over its max', { max_ms: 2500 }, { max_ms: { max: 2000 } }, ['max_ms 2500 ms > max 2000 ms']],
    ['a mean under its min', { mean_ms: 0.4 }, { mean_ms: { min: 1 } }, ['mean_ms 0.4 ms < min 1 ms']],
    ['an error rate over its max', { error_rate: 0.05 }, { error_rate: { max: 0.001 } }, ['error_rate 0.05 > max 0.001 (5% > 0.1%)']],
    ['an error rate of zero against max 0', { error_rate: 0 }, { error_rate: { max: 0 } }, []],
    ['one error in 3 against max 0', { error_rate: 1 / 3 }, { error_rate: { max: 0 } }, ['error_rate 0.3333 > max 0 (33.3% > 0%)']],
    ['a tiny error rate against max 0', { error_rate: 0.00001 }, { error_rate: { max: 0 } }, ['error_rate 0.00001 > max 0 (0.001% > 0%)']],
    ['a success rate under its min', { success_rate: 0.95 }, { success_rate: { min: 1 } }, ['success_rate 0.95 < min 1 (95% < 100%)']],
    ['a success rate near 100% under its min', { success_rate: 0.9995 }, { success_rate: { min: 0.9999 } }, ['success_rate 0.9995 < min 0.9999 (99.95% < 99.99%)']],
    ['a success rate at its min', { success_rate: 1 }, { success_rate: { min: 1 } }, []],
    ['a duration over its max', { duration_ms: 1500 }, { duration_ms: { max: 1000 } }, ['duration_ms 1500 ms > max 1000 ms']],
    ['a value inside min and max', { p95_ms: 300 }, { p95_ms: { min: 100, max: 500 } }, []],
    ['a value under min with a max too', { p95_ms: 50 }, { p95_ms: { min: 100, max: 500 } }, ['p95 50 ms < min 100 ms']],
    ['a metric not measured', {}, { p95_ms: { max: 500 } }, ['p95_ms not measured']],
    ['a metric measured as undefined', { duration_ms: undefined }, { duration_ms: { max: 500 } }, ['duration_ms not measured']],
    ['a metric measured as NaN', { p95_ms: Number.NaN }, { p95_ms: { max: 500 } }, ['p95_ms not measured']],
    ['measured metrics without thresholds', { p95_ms: 9999, error_rate: 1 }, {}, []],
    [
      'several failures, in METRIC_NAMES order',
      { error_rate: 0.05, p95_ms: 612, success_rate: 0.95 },
      { success_rate: { min: 1 }, error_rate: { max: 0.001 }, p95_ms: { max: 500 } },
      ['p95 612 ms > max 500 ms', 'error_rate 0.05 > max 0.001 (5% > 0.1%)', 'success_rate 0.95 < min 1 (95% < 100%)'],
    ],
  ])('reports %s', (_name, measured, thresholds, failures) => {
    expect(checkThresholds(measured, thresholds)).toEqual(failures);
  });

  it('takes probe metrics as they are, statuses and all', () => {
    const metrics: ProbeMetrics = { ...probeMetrics(20, 1), p95_ms: 612 };
    expect(checkThresholds({ ...metrics, duration_ms: 1200 }, { p95_ms: { max: 500 }, duration_ms: { max: 2000 } })).toEqual(['p95 612 ms > max 500 ms']);
  });
});

function probeMetrics(samples: number, errors: number): ProbeMetrics {
  return {
    samples,
    errors,
    error_rate: samples === 0 ? 0 : errors / samples,
    success_rate: samples === 0 ? 0 : (samples - errors) / samples,
    p50_ms: 40,
    p95_ms: 80,
    p99_ms: 90,
    max_ms: 95,
    mean_ms: 45,
    statuses: { '200': samples - errors, ...(errors > 0 ? { '500': errors } : {}) },
  };
}

function probeResult(samples: number, errors: number, failures: string[] = [], durationMs = 1000): ProbeResult {
  const result: ProbeResult = { metrics: probeMetrics(samples, errors), failures, aborted: false, durationMs };
  const first = failures[0]?.replace(/ \(×\d+\)$/, '');
  if (first !== undefined) result.firstError = first;
  return result;
}

describe('judgeProbe', () => {
  it('passes a clean probe without thresholds', () => {
    expect(judgeProbe(probeResult(20, 0))).toEqual({ ok: true, failures: [] });
  });

  it('fails on any failed request when no thresholds are given', () => {
    const verdict = judgeProbe(probeResult(20, 1, ['status 500, expected 2xx (×1)']));
    expect(verdict).toEqual({ ok: false, reason: '1 of 20 requests failed: status 500, expected 2xx (×1)', failures: ['status 500, expected 2xx (×1)'] });
  });

  it('gives the failure itself as the reason of a single-request probe', () => {
    expect(judgeProbe(probeResult(1, 1, ['connection refused (×1)'])).reason).toBe('connection refused');
  });

  it('treats empty thresholds like none', () => {
    expect(judgeProbe(probeResult(20, 1, ['status 500, expected 2xx (×1)']), {}).ok).toBe(false);
  });

  it('lets thresholds tolerate failed requests within their limits', () => {
    expect(judgeProbe(probeResult(20, 1, ['status 500, expected 2xx (×1)']), { error_rate: { max: 0.1 } })).toEqual({ ok: true, failures: [] });
  });

  it('fails on thresholds, listing the sample failures after them', () => {
    const verdict = judgeProbe(probeResult(20, 1, ['status 500, expected 2xx (×1)']), { error_rate: { max: 0.001 }, p95_ms: { max: 50 } });
    expect(verdict).toEqual({
      ok: false,
      reason: 'p95 80 ms > max 50 ms; error_rate 0.05 > max 0.001 (5% > 0.1%)',
      failures: ['p95 80 ms > max 50 ms', 'error_rate 0.05 > max 0.001 (5% > 0.1%)', 'status 500, expected 2xx (×1)'],
    });
  });

  it('holds a probe with only latency thresholds to zero failed requests: fast 500s do not pass', () => {
    const allFailed = probeResult(20, 20, ['status 500, expected 200 (×20)']);
    const verdict = judgeProbe(allFailed, { p95_ms: { max: 500 } });
    expect(verdict.ok).toBe(false);
    expect(verdict.reason).toBe('error_rate 1 > max 0 (100% > 0%)');
    expect(judgeProbe(probeResult(20, 0), { p95_ms: { max: 500 } }).ok).toBe(true);
  });

  it('checks duration_ms against the probe’s own wall time', () => {
    expect(judgeProbe(probeResult(20, 0, [], 1500), { duration_ms: { max: 1000 } }).reason).toBe('duration_ms 1500 ms > max 1000 ms');
  });

  it('fails a probe where no request completed, thresholds or not', () => {
    const none = probeResult(0, 0);
    expect(judgeProbe(none)).toEqual({ ok: false, reason: 'no request completed', failures: ['no request completed'] });
    expect(judgeProbe(none, { error_rate: { max: 0.5 } }).ok).toBe(false);
  });
});
