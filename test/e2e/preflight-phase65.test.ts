// Acceptance: `CI=true deployctl preflight runbooks/phase65.yaml --junit out.xml` against the demo target: 0 while it runs, 1 with a readable failure once it is stopped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLLINT_MISSING, assertWellFormed, hasXmllint, xpath } from '../preflight/xml-helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEMO = path.join(ROOT, 'runbooks', 'demo', 'demo.js');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let stateDir = '';
let baseUrl = '';

/** The demo target and deployctl both see this environment: the runbook's `run` steps call demo.js too. */
function env(): NodeJS.ProcessEnv {
  const { GITHUB_ACTIONS: _gha, DEPLOYCTL_RUNBOOK: _rb, ...rest } = process.env;
  return { ...rest, CI: 'true', DEMO_STATE_DIR: stateDir, DEMO_PORT: '0', DEMO_FAST: '1' };
}

function run(file: string, args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    // stdin closed: CI has no terminal, and preflight must not need one.
    const child = execFile(file, args, { cwd: ROOT, env: env(), timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    child.stdin?.end();
  });
}

const demo = (command: string) => run(DEMO, [command]);

/** Backups the demo target holds: its state's list and the files in its backups directory. */
function backupsTaken(): string[] {
  const state = JSON.parse(fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as { backups: { file: string }[] };
  const dir = path.join(stateDir, 'backups');
  return [...state.backups.map((b) => b.file), ...(fs.existsSync(dir) ? fs.readdirSync(dir) : [])];
}
const preflight = (junit: string) => run(process.execPath, ['bin/deployctl.js', 'preflight', 'runbooks/phase65.yaml', '--junit', junit, '--var', `base_url=${baseUrl}`]);

describe('phase65 preflight against the demo target', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-phase65-'));
    const started = await demo('start');
    expect(started.code).toBe(0);
    const url = /running at (http:\/\/127\.0\.0\.1:\d+)/.exec(started.stdout)?.[1];
    if (url === undefined) throw new Error(`demo.js start printed no URL:\n${started.stdout}${started.stderr}`);
    baseUrl = url;
  });

  afterAll(async () => {
    await demo('stop');
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it('exits 0 while the target runs, with a JUnit report of every pre-flight step', async (ctx) => {
    const junit = path.join(stateDir, 'out.xml');
    const result = await preflight(junit);
    expect(result.stderr).toContain('preflight PASSED: 6 passed, 0 failed, 5 skipped (5 manual) of 11');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    const xml = fs.readFileSync(junit, 'utf8');
    expect(xml).toContain('<testcase classname="preflight" name="[QA Lead] Pre-deploy smoke: health (pf-health)"');
    expect(xml).toContain('name="[DevOps Engineer] Monitoring active (monitoring-active)"');
    // Pre-flight runs on every CI check: it checks that a backup can be taken, and takes none (issue 11 item 10).
    expect(xml).toContain('<testcase classname="preflight" name="[DevOps Engineer] Backup possible (backup-check)"');
    expect(backupsTaken()).toEqual([]);
    if (!hasXmllint()) return ctx.skip(XMLLINT_MISSING);
    assertWellFormed(junit);
    expect(xpath(junit, 'count(//testsuite)')).toBe('1');
    expect(xpath(junit, 'count(//testcase)')).toBe('11');
    expect(xpath(junit, 'count(//testcase/failure)')).toBe('0');
    expect(xpath(junit, 'count(//testcase/skipped[@message="manual, not run in CI"])')).toBe('5');
  });

  it('exits 1 with a readable failure once the target is stopped', async (ctx) => {
    expect((await demo('stop')).code).toBe(0);
    const junit = path.join(stateDir, 'down.xml');
    const result = await preflight(junit);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/FAIL {2}target-status .*, 3 attempts\): exit code 1: demo target is not running/);
    expect(result.stderr).toMatch(/FAIL {2}pf-health .*: error_rate 1 > max 0\.001 \(100% > 0\.1%\); connection refused \(×20\)/);
    expect(result.stderr).toContain('preflight FAILED');
    if (!hasXmllint()) return ctx.skip(XMLLINT_MISSING);
    assertWellFormed(junit);
    expect(xpath(junit, 'count(//testcase/failure)')).toBe('5');
    expect(xpath(junit, 'string(//testcase[@name="[QA Lead] Pre-deploy smoke: health (pf-health)"]/failure/@message)')).toBe(
      'error_rate 1 > max 0.001 (100% > 0.1%); connection refused (×20)',
    );
  });
});
