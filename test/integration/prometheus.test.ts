// Prometheus checks against a real Prometheus 2.x scraping the real demo target every second (no recorded answers here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/ports/clock.js';
import { sendHttp } from '../../src/ports/http.js';
import { runPrometheusCheck, type PrometheusCheckSpec } from '../../src/steps/prometheus.js';
import { waitFor } from '../helpers/cli.js';
import { startDemoTarget, startPrometheus, type DemoTarget, type PrometheusServer } from '../helpers/prometheus.js';

let demo: DemoTarget;
let prom: PrometheusServer;

beforeAll(async () => {
  // Simulated shoppers: 40 requests/s, so rates and ratios have data within seconds.
  demo = await startDemoTarget({ traffic: 40 });
  prom = await startPrometheus([`127.0.0.1:${demo.port}`]);
  // A new target's series are queryable after 2–3 scrapes.
  await prom.waitForData('http_requests_total{job="demo", version="1.0.0"}');
}, 60_000);

afterAll(async () => {
  await prom?.stop();
  demo?.stop();
});

const check = (spec: Omit<PrometheusCheckSpec, 'url'>) => runPrometheusCheck({ url: prom.url, ...spec }, { send: sendHttp, clock: systemClock });

const ratio = (version: string) =>
  `(sum(http_requests_total{job="demo", version="${version}", code=~"5.."}) or vector(0)) / sum(http_requests_total{job="demo", version="${version}"})`;

