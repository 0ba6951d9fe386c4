// `deployctl run runbooks/phase65.yaml --var prometheus_url=…`: the canary gate and the success metrics read a real Prometheus.
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assertBuilt, cliEnv, freePort, killAllClis, reapProcessesIn, readJournal, readRecord, recordFiles, runCli, runDirs, stackTraceLines, verifyWithOpenssl } from '../helpers/cli.js';
import { prometheusBinary, startPrometheus, type PrometheusServer } from '../helpers/prometheus.js';
import { conditionWhy, type ExplainedCondition } from '../../src/expr/explain.js';

const SLOW = 120_000;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Setup {
  dir: string;
  baseUrl: string;
  env: Record<string, string>;
  prom: PrometheusServer;
}
let setup: Setup;

function demoCli(...args: string[]) {
  return spawnSync(process.execPath, [path.join(setup.dir, 'runbooks/demo/demo.js'), ...args], { env: cliEnv(setup.env), encoding: 'utf8', timeout: 30_000 });
}

beforeAll(() => {
  assertBuilt();
  prometheusBinary(); // fails with the apt-get line when it is missing: never skipped
});

beforeEach(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-prom-'));
  cpSync(path.join(ROOT, 'runbooks'), path.join(dir, 'runbooks'), { recursive: true, filter: (src) => !src.includes(`${path.sep}.state`) });
  // The demo target finds prom-client in the checkout's node_modules, as it does in place.
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  const port = await freePort();
  const env = { DEMO_PORT: String(port), DEMO_STATE_DIR: path.join(dir, 'demo-state'), DEMO_FAST: '1' };
  setup = { dir, baseUrl: `http://127.0.0.1:${port}`, env, prom: undefined as unknown as PrometheusServer };
  // The shoppers: in production users make the traffic the metrics count; here the demo's simulated ones do.
  const started = demoCli('start', '--traffic', '40');
  expect(started.status, started.stderr).toBe(0);
  setup.prom = await startPrometheus([`127.0.0.1:${port}`]);
  await setup.prom.waitForData('http_requests_total{job="demo", version="1.0.0"}');
}, 60_000);

afterEach(async () => {
  await killAllClis();
  await setup.prom?.stop();
  const stop = demoCli('stop');
  const left = reapProcessesIn(setup.dir);
  rmSync(setup.dir, { recursive: true, force: true });
  expect(stop.status, `${stop.stdout}${stop.stderr}`).toBe(0);
  expect(left, 'processes left running').toEqual([]);
});

