// A watch window across a real kill -9 and a real Ctrl-C through the CLI: --resume continues the same window, the ticks nobody watched are missed, never passed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, killAllClis, killTree, readJournal, readRecord, recordFiles, runCli, runDirs, spawnCli, stackTraceLines, waitFor } from '../helpers/cli.js';

const RUNBOOK = `
version: 1
name: watch-resume
roles: { oncall: { title: On-Call, primary: Gus } }
phases:
  - id: monitor
    steps:
      - id: w
        owner: oncall
        watch:
          every: 15m
          count: 8
          inconclusive_limit: 6
          checks:
            # Each tick that really runs leaves a line: a missed tick leaves none.
            - { id: marker, run: "echo tick >> ticks.txt" }
  - id: after
    steps:
      - { id: done, owner: oncall, run: "true" }
`;

let dir = '';

beforeAll(() => assertBuilt());
afterEach(async () => {
  await killAllClis();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  dir = '';
});
afterAll(async () => killAllClis());

function workspace(): string {
  dir = mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-watch-'));
  writeFileSync(path.join(dir, 'watch.yaml'), RUNBOOK);
  return dir;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const ticksIn = (events: Json[]) => events.filter((e) => e['kind'] === 'watch-tick').map((e) => e['tick'] as Json);
const linesOf = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').length;

describe('a watch killed with kill -9 in the middle of its window (at --time-scale 720: a tick every 1.25 s)', { timeout: 120_000 }, () => {
  it('resumes the same window: the slots that passed while deployctl was dead are recorded as missed, the rest run, the record verifies', async () => {
    const cwd = workspace();
    const first = spawnCli(['run', 'watch.yaml', '--time-scale', '720'], { cwd, timeoutMs: 60_000 });
    const runId = await waitFor('the run directory', () => runDirs(cwd)[0]);
    await waitFor('two ticks in the journal', () => ticksIn(readJournal(cwd, runId)).length >= 2, 30_000);
    killTree(first.pid, 'SIGKILL');
    const killed = await first.result;
    expect(killed.signal).toBe('SIGKILL');
    const before = ticksIn(readJournal(cwd, runId)).length;
    // Dead for 3 real seconds: 36 planned minutes, more than two tick intervals.
    await new Promise((r) => setTimeout(r, 3000));

    const resumed = await runCli(['run', 'watch.yaml', '--resume'], { cwd, timeoutMs: 60_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(stackTraceLines(resumed.stderr)).toEqual([]);
    expect(resumed.stdout).toContain('REHEARSAL at 720×');

    const journal = readJournal(cwd, runId);
    // The same window: opened once, eight slots in all, in order.
    expect(journal.filter((e) => e['kind'] === 'watch-started')).toHaveLength(1);
    const ticks = ticksIn(journal);
    const slots = ticks.flatMap((t) => Array.from({ length: (t['through'] ?? t['n']) - t['n'] + 1 }, (_v, i) => [t['n'] + i, t['status']]));
    expect(slots.map(([n]) => n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const missed = slots.filter(([, s]) => s === 'missed').map(([n]) => n as number);
    expect(missed.length).toBeGreaterThanOrEqual(1);
    // Missed right after the ticks before the kill, never passed; every other slot passed.
    expect(Math.min(...missed)).toBe(before + 1);
    expect(slots.filter(([, s]) => s !== 'missed').every(([, s]) => s === 'passed')).toBe(true);
    // What ran is what the marker file saw: a missed tick ran nothing.
    expect(linesOf(path.join(cwd, 'ticks.txt'))).toBe(8 - missed.length);

    const records = recordFiles(cwd);
    const { statement } = readRecord(records.at(-1)!);
    const predicate = statement.predicate as Json;
    expect(predicate['status']).toBe('succeeded');
    expect(predicate['resumes']).toHaveLength(1);
    const watch = (predicate['phases'] as Json[])[0]!['steps'][0]['watch'] as Json;
    expect(watch).toMatchObject({ ticks: 8, missed: missed.length, passed: 8 - missed.length, planned_ticks: 8 });
    expect((watch['tick_log'] as Json[]).find((t) => t['status'] === 'missed')).toMatchObject({ n: before + 1, reason: expect.stringMatching(/^not run: due at /) });

    const shown = await runCli(['record', 'show'], { cwd });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/ticks {3}1: [✔∅]{8}\n/);
    expect(shown.stdout).toContain('∅');
  });

  it('refuses to resume a rehearsal at another --time-scale (exit 2), and runs nothing', async () => {
    const cwd = workspace();
    const first = spawnCli(['run', 'watch.yaml', '--time-scale', '720'], { cwd, timeoutMs: 60_000 });
    const runId = await waitFor('the run directory', () => runDirs(cwd)[0]);
    await waitFor('a tick in the journal', () => ticksIn(readJournal(cwd, runId)).length >= 1, 30_000);
    killTree(first.pid, 'SIGKILL');
    await first.result;
    const refused = await runCli(['run', 'watch.yaml', '--resume', '--time-scale', '60'], { cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--time-scale 60 cannot change a rehearsal that is being resumed: it runs at 720× since it started');
    expect(ticksIn(readJournal(cwd, runId)).length).toBe(1);
  });
});

describe('Ctrl-C during a watch', { timeout: 120_000 }, () => {
  it('stops between ticks at once (exit 130, no tick cut short), and --resume finishes the window', async () => {
    const cwd = workspace();
    // One tick a planned hour, at 720x: 5 real seconds of sleep between ticks, on a timer (no polling loop).
    writeFileSync(path.join(cwd, 'watch.yaml'), RUNBOOK.replace('every: 15m', 'every: 1h').replace('count: 8', 'count: 2'));
    const run = spawnCli(['run', 'watch.yaml', '--time-scale', '720'], { cwd, timeoutMs: 60_000 });
    const runId = await waitFor('the run directory', () => runDirs(cwd)[0]);
    await waitFor('the first tick', () => ticksIn(readJournal(cwd, runId)).length >= 1, 30_000);
    const sent = performance.now();
    process.kill(run.pid, 'SIGINT');
    const stopped = await run.result;
    expect(stopped.code).toBe(130);
    expect(performance.now() - sent).toBeLessThan(3000);
    const finished = readJournal(cwd, runId).find((e) => e['kind'] === 'step-finished' && e['stepId'] === 'w');
    expect(finished?.['outcome']).toMatchObject({ status: 'interrupted', reason: 'interrupted while waiting for the next tick (resume continues the same window)' });
    // The hint repeats the run's own options (the rehearsal's scale included), so pasting it continues this very run.
    expect(stopped.stdout).toContain(`the run can be continued with: deployctl run watch.yaml --time-scale 720 --resume ${runId}`);

    const resumed = await runCli(['run', 'watch.yaml', '--resume'], { cwd, timeoutMs: 60_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(ticksIn(readJournal(cwd, runId)).map((t) => [t['n'], t['status']])).toEqual([
      [1, 'passed'],
      [2, 'passed'],
    ]);
    expect(linesOf(path.join(cwd, 'ticks.txt'))).toBe(2);
  });
});