describe('a prometheus check against a real Prometheus', { timeout: 60_000 }, () => {
  it('passes a healthy release: error rate 0 < 0.001, read at the time it says', async () => {
    const before = Date.now();
    const outcome = await check({ query: ratio('1.0.0'), expect: 'result < 0.001', label: 'error rate' });
    expect(outcome).toMatchObject({ verdict: 'pass', result: 0, results: [{ labels: {}, value: 0 }] });
    expect(outcome.reading.evaluatedAt).toBeGreaterThanOrEqual(before);
    expect(outcome.reading.url).toContain(`${prom.url}/api/v1/query?query=`);
  });

  it('fails the -errors release with the measured error rate, the condition and the query', async () => {
    demo.cli('deploy', '1.1.0-errors');
    // At least 200 requests on the new version, so the ratio settles near its 5 %.
    await waitFor('traffic on 1.1.0-errors', async () => (await prom.query('sum(http_requests_total{version="1.1.0-errors"}) > 200')).length > 0, 30_000, 250);
    const outcome = await check({ query: ratio('1.1.0-errors'), expect: 'result < 0.001', label: 'error rate' });
    expect(outcome.verdict).toBe('fail');
    expect(outcome.result).toBeGreaterThan(0.03);
    expect(outcome.result).toBeLessThan(0.07);
    expect(outcome.reason).toMatch(/^error rate 0\.0\d+ ≥ 0\.001 \(query: \(sum\(http_requests_total\{job="demo", version="1\.1\.0-errors", code=~"5\.\."\}\)/);
    demo.cli('rollback');
  });

  it.each([
    [undefined, 'inconclusive'],
    ['fail', 'fail'],
    ['pass', 'pass'],
  ] as const)('no data with no_data %s is %s', async (noData, verdict) => {
    const outcome = await check({ query: 'http_requests_total{route="/no/such/route"}', expect: 'result < 1', ...(noData ? { noData } : {}) });
    expect(outcome.verdict).toBe(verdict);
    expect(outcome.results).toEqual([]);
    expect(outcome.reason).toMatch(/no data/);
  });

  it.each([
    ['0/0', 'NaN'],
    ['1/0', '+Inf'],
    ['-1/0', '-Inf'],
    // A real ratio over no requests: 0/0 in a vector.
    ['sum(rate(http_requests_total{code="599"}[1m]) or vector(0)) / (sum(rate(http_requests_total{code="599"}[1m])) or vector(0))', 'NaN'],
  ])('%s is inconclusive (%s), even with no_data: pass', async (query, shown) => {
    const outcome = await check({ query, expect: 'result < 1', noData: 'pass' });
    expect(outcome.verdict).toBe('inconclusive');
    expect(outcome.results).toEqual([{ labels: {}, value: shown }]);
    expect(outcome.reason).toContain(`is ${shown}`);
  });

  it.each(['max', 'min', 'avg', 'last'] as const)('reduces a range query with %s (time() over the last 10 s, a point a second)', async (reduce) => {
    const outcome = await check({ query: 'time()', rangeMs: 10_000, stepMs: 1000, reduce });
    expect(outcome.verdict).toBe('pass');
    const start = outcome.reading.range!.startMs / 1000;
    const end = outcome.reading.evaluatedAt / 1000;
    const expected = { max: end, min: start, avg: (start + end) / 2, last: end }[reduce];
    expect(outcome.result).toBeCloseTo(expected, 2);
    expect(outcome.reading.range).toMatchObject({ stepMs: 1000, reduce });
  });

  it('reduces each series of a range query on real metrics: a counter grows, so last = max ≥ avg ≥ min', async () => {
    const spec = { query: 'sum by (route) (http_requests_total{job="demo", version="1.0.0"})', rangeMs: 8000, stepMs: 1000 };
    const [max, min, avg, last] = await Promise.all((['max', 'min', 'avg', 'last'] as const).map((reduce) => check({ ...spec, reduce })));
    const byRoute = (o: typeof max) => Object.fromEntries(o!.results.map((r) => [r.labels['route'], r.value as number]));
    expect(Object.keys(byRoute(max))).toContain('/api/health');
    for (const route of Object.keys(byRoute(max))) {
      expect(byRoute(max)[route]).toBeGreaterThanOrEqual(byRoute(avg)[route]!);
      expect(byRoute(avg)[route]).toBeGreaterThanOrEqual(byRoute(min)[route]!);
      expect(byRoute(min)[route]).toBeGreaterThan(0);
    }
    // Several series: `result` needs one, `results` judges them all.
    expect(last!.result).toBeNull();
    const all = await check({ ...spec, reduce: 'last', expect: 'results.all(r, r.value > 0.0)' });
    expect(all.verdict).toBe('pass');
    const single = await check({ ...spec, reduce: 'last', expect: 'result > 0' });
    expect(single.reason).toMatch(/series answered, and `result` needs exactly one/);
  });

  it('fails a query Prometheus refuses, with its own message', async () => {
    const outcome = await check({ query: 'sum(rate(http_requests_total[5m]' });
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reason).toMatch(/^Prometheus refused the query: HTTP 400: bad_data: invalid parameter "query": .*unclosed left parenthesis/);
  });

  it('the -slow release shows in the latency histogram: histogram_quantile p95 above 0.5 s', async () => {
    demo.cli('deploy', '1.2.0-slow');
    await waitFor('traffic on 1.2.0-slow', async () => (await prom.query('sum(http_requests_total{version="1.2.0-slow"}) > 20')).length > 0, 30_000, 250);
    const outcome = await check({
      query: 'histogram_quantile(0.95, sum by (le) (http_request_duration_seconds_bucket{job="demo", version="1.2.0-slow"}))',
      expect: 'result < 0.5',
      label: 'p95 latency (s)',
    });
    demo.cli('rollback');
    expect(outcome.verdict).toBe('fail');
    expect(outcome.result).toBeGreaterThan(0.5);
    expect(outcome.reason).toMatch(/^p95 latency \(s\) 0\.\d+ ≥ 0\.5 \(query: histogram_quantile/);
  });

  it('the fault gauges show the -down release, and its 503s are counted', async () => {
    demo.cli('deploy', '1.3.0-down');
    await waitFor('503s on 1.3.0-down', async () => (await prom.query('sum(http_requests_total{version="1.3.0-down", code="503"}) > 5')).length > 0, 30_000, 250);
    const down = await check({ query: 'max(demo_fault_down{job="demo"})', expect: 'result == 0' });
    const up = await check({ query: 'up{job="demo"}', expect: 'result == 1' });
    demo.cli('rollback');
    expect(down.verdict).toBe('fail');
    expect(down.reason).toMatch(/^result 1 ≠ 0/);
    // The metrics endpoint itself answers: Prometheus still scrapes a target whose API is down.
    expect(up.verdict).toBe('pass');
  });
});
