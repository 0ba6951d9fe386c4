// A journal torn by a crash (issue 7 item 2): cut at every byte of its last two entries, or followed by garbage, it keeps every complete entry, never throws, and `run --resume` still finishes the run.
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, type ExpectStatic } from 'vitest';
import { parseJournal, parseJournalLine } from '../../src/engine/journal.js';
import { genesisHash, hashLine } from '../../src/ports/state/chain.js';
import { foldEvents, inFlightSteps, isRunResumable } from '../../src/engine/state.js';
import { assertBuilt, journalFile, reapProcessesIn, readRecord, recordFiles, runCli, runDirs, stackTraceLines, verifyWithOpenssl, type CliResult } from '../helpers/cli.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/fault/', import.meta.url));
const FILES = ['kill-matrix.yaml', 'kill-matrix.answers.yaml', 'step.sh'];
const RUN = ['run', 'kill-matrix.yaml', '--answers', 'kill-matrix.answers.yaml'];
const RESUME = [...RUN, '--resume'];
const STEPS = ['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10'];
const POOL = 4;

/** The killed run: its workspace (copied for each resume), its journal's bytes, and where each line starts and ends. */
let source: string;
let runId: string;
let journal: Buffer;
/** Each entry: [start, end) of its JSON, the newline at `end`. */
let lines: { start: number; end: number; text: string }[];
/** The first byte of the last two entries: every cut from here to the end is tried. */
let lastTwoStart: number;

beforeAll(async () => {
  assertBuilt();
  source = mkdtempSync(path.join(os.tmpdir(), 'deployctl-torn-'));
  for (const file of FILES) copyFileSync(path.join(FIXTURES, file), path.join(source, file));
  // Killed right after s3's start was journaled: the last two entries are s2's step-finished and s3's step-started.
  const killed = await runCli(RUN, { cwd: source, env: { DEPLOYCTL_FAULT: 'after-step-started:3' }, timeoutMs: 60_000 });
  expect(killed.signal, killed.stderr).toBe('SIGKILL');
  [runId] = runDirs(source) as [string];
  journal = readFileSync(journalFile(source, runId));
  expect(journal.at(-1)).toBe(0x0a);
  lines = [];
  for (let start = 0; start < journal.length; ) {
    const end = journal.indexOf(0x0a, start);
    lines.push({ start, end, text: journal.subarray(start, end).toString('utf8') });
    start = end + 1;
  }
  expect(lines.at(-2)!.text).toContain('"kind":"step-finished"');
  expect(lines.at(-2)!.text).toContain('"stepId":"s2"');
  expect(lines.at(-1)!.text).toContain('"kind":"step-started"');
  expect(lines.at(-1)!.text).toContain('"stepId":"s3"');
  lastTwoStart = lines.at(-2)!.start;
}, 90_000);

afterAll(() => {
  if (source === undefined) return;
  reapProcessesIn(source);
  rmSync(source, { recursive: true, force: true });
});

/** Every offset within the last two entries, both ends included (the cut before the first byte, and no cut at all). */
function offsets(): number[] {
  return Array.from({ length: journal.length - lastTwoStart + 1 }, (_, i) => lastTwoStart + i);
}

/** A journal line as an event: its JSON without `prev`, the hash link, which is the journal's and not the event's. */
function eventOf(text: string): unknown {
  const { prev: _link, ...event } = JSON.parse(text) as Record<string, unknown>;
  return event;
}

/** The entries whose JSON lies wholly before `cut` (a missing newline after a whole entry loses nothing), parsed independently of deployctl. */
function completeBefore(cut: number): unknown[] {
  return lines.filter((l) => l.end <= cut).map((l) => eventOf(l.text));
}

/**
 * The journal as the run `id` would have written it: the run id replaced, and each event's hash link recomputed (the
 * chain starts from the run id, so a journal merely copied under another id does not verify, and is not resumed).
 * Lines that are not events (torn, garbage) are left as they are.
 */
function asRun(bytes: Buffer, id: string): Buffer {
  const renamed = Buffer.from(bytes.toString('latin1').replaceAll(runId, id), 'latin1');
  let head = genesisHash(id);
  const out: Buffer[] = [];
  for (let start = 0; start <= renamed.length; ) {
    let end = renamed.indexOf(0x0a, start);
    if (end === -1) end = renamed.length;
    const segment = renamed.subarray(start, end);
    const entry = parseJournalLine(segment.toString('utf8'), 0);
    if (entry?.prev !== undefined && Buffer.from(entry.line, 'utf8').equals(segment)) {
      const relinked = entry.line.replace(entry.prev, head);
      head = hashLine(relinked);
      out.push(Buffer.from(relinked, 'utf8'));
    } else out.push(segment);
    if (end < renamed.length) out.push(Buffer.from('\n'));
    start = end + 1;
  }
  return Buffer.concat(out);
}

