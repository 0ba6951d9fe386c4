// The warm-up before a probe's samples: the ledger's arithmetic, the probe with a scripted port, and real connections to a server on 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock, systemClock } from '../../src/ports/clock.js';
import { sendHttp } from '../../src/ports/http.js';
import type { HttpRequest, HttpResult, HttpSend } from '../../src/ports/types.js';
import { probeFromDoc, probeHttp } from '../../src/steps/http.js';
import { judgeProbe } from '../../src/steps/metrics.js';
import { WARM_FOR_MS, createWarmupLedger, originOf } from '../../src/ports/warmup-ledger.js';
import { startTestServer, testRoutes, type TestServer } from '../helpers/http-server.js';

const ok = (durationMs: number, body = 'ok', status = 200): HttpResult => ({ ok: true, status, body, durationMs });
const failed = (error: string, durationMs = 1): HttpResult => ({ ok: false, error, durationMs, timedOut: false });

describe('the warm-up ledger', () => {
  const A = 'http://a.test';
  const B = 'https://b.test:8443';

  it('asks a cold origin for as many warm-up requests as the connections leased', () => {
    const ledger = createWarmupLedger();
    expect(ledger.lease(A, 5, 0).requests).toBe(5);
    expect(ledger.lease(B, 1, 0).requests).toBe(1);
  });

  it.each([
    ['right after the last probe', 5, 5, 10, 0],
    ['at the edge of the window', 5, 5, WARM_FOR_MS, 0],
    ['after the window: the connections may be closed', 5, 5, WARM_FOR_MS + 1, 5],
    ['fewer connections than before', 5, 2, 10, 0],
    ['more connections than before: all of them, at once', 2, 5, 10, 5],
  ])('after a probe to the same origin ends, %s', (_name, first, second, gapMs, expected) => {
    const ledger = createWarmupLedger();
    ledger.lease(A, first, 0).release(true, 100);
    expect(ledger.lease(A, second, 100 + gapMs).requests).toBe(expected);
  });

  it('warms only for connections that probes running now do not hold', () => {
    const ledger = createWarmupLedger();
    const first = ledger.lease(A, 3, 0);
    expect(first.requests).toBe(3);
    // 3 connections open, all busy: a probe beside it needs its own.
    const second = ledger.lease(A, 2, 5);
    expect(second.requests).toBe(2);
    first.release(true, 200);
    // 5 open, 2 busy: 3 idle and warm.
    expect(ledger.lease(A, 3, 210).requests).toBe(0);
  });

  it('keeps an origin warm while a probe holds it, however long it runs', () => {
    const ledger = createWarmupLedger();
    const long = ledger.lease(A, 1, 0);
    ledger.lease(A, 1, 0).release(true, 10);
    expect(ledger.lease(A, 1, 60_000).requests).toBe(0);
    long.release(true, 60_000);
  });

  it('forgets an origin after a probe that saw a request go unanswered', () => {
    const ledger = createWarmupLedger();
    ledger.lease(A, 2, 0).release(false, 10);
    expect(ledger.lease(A, 2, 20).requests).toBe(2);
  });

  it('keeps origins apart', () => {
    const ledger = createWarmupLedger();
    ledger.lease(A, 2, 0).release(true, 10);
    expect(ledger.lease(B, 2, 20).requests).toBe(2);
  });

  it('counts a lease released twice once', () => {
    const ledger = createWarmupLedger();
    const lease = ledger.lease(A, 2, 0);
    lease.release(true, 10);
    lease.release(true, 10);
    expect(ledger.lease(A, 2, 20).requests).toBe(0);
  });

  it('belongs to the HTTP port that keeps the connections (no module-global state): the real port carries one', () => {
    expect(sendHttp.warmups).toBeDefined();
    expect(sendHttp.warmups).toBe(sendHttp.warmups);
  });

  it('a port with a ledger shares it between probes; a port without one warms up every probe', async () => {
    let sent = 0;
    const bare: HttpSend = async () => (sent++, ok(1));
    const clock = createManualClock();
    await probeHttp({ url: 'http://svc/a', samples: 2, concurrency: 2, warmup: true }, { send: bare, clock });
    await probeHttp({ url: 'http://svc/a', samples: 2, concurrency: 2, warmup: true }, { send: bare, clock });
    expect(sent).toBe(8);
    sent = 0;
    const withLedger: HttpSend = Object.assign(async () => (sent++, ok(1)), { warmups: createWarmupLedger() });
    await probeHttp({ url: 'http://svc/a', samples: 2, concurrency: 2, warmup: true }, { send: withLedger, clock });
    await probeHttp({ url: 'http://svc/a', samples: 2, concurrency: 2, warmup: true }, { send: withLedger, clock });
    expect(sent).toBe(6);
  });

  it('a runbook probe warms up by default for GET and HEAD only: a POST (or PUT, PATCH, DELETE) has effects (review 1 #21)', () => {
    expect(probeFromDoc({ url: 'http://svc/' }).warmup).toBe(true);
    expect(probeFromDoc({ url: 'http://svc/', method: 'HEAD' }).warmup).toBe(true);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) expect(probeFromDoc({ url: 'http://svc/', method }).warmup, method).toBe(false);
    expect(probeFromDoc({ url: 'http://svc/', method: 'POST', warmup: true }).warmup).toBe(true);
    expect(probeFromDoc({ url: 'http://svc/', warmup: false }).warmup).toBe(false);
  });

  it.each([
    ['http://127.0.0.1:8080/api/health?x=1', 'http://127.0.0.1:8080'],
    ['https://shop.example/a', 'https://shop.example'],
    ['HTTP://Shop.Example:80/', 'http://shop.example'],
    ['not a url', 'not a url'],
  ])('keys %s by its origin %s', (url, origin) => {
    expect(originOf(url)).toBe(origin);
  });
});

