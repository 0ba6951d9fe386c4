// Probe latency is the server's, not the client's start-up (issue 11 item 3): a fresh CLI process probing a 200 ms endpoint on 127.0.0.1 reports p95 ≈ 200 ms, with the warm-up in the record beside the metrics.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, killAllClis, readRecord, recordFiles, runCli } from '../helpers/cli.js';
import { startTestServer, testRoutes, type TestServer } from '../helpers/http-server.js';

/** The endpoint's latency, and how far above it a p95 may be: timers, the loopback, a busy machine. */
const DELAY_MS = 200;
const TOLERANCE_MS = 15;
/**
 * The cold start this guards against is in every fresh process (60–160 ms here), so it is in every attempt; a load
 * spike from other processes on the machine is not. The best of a few attempts tells the two apart.
 */
const ATTEMPTS = 5;

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
      // 10 samples, 5 at a time (the default): one cold request among them would be the p95.
      `        http: { url: "\${{ vars.base_url }}/delayed", samples: 10, expect: { status: 200, body_contains: ok } }`,
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

/** Runs `measure` (a fresh process each time) until its p95 is within the tolerance, at most ATTEMPTS times. */
async function bestOf(measure: () => Promise<Measured>): Promise<{ best: Measured; seen: number[] }> {
  const seen: number[] = [];
  let best: Measured | undefined;
  for (let i = 0; i < ATTEMPTS; i++) {
    const m = await measure();
    seen.push(m.p95_ms);
    if (best === undefined || m.p95_ms < best.p95_ms) best = m;
    if (m.p95_ms <= DELAY_MS + TOLERANCE_MS) break;
  }
  return { best: best!, seen };
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
    const { best, seen } = await bestOf(async () => {
      const cwd = path.join(dir, `run-${attempt++}`);
      mkdirSync(cwd);
      const result = await runCli(['run', file, '--non-interactive'], { cwd, timeoutMs: 30_000 });
      expect(result.code, result.stderr).toBe(0);
      const records = recordFiles(cwd);
      expect(records).toHaveLength(1);
      const step = readRecord(records[0]!).statement.predicate['phases'][0].steps[0];
      return { ...step.metrics, warmup: step.warmup } as Measured;
    });
    expect(best.p95_ms, `p95 of each attempt: ${seen.join(', ')} ms`).toBeLessThanOrEqual(DELAY_MS + TOLERANCE_MS);
    expect(best.p50_ms).toBeGreaterThanOrEqual(DELAY_MS);
    expect(best.samples).toBe(10);
    // Five warm-up requests (the concurrency), none of them a sample; the cold start is theirs.
    expect(best.warmup).toMatchObject({ requests: 5, failed: 0 });
    expect(best.warmup.max_ms).toBeGreaterThanOrEqual(DELAY_MS);
  });

  it('deployctl preflight --json reports the same, with the warm-up beside the metrics', async () => {
    const file = runbook('warmup-preflight', true);
    const { best, seen } = await bestOf(async () => {
      const result = await runCli(['preflight', file, '--json'], { cwd: dir, timeoutMs: 30_000 });
      expect(result.code, result.stderr).toBe(0);
      const check = (JSON.parse(result.stdout) as { checks: { metrics: Measured; warmup: Measured['warmup'] }[] }).checks[0]!;
      return { ...check.metrics, warmup: check.warmup };
    });
    expect(best.p95_ms, `p95 of each attempt: ${seen.join(', ')} ms`).toBeLessThanOrEqual(DELAY_MS + TOLERANCE_MS);
    expect(best.p50_ms).toBeGreaterThanOrEqual(DELAY_MS);
    expect(best.warmup).toMatchObject({ requests: 5, failed: 0 });
  });
});

