// Template values in PromQL queries, against a real Prometheus: a hostile value cannot turn a failing check into a passing one (review 1 item 14).
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, killAllClis, readRecord, recordFiles, runCli } from '../helpers/cli.js';
import { startDemoTarget, startPrometheus, type DemoTarget, type PrometheusServer } from '../helpers/prometheus.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/prometheus/injection.yaml', import.meta.url));

let demo: DemoTarget;
let prom: PrometheusServer;
let dir: string;

beforeAll(async () => {
  assertBuilt();
  demo = await startDemoTarget();
  prom = await startPrometheus([`127.0.0.1:${demo.port}`]);
  await prom.waitForData('up{job="demo"} == 1');
  dir = mkdtempSync(path.join(os.tmpdir(), 'deployctl-prom-inj-'));
  copyFileSync(FIXTURE, path.join(dir, 'injection.yaml'));
}, 60_000);

afterAll(async () => {
  await killAllClis();
  await prom?.stop();
  demo?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** Run the fixture with these vars; each step's recorded check. */
async function run(vars: Record<string, string>) {
  const runDir = mkdtempSync(path.join(dir, 'run-'));
  copyFileSync(FIXTURE, path.join(runDir, 'injection.yaml'));
  const args = ['run', 'injection.yaml', '--var', `prometheus_url=${prom.url}`, ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}=${v}`])];
  const result = await runCli(args, { cwd: runDir, timeoutMs: 30_000 });
  const files = recordFiles(runDir);
  expect(files, result.stdout + result.stderr).toHaveLength(1);
  const steps = (readRecord(files[0]!).statement.predicate as Record<string, any>)['phases'][0]['steps'] as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  return { result, step: (id: string) => steps.find((s) => s['id'] === id)! };
}

describe('templates in PromQL queries cannot change the query', { timeout: 60_000 }, () => {
  it('honest values: both checks read Prometheus and fail (1 target < 5, 0 < 5)', async () => {
    const { result, step } = await run({});
    expect(result.code).toBe(1);
    expect(step('in-string')['check']).toMatchObject({ verdict: 'fail', result: 1, query: 'sum(up{job="demo"})' });
  });

  it('a passing check shows the number it read on its line, as a probe shows p50/p95 (review 1 #25)', async () => {
    const { result, step } = await run({ min: '1' });
    expect(result.code, result.stdout).toBe(0);
    expect(step('in-string')['check']).toMatchObject({ verdict: 'pass', result: 1 });
    expect(result.stdout).toMatch(/✔ .*in-string \(.*result 1\)/);
  });

  it('a value that closes the string literal stays inside it: the check still fails, and the query Prometheus got is escaped', async () => {
    const hostile = 'demo"}) * 0 + vector(9) #';
    const { result, step } = await run({ job: hostile });
    expect(result.code).not.toBe(0);
    const check = step('in-string')['check'];
    expect(check['verdict']).not.toBe('pass');
    expect(check['result']).not.toBe(9);
    expect(check['query']).toBe('sum(up{job="demo\\"}) * 0 + vector(9) #"})');
  });

  it('backslashes and newlines are escaped too (a trailing backslash cannot eat the closing quote)', async () => {
    const { step } = await run({ job: 'demo\\', window: '5m' });
    expect(step('in-string')['check']['query']).toBe('sum(up{job="demo\\\\"})');
    expect(step('in-string')['check']['verdict']).toBe('fail');
  });

  it('a bare template must be one whole duration or number: a value with syntax is refused and nothing passes', async () => {
    const { result, step } = await run({ which: 'token', window: '5m])) + vector(9) #' });
    expect(result.code).not.toBe(0);
    expect(step('as-token')['status']).toBe('failed');
    expect(step('as-token')['reason']).toMatch(/not one number, duration or promql_string\(\): refused/);
    expect(step('as-token')['check']).toBeUndefined();
  });

  it('a duration in a bare template is one token: the honest value is read', async () => {
    const { step } = await run({ which: 'token', window: '2m' });
    expect(step('as-token')['check']).toMatchObject({ verdict: 'fail', result: 0, query: 'sum(count_over_time(up{job="demo"}[2m])) * 0' });
  });

  it('validate refuses a template glued to a token, in a raw string or in a comment, at file:line:col with the fix', async () => {
    const file = path.join(dir, 'glued.yaml');
    writeFileSync(
      file,
      [
        'version: 1',
        'name: glued',
        'roles: { ops: { title: Ops } }',
        'vars: { p: "http://127.0.0.1:1", m: up }',
        'phases:',
        '  - id: a',
        '    steps:',
        '      - id: glued',
        '        owner: ops',
        '        prometheus: { url: "${{ vars.p }}", query: "sum(${{ vars.m }}_total)" }',
        '      - id: raw',
        '        owner: ops',
        '        prometheus: { url: "${{ vars.p }}", query: "up{job=`${{ vars.m }}`}" }',
        '',
      ].join('\n'),
    );
    const result = await runCli(['validate', file], { cwd: dir, timeoutMs: 20_000 });
    expect(result.code).toBe(2);
    expect(result.stdout + result.stderr).toMatch(/glued\.yaml:10:\d+: .*is glued to it, so its value would change the next token/);
    expect(result.stdout + result.stderr).toMatch(/put it inside a PromQL string literal/);
    expect(result.stdout + result.stderr).toMatch(/glued\.yaml:13:\d+: .*raw string cannot be escaped/);
  });
});
