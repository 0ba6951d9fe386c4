// The kill-point matrix (issue 7 item 1): deployctl SIGKILLed at every named point × every step, then `run --resume` until done; nothing finished runs twice, the record verifies, nothing is left running.
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, type ExpectStatic } from 'vitest';
import { parseJournal } from '../../src/engine/journal.js';
import type { RunEvent } from '../../src/engine/events.js';
import {
  assertBuilt,
  BIN,
  journalFile,
  killGroup,
  liveInGroup,
  processesIn,
  reapProcessesIn,
  readRecord,
  recordFiles,
  runCli,
  runDirs,
  stackTraceLines,
  verifyWithOpenssl,
  waitFor,
  type CliResult,
} from '../helpers/cli.js';
import { startTmux, TMUX } from '../helpers/tmux.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/fault/', import.meta.url));
const FILES = ['kill-matrix.yaml', 'kill-matrix.answers.yaml', 'step.sh'];
const RUN = ['run', 'kill-matrix.yaml', '--answers', 'kill-matrix.answers.yaml'];
const RESUME = [...RUN, '--resume'];

/** The fixture's steps in order, and which of them say `idempotent: true`. */
const STEPS = ['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10'];
const IDEMPOTENT = new Set(['s1', 's5', 's7', 's9']);

/** Cases run side by side, each in its own temp dir; more than this only makes two cores thrash. */
const POOL = 4;
/** One case spawns deployctl three to five times; generous for a machine busy with other suites. */
const CASE_TIMEOUT = 120_000;

type StepPoint = 'before-step-started' | 'after-step-started' | 'after-spawn' | 'before-step-finished' | 'after-step-finished';
const STEP_POINTS: StepPoint[] = ['before-step-started', 'after-step-started', 'after-spawn', 'before-step-finished', 'after-step-finished'];

interface Case {
  point: StepPoint | 'after-lock' | 'record-temp' | 'record-renamed';
  /** The n of `<point>:<n>`: for the step points, the n-th step (the fixture has no retries, so one event per step). */
  n: number;
  name: string;
}

const CASES: Case[] = [
  { point: 'after-lock', n: 1, name: 'after-lock:1' },
  ...STEP_POINTS.flatMap((point) => STEPS.map((step, i) => ({ point, n: i + 1, name: `${point}:${i + 1} (${step}${IDEMPOTENT.has(step) ? ', idempotent' : ''})` }))),
  { point: 'record-temp', n: 1, name: 'record-temp:1' },
  { point: 'record-renamed', n: 1, name: 'record-renamed:1' },
];

// ---------------------------------------------------------------------------------------------
// A small pool: vitest starts every concurrent test of the file at once (up to maxConcurrency); each waits for a slot here.

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

// ---------------------------------------------------------------------------------------------
// One workspace per case.

function workspace(name: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `deployctl-fault-${name.replace(/[^a-z0-9]+/gi, '-')}-`));
  for (const file of FILES) copyFileSync(path.join(FIXTURES, file), path.join(dir, file));
  return dir;
}

