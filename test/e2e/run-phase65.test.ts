// `deployctl run runbooks/phase65.yaml` end to end: the built CLI drives the real demo target on 127.0.0.1 and leaves a record openssl verifies.
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assertBuilt, cliEnv, freePort, killAllClis, reapProcessesIn, readRecord, recordFiles, runCli, runDirs, stackTraceLines, verifyWithOpenssl, type CliResult } from '../helpers/cli.js';

/** Real processes on a machine that may be busy with other suites: generous bounds; a passing test takes a few seconds. */
const SLOW = 90_000;

const RUNBOOKS = fileURLToPath(new URL('../../runbooks', import.meta.url));
const RUNBOOK = 'runbooks/phase65.yaml';
const ANSWERS = 'runbooks/phase65.answers.yaml';

interface Demo {
  dir: string;
  port: number;
  baseUrl: string;
  env: Record<string, string>;
}

let demo: Demo;

function demoCli(...args: string[]) {
  return spawnSync(process.execPath, [path.join(demo.dir, 'runbooks/demo/demo.js'), ...args], { env: cliEnv(demo.env), encoding: 'utf8', timeout: 20_000 });
}

/** The demo target's version as it serves it now, or undefined when nothing answers. */
async function servedVersion(): Promise<string | undefined> {
  try {
    const res = await fetch(`${demo.baseUrl}/api/health`, { signal: AbortSignal.timeout(3000) });
    return ((await res.json()) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

function run(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return runCli(['run', RUNBOOK, '--var', `base_url=${demo.baseUrl}`, ...args], { cwd: demo.dir, env: demo.env, timeoutMs });
}

function expectCleanOutput(result: CliResult): void {
  expect(stackTraceLines(result.stdout)).toEqual([]);
  expect(stackTraceLines(result.stderr)).toEqual([]);
}

function phaseIds(): string[] {
  const doc = parse(readFileSync(path.join(demo.dir, RUNBOOK), 'utf8')) as { phases: { id: string }[] };
  return doc.phases.map((p) => p.id);
}

/** The answers file with some keys changed (a value) or removed (undefined). */
function answersWith(changes: Record<string, string | undefined>): string {
  const lines = readFileSync(path.join(demo.dir, ANSWERS), 'utf8').split('\n');
  const out = lines
    .map((line) => {
      const key = /^([A-Za-z0-9_.-]+):/.exec(line)?.[1];
      if (key === undefined || !(key in changes)) return line;
      const value = changes[key];
      return value === undefined ? undefined : `${key}: ${value}`;
    })
    .filter((line): line is string => line !== undefined);
  const file = path.join(demo.dir, 'changed.answers.yaml');
  writeFileSync(file, out.join('\n'));
  return 'changed.answers.yaml';
}

function singleRecord() {
  const files = recordFiles(demo.dir);
  expect(files).toHaveLength(1);
  return { file: files[0]!, ...readRecord(files[0]!) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function stepOf(predicate: Record<string, any>, id: string): Record<string, any> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const step = (predicate['phases'] as any[]).flatMap((p) => p.steps).find((s) => s.id === id);
  expect(step, `step ${id} in the record`).toBeDefined();
  return step;
}

beforeAll(() => assertBuilt());

beforeEach(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-phase65-'));
  // The demo's own state (if someone ran it by hand in the repository) stays behind.
  cpSync(RUNBOOKS, path.join(dir, 'runbooks'), { recursive: true, filter: (src) => !src.includes(`${path.sep}.state`) });
  const port = await freePort();
  demo = { dir, port, baseUrl: `http://127.0.0.1:${port}`, env: { DEMO_PORT: String(port), DEMO_STATE_DIR: path.join(dir, 'demo-state'), DEMO_FAST: '1' } };
});

afterEach(async () => {
  await killAllClis();
  const stop = demoCli('stop');
  const left = reapProcessesIn(demo.dir);
  rmSync(demo.dir, { recursive: true, force: true });
  expect(stop.status, `demo.js stop: ${stop.stdout}${stop.stderr}`).toBe(0);
  expect(left, 'processes left running').toEqual([]);
});

afterAll(async () => {
  await killAllClis();
});

describe('deployctl run phase65 with every answer given', { timeout: SLOW }, () => {
  it('deploys, exits 0 and writes a record that openssl verifies, naming the runbook by its sha256 with every phase succeeded', async () => {
    // The day is 24 hours: rehearsed at 3600x (a planned hour a second), its two monitoring windows take 23 s.
    const result = await run(['--answers', ANSWERS, '--time-scale', '3600']);
    expect(result.code, result.stderr).toBe(0);
    expectCleanOutput(result);

    const { file, envelope, statement } = singleRecord();
    expect(path.dirname(file)).toBe(path.join(demo.dir, '.deployctl', 'records'));
    const verdicts = verifyWithOpenssl(file, path.join(demo.dir, '.deployctl/keys/deployctl.pub'), demo.dir);
    expect(verdicts.length).toBeGreaterThan(0);
    for (const v of verdicts) expect(v, v.output).toMatchObject({ ok: true });

    const runbookSha = createHash('sha256').update(readFileSync(path.join(demo.dir, RUNBOOK))).digest('hex');
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(statement.subject).toEqual([{ name: RUNBOOK, digest: { sha256: runbookSha } }]);
    const predicate = statement.predicate;
    expect(predicate['status']).toBe('succeeded');
    expect(predicate['exit_code']).toBe(0);
    expect(predicate['runbook']).toMatchObject({ name: 'phase65', sha256: runbookSha });
    expect((predicate['phases'] as { id: string; status: string }[]).map((p) => [p.id, p.status])).toEqual(phaseIds().map((id) => [id, 'succeeded']));
    expect(predicate['rollback']).toBeNull();
    expect(predicate).toMatchObject({ rehearsal: true, time_scale: 3600 });
    // Every tick of both windows ran and passed: hours 1-4 every 15 minutes, hours 4-24 every hour.
    const watches = (predicate['phases'] as { steps: { id: string; watch?: { ticks: number; passed: number; tick_log: unknown[] } }[] }[]).flatMap((p) => p.steps).filter((s) => s.watch !== undefined);
    expect(watches.map((s) => [s.id, s.watch!.ticks, s.watch!.passed, s.watch!.tick_log.length])).toEqual([
      ['h1-watch', 12, 12, 12],
      ['h4-watch', 20, 20, 20],
    ]);

    // The release is what the target serves now.
    expect(await servedVersion()).toBe('6.5.0');

    // One backup, taken by the run before the go/no-go decision, of the version that was live then (issue 11
    // item 10): pre-flight only checked that it could be taken.
    expect(stepOf(predicate, 'backup-check')).toMatchObject({ status: 'succeeded', command: "'./demo/demo.js' backup --check" });
    const phases = predicate['phases'] as { id: string; steps: { id: string; ended_at: string }[]; gate?: { decision: string; decided_at: string } }[];
    const goNoGo = phases.find((p) => p.id === 'go-no-go')!;
    expect(goNoGo.steps.map((s) => s.id)).toEqual(['backup']);
    expect(Date.parse(goNoGo.steps[0]!.ended_at)).toBeLessThanOrEqual(Date.parse(goNoGo.gate!.decided_at));
    expect(goNoGo.gate!.decision).toBe('go');
    const backups = (JSON.parse(readFileSync(path.join(demo.env['DEMO_STATE_DIR']!, 'state.json'), 'utf8')) as { backups: { version: string }[] }).backups;
    expect(backups.map((b) => b.version)).toEqual(['1.0.0']);

    // The check is not vacuous: the same signature over a changed payload does not verify.
    const changed = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as { predicate: { status: string } };
    changed.predicate.status = 'failed';
    const tampered = path.join(demo.dir, 'tampered.json');
    writeFileSync(tampered, JSON.stringify({ ...envelope, payload: Buffer.from(JSON.stringify(changed)).toString('base64') }));
    expect(verifyWithOpenssl(tampered, path.join(demo.dir, '.deployctl/keys/deployctl.pub'), demo.dir).map((v) => v.ok)).toEqual(verdicts.map(() => false));
  });
});

describe('deployctl run phase65 with a release that fails verification', { timeout: SLOW }, () => {
  it('rolls back, exits 4, records the rollback steps and leaves the target on the version it had before', async () => {
    const result = await run(['--answers', ANSWERS, '--var', 'version=6.5.0-errors']);
    expect(result.code, result.stderr).toBe(4);
    expectCleanOutput(result);

    const { file, statement } = singleRecord();
    expect(verifyWithOpenssl(file, path.join(demo.dir, '.deployctl/keys/deployctl.pub'), demo.dir).every((v) => v.ok)).toBe(true);
    const predicate = statement.predicate;
    expect(predicate['status']).toBe('rolled-back');
    expect(predicate['exit_code']).toBe(4);
    expect(stepOf(predicate, 'deploy-release')['status']).toBe('succeeded');
    const rollback = predicate['rollback'] as { status: string; steps: { id: string; status: string }[] };
    expect(rollback.status).toBe('succeeded');
    expect(rollback.steps.map((s) => [s.id, s.status])).toEqual([
      ['rollback-release', 'succeeded'],
      ['rollback-health', 'succeeded'],
      ['rollback-resolved', 'succeeded'],
    ]);

    // The version before the deploy, as the pre-flight status step saw it.
    const before = /version:\s+(\S+)/.exec(stepOf(predicate, 'target-status')['stdout'].text as string)?.[1];
    expect(before).toBeDefined();
    expect(before).not.toBe('6.5.0-errors');
    expect(await servedVersion()).toBe(before);

    // The export: a metric whose evidence is missing (the monitoring never ran) is "not measured", never ✖.
    const exported = await runCli(['record', 'export', file, '--format', 'markdown'], { cwd: demo.dir, env: demo.env });
    expect(exported.code, exported.stderr).toBe(0);
    const rows = exported.stdout.split('\n').filter((l) => /^\| (Uptime|User Issues|System Stable|Response Time p95|Error Rate) /.test(l));
    expect(rows.find((r) => r.startsWith('| System Stable (4 hr) '))).toMatch(/\| · not measured: no evidence from [^|]*\(not run\)[^|]*\|$/);
    expect(rows.find((r) => r.startsWith('| User Issues (1hr) '))).toMatch(/\| · not measured: no evidence from answer user-issues \(not given\) \|$/);
    for (const row of rows.filter((r) => r.includes('not measured'))) expect(row).not.toContain('✖');
    // The verification probes that did run and failed still count: the error rate is missed.
    expect(rows.find((r) => r.startsWith('| Error Rate '))).toMatch(/\| ✖ \|$/);

    // `deployctl status` of the run: ROLLED BACK, the deploy phase rolled back, the phases never reached SKIPPED.
    const runId = statement.predicate['run_id'] as string;
    const status = await runCli(['status', runId], { cwd: demo.dir, env: demo.env });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('📊 Status: ROLLED BACK');
    expect(status.stdout).toContain('↩️ Deployment: ROLLED BACK');
    expect(status.stdout).toContain('⚪ Go-live: SKIPPED');
    expect(status.stdout).not.toMatch(/PENDING|IN PROGRESS/);
  });
});

describe('deployctl run phase65 decided NO-GO', { timeout: SLOW }, () => {
  it.each([
    ['the gate is answered no-go', { 'go-no-go': 'no-go' }],
    ['an attestation is answered false', { 'go-no-go.leadership_approved': 'false' }],
  ])('exits 3 and deploys nothing when %s', async (_title, changes) => {
    const answers = answersWith(changes);
    const result = await run(['--answers', answers]);
    expect(result.code, result.stderr).toBe(3);
    expectCleanOutput(result);

    const { statement } = singleRecord();
    const predicate = statement.predicate;
    expect(predicate['status']).toBe('no-go');
    const phases = predicate['phases'] as { id: string; status: string; gate?: { decision: string } }[];
    expect(phases.find((p) => p.id === 'go-no-go')?.gate?.decision).toBe('no-go');
    expect(phases.find((p) => p.id === 'deploy')?.status).toBe('not-run');
    expect(stepOf(predicate, 'deploy-release')['status']).toBe('not-run');
    expect(predicate['rollback']).toBeNull();

    // The target never saw a deploy: no previous version.
    const status = demoCli('status');
    expect(status.stdout).toMatch(/previous version:\s+\(none\)/);
    expect(await servedVersion()).not.toBe('6.5.0');
  });
});

describe('deployctl run phase65 without a terminal and without some answers', { timeout: SLOW }, () => {
  function expectNothingRan(): void {
    expect(runDirs(demo.dir)).toEqual([]);
    expect(recordFiles(demo.dir)).toEqual([]);
    // The first phase would have started the demo target: it has no state at all.
    expect(existsSync(demo.env['DEMO_STATE_DIR']!)).toBe(false);
  }

  it('exits 2 at once, runs nothing, and lists the exact lines to add to the answers file', async () => {
    const answers = answersWith({ training: undefined, 'oncall-log': undefined, 'go-no-go': undefined, 'go-no-go.risk_acceptable': undefined });
    const result = await run(['--answers', answers], 20_000);
    expect(result.code, result.stderr).toBe(2);
    expect(result.durationMs).toBeLessThan(15_000); // "at once": far below the 20 s timeout that catches a wait for input, with room for a loaded machine // start-up and a check; on an idle machine about 0.4 s
    expectCleanOutput(result);
    const lines = result.stderr.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim());
    for (const line of ['training: true', 'oncall-log: "…"', 'go-no-go: go', 'go-no-go.risk_acceptable: true']) expect(lines).toContain(line);
    // Only what is missing.
    expect(result.stderr).not.toMatch(/^\s*team-assembled:/m);
    expect(result.stderr).toContain('nothing was run');
    expectNothingRan();

    // Pasted as printed, the lines complete the answers file: the next run gets past the answers check
    // (and fails at once on purpose, at its first command, with exit 1 rather than 2).
    const printed = result.stderr.split('\n');
    const toAdd = printed.slice(printed.findIndex((l) => l.includes('add these lines')) + 1).filter((l) => l.trim() !== '');
    expect(toAdd).toHaveLength(4);
    appendFileSync(path.join(demo.dir, answers), `\n${toAdd.join('\n')}\n`);
    const next = await run(['--answers', answers, '--var', 'target=./demo/no-such-target'], 30_000);
    expect(next.stderr).not.toContain('does not answer');
    expect(next.code, next.stderr).toBe(1);
    expect(stepOf(singleRecord().statement.predicate, 'start-target')['status']).toBe('failed');
  });

  it.each([
    ['CI=true', 'true'],
    ['only stdin closed', undefined],
  ])('exits 2 at once without --answers (%s), listing every key the run needs', async (_title, ci) => {
    const result = await runCli(['run', RUNBOOK, '--var', `base_url=${demo.baseUrl}`], { cwd: demo.dir, env: { ...demo.env, CI: ci }, timeoutMs: 20_000 });
    expect(result.code, result.stderr).toBe(2);
    expect(result.durationMs).toBeLessThan(15_000); // "at once": far below the 20 s timeout that catches a wait for input, with room for a loaded machine
    expectCleanOutput(result);
    expect(result.stderr).toContain('--answers');
    const lines = result.stderr.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim());
    for (const line of ['team-assembled: true', 'training: true', 'go-no-go: go', 'go-no-go.leadership_approved: true', 'verification: go', 'signoff-lead: true']) {
      expect(lines).toContain(line);
    }
    expectNothingRan();
  });
});

describe('deployctl run phase65 --dry-run', { timeout: SLOW }, () => {
  it('prints every resolved command and executes nothing', async () => {
    const result = await run(['--dry-run', '--var', 'version=9.9.9'], 30_000);
    expect(result.code, result.stderr).toBe(0);
    expectCleanOutput(result);
    for (const line of [
      // Every template value is one single-quoted word (issue 12): what /bin/sh receives, as it receives it.
      "start-target: './demo/demo.js' start",
      "backup-check: './demo/demo.js' backup --check",
      "backup: './demo/demo.js' backup",
      "deploy-release: './demo/demo.js' deploy '9.9.9'",
      `pf-health: GET ${demo.baseUrl}/api/health ×20`,
      `verify-chat: POST ${demo.baseUrl}/api/chat ×20`,
    ]) {
      expect(result.stdout).toContain(line);
    }
    expect(runDirs(demo.dir)).toEqual([]);
    expect(recordFiles(demo.dir)).toEqual([]);
    expect(existsSync(demo.env['DEMO_STATE_DIR']!)).toBe(false);
    expect(await servedVersion()).toBeUndefined();
  });
});

describe('deployctl run phase65: the failure policy (issue 13)', { timeout: SLOW }, () => {
  it('a failing pre-flight health check ends in the go/no-go gate\'s announced NO-GO (exit 3), escalated on: no-go, nothing deployed', async () => {
    // The target is up, but every second request fails: the pre-flight smoke probes fail; everything else passes.
    expect(demoCli('start').status).toBe(0);
    const current = /version:\s+(\S+)/.exec(demoCli('status').stdout)?.[1];
    expect(current).toBeDefined();
    expect(demoCli('fault', 'set', current!, '--error-rate', '0.5').status).toBe(0);

    const result = await run(['--answers', ANSWERS]);
    expect(result.code, result.stderr).toBe(3);
    expectCleanOutput(result);
    const predicate = singleRecord().statement.predicate;
    expect(predicate['status']).toBe('no-go');
    // The failure was recorded and the remaining pre-flight steps still ran.
    expect(stepOf(predicate, 'pf-health')).toMatchObject({ status: 'failed', on_failure: { policy: 'gate', action: 'gate', gate: 'go-no-go' } });
    expect(stepOf(predicate, 'lead-preflight-review')['status']).toBe('succeeded');
    const phases = predicate['phases'] as { id: string; status: string; gate?: { decision: string; conditions: { name: string; ok: boolean; notes?: string[] }[] } }[];
    const gate = phases.find((p) => p.id === 'go-no-go')!.gate!;
    expect(gate.decision).toBe('no-go');
    expect(gate.conditions[0]).toMatchObject({ name: 'earlier_steps_ok', ok: false });
    expect(gate.conditions[0]!.notes![0]).toMatch(/^pf-health failed: error_rate 0\.5 > max 0\.001/);
    expect(result.stdout).toMatch(/gate 'go-no-go' decided NO-GO: earlier_steps_ok does not hold \(pf-health failed/);
    expect(phases.find((p) => p.id === 'deploy')?.status).toBe('not-run');
    expect(predicate['rollback']).toBeNull();
    // Announced: the NO-GO escalation fired, and the notice says production was not changed.
    expect((predicate['escalations'] as { rule: string }[]).map((e) => e.rule)).toContain('Release held back (NO-GO)');
    const log = readFileSync(path.join(demo.dir, '.deployctl/notifications.log'), 'utf8');
    expect(log).toContain('⛔ DEPLOYMENT HELD: NO-GO');
    // The on: no-go escalation says why: the pre-flight check that failed, as the gate's earlier_steps_ok names it.
    expect(log).toMatch(/🚨 ALERT: Release held back \(NO-GO\)\n(?:.*\n){2}Description: gate 'go-no-go' decided NO-GO: earlier_steps_ok does not hold \(pf-health failed: error_rate/);
    expect(log).toContain('Status: unchanged: the run stopped before Deployment');
    expect(await servedVersion()).toBe(current);
  });

  it('a failed celebration and sign-off cannot roll production back: recorded, alerted, exit 0, the release stays', async () => {
    const answers = answersWith({ celebrate: 'false', 'signoff-cto': 'false' });
    // The whole day (the sign-offs are at T+24h), rehearsed at 3600x.
    const result = await run(['--answers', answers, '--time-scale', '3600']);
    expect(result.code, result.stderr).toBe(0);
    expectCleanOutput(result);
    const predicate = singleRecord().statement.predicate;
    expect(predicate['status']).toBe('succeeded');
    expect(predicate['rollback']).toBeNull();
    expect(stepOf(predicate, 'celebrate')).toMatchObject({ status: 'failed', on_failure: { policy: 'continue', action: 'continue' } });
    expect(stepOf(predicate, 'signoff-cto')).toMatchObject({ status: 'failed', on_failure: { policy: 'continue', action: 'continue' } });
    expect(await servedVersion()).toBe('6.5.0');
    // The ALL-CLEAR went out when go-live completed, counted from the run.
    const log = readFileSync(path.join(demo.dir, '.deployctl/notifications.log'), 'utf8');
    const allClear = log.slice(log.indexOf('🎉 DEPLOYMENT COMPLETE'));
    expect(allClear).toMatch(/\nChecks: \d+ of \d+ passed\n/);
    expect(allClear).toContain('Next: Hour 1-4: active monitoring (T+1h)');
    expect(log).toContain('🚨 ALERT: Step failed: Celebrate!');
    expect(log).toContain('Action: recorded; the deployment continues (on_failure: continue)');
  });
});