/** The journal cut at byte `cut`, read as deployctl reads it (UTF-8). */
function cutAt(cut: number): string {
  return journal.subarray(0, cut).toString('utf8');
}

/** Garbage a crash, a disk or a person could leave after the last entry. */
const GARBAGE: { name: string; make: () => Buffer }[] = [
  { name: 'random bytes', make: () => Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7919 + 13) % 256)) },
  { name: 'half a JSON object', make: () => Buffer.from('{"kind":"step-finished","at":1795710000000,"stepId":"s3","phaseId":"prep') },
  { name: '{"kind":"step-finished" and nothing more', make: () => Buffer.from('{"kind":"step-finished"') },
  { name: 'a JSON line of an unknown kind', make: () => Buffer.from('{"kind":"step-exploded","at":1795710000000,"stepId":"s3"}\n') },
  { name: 'a known kind without its fields', make: () => Buffer.from('{"kind":"step-finished","at":1795710000000,"stepId":"s3"}\n{"kind":"run-finished","at":1,"status":"succeeded"}\n') },
  { name: 'JSON that is not an object', make: () => Buffer.from('[1,2,3]\nnull\n"step-finished"\n42\n') },
  { name: 'a line with a 4 MiB string', make: () => Buffer.from(`{"kind":"step-output","at":1795710000000,"stepId":"s3","stream":"stdout","line":"${'x'.repeat(4 * 1024 * 1024)}\n`) },
  { name: 'NUL bytes', make: () => Buffer.alloc(300) },
];

/** What parsing may return after garbage: exactly the original entries whose line survived whole, in order; nothing from the garbage. */
function survivingEntries(text: string): unknown[] {
  const originals = new Set(lines.map((l) => l.text));
  return text
    .split('\n')
    .filter((line) => originals.has(line))
    .map((line) => eventOf(line));
}

function parseSafely(expect: ExpectStatic, text: string) {
  let parsed: ReturnType<typeof parseJournal> | undefined;
  expect(() => (parsed = parseJournal(text))).not.toThrow();
  // The resume reads the run through the same fold: it must not throw either.
  const state = foldEvents(parsed!.events);
  expect(() => inFlightSteps(state)).not.toThrow();
  expect(isRunResumable(state)).toBe(true);
  return parsed!;
}

