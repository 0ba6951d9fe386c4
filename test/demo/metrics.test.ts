// The demo target's /metrics (prom-client text format) and `demo.js start --prometheus`, with the real server and the real binary.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort, isLive, waitFor } from '../helpers/cli.js';
import { DEMO_JS, prometheusBinary } from '../helpers/prometheus.js';

let stateDir = '';
let port = 0;

function demo(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [DEMO_JS, ...args], {
    env: { ...process.env, DEMO_STATE_DIR: stateDir, DEMO_PORT: String(port), DEMO_FAST: '1', DEMO_PROMETHEUS_PORT: '0', ...env },
    encoding: 'utf8',
    timeout: 40_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
const sample = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}()[\]|.+*?^$\\]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);

beforeEach(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-demo-metrics-'));
  port = await freePort();
});

afterEach(() => {
  const stopped = demo(['stop']);
  fs.rmSync(stateDir, { recursive: true, force: true });
  expect(stopped.code, stopped.stderr).toBe(0);
});

describe('the demo target /metrics', { timeout: 60_000 }, () => {
  it('counts requests by route, method, code and version, with a latency histogram, in the Prometheus text format', async () => {
    expect(demo(['start']).code).toBe(0);
    // demo.js start itself asked /api/health once it was up: count from here.
    const before = sample(await metrics(), 'http_requests_total{route="/api/health",method="GET",code="200",version="1.0.0"}');
    for (const p of ['/api/health', '/api/health', '/api/orders/1001', '/api/orders/999999', '/api/nope', '/api/orders/1002']) await (await fetch(`http://127.0.0.1:${port}${p}`)).text();
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('# TYPE http_requests_total counter');
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(sample(text, 'http_requests_total{route="/api/health",method="GET",code="200",version="1.0.0"}') - before).toBe(2);
    // Ids are folded into one route: a scan of random URLs cannot grow the series without end.
    expect(sample(text, 'http_requests_total{route="/api/orders/:id",method="GET",code="200",version="1.0.0"}')).toBe(2);
    expect(sample(text, 'http_requests_total{route="/api/orders/:id",method="GET",code="404",version="1.0.0"}')).toBe(1);
    expect(sample(text, 'http_requests_total{route="other",method="GET",code="404",version="1.0.0"}')).toBe(1);
    expect(sample(text, 'http_request_duration_seconds_count{route="/api/health",method="GET",version="1.0.0"}') - before).toBe(2);
    expect(sample(text, 'http_request_duration_seconds_bucket{le="+Inf",route="/api/health",method="GET",version="1.0.0"}') - before).toBe(2);
    expect(sample(text, 'demo_version_info{version="1.0.0"}')).toBe(1);
    // /metrics itself is not counted.
    expect(text).not.toContain('route="/metrics"');
  });

  it.each([
    ['-errors', 'demo_fault_error_rate', 0.05, 'code="500"'],
    ['-slow', 'demo_fault_latency_seconds', 0.7, 'le="0.5"'],
    ['-down', 'demo_fault_down', 1, 'code="503"'],
  ])('shows a %s version: its fault gauge and its requests', async (suffix, gauge, value, mark) => {
    expect(demo(['start']).code).toBe(0);
    expect(demo(['deploy', `2.0.0${suffix}`]).code).toBe(0);
    // demo.js deploy asked /api/health once on the new version: that request is counted as well.
    const n = suffix === '-errors' ? 39 : suffix === '-slow' ? 1 : 2;
    for (let i = 0; i < n; i++) await (await fetch(`http://127.0.0.1:${port}/api/health`)).text();
    const text = await metrics();
    expect(sample(text, gauge)).toBe(value);
    expect(sample(text, 'demo_version_info{version="2.0.0' + suffix + '"}')).toBe(1);
    if (suffix === '-slow') {
      // Every request took 700 ms or more: none in the 0.5 s bucket, all in the 0.75 s one.
      expect(sample(text, `http_request_duration_seconds_bucket{le="0.5",route="/api/health",method="GET",version="2.0.0-slow"}`)).toBe(0);
      expect(sample(text, `http_request_duration_seconds_bucket{le="0.75",route="/api/health",method="GET",version="2.0.0-slow"}`)).toBe(2);
    } else {
      const code = mark.slice(6, 9);
      expect(sample(text, `http_requests_total{route="/api/health",method="GET",code="${code}",version="2.0.0${suffix}"}`)).toBe(suffix === '-errors' ? 2 : 3);
    }
  });

  it('--traffic sends the server simulated requests, so counters grow with nobody probing', async () => {
    expect(demo(['start', '--traffic', '50']).stdout).toContain('with 50 simulated requests/s');
    const first = sample(await metrics(), 'http_requests_total{route="/api/health",method="GET",code="200",version="1.0.0"}');
    await waitFor('more requests', async () => sample(await metrics(), 'http_requests_total{route="/api/health",method="GET",code="200",version="1.0.0"}') > (first || 0) + 5, 10_000, 100);
  });
});

