// Hostile runbooks and answers files through the built CLI: exit 2, a capped list of positioned problems, no stack, no hang (issue 12).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadAnswers } from '../../src/engine/answers.js';
import { parseRunbookText } from '../../src/runbook/load.js';
import { MAX_PROBLEMS } from '../../src/runbook/problem.js';
import { ANSWERS_RUNBOOK, HANG_GUARD_MS, HOSTILE_FILES, type HostileFile } from '../fixtures/robust/hostile-files.js';
import { assertBuilt, killAllClis, runCli, stackTraceLines, type CliResult } from '../helpers/cli.js';

let dir = '';

beforeAll(() => {
  assertBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-hostile-'));
  fs.writeFileSync(path.join(dir, 'answers-runbook.yaml'), ANSWERS_RUNBOOK);
  for (const f of HOSTILE_FILES) fs.writeFileSync(path.join(dir, f.name), f.make());
});
afterEach(killAllClis);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: HANG_GUARD_MS + 20_000 });

/** The problem lines (`file:line:col: message`) a command printed for `file`, on whichever stream it uses. */
function problemLines(result: CliResult, file: string): string[] {
  return `${result.stdout}\n${result.stderr}`.split('\n').filter((l) => l.startsWith(`${file}:`));
}

function expectRefusal(result: CliResult, f: HostileFile): string[] {
  expect(result.timedOut, 'hung').toBe(false);
  expect(result.durationMs).toBeLessThan(HANG_GUARD_MS);
  expect(result.code).toBe(2);
  expect(stackTraceLines(result.stdout)).toEqual([]);
  expect(stackTraceLines(result.stderr)).toEqual([]);
  expect(result.stdout + result.stderr).not.toContain('internal error');
  const lines = problemLines(result, f.name);
  expect(lines.length).toBeGreaterThanOrEqual(1);
  // Capped: never one line per key of 15,000 (the last line counts the rest).
  expect(lines.length).toBeLessThanOrEqual(MAX_PROBLEMS + 1);
  for (const line of lines) {
    expect(line).toMatch(new RegExp(`^${f.name.replace(/\./g, '\\.')}:\\d+:\\d+: `));
    expect(line.length).toBeLessThan(400);
  }
  const last = lines[lines.length - 1]!;
  if (f.capped) {
    expect(lines).toHaveLength(MAX_PROBLEMS + 1);
    expect(last).toMatch(/: [\d,]+ more problems from here on are not shown: fix the ones above first$/);
  } else {
    expect(last).not.toContain('more problems');
  }
  return lines;
}

const runbooks = HOSTILE_FILES.filter((f) => f.kind === 'runbook');
const answers = HOSTILE_FILES.filter((f) => f.kind === 'answers');

describe('deployctl validate on hostile runbooks', () => {
  it.each(runbooks.map((f) => [f.what, f] as const))('refuses %s with exit 2 and a capped report', async (_what, f) => {
    const result = await cli(['validate', f.name]);
    expectRefusal(result, f);
    // The count is of every problem, not of the lines shown.
    if (f.capped) expect(Number(/^([\d,]+) problems found\./m.exec(result.stderr)?.[1]?.replace(/,/g, ''))).toBeGreaterThan(MAX_PROBLEMS + 100);
  });

  it.each(runbooks.filter((f) => f.code !== undefined).map((f) => [f.what, f] as const))('names the class of problem in %s (--json)', async (_what, f) => {
    const result = await cli(['validate', '--json', f.name]);
    expect(result.code).toBe(2);
    expect(result.durationMs).toBeLessThan(HANG_GUARD_MS);
    const problems = JSON.parse(result.stdout) as { code: string; omitted?: number }[];
    expect(problems.length).toBeLessThanOrEqual(MAX_PROBLEMS + 1);
    expect(problems[0]!.code).toBe(f.code);
    const last = problems[problems.length - 1]!;
    if (f.capped) {
      expect(last.code).toBe('more-problems');
      expect(last.omitted).toBeGreaterThan(100);
    } else {
      expect(problems.map((p) => p.code)).not.toContain('more-problems');
    }
  });
});

describe('every command that reads a runbook refuses hostile ones the same way', () => {
  const commands: [string, (file: string) => string[]][] = [
    ['plan', (file) => ['plan', file]],
    ['plan --format json', (file) => ['plan', file, '--format', 'json']],
    ['preflight', (file) => ['preflight', file]],
    ['run', (file) => ['run', file]],
    ['run --dry-run', (file) => ['run', file, '--dry-run']],
  ];
  const cases = HOSTILE_FILES.filter((f) => f.everyCommand).flatMap((f) => commands.map(([name, args]) => [name, f.what, f, args] as const));

  it.each(cases)('%s refuses %s with exit 2 and a capped report', async (_name, _what, f, args) => {
    expectRefusal(await cli(args(f.name)), f);
  });
});

describe('deployctl run --answers on hostile answers files', () => {
  it.each(answers.map((f) => [f.what, f] as const))('refuses %s before running anything', async (_what, f) => {
    const result = await cli(['run', 'answers-runbook.yaml', '--answers', f.name]);
    expectRefusal(result, f);
    expect(result.stderr).toContain(`${f.name} is not a valid answers file`);
    expect(fs.existsSync(path.join(dir, '.deployctl', 'runs'))).toBe(false);
  });
});

describe('loadAnswers on hostile answers files', () => {
  it.each(answers.filter((f) => f.code !== undefined).map((f) => [f.what, f] as const))('names the class of problem in %s, capped', (_what, f) => {
    const runbook = parseRunbookText(ANSWERS_RUNBOOK, 'answers-runbook.yaml');
    if (!runbook.ok) throw new Error('the answers runbook is invalid');
    const started = performance.now();
    const result = loadAnswers(path.join(dir, f.name), runbook.doc);
    expect(performance.now() - started).toBeLessThan(HANG_GUARD_MS);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0]!.code).toBe(f.code);
    expect(result.problems.length).toBeLessThanOrEqual(MAX_PROBLEMS + 1);
    if (f.capped) expect(result.problems[MAX_PROBLEMS]).toMatchObject({ code: 'more-problems', omitted: expect.any(Number) });
  });
});