function run(version: string) {
  return runCli(
    // The day rehearsed at 3600x (its monitoring windows take 23 s; a NO-GO never reaches them).
    ['run', 'runbooks/phase65.yaml', '--answers', 'runbooks/phase65.answers.yaml', '--var', `base_url=${setup.baseUrl}`, '--var', `prometheus_url=${setup.prom.url}`, '--var', `version=${version}`, '--time-scale', '3600'],
    { cwd: setup.dir, env: setup.env, timeoutMs: 110_000 },
  );
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
const stepOf = (predicate: Json, id: string): Json => (predicate['phases'] as Json[]).flatMap((p) => p['steps'] as Json[]).find((s) => s['id'] === id)!;

describe('phase65 gated by a real Prometheus', { timeout: SLOW }, () => {
  it('the -errors release: NO-GO at the canary gate, whose reason shows the measured error rate; rolled back, exit 4', async () => {
    const result = await run('6.5.0-errors');
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(4);
    expect(stackTraceLines(result.stdout + result.stderr)).toEqual([]);
    expect(result.stdout).toMatch(/gate 'canary' decided NO-GO: error_rate_below_0_1pct does not hold \(0\.0\d+ ≥ 0\.001\)/);

    const files = recordFiles(setup.dir);
    expect(files).toHaveLength(1);
    expect(verifyWithOpenssl(files[0]!, path.join(setup.dir, '.deployctl/keys/deployctl.pub'), setup.dir).every((v) => v.ok)).toBe(true);
    const predicate = readRecord(files[0]!).statement.predicate as Json;
    expect(predicate['status']).toBe('rolled-back');
    expect(predicate['reason']).toMatch(/^gate 'canary' decided NO-GO: error_rate_below_0_1pct does not hold \(0\.0\d+ ≥ 0\.001\)(; .*)?; rolled back$/);

    const deploy = (predicate['phases'] as Json[]).find((p) => p['id'] === 'deploy')!;
    expect(deploy['gate']).toMatchObject({ id: 'canary', decision: 'no-go', answered_from: 'automatic' });
    const errorRate = (deploy['gate']['conditions'] as Json[]).find((c) => c['name'] === 'error_rate_below_0_1pct')!;
    expect(errorRate).toMatchObject({ ok: false, value: false });
    // The evidence tree: the chain's deciding operand, taken apart into the number read and the bound.
    expect(errorRate['tree']).toMatchObject({ op: '&&', value: false });
    const deciding = (errorRate['tree']['children'] as Json[]).find((c) => c['value'] === false)!;
    expect(deciding).toMatchObject({ op: '<', children: [{ value: expect.any(Number) }, { text: '0.001', op: 'value' }] });
    expect(conditionWhy(errorRate as ExplainedCondition)).toMatch(/^0\.0\d+ ≥ 0\.001$/);

    // What was read, when, and from which query: in the signed record.
    const step = stepOf(predicate, 'canary-error-rate');
    expect(step).toMatchObject({ kind: 'prometheus', status: 'succeeded' });
    expect(step['check']).toMatchObject({ source: 'prometheus', verdict: 'pass' });
    expect(step['check']['query']).toContain('version="6.5.0-errors"');
    // Counted over the requests since this deployment only (a window of a few seconds): the 5 % fault, with the
    // noise of a couple of hundred requests.
    expect(step['check']['result']).toBeGreaterThan(0.001);
    expect(step['check']['result']).toBeLessThan(0.15);
    // Since deploy (review 1 #9): every query counts with increase() over the time since deploy-release finished,
    // so a redeploy of the same version never starts from the counts of an earlier one.
    const deployedAt = Date.parse(stepOf(predicate, 'deploy-release')['ended_at']);
    for (const id of ['canary-traffic', 'canary-error-rate', 'canary-p95', 'canary-uptime']) {
      const check = stepOf(predicate, id)['check'];
      const windows = [...(check['query'] as string).matchAll(/increase\((?:http_requests_total|http_request_duration_seconds_bucket)\{[^}]*\}\[(\d+)s\]\)/g)].map((m) => Number(m[1]));
      expect(windows.length, check['query']).toBeGreaterThan(0);
      for (const w of windows) expect(w, `${id}: ${check['query']}`).toBeLessThanOrEqual(Math.ceil((Date.parse(check['evaluated_at']) - deployedAt) / 1000) + 1);
    }
    expect(Date.parse(step['check']['evaluated_at'])).toBeGreaterThan(Date.parse(predicate['started_at']));
    expect(stepOf(predicate, 'canary-traffic')['check']['result']).toBeGreaterThanOrEqual(100);

    // The verification probes never ran: the canary caught it first. The target is back on its old version.
    expect(stepOf(predicate, 'verify-health')['status']).toBe('not-run');
    expect(predicate['rollback']).toMatchObject({ status: 'succeeded' });
    expect(demoCli('status').stdout).toMatch(/version:\s+1\.0\.0/);
  });

  it('a healthy release: every gate GO, and the success metrics say they come from Prometheus', async () => {
    const result = await run('6.5.0');
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    const predicate = readRecord(recordFiles(setup.dir)[0]!).statement.predicate as Json;
    const metrics = Object.fromEntries((predicate['success_metrics'] as Json[]).map((m) => [m['id'], m]));
    for (const id of ['error_rate', 'response_p95', 'uptime']) {
      expect(metrics[id]['source'], id).toMatch(/^prometheus: /);
      expect(metrics[id]['ok'], id).toBe(true);
    }
    expect(metrics['error_rate']['actual']).toBe(0);
    expect(metrics['uptime']['actual']).toBe(100);
    expect(metrics['response_p95']['actual']).toBeLessThan(500);
    // Probes still run (functionality, smoke, data integrity); other figures keep their own source.
    expect(stepOf(predicate, 'verify-chat')['status']).toBe('succeeded');
    expect(metrics['deployment_time']['source']).toBeUndefined();
    expect(stepOf(predicate, 'metrics-error-rate')['check']).toMatchObject({ result: 0, verdict: 'pass', expect: 'result < 0.001' });

    // The journal kept the readings too (a resumed run decides from the same values).
    const journal = readJournal(setup.dir, runDirs(setup.dir)[0]!);
    const finished = journal.find((e) => e['kind'] === 'step-finished' && e['stepId'] === 'canary-p95');
    expect(finished?.['outcome']['check']['source']).toBe('prometheus');
  });
});
