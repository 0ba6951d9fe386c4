// `deployctl run` while another run of the same runbook is in progress: refused with exit 2, naming who holds it; the first run is not disturbed.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, killAllClis, reapProcessesIn, readRecord, recordFiles, runCli, runDirs, spawnCli, stackTraceLines, waitFor } from '../helpers/cli.js';

/** Real processes on a machine that may be busy with other suites: generous bounds; a passing test takes a few seconds. */
const SLOW = 90_000;

const FIXTURE = fileURLToPath(new URL('../fixtures/run/lock.yaml', import.meta.url));

let dir: string;

beforeAll(() => assertBuilt());

afterEach(async () => {
  await killAllClis();
  const left = reapProcessesIn(dir);
  rmSync(dir, { recursive: true, force: true });
  expect(left, 'processes left running').toEqual([]);
});

describe('a second deployctl run of a runbook that is running', { timeout: SLOW }, () => {
  it('exits 2 naming the holder (user, host, pid, run id, since) and the first run completes normally', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-lock-'));
    copyFileSync(FIXTURE, path.join(dir, 'lock.yaml'));
    const first = spawnCli(['run', 'lock.yaml'], { cwd: dir, timeoutMs: 60_000 });
    await waitFor('the first run to be inside its step', () => existsSync(path.join(dir, 'waiting')));
    const [runId] = runDirs(dir);
    expect(runId).toBeDefined();

    const second = await runCli(['run', 'lock.yaml'], { cwd: dir, timeoutMs: 30_000 });
    expect(second.code, second.stderr).toBe(2);
    expect(stackTraceLines(second.stdout + second.stderr)).toEqual([]);
    const message = second.stderr;
    expect(message).toContain(`run ${runId}`);
    expect(message).toContain(`by ${os.userInfo().username}`);
    expect(message).toContain(`on ${os.hostname()}`);
    expect(message).toContain(`pid ${first.pid}`);
    const since = /since (\S+)/.exec(message)?.[1];
    expect(since).toBeDefined();
    expect(new Date(since!).toISOString()).toBe(since);
    // Held on this host by a live process: wait (a dead holder here would be taken over by itself), never "remove the lock".
    expect(second.stderr).toContain('wait for it to finish (deployctl status shows it)');
    expect(second.stderr).not.toContain('remove');
    // The refused run left nothing: no run of its own, no record.
    expect(runDirs(dir)).toEqual([runId]);
    expect(recordFiles(dir)).toEqual([]);

    // Nor can the running run be "resumed" from under its session: its step is running, not left in flight.
    const resume = await runCli(['run', 'lock.yaml', '--resume'], { cwd: dir, timeoutMs: 30_000 });
    expect(resume.code, resume.stderr).toBe(2);
    expect(resume.stderr).toContain(`another run of lock is in progress: run ${runId}`);
    expect(resume.stderr).not.toContain('--in-flight');

    writeFileSync(path.join(dir, 'release'), '');
    const result = await first.result;
    expect(result.code, result.stderr).toBe(0);
    expect(stackTraceLines(result.stdout + result.stderr)).toEqual([]);
    const files = recordFiles(dir);
    expect(files).toHaveLength(1);
    expect(readRecord(files[0]!).statement.predicate).toMatchObject({ run_id: runId, status: 'succeeded' });

    // The lock went with the run: the next run starts.
    const third = await runCli(['run', 'lock.yaml'], { cwd: dir, timeoutMs: 30_000 });
    expect(third.code, third.stderr).toBe(0);
  });
});
