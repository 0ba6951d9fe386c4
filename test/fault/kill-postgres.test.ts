// The kill-point matrix on PostgreSQL (issue 14 item 6: resume after a crash works the same on both backends): deployctl SIGKILLed at named points with its state in a real database, then `run --resume` until done. The journal may lag behind an event, never behind an effect.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, it, type ExpectStatic } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { openStateStore, resolveState } from '../../src/ports/state/location.js';
import type { JournalRead } from '../../src/ports/state/store.js';
import { assertBuilt, killGroup, liveInGroup, reapProcessesIn, readRecord, recordFiles, runCli, stackTraceLines, verifyWithOpenssl, waitFor, type CliResult } from '../helpers/cli.js';
import { createTestDatabase } from '../helpers/postgres.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/fault/', import.meta.url));
const FILES = ['kill-matrix.yaml', 'kill-matrix.answers.yaml', 'step.sh'];
const RUN = ['run', 'kill-matrix.yaml', '--answers', 'kill-matrix.answers.yaml'];
const RESUME = [...RUN, '--resume'];
const STEPS = ['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10'];
const IDEMPOTENT = new Set(['s1', 's5', 's7', 's9']);
const POOL = 3;
const CASE_TIMEOUT = 120_000;

type Point = 'after-lock' | 'before-step-started' | 'after-step-started' | 'after-spawn' | 'before-step-finished' | 'after-step-finished' | 'record-temp' | 'record-renamed';
const STEP_POINTS: Point[] = ['before-step-started', 'after-step-started', 'after-spawn', 'before-step-finished', 'after-step-finished'];
// s2 is not idempotent, s5 is; s4 is the first step after the gate.
const CASES = [
  { point: 'after-lock' as Point, n: 1 },
  ...STEP_POINTS.flatMap((point) => [2, 4, 5].map((n) => ({ point, n }))),
  { point: 'record-temp' as Point, n: 1 },
  { point: 'record-renamed' as Point, n: 1 },
].map((c) => ({ ...c, name: `${c.point}:${c.n}${c.point.includes('step') || c.point === 'after-spawn' ? ` (${STEPS[c.n - 1]}${IDEMPOTENT.has(STEPS[c.n - 1]!) ? ', idempotent' : ''})` : ''}` }));

let free = POOL;
const waiting: (() => void)[] = [];
async function withSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (free === 0) await new Promise<void>((resolve) => waiting.push(resolve));
  else free--;
  try {
    return await fn();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else free++;
  }
}

function counterLines(dir: string): string[] {
  const file = path.join(dir, 'counter');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}
const countOf = (lines: readonly string[], step: string) => lines.filter((l) => l === step).length;
const started = (events: readonly RunEvent[]) => new Set(events.flatMap((e) => (e.kind === 'step-started' ? [e.stepId] : [])));
const finished = (events: readonly RunEvent[]) => new Set(events.flatMap((e) => (e.kind === 'step-finished' ? [e.stepId] : [])));

function expectClean(expect: ExpectStatic, result: CliResult, what: string): void {
  expect(result.timedOut, `${what} timed out`).toBe(false);
  expect(stackTraceLines(result.stdout + result.stderr), `${what}:\n${result.stderr}`).toEqual([]);
}

async function readRuns(url: string): Promise<JournalRead[]> {
  const store = await openStateStore(resolveState(url, {}, os.tmpdir()).location);
  try {
    const runs = await store.listRuns();
    return (await Promise.all(runs.map((r) => store.readRun(r.runId)))).filter((r): r is JournalRead => r !== undefined);
  } finally {
    await store.close();
  }
}

const IN_FLIGHT_REFUSAL = /step '(s\d+)' was in flight when run \S+ stopped and is not idempotent/;