/** A port whose every request waits until the test answers it: what was sent when, and in what order. */
function heldSend() {
  const pending: { request: HttpRequest; answer: (result: HttpResult) => void }[] = [];
  const send: HttpSend = (request) => new Promise((resolve) => pending.push({ request, answer: resolve }));
  return { send, pending };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
/** A few turns of the event loop: the probe yields one between requests (connections go back to the pool). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await tick();
};

describe('probeHttp with a warm-up', () => {
  it('sends as many warm-up requests as its concurrency, all at once, and no sample before they are answered', async () => {
    const { send, pending } = heldSend();
    const probe = probeHttp({ url: 'http://svc/health', samples: 10, concurrency: 4, warmup: true }, { send, clock: createManualClock(), warmups: createWarmupLedger() });
    await settle();
    expect(pending).toHaveLength(4);
    pending.slice(0, 3).forEach((p) => p.answer(ok(300)));
    await settle();
    // One warm-up request is still out: the samples wait for it.
    expect(pending).toHaveLength(4);
    pending[3]!.answer(ok(310));
    await settle();
    expect(pending).toHaveLength(8);
    // The samples: answered as they come, 12 ms each.
    for (let answered = 4; answered < 14; answered++) {
      while (pending.length <= answered) await tick();
      pending[answered]!.answer(ok(12));
    }
    const result = await probe;
    expect(pending).toHaveLength(14);
    expect(result.metrics).toMatchObject({ samples: 10, errors: 0, p50_ms: 12, p95_ms: 12, max_ms: 12, statuses: { '200': 10 } });
    expect(result.warmup).toEqual({ requests: 4, failed: 0, maxMs: 310, failures: [] });
  });

  it('caps the warm-up at the samples, like the concurrency', async () => {
    const calls: HttpRequest[] = [];
    const send: HttpSend = async (request) => (calls.push(request), ok(5));
    const result = await probeHttp({ url: 'http://svc/', samples: 2, concurrency: 8, warmup: true }, { send, clock: createManualClock(), warmups: createWarmupLedger() });
    expect(calls).toHaveLength(4);
    expect(result.warmup?.requests).toBe(2);
    expect(result.metrics.samples).toBe(2);
  });

  it('sends the request the samples send: method, headers, body and timeout', async () => {
    const calls: HttpRequest[] = [];
    const send: HttpSend = async (request) => (calls.push(request), ok(5));
    await probeHttp(
      { url: 'http://svc/chat', method: 'post', headers: { 'content-type': 'application/json' }, body: '{}', samples: 1, timeoutMs: 777, warmup: true },
      { send, clock: createManualClock(), warmups: createWarmupLedger() },
    );
    expect(calls).toHaveLength(2);
    expect(calls[0]).toEqual(calls[1]);
    expect(calls[0]).toMatchObject({ method: 'POST', body: '{}', timeoutMs: 777 });
  });

  it('skips the warm-up when an earlier probe to the same origin left warm connections, and warms again after a pause', async () => {
    const clock = createManualClock();
    const warmups = createWarmupLedger();
    let calls = 0;
    const send: HttpSend = async () => (calls++, ok(5));
    const probe = (path: string) => probeHttp({ url: `http://svc${path}`, samples: 3, concurrency: 3, warmup: true }, { send, clock, warmups });
    expect((await probe('/health')).warmup?.requests).toBe(3);
    expect((await probe('/chat')).warmup).toEqual({ requests: 0, failed: 0, maxMs: 0, failures: [] });
    expect(calls).toBe(9);
    await clock.advance(WARM_FOR_MS + 1);
    expect((await probe('/health')).warmup?.requests).toBe(3);
    expect(calls).toBe(15);
  });

  it('keeps a failed warm-up request out of the metrics, and the verdict fails on it', async () => {
    const send: HttpSend = scriptedSend([ok(400, 'cold start', 503), ok(250), ...Array<HttpResult>(10).fill(ok(20))]);
    const result = await probeHttp({ url: 'http://svc/', samples: 10, concurrency: 2, warmup: true, expect: { status: 200 } }, { send, clock: createManualClock(), warmups: createWarmupLedger() });
    expect(result.metrics).toMatchObject({ samples: 10, errors: 0, error_rate: 0, max_ms: 20, statuses: { '200': 10 } });
    expect(result.warmup).toMatchObject({ requests: 2, failed: 1, maxMs: 400, failures: ['status 503, expected 200 (×1)'] });
    expect(judgeProbe(result, { p95_ms: { max: 500 }, error_rate: { max: 0.1 } })).toEqual({
      ok: false,
      reason: 'a warm-up request failed (not a sample; the samples passed): status 503, expected 200',
      failures: ['warm-up: status 503, expected 200 (×1)'],
    });
  });

  it('leaves the reason to the samples when they fail as well', async () => {
    const send: HttpSend = async () => failed('connection refused');
    const result = await probeHttp({ url: 'http://svc/', samples: 4, concurrency: 2, warmup: true }, { send, clock: createManualClock(), warmups: createWarmupLedger() });
    expect(result.warmup).toMatchObject({ requests: 2, failed: 2 });
    expect(judgeProbe(result)).toEqual({ ok: false, reason: '4 of 4 requests failed: connection refused (×4)', failures: ['connection refused (×4)'] });
  });

  it('says how many warm-up requests failed when more than one did', async () => {
    const send = scriptedSend([failed('connection reset'), failed('connection reset'), ok(1), ok(1), ok(1)]);
    const result = await probeHttp({ url: 'http://svc/', samples: 3, concurrency: 3, warmup: true }, { send, clock: createManualClock(), warmups: createWarmupLedger() });
    expect(judgeProbe(result).reason).toBe('2 of 3 warm-up requests failed (not samples; the samples passed): connection reset (×2)');
  });

  it('sends no sample when aborted during the warm-up', async () => {
    const controller = new AbortController();
    const { send, pending } = heldSend();
    const probe = probeHttp({ url: 'http://svc/', samples: 5, concurrency: 2, warmup: true }, { send, clock: createManualClock(), warmups: createWarmupLedger() }, controller.signal);
    await settle();
    controller.abort();
    pending.forEach((p) => p.answer(failed('aborted')));
    const result = await probe;
    expect(pending).toHaveLength(2);
    expect(result).toMatchObject({ aborted: true, metrics: { samples: 0 }, warmup: { requests: 0, failed: 0 } });
  });

  it('does not warm up unless asked to', async () => {
    let calls = 0;
    const send: HttpSend = async () => (calls++, ok(1));
    const result = await probeHttp({ url: 'http://svc/', samples: 3 }, { send, clock: createManualClock() });
    expect(calls).toBe(3);
    expect(result.warmup).toBeUndefined();
  });
});

/** A port answering from a list, in call order. */
function scriptedSend(results: HttpResult[]): HttpSend {
  let call = 0;
  return async () => results[call++] ?? ok(1);
}

describe('the warm-up against a real server', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('opens as many connections as the concurrency before the samples, and the samples open none', async () => {
    server = await startTestServer({ '/api': testRoutes.slow(30) });
    const warmups = createWarmupLedger();
    const ports = { send: sendHttp, clock: systemClock, warmups };
    const first = await probeHttp({ url: `${server.url}/api`, samples: 12, concurrency: 4, warmup: true }, ports);
    expect(first.warmup).toMatchObject({ requests: 4, failed: 0 });
    expect(first.metrics.samples).toBe(12);
    expect(server.requestCount('/api')).toBe(16);
    expect(server.connections()).toBe(4);

    // Right after: the same connections, no warm-up.
    const second = await probeHttp({ url: `${server.url}/api?again`, samples: 8, concurrency: 4, warmup: true }, ports);
    expect(second.warmup?.requests).toBe(0);
    expect(server.connections()).toBe(4);

    // More at once than before: every one of them is warmed, and only the missing ones are new.
    const wider = await probeHttp({ url: `${server.url}/api`, samples: 12, concurrency: 6, warmup: true }, ports);
    expect(wider.warmup?.requests).toBe(6);
    expect(server.connections()).toBe(6);
    expect(server.requestCount('/api')).toBe(16 + 8 + 6 + 12);
  });

  it('warms connections for probes side by side, as preflight runs them', async () => {
    server = await startTestServer({ '/api': testRoutes.slow(50) });
    const ports = { send: sendHttp, clock: systemClock, warmups: createWarmupLedger() };
    const results = await Promise.all([1, 2, 3].map((i) => probeHttp({ url: `${server!.url}/api?check=${i}`, samples: 4, concurrency: 2, warmup: true }, ports)));
    expect(results.map((r) => r.warmup?.requests)).toEqual([2, 2, 2]);
    expect(server.connections()).toBe(6);
    expect(server.maxInFlight('/api')).toBe(6);
  });
});
