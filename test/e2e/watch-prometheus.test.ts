// A watch whose check is a `prometheus:` query, against a real Prometheus scraping a real demo target: passing ticks, a failing tick, ticks without data.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, killAllClis, readRecord, recordFiles, runCli } from '../helpers/cli.js';
import { startDemoTarget, startPrometheus, type DemoTarget, type PrometheusServer } from '../helpers/prometheus.js';

let demo: DemoTarget;
let prom: PrometheusServer;
let dir = '';

beforeAll(async () => {
  assertBuilt();
  demo = await startDemoTarget();
  prom = await startPrometheus([`127.0.0.1:${demo.port}`]);
  await prom.waitForData('up{job="demo"} == 1');
}, 60_000);

afterEach(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  dir = '';
});

afterAll(async () => {
  await killAllClis();
  await prom?.stop();
  demo?.stop();
});

/** A runbook of one watch (3 ticks, 1 s apart) with one prometheus check, and a step after it that reads the window. */
function runbook(query: string, expect: string, limits: { failure?: number; inconclusive?: number } = {}): string {
  return `
version: 1
name: watch-prometheus
roles: { oncall: { title: On-Call, primary: Gus } }
vars: { prometheus_url: "" }
phases:
  - id: monitor
    steps:
      - id: w
        owner: oncall
        watch:
          every: 1s
          count: 3
          failure_limit: ${limits.failure ?? 0}
          inconclusive_limit: ${limits.inconclusive ?? 0}
          checks:
            - id: up
              prometheus:
                url: "\${{ vars.prometheus_url }}"
                query: '${query}'
                label: targets up
              expect: "${expect}"
      - id: read
        owner: oncall
        run: "echo ticks=\${{ steps.w.ticks }} uptime=\${{ steps.w.uptime }} last=\${{ steps.w.last.checks.up.status }}"
`;
}

async function run(text: string) {
  dir = mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-watch-prom-'));
  writeFileSync(path.join(dir, 'rb.yaml'), text);
  const result = await runCli(['run', 'rb.yaml', '--var', `prometheus_url=${prom.url}`], { cwd: dir, timeoutMs: 60_000 });
  const files = recordFiles(dir);
  expect(files, result.stdout + result.stderr).toHaveLength(1);
  const predicate = readRecord(files[0]!).statement.predicate as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const steps = predicate['phases'][0]['steps'] as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  return { result, watch: steps.find((s) => s['id'] === 'w')!, read: steps.find((s) => s['id'] === 'read')! };
}

describe('a watch with a prometheus check, against a real Prometheus', { timeout: 90_000 }, () => {
  it('passes every tick while the query holds: each tick records the number Prometheus returned', async () => {
    const { result, watch, read } = await run(runbook('up{job="demo"}', 'result == 1.0'));
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(watch['status']).toBe('succeeded');
    expect(watch['watch']).toMatchObject({ planned_ticks: 3, ticks: 3, passed: 3, failed: 0, inconclusive: 0, uptime: 1 });
    const log = watch['watch']['tick_log'] as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(log.map((t) => t['status'])).toEqual(['passed', 'passed', 'passed']);
    for (const tick of log) expect(tick['checks'][0]).toMatchObject({ id: 'up', status: 'passed', result: 1 });
    expect(watch['watch']['checks'][0]).toMatchObject({ id: 'up', kind: 'prometheus', passed: 3, last_result: 1 });
    expect(read['stdout']['text']).toContain('ticks=3 uptime=1 last=passed');
  });

  it('a tick whose query does not hold fails it, and one failing tick over failure_limit 0 fails the watch at once', async () => {
    const { result, watch, read } = await run(runbook('up{job="demo"}', 'result < 0.5'));
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(watch['status']).toBe('failed');
    expect(watch['watch']).toMatchObject({ planned_ticks: 3, ticks: 1, passed: 0, failed: 1, uptime: 0 });
    const tick = watch['watch']['tick_log'][0] as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(tick['status']).toBe('failed');
    expect(tick['checks'][0]).toMatchObject({ id: 'up', status: 'failed', result: 1 });
    expect(tick['reason']).toMatch(/^up: /);
    expect(watch['reason']).toMatch(/1 failing tick of 1 \(failure_limit 0\)/);
    expect(read['status']).toBe('not-run');
  });

  it('a query without data makes inconclusive ticks, never passing ones; past inconclusive_limit, with no terminal, it fails closed', async () => {
    const { result, watch } = await run(runbook('up{job="no-such-job"}', 'result == 1.0', { inconclusive: 1 }));
    expect(result.code, result.stdout + result.stderr).not.toBe(0);
    expect(watch['status']).toBe('inconclusive');
    expect(watch['watch']).toMatchObject({ ticks: 2, passed: 0, failed: 0, inconclusive: 2, uptime: 0 });
    const log = watch['watch']['tick_log'] as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(log.map((t) => t['status'])).toEqual(['inconclusive', 'inconclusive']);
    for (const tick of log) expect(tick['checks'][0]).toMatchObject({ id: 'up', status: 'inconclusive', result: null });
    expect(watch['watch']['decisions']).toEqual([expect.objectContaining({ decision: 'fail', answered_from: 'automatic', inconclusive: 2 })]);
    expect(watch['reason']).toMatch(/failed closed/);
  });
});