describe('demo.js start --prometheus', { timeout: 90_000 }, () => {
  it('without the binary: says how to install it, and the demo runs without it (exit 0)', async () => {
    const started = demo(['start', '--prometheus'], { DEMO_PROMETHEUS_BIN: path.join(stateDir, 'no-such-prometheus') });
    expect(started.code).toBe(0);
    expect(started.stderr).toContain('prometheus is not installed: apt-get install -y prometheus');
    expect((await fetch(`http://127.0.0.1:${port}/api/health`)).status).toBe(200);
    expect(demo(['status']).stdout).toMatch(/prometheus:\s+\(not running; start --prometheus starts one\)/);
  });

  it('on a target already running without traffic (the Quick start\'s): restarts it with traffic, same port and version (review 1 #9)', async () => {
    prometheusBinary();
    expect(demo(['start']).code).toBe(0);
    expect(demo(['deploy', '2.0.0']).code).toBe(0);
    const before = JSON.parse(fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as { pid: number; port: number };
    const started = demo(['start', '--prometheus']);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toContain(`with 0 simulated requests/s: restarting it with 20 (same port, version 2.0.0)`);
    expect(started.stdout).toMatch(/demo target running at .*version 2\.0\.0.*with 20 simulated requests\/s/);
    const after = JSON.parse(fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as { pid: number; port: number };
    expect(after.port).toBe(before.port);
    expect(after.pid).not.toBe(before.pid);
    const count = async () => sample(await metrics(), 'http_requests_total{route="/api/health",method="GET",code="200",version="2.0.0"}') || 0;
    const first = await count();
    await waitFor('simulated requests on the restarted target', async () => (await count()) > first + 2, 10_000, 100);
  });

  it('with the binary: a Prometheus scraping the target every second, with traffic; stop stops both', async () => {
    prometheusBinary();
    const started = demo(['start', '--prometheus']);
    expect(started.code, started.stderr).toBe(0);
    const url = /--var prometheus_url=(http:\/\/127\.0\.0\.1:\d+)/.exec(started.stdout)?.[1];
    expect(url, started.stdout).toBeDefined();
    const query = async (q: string) => ((await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: unknown[] } }).data.result;
    await waitFor('the demo scraped, with traffic counted', async () => (await query('sum(rate(http_requests_total{job="demo"}[5s])) > 5')).length > 0, 30_000, 250);
    expect(demo(['start', '--prometheus']).stdout).toContain(`prometheus already running at ${url}`);
    expect(demo(['start', '--prometheus']).stdout).toContain('with 20 simulated requests/s');
    const state = JSON.parse(fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as { prometheus: { pid: number } };
    const stopped = demo(['stop']);
    expect(stopped.stdout).toContain(`prometheus stopped (pid ${state.prometheus.pid})`);
    expect(isLive(state.prometheus.pid)).toBe(false);
  });
});