function counterLines(dir: string): string[] {
  const file = path.join(dir, 'counter');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

function countOf(lines: readonly string[], step: string): number {
  return lines.filter((l) => l === step).length;
}

function journalEvents(dir: string, runId: string): RunEvent[] {
  return parseJournal(readFileSync(journalFile(dir, runId), 'utf8')).events;
}

/** The last entries of the journal, for a failure message. */
function journalTail(dir: string, runId: string): string {
  return readFileSync(journalFile(dir, runId), 'utf8').split('\n').slice(-8).join('\n');
}

function finishedSteps(events: readonly RunEvent[]): string[] {
  return events.flatMap((e) => (e.kind === 'step-finished' ? [e.stepId] : []));
}

function inFlight(events: readonly RunEvent[]): string[] {
  const started = new Set(events.flatMap((e) => (e.kind === 'step-started' ? [e.stepId] : [])));
  for (const id of finishedSteps(events)) started.delete(id);
  return [...started];
}

function expectClean(expect: ExpectStatic, result: CliResult, what: string): void {
  expect(result.timedOut, `${what} timed out`).toBe(false);
  expect(stackTraceLines(result.stdout), `${what}: stack trace on stdout`).toEqual([]);
  expect(stackTraceLines(result.stderr), `${what}: stack trace on stderr:\n${result.stderr}`).toEqual([]);
}

const IN_FLIGHT_REFUSAL = /step '(s\d+)' was in flight when run \S+ stopped and is not idempotent, so deployctl will not guess whether it completed; nothing was run/;

/**
 * Resume as an operator would: first without a decision. When deployctl says a non-idempotent step was in flight,
 * check that it said so and changed nothing, then give `decide`'s answer (the operator has checked the step).
 * Returns the decision taken, if one was needed.
 */
async function resumeToEnd(expect: ExpectStatic, dir: string, runId: string, decide: 'done' | 'rerun'): Promise<{ result: CliResult; decision?: { step: string; inFlight: 'done' | 'rerun' } }> {
  const journalBefore = readFileSync(journalFile(dir, runId), 'utf8');
  const counterBefore = counterLines(dir);
  const first = await runCli(RESUME, { cwd: dir, timeoutMs: 60_000 });
  expectClean(expect, first, 'resume');
  const refusal = IN_FLIGHT_REFUSAL.exec(first.stderr);
  if (first.code !== 2 || refusal === null) return { result: first };
  expect(first.stderr).toContain('--in-flight done');
  expect(first.stderr).toContain('--in-flight rerun');
  const step = refusal[1]!;
  // It said so instead of guessing, and did nothing: no journal line, no record, no step ran.
  expect(readFileSync(journalFile(dir, runId), 'utf8'), 'a refused resume wrote to the journal').toBe(journalBefore);
  expect(recordFiles(dir), 'a refused resume sealed a record').toEqual([]);
  expect(counterLines(dir), 'a refused resume ran a step').toEqual(counterBefore);
  const second = await runCli([...RESUME, '--in-flight', decide], { cwd: dir, timeoutMs: 60_000 });
  expectClean(expect, second, `resume --in-flight ${decide}`);
  return { result: second, decision: { step, inFlight: decide } };
}

/** The final record: the newest, of this run, succeeded, every step succeeded; verifies with openssl and with `record verify`. */
async function expectVerifiedRecord(expect: ExpectStatic, dir: string, runId: string): Promise<void> {
  const files = recordFiles(dir);
  expect(files.length, 'no record').toBeGreaterThan(0);
  const final = files.at(-1)!;
  const predicate = readRecord(final).statement.predicate;
  expect(predicate).toMatchObject({ run_id: runId, status: 'succeeded', exit_code: 0 });
  const steps = (predicate['phases'] as { steps: { id: string; status: string }[] }[]).flatMap((p) => p.steps);
  expect(steps.map((s) => [s.id, s.status])).toEqual(STEPS.map((s) => [s, 'succeeded']));
  const verdicts = verifyWithOpenssl(final, path.join(dir, '.deployctl/keys/deployctl.pub'), dir);
  expect(verdicts.length).toBeGreaterThan(0);
  for (const v of verdicts) expect(v, v.output).toMatchObject({ ok: true });
  const verified = await runCli(['record', 'verify', final], { cwd: dir, timeoutMs: 30_000 });
  expectClean(expect, verified, 'record verify');
  expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  // No temporary of the atomic write is left beside it.
  expect(readdirSync(path.join(dir, '.deployctl/records')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// One case.

async function runCase(expect: ExpectStatic, c: Case): Promise<void> {
  const dir = workspace(c.name);
  let orphanGroup: number | undefined;
  try {
    const step = STEPS[c.n - 1]!;
    // after-spawn: the step stays alive after deployctl dies, as an orphan of a kill -9 does when it is not quick.
    if (c.point === 'after-spawn') writeFileSync(path.join(dir, `hold-${step}`), '');

    const killed = await runCli(RUN, { cwd: dir, env: { DEPLOYCTL_FAULT: `${c.point}:${c.n}` }, timeoutMs: 60_000 });
    expect(killed.timedOut, 'the faulted run timed out').toBe(false);
    expect(killed.signal, `${c.name}: not killed; stderr:\n${killed.stderr}`).toBe('SIGKILL');
    expect(killed.code).toBe(null);

    // ---- after-lock: killed before the journal was opened; there is no run to resume, the lock is stale.
    if (c.point === 'after-lock') {
      expect(runDirs(dir)).toEqual([]);
      expect(counterLines(dir)).toEqual([]);
      const resume = await runCli(RESUME, { cwd: dir, timeoutMs: 60_000 });
      expectClean(expect, resume, 'resume');
      expect(resume.code, resume.stderr).toBe(2);
      expect(resume.stderr).toContain('no run of kill-matrix to resume');
      // The resume locks before it looks: it is the one that finds the dead run's lock and takes it over.
      expect(resume.stderr).toMatch(/took over a stale lock left by pid \d+/);
      const fresh = await runCli(RUN, { cwd: dir, timeoutMs: 60_000 });
      expectClean(expect, fresh, 'a new run');
      expect(fresh.code, fresh.stderr).toBe(0);
      expect(fresh.stderr).not.toMatch(/stale lock/);
      expect(counterLines(dir)).toEqual(STEPS);
      const [runId] = runDirs(dir);
      await expectVerifiedRecord(expect, dir, runId!);
      return;
    }

    const runs = runDirs(dir);
    expect(runs).toHaveLength(1);
    const runId = runs[0]!;
    const atCrash = journalEvents(dir, runId);
    const finishedAtCrash = finishedSteps(atCrash);
    const inFlightAtCrash = inFlight(atCrash);

    // What the journal must say at each point: the kill came exactly where it was named.
    const before = STEPS.slice(0, c.n - 1);
    switch (c.point) {
      case 'before-step-started':
        expect(finishedAtCrash).toEqual(before);
        expect(inFlightAtCrash).toEqual([]);
        break;
      case 'after-step-started':
        expect(finishedAtCrash).toEqual(before);
        expect(inFlightAtCrash).toEqual([step]);
        expect(atCrash.at(-1)).toMatchObject({ kind: 'step-started', stepId: step });
        break;
      case 'after-spawn':
        expect(finishedAtCrash).toEqual(before);
        expect(inFlightAtCrash).toEqual([step]);
        // Killed before the pid reached the journal: only the step's environment can lead a resume to the orphan.
        expect(atCrash.at(-1)).toMatchObject({ kind: 'step-started', stepId: step });
        break;
      case 'before-step-finished':
        expect(finishedAtCrash).toEqual(before);
        expect(inFlightAtCrash).toEqual([step]);
        break;
      case 'after-step-finished':
        expect(finishedAtCrash).toEqual([...before, step]);
        expect(inFlightAtCrash).toEqual([]);
        break;
      case 'record-temp':
      case 'record-renamed':
        expect(finishedAtCrash).toEqual(STEPS);
        expect(atCrash.at(-1)).toMatchObject({ kind: 'run-finished', status: 'succeeded' });
        break;
    }

    // ---- an orphaned step still running: a resume refuses, then the orphan goes (a crashed host takes it down) and the resume goes on.
    if (c.point === 'after-spawn') {
      const pgidFile = path.join(dir, `${step}.pgid`);
      orphanGroup = await waitFor(`${step} to hold`, () => existsSync(pgidFile) && Number(readFileSync(pgidFile, 'utf8').trim()));
      expect(liveInGroup(orphanGroup).length).toBeGreaterThan(0);
      for (const args of [RESUME, [...RESUME, '--in-flight', 'rerun']]) {
        const beside = await runCli(args, { cwd: dir, timeoutMs: 60_000 });
        expectClean(expect, beside, 'resume beside the orphan');
        expect(beside.code, beside.stderr).toBe(2);
        expect(beside.stderr).toContain(`step '${step}' of run ${runId} is still running (process group ${orphanGroup})`);
      }
      expect(countOf(counterLines(dir), step)).toBe(1);
      killGroup(orphanGroup, 'SIGKILL');
      await waitFor('the orphaned step to be gone', () => liveInGroup(orphanGroup!).length === 0);
    }

    const counterAtCrash = counterLines(dir);
    const recordsAtCrash = recordFiles(dir);

    // ---- record-renamed: the record is whole and in place; nothing to resume, and the CLI says where the record is.
    if (c.point === 'record-renamed') {
      expect(recordsAtCrash).toHaveLength(1);
      const resume = await runCli(RESUME, { cwd: dir, timeoutMs: 60_000 });
      expectClean(expect, resume, 'resume');
      expect(resume.code, resume.stderr).toBe(2);
      expect(resume.stderr).toContain(`the newest run of kill-matrix, ${runId}, already ended (succeeded); its record is ${path.relative(dir, recordsAtCrash[0]!)}; there is nothing to resume`);
      expect(counterLines(dir)).toEqual(STEPS);
      expect(recordFiles(dir)).toEqual(recordsAtCrash);
      await expectVerifiedRecord(expect, dir, runId);
      return;
    }

    // ---- record-temp: every step finished and run-finished is journaled, but no record: the resume only seals it.
    if (c.point === 'record-temp') {
      expect(recordsAtCrash).toEqual([]);
      expect(readdirSync(path.join(dir, '.deployctl/records')).filter((f) => f.endsWith('.tmp'))).toHaveLength(1);
    }

    // The operator's answer, had they checked: before-step-finished, the step ran to its end (done); after-step-started it
    // never ran, after-spawn it was killed part-way (rerun: the one case where a step's side effect may show twice).
    const { result, decision } = await resumeToEnd(expect, dir, runId, c.point === 'before-step-finished' ? 'done' : 'rerun');
    expect(result.code, `${c.name}: resume\n${result.stderr}\njournal tail:\n${journalTail(dir, runId)}`).toBe(0);
    const nonIdempotentInFlight = inFlightAtCrash.filter((s) => !IDEMPOTENT.has(s));
    // deployctl asked about exactly the non-idempotent step left in flight, and about nothing else.
    expect(decision?.step).toEqual(nonIdempotentInFlight[0]);
    if (c.point === 'record-temp') expect(result.stderr).toContain('nothing is run again: sealing the record from the journal');

    // ---- each step's side effect: once, except the step in flight, run again by an explicit rerun or because it is idempotent.
    const counter = counterLines(dir);
    for (const s of STEPS) {
      const ranAtCrash = countOf(counterAtCrash, s);
      if (finishedAtCrash.includes(s)) {
        expect(countOf(counter, s), `${s} finished before the crash and ran again`).toBe(1);
      } else if (inFlightAtCrash.includes(s)) {
        const again = IDEMPOTENT.has(s) || (decision?.step === s && decision.inFlight === 'rerun');
        expect(countOf(counter, s), `in-flight ${s} (ran ${ranAtCrash}× before the crash, run again: ${again})`).toBe(again ? ranAtCrash + 1 : ranAtCrash);
        expect(countOf(counter, s), `in-flight ${s} never ran to its end`).toBeGreaterThanOrEqual(1);
      } else {
        expect(countOf(counter, s), `${s} did not start before the crash`).toBe(1);
      }
    }
    // Twice only for the step in flight, and only when idempotent or rerun by an explicit decision; never more.
    const twice = STEPS.filter((s) => countOf(counter, s) > 1);
    for (const s of twice) {
      expect(inFlightAtCrash, `${s} ran twice but was not in flight`).toContain(s);
      expect(IDEMPOTENT.has(s) || (decision?.step === s && decision.inFlight === 'rerun'), `${s} ran twice without a rerun decision`).toBe(true);
      expect(countOf(counter, s)).toBe(2);
    }

    // The resume continued the same run; the journal says every step finished.
    expect(runDirs(dir)).toEqual([runId]);
    const after = journalEvents(dir, runId);
    expect(new Set(finishedSteps(after))).toEqual(new Set(STEPS));
    expect(after.at(-1)).toMatchObject({ kind: 'run-finished', status: 'succeeded', exitCode: 0 });
    await expectVerifiedRecord(expect, dir, runId);
  } finally {
    if (orphanGroup !== undefined) killGroup(orphanGroup, 'SIGKILL');
    const left = reapProcessesIn(dir);
    rmSync(dir, { recursive: true, force: true });
    expect(left, 'processes left running').toEqual([]);
  }
}

beforeAll(() => assertBuilt());

describe('deployctl killed with SIGKILL at every named point, then resumed', () => {
  it.concurrent.for(CASES)('$name: the resume finishes the run without re-running a finished step, and the record verifies', { timeout: CASE_TIMEOUT }, async (c, { expect }) => {
    await withSlot(() => runCase(expect, c));
  });

  // at-prompt needs a terminal: one case through a real pseudo-terminal (tmux). The run dies at the gate's prompt; a
  // resume without a terminal takes the decision from the answers file and finishes.
  it.concurrent('at-prompt:1 (the gate): the resume decides the gate from the answers file and runs nothing twice', { timeout: CASE_TIMEOUT }, async ({ expect, skip }) => {
    if (!existsSync(TMUX)) skip(`needs tmux at ${TMUX}`);
    await withSlot(async () => {
      const dir = workspace('at-prompt');
      const term = await startTmux({
        command: [process.execPath, BIN, 'run', 'kill-matrix.yaml'],
        cwd: dir,
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, TERM: 'xterm-256color', LANG: 'C.UTF-8', PS1: '$ ', DEPLOYCTL_FAULT: 'at-prompt:1', DEPLOYCTL_LOCK_DIR: path.join(dir, '.deployctl-host-locks') },
      });
      try {
        // The shell wrapper reports a command killed by SIGKILL as 128 + 9.
        expect(await term.exitCode(60_000)).toBe(137);
        const [runId] = runDirs(dir);
        const atCrash = journalEvents(dir, runId!);
        expect(finishedSteps(atCrash)).toEqual(['s1', 's2', 's3']);
        expect(atCrash.at(-1)).toMatchObject({ kind: 'gate-evaluated', gateId: 'go-no-go' });
        expect(counterLines(dir)).toEqual(['s1', 's2', 's3']);

        const { result, decision } = await resumeToEnd(expect, dir, runId!, 'rerun');
        expect(result.code, result.stderr).toBe(0);
        expect(decision).toBeUndefined();
        expect(counterLines(dir)).toEqual(STEPS);
        const gate = journalEvents(dir, runId!).find((e) => e.kind === 'gate-decided');
        expect(gate).toMatchObject({ decision: 'go', answeredFrom: 'answers-file' });
        await expectVerifiedRecord(expect, dir, runId!);
      } finally {
        await term.kill();
        // kill-server returns before the server and its pane's shell have gone; on a busy machine that takes a moment.
        await waitFor('the tmux server to exit', () => processesIn(dir).length === 0, 15_000).catch(() => undefined);
        const left = reapProcessesIn(dir);
        rmSync(dir, { recursive: true, force: true });
        expect(left, 'processes left running').toEqual([]);
      }
    });
  });
});
