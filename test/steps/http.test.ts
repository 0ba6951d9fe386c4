// The http probe: exact metrics with a scripted port, then real requests to a server on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock, systemClock } from '../../src/ports/clock.js';
import { sendHttp, type SentHttpResult } from '../../src/ports/http.js';
import type { HttpRequest, HttpResult, HttpSend } from '../../src/ports/types.js';
import {
  MAX_FAILURE_KINDS,
  PROBE_DEFAULTS,
  describeProbe,
  percentile,
  probeFromDoc,
  probeHttp,
  summarizeFailures,
  summarizeSamples,
  type ProbeSample,
} from '../../src/steps/http.js';
import { closedPort, startTestServer, type TestServer } from '../helpers/http-server.js';

/** A port that answers from a script, one entry per call in call order, and records the requests. */
function scriptedSend(script: (call: number, request: HttpRequest) => HttpResult): HttpSend & { requests: HttpRequest[] } {
  const requests: HttpRequest[] = [];
  const send = async (request: HttpRequest): Promise<HttpResult> => {
    requests.push(request);
    return script(requests.length - 1, request);
  };
  return Object.assign(send, { requests });
}

const ok = (durationMs: number, body = 'ok', status = 200): HttpResult => ({ ok: true, status, body, durationMs });
const failed = (error: string, durationMs = 1): HttpResult => ({ ok: false, error, durationMs, timedOut: error.startsWith('timeout') });