async function runCase(expect: ExpectStatic, c: (typeof CASES)[number]): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `deployctl-fault-pg-${c.point}-`));
  for (const file of FILES) copyFileSync(path.join(FIXTURES, file), path.join(dir, file));
  const db = createTestDatabase();
  const env = { DEPLOYCTL_STATE: db.url };
  let orphanGroup: number | undefined;
  try {
    const step = STEPS[c.n - 1]!;
    if (c.point === 'after-spawn') writeFileSync(path.join(dir, `hold-${step}`), '');
    const killed = await runCli(RUN, { cwd: dir, env: { ...env, DEPLOYCTL_FAULT: `${c.point}:${c.n}` }, timeoutMs: 60_000 });
    expect(killed.signal, `${c.name}: not killed; stderr:\n${killed.stderr}`).toBe('SIGKILL');

    const runs = await readRuns(db.url);
    if (c.point === 'after-lock') {
      expect(runs).toEqual([]);
      const resume = await runCli(RESUME, { cwd: dir, env, timeoutMs: 60_000 });
      expectClean(expect, resume, 'resume');
      expect(resume.code, resume.stderr).toBe(2);
      expect(resume.stderr).toContain('no run of kill-matrix to resume');
      // The dead session's advisory lock went with it; its row names who it was.
      expect(resume.stderr).toMatch(/took over a stale lock left by pid \d+/);
      const fresh = await runCli(RUN, { cwd: dir, env, timeoutMs: 60_000 });
      expect(fresh.code, fresh.stderr).toBe(0);
      expect(counterLines(dir)).toEqual(STEPS);
      return;
    }
    expect(runs).toHaveLength(1);
    const atCrash = runs[0]!;
    const runId = atCrash.runId;
    expect(atCrash.chain).toMatchObject({ status: 'intact', problems: [] });
    const ranAtCrash = counterLines(dir);
    // Write-ahead: every step whose side effect happened was journaled as started; nothing finished that did not run.
    for (const s of new Set(ranAtCrash)) expect(started(atCrash.events), `${s} ran but its start is not in the journal`).toContain(s);
    for (const s of finished(atCrash.events)) expect(ranAtCrash, `${s} finished in the journal but never ran`).toContain(s);

    if (c.point === 'after-spawn') {
      const pgidFile = path.join(dir, `${step}.pgid`);
      orphanGroup = await waitFor(`${step} to hold`, () => existsSync(pgidFile) && Number(readFileSync(pgidFile, 'utf8').trim()));
      const beside = await runCli([...RESUME, '--in-flight', 'rerun'], { cwd: dir, env, timeoutMs: 60_000 });
      expectClean(expect, beside, 'resume beside the orphan');
      expect(beside.code, beside.stderr).toBe(2);
      expect(beside.stderr).toContain(`step '${step}' of run ${runId} is still running (process group ${orphanGroup})`);
      killGroup(orphanGroup, 'SIGKILL');
      await waitFor('the orphaned step to be gone', () => liveInGroup(orphanGroup!).length === 0);
    }

    // Resume as an operator would: without a decision first; for a non-idempotent step left in flight, check it (here:
    // did it write its line, and was it not cut short?) and say done or rerun.
    let result = await runCli(RESUME, { cwd: dir, env, timeoutMs: 60_000 });
    expectClean(expect, result, 'resume');
    let decision: { step: string; inFlight: 'done' | 'rerun' } | undefined;
    const refusal = IN_FLIGHT_REFUSAL.exec(result.stderr);
    if (result.code === 2 && refusal !== null) {
      const s = refusal[1]!;
      decision = { step: s, inFlight: countOf(ranAtCrash, s) > 0 && c.point !== 'after-spawn' ? 'done' : 'rerun' };
      result = await runCli([...RESUME, '--in-flight', decision.inFlight], { cwd: dir, env, timeoutMs: 60_000 });
      expectClean(expect, result, `resume --in-flight ${decision.inFlight}`);
    }
    expect(result.code, `${c.name}: resume\n${result.stderr}`).toBe(0);
    if (c.point === 'record-temp' || c.point === 'record-renamed') expect(result.stderr).toContain('nothing is run again: sealing the record from the journal');

    const counter = counterLines(dir);
    const inFlightAtCrash = [...started(atCrash.events)].filter((s) => !finished(atCrash.events).has(s));
    for (const s of STEPS) {
      if (finished(atCrash.events).has(s)) expect(countOf(counter, s), `${s} finished before the crash and ran again`).toBe(1);
      else if (inFlightAtCrash.includes(s)) {
        const again = IDEMPOTENT.has(s) || (decision?.step === s && decision.inFlight === 'rerun');
        expect(countOf(counter, s), `in-flight ${s}`).toBe(countOf(ranAtCrash, s) + (again ? 1 : 0));
      } else expect(countOf(counter, s), `${s}`).toBe(1);
    }

    const [after] = await readRuns(db.url);
    expect(after!.runId).toBe(runId);
    expect(after!.chain).toMatchObject({ status: 'intact', problems: [] });
    expect(after!.events.at(-1)).toMatchObject({ kind: 'run-finished', status: 'succeeded', exitCode: 0 });
    const final = recordFiles(dir).at(-1)!;
    expect(readRecord(final).statement.predicate).toMatchObject({ run_id: runId, status: 'succeeded' });
    for (const v of verifyWithOpenssl(final, path.join(dir, '.deployctl/keys/deployctl.pub'), dir)) expect(v, v.output).toMatchObject({ ok: true });
    // The team's copy: the database holds the final record, byte for byte.
    expect(db.psql(`SELECT envelope FROM deployctl.records WHERE run_id = '${runId}' ORDER BY sealed_at DESC LIMIT 1`)).toBe(readFileSync(final, 'utf8').trimEnd());
    expect(readdirSync(path.join(dir, '.deployctl/records')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  } finally {
    if (orphanGroup !== undefined) killGroup(orphanGroup, 'SIGKILL');
    const left = reapProcessesIn(dir);
    rmSync(dir, { recursive: true, force: true });
    expect(left, 'processes left running').toEqual([]);
  }
}

beforeAll(() => assertBuilt());

describe('deployctl with its state in PostgreSQL, killed with SIGKILL, then resumed', () => {
  it.concurrent.for(CASES)('$name: the journal never lags behind an effect; the resume finishes without re-running a finished step', { timeout: CASE_TIMEOUT }, async (c, { expect }) => {
    await withSlot(() => runCase(expect, c));
  });
});
