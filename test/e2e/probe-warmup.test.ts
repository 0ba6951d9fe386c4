// Probe latency is the server's, not the client's start-up (issue 11 item 3): a fresh CLI process probing a 200 ms endpoint on 127.0.0.1 reports p95 ≈ 200 ms, with the warm-up in the record beside the metrics.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, killAllClis, readRecord, recordFiles, runCli } from '../helpers/cli.js';
import { startTestServer, testRoutes, type TestServer } from '../helpers/http-server.js';

/** The endpoint's latency, and how far above it a p95 may be: timers, the loopback, the scheduler. */
const DELAY_MS = 200;
const TOLERANCE_MS = 15;
/**
 * On a machine busy with other work (two cores shared by several test suites), every sample now and then waits for a
 * CPU, whoever sends it: p95s of 230-320 ms from a plain client. So each attempt also times a plain client
 * (test/helpers/probe-baseline.mjs: fetch alone, the same warm-up, the same samples) in a fresh process of its own.
 * When no attempt of deployctl gets within DELAY + TOLERANCE, the median of its p95s may be above DELAY by at most
 * LOAD_FACTOR times what the plain client's median is, plus MARGIN: a bigger process waits for a CPU a little more
 * often, but a cold start is far outside that (without the warm-up deployctl's p95 was 390-400 ms where the plain
 * client's was 240-260).
 */
const LOAD_FACTOR = 1.5;
const MARGIN_MS = 10;
const ATTEMPTS = 5;
const BASELINE = fileURLToPath(new URL('../helpers/probe-baseline.mjs', import.meta.url));
const SAMPLES = 40;

let server: TestServer;
let dir: string;

function runbook(name: string, preflight: boolean): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      'version: 1',
      `name: ${name}`,
      'roles: { ops: { title: Operations } }',
      `vars: { base_url: "${server.url}" }`,
      'phases:',
      '  - id: checks',
      ...(preflight ? ['    preflight: true'] : []),
      '    steps:',
      '      - id: slow-endpoint',
      '        owner: ops',
      // 40 samples, 5 at a time (the default concurrency): a cold start slows the first 5, and the p95 (the 38th
      // fastest) is one of them; a stray scheduling delay on a busy machine hits one or two samples, and it is not.
      `        http: { url: "\${{ vars.base_url }}/delayed", samples: ${SAMPLES}, expect: { status: 200, body_contains: ok } }`,
      '',
    ].join('\n'),
  );
  return file;
}

interface Measured {
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
  samples: number;
  warmup: { requests: number; failed: number; max_ms: number };
}

/** The plain client's p95 against the same endpoint, now, in a fresh process (asynchronously: the endpoint lives in this one). */
async function baselineP95(): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, [BASELINE, `${server.url}/delayed`, String(SAMPLES), '5'], { timeout: 30_000 });
  return (JSON.parse(stdout) as { p95_ms: number }).p95_ms;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * Runs the plain client and `measure` (a fresh deployctl) alternately, until deployctl's p95 is within DELAY +
 * TOLERANCE (then that attempt is the result), at most ATTEMPTS times (then the median attempt is, held to the bound
 * the plain client's median gives when that is higher).
 */
async function measureAgainstPlainClient(measure: () => Promise<Measured>): Promise<{ result: Measured; bound: number; seen: string }> {
  const runs: Measured[] = [];
  const plain: number[] = [];
  const seen = () => `p95 of each attempt: ${runs.map((r, i) => `deployctl ${r.p95_ms} ms (plain fetch ${plain[i]} ms)`).join(', ')}`;
  for (let i = 0; i < ATTEMPTS; i++) {
    plain.push(await baselineP95());
    const m = await measure();
    runs.push(m);
    if (m.p95_ms <= DELAY_MS + TOLERANCE_MS) return { result: m, bound: DELAY_MS + TOLERANCE_MS, seen: seen() };
  }
  const byP95 = [...runs].sort((a, b) => a.p95_ms - b.p95_ms);
  const bound = Math.max(DELAY_MS + TOLERANCE_MS, DELAY_MS + LOAD_FACTOR * (median(plain) - DELAY_MS) + MARGIN_MS);
  return { result: { ...byP95[Math.floor(byP95.length / 2)]!, p95_ms: median(runs.map((r) => r.p95_ms)) }, bound, seen: seen() };
}

beforeAll(async () => {
  assertBuilt();
  server = await startTestServer({ '/delayed': testRoutes.slow(DELAY_MS) });
  dir = mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-warmup-'));
});

afterAll(async () => {
  await killAllClis();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('an http step against a 200 ms endpoint, in a fresh process', { timeout: 120_000 }, () => {
  it('deployctl run records p95 within a few ms of 200 ms, and the warm-up beside the metrics', async () => {
    const file = runbook('warmup-run', false);
    let attempt = 0;
    const { result: measured, bound, seen } = await measureAgainstPlainClient(async () => {
      const cwd = path.join(dir, `run-${attempt++}`);
      mkdirSync(cwd);
      const result = await runCli(['run', file, '--non-interactive'], { cwd, timeoutMs: 30_000 });
      expect(result.code, result.stderr).toBe(0);
      const records = recordFiles(cwd);
      expect(records).toHaveLength(1);
      const step = readRecord(records[0]!).statement.predicate['phases'][0].steps[0];
      return { ...step.metrics, warmup: step.warmup } as Measured;
    });
    expect(measured.p95_ms, seen).toBeLessThanOrEqual(bound);
    expect(measured.p50_ms).toBeGreaterThanOrEqual(DELAY_MS);
    expect(measured.samples).toBe(SAMPLES);
    // Five warm-up requests (the concurrency), none of them a sample; the cold start is theirs.
    expect(measured.warmup).toMatchObject({ requests: 5, failed: 0 });
    expect(measured.warmup.max_ms).toBeGreaterThanOrEqual(DELAY_MS);

    // Said so wherever the record is read.
    const last = path.join(dir, `run-${attempt - 1}`);
    const shown = await runCli(['record', 'show'], { cwd: last });
    expect(shown.stdout).toMatch(/slow-endpoint .*p95 [\d.]+ ms, errors 0%, 5 warm-up requests not counted/);
    const exported = await runCli(['record', 'export', recordFiles(last)[0]!, '--format', 'markdown'], { cwd: last });
    expect(exported.stdout).toContain('5 warm-up requests not counted');
  });

  it('deployctl preflight --json reports the same, with the warm-up beside the metrics', async () => {
    const file = runbook('warmup-preflight', true);
    const { result: measured, bound, seen } = await measureAgainstPlainClient(async () => {
      const result = await runCli(['preflight', file, '--json'], { cwd: dir, timeoutMs: 30_000 });
      expect(result.code, result.stderr).toBe(0);
      const check = (JSON.parse(result.stdout) as { checks: { metrics: Measured; warmup: Measured['warmup'] }[] }).checks[0]!;
      return { ...check.metrics, warmup: check.warmup };
    });
    expect(measured.p95_ms, seen).toBeLessThanOrEqual(bound);
    expect(measured.p50_ms).toBeGreaterThanOrEqual(DELAY_MS);
    expect(measured.warmup).toMatchObject({ requests: 5, failed: 0 });
  });
});