describe('probeHttp with a scripted port', () => {
  it('sends exactly `samples` requests with the request as specified', async () => {
    const send = scriptedSend(() => ok(5));
    const result = await probeHttp(
      { url: 'http://svc/health', method: 'post', headers: { a: 'b' }, body: '{}', samples: 7, timeoutMs: 1234 },
      { send, clock: createManualClock() },
    );
    expect(send.requests).toHaveLength(7);
    expect(send.requests[0]).toMatchObject({ url: 'http://svc/health', method: 'POST', headers: { a: 'b' }, body: '{}', timeoutMs: 1234 });
    expect(result.metrics.samples).toBe(7);
    expect(result).toMatchObject({ failures: [], aborted: false });
    expect(result.firstError).toBeUndefined();
  });

  it('applies the defaults: one GET, a 10 s timeout, any 2xx', async () => {
    const send = scriptedSend(() => ok(5, '', 204));
    const result = await probeHttp({ url: 'http://svc/' }, { send, clock: createManualClock() });
    expect(send.requests).toEqual([{ url: 'http://svc/', method: 'GET', headers: {}, body: undefined, timeoutMs: 10_000, signal: undefined }]);
    expect(result.metrics).toMatchObject({ samples: 1, errors: 0, statuses: { '204': 1 } });
    expect(PROBE_DEFAULTS).toEqual({ method: 'GET', samples: 1, concurrency: 5, timeoutMs: 10_000, intervalMs: 0 });
  });

  it('computes nearest-rank percentiles, max and mean over all samples', async () => {
    // Latencies 1..20 ms, answered out of order.
    const order = [7, 3, 20, 1, 15, 9, 12, 2, 18, 5, 11, 4, 19, 6, 14, 8, 17, 10, 16, 13];
    const send = scriptedSend((call) => ok(order[call]!));
    const { metrics } = await probeHttp({ url: 'http://svc/', samples: 20, concurrency: 4 }, { send, clock: createManualClock() });
    expect(metrics).toEqual({
      samples: 20,
      errors: 0,
      error_rate: 0,
      success_rate: 1,
      p50_ms: 10,
      p95_ms: 19,
      p99_ms: 20,
      max_ms: 20,
      mean_ms: 10.5,
      statuses: { '200': 20 },
    });
  });

  it('counts a failed request in the latencies with the time it took to fail', async () => {
    const send = scriptedSend((call) => (call === 0 ? failed('timeout after 2s', 2000) : ok(10)));
    const { metrics } = await probeHttp({ url: 'http://svc/', samples: 20 }, { send, clock: createManualClock() });
    expect(metrics).toMatchObject({ errors: 1, error_rate: 0.05, success_rate: 0.95, p95_ms: 10, p99_ms: 2000, max_ms: 2000, statuses: { '200': 19, error: 1 } });
  });

  it.each([
    ['any 2xx by default', undefined, 201, 'yes ok', undefined],
    ['a non-2xx by default', undefined, 302, 'ok', 'status 302, expected 2xx'],
    ['one listed status', { status: 200 }, 500, 'ok', 'status 500, expected 200'],
    ['two listed statuses', { status: [200, 204] }, 503, 'ok', 'status 503, expected 200 or 204'],
    ['three listed statuses', { status: [200, 201, 204] }, 404, 'ok', 'status 404, expected one of 200, 201, 204'],
    ['a listed non-2xx', { status: [200, 401] }, 401, 'ok', undefined],
    ['body text present', { bodyContains: 'ok' }, 200, '{"status":"ok"}', undefined],
    ['body text missing', { bodyContains: 'ok' }, 200, 'degraded', 'body does not contain "ok"'],
    ['status checked before body', { status: 200, bodyContains: 'ok' }, 500, 'degraded', 'status 500, expected 200'],
  ])('judges %s', async (_name, expect_, status, body, failure) => {
    const send = scriptedSend(() => ok(1, body, status));
    const result = await probeHttp({ url: 'http://svc/', expect: expect_ }, { send, clock: createManualClock() });
    expect(result.firstError).toBe(failure);
    expect(result.metrics.errors).toBe(failure === undefined ? 0 : 1);
  });

  it('says the body was searched only in part when the port truncated it', async () => {
    const partial: SentHttpResult = { ok: true, status: 200, body: 'x', durationMs: 1, truncated: true };
    const send: HttpSend = async () => partial;
    const result = await probeHttp({ url: 'http://svc/', expect: { bodyContains: 'needle' } }, { send, clock: createManualClock() });
    expect(result.firstError).toBe('body does not contain "needle" in its first 1 MiB');
  });

  it('lists distinct failure reasons with counts, most frequent first', async () => {
    const script = ['refused', 'ok', '500', 'refused', 'refused', 'nobody', '500', 'ok'];
    const send = scriptedSend((call) => {
      const kind = script[call];
      if (kind === 'refused') return failed('connection refused');
      if (kind === '500') return ok(1, 'err', 500);
      if (kind === 'nobody') return ok(1, 'nope');
      return ok(1);
    });
    const result = await probeHttp({ url: 'http://svc/', samples: 8, concurrency: 1, expect: { status: 200, bodyContains: 'ok' } }, { send, clock: createManualClock() });
    expect(result.failures).toEqual(['connection refused (×3)', 'status 500, expected 200 (×2)', 'body does not contain "ok" (×1)']);
    expect(result.firstError).toBe('connection refused');
    expect(result.metrics.statuses).toEqual({ error: 3, '200': 3, '500': 2 });
  });

  it('turns a port that throws (a bug) into a failed sample', async () => {
    const send: HttpSend = async () => {
      throw new Error('port bug');
    };
    const result = await probeHttp({ url: 'http://svc/', samples: 2 }, { send, clock: createManualClock() });
    expect(result.failures).toEqual(['port bug (×2)']);
  });

  it('pauses each worker for the interval between its requests, on the clock port', async () => {
    const clock = createManualClock();
    const sentAt: number[] = [];
    const send: HttpSend = async () => {
      sentAt.push(clock.monotonic());
      return ok(1);
    };
    const probe = probeHttp({ url: 'http://svc/', samples: 5, concurrency: 2, intervalMs: 1000 }, { send, clock });
    while (await clock.runNext());
    const result = await probe;
    expect(sentAt).toEqual([0, 0, 1000, 1000, 2000]);
    expect(result.metrics.samples).toBe(5);
    expect(result.durationMs).toBe(2000);
  });

  it('stops sending when aborted during an interval and counts only what completed', async () => {
    const clock = createManualClock();
    const controller = new AbortController();
    const send = scriptedSend(() => ok(1));
    const probe = probeHttp({ url: 'http://svc/', samples: 10, concurrency: 1, intervalMs: 1000 }, { send, clock }, controller.signal);
    await clock.advance(2500);
    controller.abort();
    const result = await probe;
    expect(send.requests).toHaveLength(3);
    expect(result).toMatchObject({ aborted: true, metrics: { samples: 3, errors: 0 } });
  });

  it('does not count requests the abort cut short', async () => {
    const controller = new AbortController();
    // The abort arrives while the first requests are in flight; the port reports them as aborted.
    const send: HttpSend = async () => {
      controller.abort();
      return { ok: false, error: 'aborted', durationMs: 1, timedOut: false };
    };
    const result = await probeHttp({ url: 'http://svc/', samples: 5 }, { send, clock: createManualClock() }, controller.signal);
    expect(result).toMatchObject({ aborted: true, failures: [], metrics: { samples: 0, errors: 0 } });
  });
});