describe('parseJournal on a journal cut at every byte of its last two entries', () => {
  it('keeps exactly the entries that are whole before the cut, and never throws', () => {
    const cuts = offsets();
    expect(cuts.length).toBeGreaterThan(300);
    for (const cut of cuts) {
      const parsed = parseSafely(expect, cutAt(cut));
      expect(parsed.events, `cut at byte ${cut}`).toEqual(completeBefore(cut));
      const atLineEnd = cut === 0 || journal[cut - 1] === 0x0a;
      expect(parsed.tornTail, `cut at byte ${cut}`).toBe(!atLineEnd);
      expect(parsed.skippedLines, `cut at byte ${cut}`).toBe(atLineEnd || lines.some((l) => l.end === cut) ? 0 : 1);
    }
  });

  it.each(GARBAGE)('after $name, keeps every whole entry, at every cut, and never throws', ({ name, make }) => {
    const garbage = make();
    // A 4 MiB line at every cut would only measure JSON.parse: a few cuts are enough for it.
    const cuts = garbage.length > 1_000_000 ? [lastTwoStart, lines.at(-1)!.start + 10, journal.length - 1, journal.length] : offsets();
    for (const cut of cuts) {
      const text = Buffer.concat([journal.subarray(0, cut), garbage]).toString('utf8');
      const parsed = parseSafely(expect, text);
      expect(parsed.events, `${name} after byte ${cut}`).toEqual(survivingEntries(text));
      // Everything whole before the cut and followed by its newline survives garbage.
      expect(parsed.events.slice(0, lines.filter((l) => l.end < cut).length), `${name} after byte ${cut}`).toEqual(lines.filter((l) => l.end < cut).map((l) => eventOf(l.text)));
    }
  });

  it('keeps every whole entry whatever is cut and appended (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 << 20 }), fc.uint8Array({ maxLength: 200 }), (at, tail) => {
        const cut = at % (journal.length + 1);
        const text = Buffer.concat([journal.subarray(0, cut), Buffer.from(tail)]).toString('utf8');
        const parsed = parseJournal(text);
        foldEvents(parsed.events);
        const whole = lines.filter((l) => l.end < cut).map((l) => eventOf(l.text));
        expect(parsed.events.slice(0, whole.length)).toEqual(whole);
        expect(parsed.events).toEqual(survivingEntries(text));
      }),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The resume itself, at a sample of cuts and after each garbage: spawning deployctl is slow, so not at every byte.

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

function expectClean(expect: ExpectStatic, result: CliResult, what: string): void {
  expect(result.timedOut, `${what} timed out`).toBe(false);
  expect(stackTraceLines(result.stdout), `${what}: stack trace on stdout:\n${result.stdout}`).toEqual([]);
  expect(stackTraceLines(result.stderr), `${what}: stack trace on stderr:\n${result.stderr}`).toEqual([]);
}

interface ResumeCase {
  name: string;
  bytes: () => Buffer;
}

function sampleCases(): ResumeCase[] {
  // Computed when the tests run (the journal exists only after beforeAll): each case reads the offsets lazily.
  const at = (name: string, pick: () => number): ResumeCase => ({ name, bytes: () => journal.subarray(0, pick()) });
  return [
    at('before the last two entries', () => lastTwoStart),
    at('one byte into step-finished s2', () => lastTwoStart + 1),
    at('in the middle of step-finished s2', () => Math.floor((lines.at(-2)!.start + lines.at(-2)!.end) / 2)),
    at('step-finished s2 whole, without its newline', () => lines.at(-2)!.end),
    at('one byte into step-started s3', () => lines.at(-1)!.start + 1),
    at('in the middle of step-started s3', () => Math.floor((lines.at(-1)!.start + lines.at(-1)!.end) / 2)),
    at('step-started s3 whole, without its newline', () => lines.at(-1)!.end),
    at('not cut', () => journal.length),
    ...GARBAGE.map((g) => ({ name: `not cut, then ${g.name}`, bytes: () => Buffer.concat([journal, g.make()]) })),
    { name: 'cut in step-started s3, then half a JSON object', bytes: () => Buffer.concat([journal.subarray(0, lines.at(-1)!.start + 20), GARBAGE[1]!.make()]) },
  ];
}

describe('run --resume on a torn journal', () => {
  it.concurrent.for(sampleCases())('$name: the resume finishes the run (after an --in-flight decision if one is needed) without a stack trace', { timeout: 120_000 }, async (c, { expect }) => {
    await withSlot(async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'deployctl-torn-resume-'));
      try {
        cpSync(source, dir, { recursive: true });
        // A run id of its own (same length: the cuts stay where they were). Copies sharing one would be one run to
        // deployctl, and a resume rightly refuses while a step of that run is running, here in another copy.
        const id = `${runId.slice(0, -6)}${randomBytes(3).toString('hex')}`;
        renameSync(path.join(dir, '.deployctl/runs', runId), path.join(dir, '.deployctl/runs', id));
        const bytes = asRun(c.bytes(), id);
        expect(bytes.length).toBe(c.bytes().length);
        writeFileSync(journalFile(dir, id), bytes);
        const expectedInFlight = inFlightSteps(foldEvents(parseJournal(bytes.toString('utf8')).events));

        let result = await runCli(RESUME, { cwd: dir, timeoutMs: 60_000 });
        expectClean(expect, result, 'resume');
        if (expectedInFlight.length > 0) {
          // s2 and s3 are not idempotent: deployctl says so and waits for a decision.
          expect(result.code, result.stderr).toBe(2);
          expect(result.stderr).toContain(`step '${expectedInFlight[0]}' was in flight`);
          expect(result.stderr).toContain('--in-flight');
          result = await runCli([...RESUME, '--in-flight', 'rerun'], { cwd: dir, timeoutMs: 60_000 });
          expectClean(expect, result, 'resume --in-flight rerun');
        }
        expect(result.code, result.stderr).toBe(0);

        const records = recordFiles(dir);
        expect(records).toHaveLength(1);
        const predicate = readRecord(records[0]!).statement.predicate;
        expect(predicate).toMatchObject({ run_id: id, status: 'succeeded' });
        for (const v of verifyWithOpenssl(records[0]!, path.join(dir, '.deployctl/keys/deployctl.pub'), dir)) expect(v, v.output).toMatchObject({ ok: true });
        // The journal now reads as a finished run, garbage and all.
        const after = parseJournal(readFileSync(journalFile(dir, id), 'utf8'));
        expect(after.events.at(-1)).toMatchObject({ kind: 'run-finished', status: 'succeeded' });
        expect(new Set(after.events.flatMap((e) => (e.kind === 'step-finished' ? [e.stepId] : [])))).toEqual(new Set(STEPS));
        expect(existsSync(path.join(dir, 'counter'))).toBe(true);
      } finally {
        const left = reapProcessesIn(dir);
        rmSync(dir, { recursive: true, force: true });
        expect(left, 'processes left running').toEqual([]);
      }
    });
  });
});
