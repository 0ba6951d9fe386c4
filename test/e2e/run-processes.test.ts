// `deployctl run` and the processes it starts: a timeout stops the whole tree, Ctrl-C ends the run cleanly, kill -9 and --resume lose nothing.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  isLive,
  journalFile,
  killAllClis,
  reapProcessesIn,
  killGroup,
  liveInGroup,
  readJournal,
  readRecord,
  recordFiles,
  runCli,
  runDirs,
  spawnCli,
  stackTraceLines,
  verifyWithOpenssl,
  waitFor,
  type CliResult,
} from '../helpers/cli.js';

/** Real processes on a machine that may be busy with other suites: generous bounds; a passing test takes a few seconds. */
const SLOW = 90_000;

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/run/${name}`, import.meta.url));

let dir: string;
/** Process groups a test saw; whatever happens, none survives the test. */
const groups = new Set<number>();

function workspace(name: string): string {
  dir = mkdtempSync(path.join(os.tmpdir(), `deployctl-e2e-${path.basename(name, '.yaml')}-`));
  copyFileSync(fixture(name), path.join(dir, name));
  return dir;
}

const readPid = (file: string): number | undefined => {
  try {
    const n = Number(readFileSync(path.join(dir, file), 'utf8').trim());
    return Number.isInteger(n) && n > 1 ? n : undefined;
  } catch {
    return undefined;
  }
};

function counterLines(): string[] {
  return existsSync(path.join(dir, 'counter')) ? readFileSync(path.join(dir, 'counter'), 'utf8').split('\n').filter(Boolean) : [];
}

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Killed grandchildren are re-parented to init and stay zombies (kill 0 still succeeds) until it reaps them, which can take a second or two here. */
async function expectAllGone(pids: number[], pgid?: number): Promise<void> {
  for (const pid of pids) expect(isLive(pid), `pid ${pid} is still running`).toBe(false);
  if (pgid !== undefined) expect(liveInGroup(pgid), `process group ${pgid} still has live members`).toEqual([]);
  await waitFor(`ESRCH for ${pids.join(', ')}`, () => pids.every(isGone), 15_000, 50);
  if (pgid !== undefined) await waitFor(`process group ${pgid} to be gone`, () => isGone(-pgid), 15_000, 50);
}

function expectNoStackTrace(result: CliResult): void {
  expect(stackTraceLines(result.stdout)).toEqual([]);
  expect(stackTraceLines(result.stderr)).toEqual([]);
}

beforeAll(() => assertBuilt());

afterEach(async () => {
  await killAllClis();
  const left = reapProcessesIn(dir);
  for (const pgid of groups) killGroup(pgid, 'SIGKILL');
  groups.clear();
  rmSync(dir, { recursive: true, force: true });
  expect(left, 'processes left running').toEqual([]);
});

describe('a step that outlives its timeout with a background grandchild', { timeout: SLOW }, () => {
  it('fails with a timeout reason, exits 1, and leaves no process of its tree behind', async () => {
    workspace('timeout.yaml');
    const result = await runCli(['run', 'timeout.yaml'], { cwd: dir, timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(1);
    expectNoStackTrace(result);
    // A 1 s timeout, then SIGTERM to the whole group: nowhere near the 300 s of the sleeps.
    expect(result.durationMs).toBeLessThan(15_000);

    const inner = readPid('inner.pid');
    const background = readPid('background.pid');
    expect(inner).toBeDefined();
    expect(background).toBeDefined();
    const pgid = readPid('pgid');
    expect(pgid).toBeDefined();
    groups.add(pgid!);
    await expectAllGone([inner!, background!], pgid);

    const files = recordFiles(dir);
    expect(files).toHaveLength(1);
    const predicate = readRecord(files[0]!).statement.predicate;
    expect(predicate['status']).toBe('failed');
    expect(predicate['exit_code']).toBe(1);
    const [hang, after] = predicate['phases'][0].steps as Record<string, unknown>[];
    expect(hang).toMatchObject({ id: 'hang', status: 'failed', timed_out: true });
    expect(hang!['reason']).toMatch(/timed out after 1s/);
    expect(after).toMatchObject({ id: 'after', status: 'not-run' });
    expect(existsSync(path.join(dir, 'after-ran'))).toBe(false);
  });
});

describe('SIGINT during a long step', { timeout: SLOW }, () => {
  it('stops the step tree, exits 130 with an aborted record and an interrupted journal, and --resume completes the run', async () => {
    workspace('interrupt.yaml');
    const cli = spawnCli(['run', 'interrupt.yaml'], { cwd: dir, timeoutMs: 60_000 });
    const stepPgid = await waitFor('the long step to start', () => readPid('long.pid') !== undefined && readPid('background.pid') !== undefined && readPid('long.pid'));
    groups.add(stepPgid);
    const tree = liveInGroup(stepPgid);
    expect(tree.length).toBeGreaterThanOrEqual(2); // sh, its background sleep, its foreground sleep

    process.kill(cli.pid, 'SIGINT');
    const result = await cli.result;
    expect(result.code, result.stderr).toBe(130);
    expectNoStackTrace(result);
    expect(result.stdout).toContain('steps: 1 succeeded, 0 failed, 0 skipped, 1 interrupted, 1 not run (of 3)');
    await expectAllGone([...tree, readPid('background.pid')!], stepPgid);

    const [runId] = runDirs(dir);
    expect(runId).toBeDefined();
    const journal = readJournal(dir, runId!);
    expect(journal.some((e) => e['kind'] === 'interrupted' && e['signal'] === 'SIGINT' && e['stepId'] === 'long')).toBe(true);
    expect(journal.at(-1)).toMatchObject({ kind: 'run-finished', status: 'aborted', exitCode: 130 });

    const first = recordFiles(dir);
    expect(first).toHaveLength(1);
    const aborted = readRecord(first[0]!).statement.predicate;
    expect(aborted['status']).toBe('aborted');
    expect(aborted['exit_code']).toBe(130);
    expect(aborted['phases'][0].steps.map((s: { id: string; status: string }) => [s.id, s.status])).toEqual([
      ['before', 'succeeded'],
      ['long', 'interrupted'],
      ['after', 'not-run'],
    ]);

    // The step is idempotent: --resume runs it again (quickly this time) and finishes the run.
    const resumed = await runCli(['run', 'interrupt.yaml', '--resume'], { cwd: dir, timeoutMs: 30_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expectNoStackTrace(resumed);
    expect(counterLines()).toEqual(['before', 'long', 'long', 'after']);
    expect(runDirs(dir)).toEqual([runId]);
    const files = recordFiles(dir);
    expect(files).toHaveLength(2);
    const final = readRecord(files[1]!).statement.predicate;
    expect(final).toMatchObject({ run_id: runId, status: 'succeeded', exit_code: 0 });
    expect(final['resumes']).toHaveLength(1);
    expect(verifyWithOpenssl(files[1]!, path.join(dir, '.deployctl/keys/deployctl.pub'), dir).every((v) => v.ok)).toBe(true);
  });
});

describe('kill -9 during a step, then --resume', { timeout: SLOW }, () => {
  it('refuses to guess about the non-idempotent step in flight, then reruns it on request; every finished step ran exactly once', async () => {
    workspace('resume.yaml');
    const cli = spawnCli(['run', 'resume.yaml'], { cwd: dir, timeoutMs: 60_000 });
    const stepPgid = await waitFor('step-3 to be sleeping', () => readPid('step-3.pid'));
    groups.add(stepPgid);
    expect(counterLines()).toEqual(['step-1', 'step-2', 'step-3']);

    process.kill(cli.pid, 'SIGKILL');
    const killed = await cli.result;
    expect(killed.signal).toBe('SIGKILL');
    // Nothing can stop a step when deployctl itself is killed with -9 (its steps run in their own
    // session). While the orphan still runs, a resume would run the step beside itself: refused.
    const beside = await runCli(['run', 'resume.yaml', '--resume', '--in-flight', 'rerun'], { cwd: dir, timeoutMs: 30_000 });
    expect(beside.code, beside.stderr).toBe(2);
    expect(beside.stderr).toContain(`step 'step-3' of run`);
    expect(beside.stderr).toContain(`is still running (process group ${stepPgid})`);
    expect(counterLines()).toEqual(['step-1', 'step-2', 'step-3']);
    // A crashed host takes the orphan down with it. Do the same here.
    killGroup(stepPgid, 'SIGKILL');
    await waitFor('the orphaned step to be gone', () => liveInGroup(stepPgid).length === 0);

    const [runId] = runDirs(dir);
    expect(runId).toBeDefined();
    const journal = readJournal(dir, runId!);
    expect(journal.filter((e) => e['kind'] === 'step-finished').map((e) => e['stepId'])).toEqual(['step-1', 'step-2']);
    expect(journal.at(-2)).toMatchObject({ kind: 'step-started', stepId: 'step-3' });
    expect(journal.at(-1)).toMatchObject({ kind: 'step-spawned', stepId: 'step-3', pid: stepPgid });

    // Without a decision: exit 2, saying how to decide, and nothing runs or is written.
    const journalBefore = readFileSync(journalFile(dir, runId!), 'utf8');
    const refused = await runCli(['run', 'resume.yaml', '--resume'], { cwd: dir, timeoutMs: 30_000 });
    expect(refused.code, refused.stderr).toBe(2);
    expectNoStackTrace(refused);
    expect(refused.stderr).toContain('--in-flight');
    expect(refused.stderr).toMatch(/step-3/);
    expect(counterLines()).toEqual(['step-1', 'step-2', 'step-3']);
    expect(readFileSync(journalFile(dir, runId!), 'utf8')).toBe(journalBefore);
    expect(recordFiles(dir)).toEqual([]);

    const rerun = await runCli(['run', 'resume.yaml', '--resume', '--in-flight', 'rerun'], { cwd: dir, timeoutMs: 30_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    expectNoStackTrace(rerun);
    // step-3 was in flight and ran again on request; every other step exactly once.
    expect(counterLines()).toEqual(['step-1', 'step-2', 'step-3', 'step-3', 'step-4', 'step-5', 'step-6']);

    expect(runDirs(dir)).toEqual([runId]);
    const files = recordFiles(dir);
    expect(files).toHaveLength(1);
    const final = files[0]!;
    const predicate = readRecord(final).statement.predicate;
    expect(predicate).toMatchObject({ run_id: runId, status: 'succeeded', exit_code: 0 });
    expect(predicate['resumes']).toHaveLength(1);
    for (const phase of predicate['phases']) for (const step of phase.steps) expect(step.status, step.id).toBe('succeeded');
    const verdicts = verifyWithOpenssl(final, path.join(dir, '.deployctl/keys/deployctl.pub'), dir);
    expect(verdicts.length).toBeGreaterThan(0);
    for (const v of verdicts) expect(v, v.output).toMatchObject({ ok: true });
  });
});