describe('summarizeSamples', () => {
  it('gives zeros and no statuses when nothing was measured', () => {
    expect(summarizeSamples([])).toEqual({
      samples: 0,
      errors: 0,
      error_rate: 0,
      success_rate: 0,
      p50_ms: 0,
      p95_ms: 0,
      p99_ms: 0,
      max_ms: 0,
      mean_ms: 0,
      statuses: {},
    });
  });

  it('rounds latencies to 0.1 ms', () => {
    const samples: ProbeSample[] = [{ durationMs: 1.234, status: 200 }, { durationMs: 2.26, status: 200 }];
    expect(summarizeSamples(samples)).toMatchObject({ p50_ms: 1.2, max_ms: 2.3, mean_ms: 1.7 });
  });
});

describe('percentile (nearest rank)', () => {
  const tenToHundred = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
  it.each([
    [[], 50, 0],
    [[42], 50, 42],
    [[42], 99, 42],
    [tenToHundred, 50, 50],
    [tenToHundred, 51, 60],
    [tenToHundred, 95, 100],
    [tenToHundred, 90, 90],
    [tenToHundred, 0, 10],
    [tenToHundred, 100, 100],
    [[1, 2, 3, 4], 50, 2],
    [[1, 2, 3, 4], 75, 3],
  ])('of %j at p%i is %i', (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });
});

describe('summarizeFailures', () => {
  it(`lists at most ${MAX_FAILURE_KINDS} reasons and sums up the rest`, () => {
    const samples: ProbeSample[] = [];
    for (let kind = 0; kind < 13; kind++) {
      for (let n = 0; n < 20 - kind; n++) samples.push({ durationMs: 1, failure: `reason ${kind}` });
    }
    const lines = summarizeFailures(samples);
    expect(lines).toHaveLength(MAX_FAILURE_KINDS + 1);
    expect(lines[0]).toBe('reason 0 (×20)');
    expect(lines[9]).toBe('reason 9 (×11)');
    expect(lines[10]).toBe('3 other reasons (×27)');
  });

  it('keeps first-seen order among equally frequent reasons', () => {
    const samples: ProbeSample[] = ['b', 'a', 'a', 'b', 'c'].map((failure) => ({ durationMs: 1, failure }));
    expect(summarizeFailures(samples)).toEqual(['b (×2)', 'a (×2)', 'c (×1)']);
  });
});

describe('probeFromDoc and describeProbe', () => {
  it('turns a rendered http step into a probe with durations in ms', () => {
    const probe = probeFromDoc({
      url: 'http://svc/x',
      method: 'POST',
      samples: 20,
      concurrency: 5,
      timeout: '2s',
      interval: '250ms',
      expect: { status: [200, 201], body_contains: 'ok' },
    });
    expect(probe).toEqual({
      url: 'http://svc/x',
      method: 'POST',
      samples: 20,
      concurrency: 5,
      timeoutMs: 2000,
      intervalMs: 250,
      expect: { status: [200, 201], bodyContains: 'ok' },
      // A POST has effects: no unmeasured warm-up requests unless the step says `warmup: true` (review 1 #21;
      // GET and HEAD warm up by default, issue 11 item 3).
      warmup: false,
    });
    expect(probeFromDoc({ url: 'http://svc/x', warmup: false }).warmup).toBe(false);
    expect(describeProbe(probe)).toBe('POST http://svc/x');
    expect(describeProbe({ url: 'http://svc/' })).toBe('GET http://svc/');
  });
});

