// The per-runbook lock: exclusive, taken over from a dead holder exactly once, named once the run is known.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readProcStat } from '../../src/ports/proc.js';
import { acquireLock, isRunId, listRunIds, lockHolder, newRunId, stateDir, type StateDir } from '../../src/ports/state-dir.js';

let root: string;
let dir: StateDir;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-lock-'));
  dir = stateDir({ DEPLOYCTL_STATE_DIR: '.deployctl' }, root);
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** A pid that belonged to a process that has exited (and been reaped). */
function deadPid(): number {
  return spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim() as unknown as number;
}

function writeLock(name: string, info: object): string {
  fs.mkdirSync(dir.locksDir, { recursive: true });
  const file = path.join(dir.locksDir, `${name}.lock`);
  fs.writeFileSync(file, `${JSON.stringify(info)}\n`);
  return file;
}

describe('acquireLock', () => {
  it('gives the runbook to one holder at a time and names it to the next', () => {
    const first = acquireLock(dir, 'demo', { runId: 'r1', runbook: 'demo.yaml' }, Date.now());
    expect(first.ok).toBe(true);
    const second = acquireLock(dir, 'demo', { runId: 'r2', runbook: 'demo.yaml' }, Date.now());
    expect(second).toMatchObject({ ok: false, holder: { runId: 'r1', pid: process.pid, host: os.hostname() } });
    if (first.ok) first.release();
    expect(acquireLock(dir, 'demo', { runId: 'r3', runbook: 'demo.yaml' }, Date.now()).ok).toBe(true);
  });

  it('takes over the lock of a process that is gone, and says whose it was', () => {
    const pid = Number(deadPid());
    writeLock('demo', { user: 'u', host: os.hostname(), pid, runId: 'old', since: '2026-01-01T00:00:00.000Z', runbook: 'demo.yaml' });
    const taken = acquireLock(dir, 'demo', { runId: 'new', runbook: 'demo.yaml' }, Date.now());
    expect(taken).toMatchObject({ ok: true, replacedStale: { pid, runId: 'old' } });
    expect(lockHolder(dir, 'demo')).toMatchObject({ runId: 'new', pid: process.pid });
  });

  it('does not take over a stale lock another process is already taking over', () => {
    const pid = Number(deadPid());
    const file = writeLock('demo', { user: 'u', host: os.hostname(), pid, runId: 'old', since: '2026-01-01T00:00:00.000Z', runbook: 'demo.yaml' });
    fs.writeFileSync(`${file}.takeover`, '12345\n');
    const result = acquireLock(dir, 'demo', { runId: 'new', runbook: 'demo.yaml' }, Date.now());
    expect(result.ok).toBe(false);
    expect(lockHolder(dir, 'demo')).toMatchObject({ runId: 'old' });
  });

  it('clears a takeover claim left by a crash once it is old', () => {
    const pid = Number(deadPid());
    const file = writeLock('demo', { user: 'u', host: os.hostname(), pid, runId: 'old', since: '2026-01-01T00:00:00.000Z', runbook: 'demo.yaml' });
    fs.writeFileSync(`${file}.takeover`, '12345\n');
    const later = Date.now() + 60_000;
    expect(acquireLock(dir, 'demo', { runId: 'new', runbook: 'demo.yaml' }, later).ok).toBe(false);
    expect(acquireLock(dir, 'demo', { runId: 'new', runbook: 'demo.yaml' }, later).ok).toBe(true);
  });

  it('writes the lock file readable by its owner only (0600), through the one file-lock implementation', () => {
    const lock = acquireLock(dir, 'demo', { runId: 'r1', runbook: 'demo.yaml' }, Date.now());
    expect(lock.ok).toBe(true);
    expect(fs.statSync(path.join(dir.locksDir, 'demo.lock')).mode & 0o777).toBe(0o600);
    expect(lockHolder(dir, 'demo')).toMatchObject({ runId: 'r1', what: 'deployctl run demo.yaml', startTime: readProcStat(process.pid)!.startTime });
  });

  it('takes over a lock whose pid now belongs to another process (its start time differs)', () => {
    // This very process stands in for a new process that reused the dead holder's pid.
    const startTime = readProcStat(process.pid)!.startTime;
    writeLock('demo', { user: 'u', host: os.hostname(), pid: process.pid, startTime: startTime - 1, runId: 'old', since: '2026-01-01T00:00:00.000Z', runbook: 'demo.yaml', token: 't' });
    const taken = acquireLock(dir, 'demo', { runId: 'new', runbook: 'demo.yaml' }, Date.now());
    expect(taken).toMatchObject({ ok: true, replacedStale: { runId: 'old' } });
    expect(lockHolder(dir, 'demo')).toMatchObject({ runId: 'new' });
  });

  it('never treats a live holder as stale', () => {
    writeLock('demo', { user: 'u', host: os.hostname(), pid: process.pid, runId: 'live', since: 'now', runbook: 'demo.yaml' });
    expect(acquireLock(dir, 'demo', { runId: 'new', runbook: 'demo.yaml' }, Date.now()).ok).toBe(false);
  });

  it('renames the run it holds the lock for, and releases only its own lock', () => {
    const lock = acquireLock(dir, 'demo', { runId: 'resume', runbook: 'demo.yaml' }, Date.now());
    if (!lock.ok) throw new Error('not locked');
    lock.setRunId('20261126T100000Z-abcdef');
    expect(lockHolder(dir, 'demo')).toMatchObject({ runId: '20261126T100000Z-abcdef', pid: process.pid });
    // Someone removed and retook it (a person cleaning up by hand): our release must not delete theirs.
    fs.rmSync(path.join(dir.locksDir, 'demo.lock'));
    writeLock('demo', { user: 'x', host: os.hostname(), pid: process.pid, runId: 'theirs', since: 'now', runbook: 'demo.yaml' });
    lock.release();
    expect(lockHolder(dir, 'demo')).toMatchObject({ runId: 'theirs' });
  });
});

describe('run ids', () => {
  it('tell apart, newest first, two runs started in the same second, and still accept ids of earlier versions', () => {
    const second = Date.UTC(2026, 10, 26, 15, 15, 0);
    const first = newRunId(second + 5);
    const then = newRunId(second + 900);
    expect(first).toMatch(/^20261126T151500005Z-[0-9a-f]{6}$/);
    expect(then).toMatch(/^20261126T151500900Z-[0-9a-f]{6}$/);
    // An id of the earlier, to-the-second form from the same second is the oldest of the three, not the newest.
    for (const id of [first, then, '20261126T151500Z-3f9a1c', '20261126T151400Z-3f9a1c']) fs.mkdirSync(path.join(dir.runsDir, id), { recursive: true });
    fs.mkdirSync(path.join(dir.runsDir, 'notes'));
    expect(listRunIds(dir)).toEqual([then, first, '20261126T151500Z-3f9a1c', '20261126T151400Z-3f9a1c']);
    expect(['20261126T151500Z-3f9a1c', '20261126T1515001Z-3f9a1c', '20261126T151500123Z-3F9A1C', '../20261126T151500123Z-3f9a1c'].map(isRunId)).toEqual([true, false, false, false]);
  });
});
