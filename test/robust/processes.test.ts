// Issue 7 item 5: process control through the CLI: SIGTERM ignored → SIGKILL after the grace period, no grandchild survives a timeout or Ctrl-C, 1 GiB of output in bounded memory.
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TAIL_BYTES } from '../../src/engine/output.js';
import { assertBuilt, isLive, journalFile, killAllClis, liveInGroup, runCli, runDirs, spawnCli, stackTraceLines, waitFor, type CliResult } from '../helpers/cli.js';
import { cleanWorkspaces, recordedSteps, workspace, writeRunbook } from './helpers.js';

const SLOW = 90_000;
/** src/ports/exec.ts DEFAULT_KILL_GRACE_MS: `deployctl run` leaves a stopped step this long between SIGTERM and SIGKILL. */
const GRACE_MS = 5000;
const ROLES = { ops: { title: 'Operator' } };

beforeAll(() => assertBuilt());

afterEach(async () => {
  await killAllClis();
  expect(cleanWorkspaces(), 'processes left running').toEqual([]);
});

/** Pids the step wrote into `<name>.pid` files. */
function pidFiles(dir: string, names: string[]): Record<string, number | undefined> {
  const read = (name: string) => {
    try {
      const n = Number(readFileSync(path.join(dir, `${name}.pid`), 'utf8').trim());
      return Number.isInteger(n) && n > 1 ? n : undefined;
    } catch {
      return undefined;
    }
  };
  return Object.fromEntries(names.map((name) => [name, read(name)]));
}

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** None of `pids` runs once deployctl has exited (zombies waiting for init to reap them run nothing), and the step's group is empty. */
async function expectNoneLeft(pids: number[], pgid: number): Promise<void> {
  expect(pids.filter(isLive), 'still running').toEqual([]);
  expect(liveInGroup(pgid), `process group ${pgid}`).toEqual([]);
  await waitFor(`pids ${pids.join(', ')} to be reaped`, () => pids.every(isGone), 15_000, 50);
}

function expectClean(result: CliResult): void {
  expect(result.timedOut).toBe(false);
  expect(stackTraceLines(result.stdout + result.stderr)).toEqual([]);
}

/** The step's shell writes its pid (= its process group: each step is a group leader) and its children's pids. */
const STUBBORN = `trap '' TERM; echo $$ > sh.pid; sleep 300 & echo $! > child.pid; sleep 300`;
const SPAWNER = [
  'echo $$ > sh.pid',
  'sleep 300 & echo $! > bg1.pid',
  'sleep 300 & echo $! > bg2.pid',
  'nohup sleep 300 > /dev/null 2>&1 & echo $! > nohup.pid',
  // Out of the step's process group and session: found by DEPLOYCTL_RUN_ID/STEP_ID in its environment.
  'setsid sleep 300 > /dev/null 2>&1 & echo $! > setsid.pid',
  'sleep 300',
].join('; ');
const SPAWNED = ['sh', 'bg1', 'bg2', 'nohup', 'setsid'];

function runbook(dir: string, step: Record<string, unknown>): string {
  return writeRunbook(dir, {
    version: 1,
    name: 'processes',
    roles: ROLES,
    phases: [{ id: 'main', steps: [{ id: 'step', owner: 'ops', ...step }, { id: 'after', owner: 'ops', run: 'touch after-ran' }] }],
  });
}

describe('a step that times out', { timeout: SLOW }, () => {
  it('ignoring SIGTERM, is SIGKILLed after the grace period: timed out after timeout + grace, nothing left', async () => {
    const dir = workspace('stubborn');
    const file = runbook(dir, { timeout: '1s', run: STUBBORN });
    const result = await runCli(['run', file], { cwd: dir, timeoutMs: 60_000 });
    expectClean(result);
    expect(result.code, result.stderr).toBe(1);

    const steps = recordedSteps(dir);
    const step = steps.get('step')!;
    expect(step).toMatchObject({ status: 'failed', timed_out: true });
    expect(step.reason).toMatch(/timed out after 1s/);
    // 1 s, then SIGTERM (ignored), then SIGKILL 5 s later: about 6 s, not 300.
    const duration = (step as { duration_ms?: number }).duration_ms!;
    expect(duration).toBeGreaterThanOrEqual(1000 + GRACE_MS - 100);
    expect(duration).toBeLessThan(1000 + GRACE_MS + 3000);
    expect(steps.get('after')?.status).toBe('not-run');

    const pids = pidFiles(dir, ['sh', 'child']);
    expect(Object.values(pids).every((p) => p !== undefined)).toBe(true);
    await expectNoneLeft(Object.values(pids) as number[], pids['sh']!);
  });

  it('with background grandchildren (two `sleep &`, one `nohup … &`, one `setsid … &`), leaves none of them behind', async () => {
    const dir = workspace('grandchildren');
    const file = runbook(dir, { timeout: '1s', run: SPAWNER });
    const result = await runCli(['run', file], { cwd: dir, timeoutMs: 60_000 });
    expectClean(result);
    expect(result.code, result.stderr).toBe(1);
    // They die on SIGTERM: no grace period is waited out.
    expect(result.durationMs).toBeLessThan(1000 + GRACE_MS);
    const step = recordedSteps(dir).get('step')!;
    expect(step).toMatchObject({ status: 'failed', timed_out: true });

    const pids = pidFiles(dir, SPAWNED);
    expect(pids).toEqual(Object.fromEntries(SPAWNED.map((name) => [name, expect.any(Number)])));
    // The record says what was stopped outside the step's group.
    expect(step.reason).toBe(`timed out after 1s: the process tree was stopped; so was 1 process it had moved out of its process group: sleep (pid ${pids['setsid']})`);
    await expectNoneLeft(Object.values(pids) as number[], pids['sh']!);
  });
});

