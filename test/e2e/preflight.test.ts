// End to end: `deployctl preflight` through the built bin: no terminal, no stdin, exit codes, default runbook discovery, Ctrl-C.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, testRoutes, type TestServer } from '../helpers/http-server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'deployctl.js');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'preflight');

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** 'ignore': stdin closed; 'open': a pipe that is never written to nor closed. */
  stdin?: 'ignore' | 'open';
  onSpawn?: (child: ReturnType<typeof spawn>) => void;
}

/** Runs `node bin/deployctl.js preflight …` without a terminal; `npm test` builds dist first. */
function preflight(args: string[], options: SpawnOptions = {}): Promise<Result> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, CI: 'true', GITHUB_ACTIONS: undefined, DEPLOYCTL_RUNBOOK: undefined, ...options.env };
    const child = spawn(process.execPath, [BIN, 'preflight', ...args], {
      cwd: options.cwd ?? ROOT,
      env: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>,
      stdio: [options.stdin === 'open' ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
    options.onSpawn?.(child);
  });
}

let server: TestServer;
let tmp = '';

beforeAll(async () => {
  server = await startTestServer({
    // As in test/preflight/runner.test.ts: the first request fails, later ones pass (the fixture's retried check).
    '/recovering': (req, res, ctx) => (ctx.count === 1 ? testRoutes.status(503)(req, res, ctx) : testRoutes.ok()(req, res, ctx)),
    // Only the concurrency test uses it, so its in-flight maximum is that test's alone.
    '/bounded': testRoutes.slow(200),
  });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-e2e-'));
});
afterAll(async () => {
  await server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const SMALL = (url: string) => `version: 1
name: small
roles: { ops: { title: Operations } }
phases:
  - id: checks
    preflight: true
    steps:
      - { id: health, owner: ops, http: { url: "${url}/health" } }
`;

/** A project directory with the given files (relative path → content). */
function project(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(tmp, 'project-'));
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

describe('deployctl preflight without a terminal', () => {
  it.each(['ignore', 'open'] as const)('completes with stdin %s: nothing waits for input, manual steps are listed, not asked', async (stdin) => {
    const result = await preflight([path.join(FIXTURES, 'stdin.yaml'), '--var', `base_url=${server.url}`], { stdin });
    expect(result.stderr).toContain('PASS  reads-stdin');
    expect(result.stderr).toContain('PASS  reads-a-line');
    expect(result.stderr).toMatch(/SKIP {2}confirm-it .*manual, not run in CI/);
    expect(result.stderr).toMatch(/SKIP {2}ask-it .*manual, not run in CI/);
    expect(result.code).toBe(0);
    expect(result.ms).toBeLessThan(9000);
    expect(result.stderr).not.toMatch(/\x1b\[/);
  });

  it('exits 1 on the fixture with failing checks and prints exactly one JSON document with --json', async () => {
    const result = await preflight([path.join(FIXTURES, 'checks.yaml'), '--var', `base_url=${server.url}`, '--json'], { env: { FIXTURE_TOKEN: 'e2e-secret-value' } });
    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout);
    expect(doc.summary).toEqual({ total: 12, passed: 3, failed: 4, skipped: 5, manual: 3 });
    expect(result.stdout).not.toContain('e2e-secret-value');
    expect(result.stderr).not.toContain('e2e-secret-value');
  });

  it('runs at most --concurrency checks at once', async () => {
    const steps = Array.from({ length: 6 }, (_, i) => `      - { id: slow-${i}, owner: ops, http: { url: "${server.url}/bounded" } }`).join('\n');
    const dir = project({ 'slow.yaml': `version: 1\nname: slow\nroles: { ops: { title: Operations } }\nphases:\n  - id: checks\n    preflight: true\n    steps:\n${steps}\n` });
        const result = await preflight(['slow.yaml', '--concurrency', '2'], { cwd: dir });
    expect(result.code).toBe(0);
    // 6 samples, and a warm-up request for each of the 2 connections the first 2 checks open (the others reuse them).
    expect(server.requestCount('/bounded')).toBe(6 + 2);
    expect(server.maxInFlight('/bounded')).toBe(2);
  });

  it('refuses an invalid runbook with exit 2 and a path:line:col line', async () => {
    const result = await preflight(['test/fixtures/preflight/invalid.yaml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("test/fixtures/preflight/invalid.yaml:10:16: owner 'nobody' is not a declared role (roles: ops)");
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('refuses bad usage with exit 2', async () => {
    expect((await preflight(['test/fixtures/preflight/no-preflight.yaml'])).code).toBe(2);
    expect((await preflight([path.join(FIXTURES, 'stdin.yaml'), '--concurrency', 'lots'])).code).toBe(2);
    expect((await preflight([path.join(FIXTURES, 'stdin.yaml'), '--no-such-flag'])).code).toBe(2);
  });
});

describe('default runbook discovery', () => {
  it('uses $DEPLOYCTL_RUNBOOK first', async () => {
    const dir = project({ 'deployctl.yaml': 'not: a runbook\n', 'elsewhere/mine.yaml': SMALL(server.url) });
    const result = await preflight([], { cwd: dir, env: { DEPLOYCTL_RUNBOOK: 'elsewhere/mine.yaml' } });
    expect(result.stderr).toContain('checking elsewhere/mine.yaml (from $DEPLOYCTL_RUNBOOK)');
    expect(result.code).toBe(0);
  });

  it('then ./deployctl.yaml', async () => {
    const dir = project({ 'deployctl.yaml': SMALL(server.url), 'runbooks/other.yaml': 'not: a runbook\n' });
    const result = await preflight([], { cwd: dir });
    expect(result.stderr).toContain('checking deployctl.yaml (the default ./deployctl.yaml)');
    expect(result.code).toBe(0);
  });

  it('then the only *.yaml in ./runbooks/, ignoring answers files', async () => {
    const dir = project({ 'runbooks/prod.yaml': SMALL(server.url), 'runbooks/prod.answers.yaml': 'health: true\n' });
    const result = await preflight([], { cwd: dir });
    expect(result.stderr).toContain('checking runbooks/prod.yaml (the only runbook in ./runbooks/)');
    expect(result.code).toBe(0);
  });

  it('asks for one explicitly when ./runbooks/ holds several (exit 2)', async () => {
    const dir = project({ 'runbooks/a.yaml': SMALL(server.url), 'runbooks/b.yaml': SMALL(server.url) });
    const result = await preflight([], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('runbooks/ holds 2 runbooks (a.yaml, b.yaml)');
    expect(result.stderr).toContain('deployctl preflight runbooks/a.yaml');
  });

  it('names every place it looked when there is none (exit 2)', async () => {
    const dir = project({ 'README.md': 'hello\n' });
    const result = await preflight([], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no runbook to check');
    for (const place of ['$DEPLOYCTL_RUNBOOK', './deployctl.yaml', './runbooks/']) expect(result.stderr).toContain(place);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat[stat.lastIndexOf(')') + 2]!);
  } catch {
    return true;
  }
}

async function waitFor(condition: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('Ctrl-C', () => {
  it('stops the running checks and their process trees (a process in a session of its own too), and exits 130', async () => {
    const dir = project({});
    const pidFile = path.join(dir, 'grandchild.pid');
    const escapedFile = path.join(dir, 'escaped.pid');
    const runbook = path.join(dir, 'long.yaml');
    fs.writeFileSync(
      runbook,
      `version: 1
name: long
roles: { ops: { title: Operations } }
phases:
  - id: checks
    preflight: true
    steps:
      - { id: long, owner: ops, run: "sleep 60 & echo $! > grandchild.pid; setsid sleep 60 > /dev/null 2>&1 & echo $! > escaped.pid; wait" }
      - { id: health, owner: ops, http: { url: "${server.url}/health" } }
`,
    );
    let grandchild = 0;
    let escaped = 0;
    const result = await preflight([runbook], {
      cwd: dir,
      onSpawn: (child) => {
        const written = (file: string) => fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim() !== '';
        void waitFor(() => written(pidFile) && written(escapedFile), 10_000).then(() => {
          grandchild = Number(fs.readFileSync(pidFile, 'utf8').trim());
          escaped = Number(fs.readFileSync(escapedFile, 'utf8').trim());
          child.kill('SIGINT');
        });
      },
    });
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('SIGINT: stopping the running checks');
    expect(result.stderr).toContain('preflight INTERRUPTED');
    expect(grandchild).toBeGreaterThan(0);
    expect(escaped).toBeGreaterThan(0);
    await waitFor(() => !isAlive(grandchild) && !isAlive(escaped), 3000);
  });
});