describe('probeHttp against a real server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });
  const ports = { send: sendHttp, clock: systemClock };

  it('measures 20 samples where every 20th fails: error_rate 0.05', async () => {
    const result = await probeHttp({ url: `${server.url}/flaky?every=20`, samples: 20, expect: { status: 200, bodyContains: 'ok' } }, ports);
    expect(result.metrics).toMatchObject({ samples: 20, errors: 1, error_rate: 0.05, success_rate: 0.95, statuses: { '200': 19, '500': 1 } });
    expect(result.failures).toEqual(['status 500, expected 200 (×1)']);
    expect(server.requestCount('/flaky')).toBe(20);
  });

  it('measures known latencies: the n-th request waits (n-1)·20 ms', async () => {
    const { metrics } = await probeHttp({ url: `${server.url}/by-index?step=20`, samples: 20, concurrency: 5 }, ports);
    // Latencies are 0, 20, …, 380 ms plus overhead: nearest rank puts p50 at the 10th (180), p95 at the 19th (360), p99 at the 20th (380).
    // The lower bound is exact (a request cannot answer before its delay); the upper one leaves room for a loaded CI machine.
    const near = (value: number, expected: number): void => {
      expect(value).toBeGreaterThanOrEqual(expected - 2);
      expect(value).toBeLessThan(expected + 250);
    };
    expect(metrics.p50_ms).toBeLessThan(metrics.p95_ms);
    expect(metrics.p95_ms).toBeLessThanOrEqual(metrics.p99_ms);
    expect(metrics.p99_ms).toBeLessThanOrEqual(metrics.max_ms);
    near(metrics.p50_ms, 180);
    near(metrics.p95_ms, 360);
    near(metrics.p99_ms, 380);
    near(metrics.max_ms, 380);
    near(metrics.mean_ms, 190);
    expect(metrics.errors).toBe(0);
  });

  it.each([1, 3, 7])('keeps at most %i requests in flight', async (concurrency) => {
    const local = await startTestServer();
    try {
      const result = await probeHttp({ url: `${local.url}/slow?ms=40`, samples: 14, concurrency }, ports);
      expect(result.metrics.samples).toBe(14);
      expect(local.requestCount('/slow')).toBe(14);
      expect(local.maxInFlight('/slow')).toBe(concurrency);
    } finally {
      await local.close();
    }
  });

  it('keeps 5 requests in flight by default, never more than the samples', async () => {
    const local = await startTestServer();
    try {
      await probeHttp({ url: `${local.url}/slow?ms=40`, samples: 12 }, ports);
      expect(local.maxInFlight('/slow')).toBe(5);
      await probeHttp({ url: `${local.url}/health`, samples: 2 }, ports);
      expect(local.maxInFlight('/health')).toBeLessThanOrEqual(2);
    } finally {
      await local.close();
    }
  });

  it('accepts a listed status and fails on a body without the expected text', async () => {
    const listed = await probeHttp({ url: `${server.url}/fail?status=204`, samples: 3, expect: { status: [200, 204] } }, ports);
    expect(listed.metrics).toMatchObject({ errors: 0, statuses: { '204': 3 } });
    const wrong = await probeHttp({ url: `${server.url}/wrong-body`, samples: 3, expect: { bodyContains: 'ok' } }, ports);
    expect(wrong.failures).toEqual(['body does not contain "ok" (×3)']);
    expect(wrong.metrics).toMatchObject({ errors: 3, error_rate: 1, success_rate: 0, statuses: { '200': 3 } });
  });

  it('fails samples of an endpoint that never answers with "timeout after …"', async () => {
    const started = performance.now();
    const result = await probeHttp({ url: `${server.url}/hang`, samples: 4, concurrency: 4, timeoutMs: 300 }, ports);
    expect(result.failures).toEqual(['timeout after 300 ms (×4)']);
    expect(result.metrics).toMatchObject({ errors: 4, statuses: { error: 4 } });
    expect(result.metrics.p50_ms).toBeGreaterThanOrEqual(290);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('says "connection refused" for a closed port', async () => {
    const port = await closedPort();
    const result = await probeHttp({ url: `http://127.0.0.1:${port}/health`, samples: 20 }, ports);
    expect(result.failures).toEqual(['connection refused (×20)']);
    expect(result.firstError).toBe('connection refused');
    expect(result.metrics).toMatchObject({ samples: 20, errors: 20, error_rate: 1, statuses: { error: 20 } });
  });

  it('searches only the first 1 MiB of a huge body', async () => {
    const started = performance.now();
    const result = await probeHttp({ url: `${server.url}/huge`, samples: 2, expect: { bodyContains: 'needle' } }, ports);
    expect(result.failures).toEqual(['body does not contain "needle" in its first 1 MiB (×2)']);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('follows redirects to the final response', async () => {
    const result = await probeHttp({ url: `${server.url}/redirect?hops=3&to=/health`, samples: 2, expect: { status: 200, bodyContains: 'ok' } }, ports);
    expect(result.metrics).toMatchObject({ errors: 0, statuses: { '200': 2 } });
  });

  it('stops quickly when aborted, with requests in flight', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const started = performance.now();
    const result = await probeHttp({ url: `${server.url}/hang`, samples: 50, concurrency: 5, timeoutMs: 10_000 }, ports, controller.signal);
    expect(performance.now() - started).toBeLessThan(1500);
    expect(result).toMatchObject({ aborted: true, failures: [], metrics: { samples: 0 } });
    expect(server.requestCount('/hang')).toBeLessThanOrEqual(4 + 5);
  });
});
