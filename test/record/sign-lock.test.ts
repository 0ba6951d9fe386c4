// The record's sign lock: a live holder makes `record sign` wait and then fail saying why (exit 1, nothing written); a dead one's lock is taken over.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordSignCommand, recordVerifyCommand } from '../../src/commands/record.js';
import { acquireFileLock } from '../../src/ports/file-lock.js';
import { readProcStat } from '../../src/ports/proc.js';
import { commandResult, makeWorkspace, type Workspace } from '../fixtures/records/workspace.js';

let ws: Workspace;
let sleeper: ChildProcess | undefined;
beforeEach(() => {
  ws = makeWorkspace();
});
afterEach(() => {
  sleeper?.kill('SIGKILL');
  sleeper = undefined;
  ws.cleanup();
});

function run(fn: (ctx: ReturnType<Workspace['ctx']>) => number, waitMs: number) {
  return commandResult({ ...ws.ctx(), signLockWaitMs: waitMs }, fn);
}

const sign = (waitMs = 10_000) => run((ctx) => recordSignCommand(ws.record, { role: 'lead', key: ws.keys.lead.key, operator: 'Ana' }, ctx), waitMs);
const lockFile = () => path.join(ws.dir, path.dirname(ws.record), `.${path.basename(ws.record)}.lock`);
const recordBytes = () => fs.readFileSync(path.join(ws.dir, ws.record));

/** A lock file as another process writes it. */
function holdLock(pid: number, fields: Record<string, unknown> = {}): void {
  const startTime = readProcStat(pid)?.startTime;
  fs.writeFileSync(lockFile(), `${JSON.stringify({ pid, host: os.hostname(), since: '2026-11-27T09:00:00.000Z', what: 'deployctl record sign', token: 'theirs', ...(startTime !== undefined ? { startTime } : {}), ...fields })}\n`);
}

function startSleeper(seconds: number): number {
  sleeper = spawn('sleep', [String(seconds)], { stdio: 'ignore' });
  if (sleeper.pid === undefined) throw new Error('could not start sleep');
  return sleeper.pid;
}

describe('record sign and the lock on the record', () => {
  it('leaves no lock file behind', () => {
    expect(sign().code).toBe(0);
    expect(fs.existsSync(lockFile())).toBe(false);
    expect(fs.readdirSync(path.dirname(lockFile()))).toEqual([path.basename(ws.record)]);
  });

  it('waits for a live holder, then fails with exit 1, naming it and what to do, and writes nothing', () => {
    holdLock(startSleeper(30));
    const before = recordBytes();
    const started = performance.now();
    const r = sign(300);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`is being signed by deployctl record sign \\(pid ${sleeper!.pid} on .+, since 2026-11-27T09:00:00\\.000Z\\); waited 0\\.\\d s for it to finish, and nothing was written`));
    expect(r.stderr).toContain(`run the command again once it has finished; if no record sign is running as pid ${sleeper!.pid}, remove ${lockFile()}`);
    expect(r.stderr).not.toMatch(/disk|internal error/i);
    expect(recordBytes().equals(before)).toBe(true);
    // The holder's lock is still there: a waiter never removes a live process's lock.
    expect(JSON.parse(fs.readFileSync(lockFile(), 'utf8'))).toMatchObject({ token: 'theirs' });
  });

  it('takes over once the holder has died while it waited, and says so', () => {
    holdLock(startSleeper(0.4));
    const r = sign(10_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/note: took over the lock .* left by deployctl record sign \(pid \d+ .*\), which is no longer running/);
    expect(fs.existsSync(lockFile())).toBe(false);
    expect(run((ctx) => recordVerifyCommand(ws.record, {}, ctx), 0).stdout).toMatch(/Deployment Lead \(lead\)\s+signed by Ana/);
  });

  it('does not mistake a new process with the holder’s old pid for the holder', () => {
    // The pid is alive (this test process) but its start time is not the holder's: the holder died, the pid was reused.
    holdLock(process.pid, { startTime: 1 });
    expect(sign(200).code).toBe(0);
  });

  it('never judges a lock from another host stale: it waits, then says who holds it', () => {
    holdLock(999_999, { host: 'elsewhere.example' });
    const r = sign(150);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('(pid 999999 on elsewhere.example');
  });

  it('gives an unreadable lock file (its creator died while writing it) a grace time, then takes it over', () => {
    fs.writeFileSync(lockFile(), '');
    expect(sign(150).code).toBe(1);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lockFile(), old, old);
    expect(sign(150).code).toBe(0);
  });
});

describe('acquireFileLock', () => {
  it('is exclusive within one process too, and release frees it', () => {
    const file = path.join(ws.dir, '.x.lock');
    const first = acquireFileLock(file, { what: 'test', waitMs: 0 });
    expect(first.ok).toBe(true);
    const second = acquireFileLock(file, { what: 'test', waitMs: 50 });
    expect(second).toMatchObject({ ok: false, reason: 'held', holder: { pid: process.pid, what: 'test' } });
    if (first.ok) first.release();
    const third = acquireFileLock(file, { what: 'test', waitMs: 0 });
    expect(third.ok).toBe(true);
    if (third.ok) third.release();
  });

  it('reports a lock file that cannot be created as an error value, not an exception', () => {
    expect(acquireFileLock(path.join(ws.dir, 'no', 'such', 'dir', '.x.lock'), { what: 'test', waitMs: 0 })).toMatchObject({ ok: false, reason: 'error', code: 'ENOENT' });
  });
});