describe('a step that ends by itself', { timeout: SLOW }, () => {
  it('stops what it left in its group, and leaves alone a daemon it put in a session of its own', async () => {
    const dir = workspace('daemon');
    const file = runbook(dir, { run: 'sleep 300 & echo $! > bg.pid; setsid sleep 300 > /dev/null 2>&1 & echo $! > daemon.pid; echo $$ > sh.pid' });
    const result = await runCli(['run', file], { cwd: dir, timeoutMs: 60_000 });
    const { bg, daemon, sh } = pidFiles(dir, ['bg', 'daemon', 'sh']);
    try {
      expectClean(result);
      expect(result.code, result.stderr).toBe(0);
      expect(recordedSteps(dir).get('step')?.status).toBe('succeeded');
      await expectNoneLeft([bg!], sh!);
      expect(isLive(daemon!), 'the setsid daemon').toBe(true);
    } finally {
      if (daemon !== undefined) process.kill(daemon, 'SIGKILL');
    }
    await waitFor('the daemon to go', () => isGone(daemon!), 15_000, 50);
  });
});

describe('Ctrl-C (SIGINT to deployctl) during a step', { timeout: SLOW }, () => {
  async function interrupt(dir: string, file: string, started: string[]): Promise<{ result: CliResult; pids: Record<string, number | undefined> }> {
    const cli = spawnCli(['run', file], { cwd: dir, timeoutMs: 60_000 });
    await waitFor('the step to start its processes', () => {
      const pids = pidFiles(dir, started);
      return Object.values(pids).every((p) => p !== undefined);
    });
    process.kill(cli.pid, 'SIGINT');
    return { result: await cli.result, pids: pidFiles(dir, started) };
  }

  it('with background grandchildren (one in a session of its own), stops all of them and exits 130', async () => {
    const dir = workspace('interrupt');
    const file = runbook(dir, { run: SPAWNER });
    const { result, pids } = await interrupt(dir, file, SPAWNED);
    expectClean(result);
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain('SIGINT: stopping the running step and its process tree, then writing the record. Press Ctrl-C again to exit at once.');
    // The way back, as a command that works when pasted.
    const [runId] = runDirs(dir);
    expect(result.stdout).toContain(`the run can be continued with: deployctl run ${file} --resume ${runId}`);
    expect(result.durationMs).toBeLessThan(GRACE_MS + 10_000);
    expect(recordedSteps(dir).get('step')?.status).toBe('interrupted');
    await expectNoneLeft(Object.values(pids) as number[], pids['sh']!);
    expect(existsSync(path.join(dir, 'after-ran'))).toBe(false);
  });

  it('ignoring SIGTERM, SIGKILLs it after the grace period and exits 130', async () => {
    const dir = workspace('interrupt-stubborn');
    const file = runbook(dir, { run: STUBBORN });
    const started = performance.now();
    const { result, pids } = await interrupt(dir, file, ['sh', 'child']);
    expectClean(result);
    expect(result.code, result.stderr).toBe(130);
    expect(performance.now() - started).toBeGreaterThanOrEqual(GRACE_MS - 100);
    expect(recordedSteps(dir).get('step')?.status).toBe('interrupted');
    await expectNoneLeft(Object.values(pids) as number[], pids['sh']!);
  });
});

describe('a step printing 1 GiB (slow: ~5–10 s)', { timeout: SLOW }, () => {
  const GIB = 1024 * 1024 * 1024;
  const MIB = 1024 * 1024;

  it('keeps deployctl under 200 MiB peak RSS, and the record keeps a capped, marked tail', async () => {
    const dir = workspace('flood');
    const file = runbook(dir, { run: `head -c ${GIB} /dev/zero | tr '\\0' x` });
    const cli = spawnCli(['run', file], { cwd: dir, timeoutMs: 80_000 });
    // VmHWM is the kernel's own high-water mark of the process's RSS; sampled every 50 ms until it exits.
    let peakKiB = 0;
    const sample = () => {
      try {
        const status = readFileSync(`/proc/${cli.pid}/status`, 'utf8');
        for (const field of ['VmHWM', 'VmRSS']) {
          const kib = Number(/^(\w+):\s+(\d+) kB/m.exec(status.slice(status.indexOf(`${field}:`)))?.[2] ?? 0);
          peakKiB = Math.max(peakKiB, kib);
        }
      } catch {
        // Exited.
      }
    };
    const sampler = setInterval(sample, 50);
    const result = await cli.result;
    clearInterval(sampler);
    expectClean(result);
    expect(result.code, result.stderr).toBe(0);
    console.log(`1 GiB step: deployctl peak RSS ${(peakKiB / 1024).toFixed(1)} MiB, run took ${(result.durationMs / 1000).toFixed(1)} s`);
    expect(peakKiB).toBeGreaterThan(0);
    expect(peakKiB / 1024).toBeLessThan(200);

    const step = recordedSteps(dir).get('step')!;
    expect(step.status).toBe('succeeded');
    expect(step.stdout!.text).toBe('x'.repeat(DEFAULT_TAIL_BYTES));
    expect(step.stdout!.truncated_bytes).toBe(GIB - DEFAULT_TAIL_BYTES);
    // Live output (terminal and journal) stops after 1 MiB, saying so.
    expect(result.stdout.length).toBeLessThan(2 * MIB);
    expect(result.stdout).toMatch(/more output than 1 MiB is not shown live; the record keeps its last 4 KiB/);
    const [runId] = runDirs(dir);
    expect(statSync(journalFile(dir, runId!)).size).toBeLessThan(2 * MIB);
  });
});
