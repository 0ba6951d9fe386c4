// runPrometheusCheck on its own (no engine): what each kind of answer from the server becomes, with recorded answers.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/ports/clock.js';
import type { HttpRequest, HttpResult } from '../../src/ports/types.js';
import { runPrometheusCheck } from '../../src/steps/prometheus.js';

const recorded = (name: string) => readFileSync(new URL(`../fixtures/prometheus/${name}.json`, import.meta.url), 'utf8');
const clock = createManualClock(Date.UTC(2026, 11, 6, 7, 0, 0));

function server(reply: HttpResult) {
  const requests: HttpRequest[] = [];
  return { requests, send: async (request: HttpRequest) => (requests.push(request), reply) };
}

describe('runPrometheusCheck', () => {
  it('sends one GET with the query, the time and the timeout, and Accept: application/json', async () => {
    const s = server({ ok: true, status: 200, body: recorded('vector-error-ratio'), durationMs: 1 });
    const outcome = await runPrometheusCheck({ url: 'http://prom:9090/', query: 'ratio', timeoutMs: 5000, headers: { 'X-Scope-OrgID': 'shop' } }, { send: s.send, clock });
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]).toMatchObject({ method: 'GET', timeoutMs: 5000, headers: { Accept: 'application/json', 'X-Scope-OrgID': 'shop' } });
    expect(s.requests[0]!.url).toBe(`http://prom:9090/api/v1/query?query=ratio&time=${Date.UTC(2026, 11, 6, 7, 0, 0) / 1000}&timeout=5s`);
    expect(outcome).toMatchObject({ verdict: 'pass', result: 0.04891304347826087 });
    expect(outcome.reading).toMatchObject({ source: 'prometheus', query: 'ratio', evaluatedAt: Date.UTC(2026, 11, 6, 7, 0, 0), verdict: 'pass' });
  });

  it.each([
    ['an unreachable server', { ok: false, error: 'connection refused', durationMs: 1, timedOut: false }, 'inconclusive', /^could not read Prometheus at http:\/\/prom:9090: connection refused \(query: q\)$/],
    ['a timeout', { ok: false, error: 'timeout after 10s', durationMs: 10_000, timedOut: true }, 'inconclusive', /timeout after 10s/],
    ['a 503 (Prometheus overloaded)', { ok: true, status: 503, body: '{"status":"error","errorType":"unavailable","error":"too many queries"}', durationMs: 1 }, 'inconclusive', /HTTP 503: unavailable: too many queries/],
    ['a 400 (a bad query)', { ok: true, status: 400, body: recorded('error-bad-data'), durationMs: 1 }, 'fail', /^Prometheus refused the query: HTTP 400: bad_data/],
    ['a 401 (refused credentials)', { ok: true, status: 401, body: 'Unauthorized', durationMs: 1 }, 'fail', /check auth: the credentials were refused/],
    ['an HTML page (not Prometheus)', { ok: true, status: 200, body: '<html>Grafana</html>', durationMs: 1 }, 'fail', /not a Prometheus API response/],
  ] as const)('%s is %s', async (_what, reply, verdict, reason) => {
    const outcome = await runPrometheusCheck({ url: 'http://prom:9090', query: 'q', expect: 'result < 1' }, { send: server(reply as HttpResult).send, clock });
    expect(outcome.verdict).toBe(verdict);
    expect(outcome.reason).toMatch(reason);
    expect(outcome.reading.verdict).toBe(verdict);
  });

  it('refuses a URL that is not http(s) without sending anything', async () => {
    const s = server({ ok: true, status: 200, body: '', durationMs: 1 });
    const outcome = await runPrometheusCheck({ url: 'prom:9090', query: 'q' }, { send: s.send, clock });
    expect(outcome).toMatchObject({ verdict: 'fail', reason: 'invalid Prometheus URL "prom:9090": give its base, e.g. http://127.0.0.1:9090 (query: q)' });
    expect(s.requests).toEqual([]);
  });

  it('masks what leaves the check', async () => {
    const s = server({ ok: false, error: 'connection refused', durationMs: 1, timedOut: false });
    const outcome = await runPrometheusCheck({ url: 'http://prom:9090', query: 'up{token="abc123"}' }, { send: s.send, clock, mask: (t) => t.split('abc123').join('***') });
    expect(JSON.stringify(outcome)).not.toContain('abc123');
    expect(s.requests[0]!.url).toContain('abc123');
  });

  it('a range query asks for start, end and step, and records them', async () => {
    const s = server({ ok: true, status: 200, body: recorded('matrix'), durationMs: 1 });
    const outcome = await runPrometheusCheck({ url: 'http://prom:9090', query: 'sum(x)', rangeMs: 600_000, reduce: 'max' }, { send: s.send, clock });
    const url = new URL(s.requests[0]!.url);
    expect(url.pathname).toBe('/api/v1/query_range');
    expect(Number(url.searchParams.get('end')) - Number(url.searchParams.get('start'))).toBe(600);
    expect(url.searchParams.get('step')).toBe('10');
    expect(outcome.reading.range).toEqual({ startMs: Date.UTC(2026, 11, 6, 7, 0, 0) - 600_000, stepMs: 10_000, reduce: 'max' });
    expect(outcome.result).toBe(366);
  });
});
