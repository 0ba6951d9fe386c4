// Issue 7 item 4: every hostile value, through --var, the answers file and step outputs, reaches shell-string, argv and env steps as data, byte for byte.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_KEEP_BYTES, DEFAULT_TAIL_BYTES } from '../../src/engine/output.js';
import { HOSTILE_VALUES, NUL_VALUE, hugeValue, yamlQuote, type HostileValue } from '../fixtures/robust/hostile-values.js';
import { assertBuilt, killAllClis, recordFiles, runCli, stackTraceLines, type CliResult } from '../helpers/cli.js';
import { cleanWorkspaces, markersIn, recordedSteps, workspace, writeRunbook, type RecordedStep } from './helpers.js';

/** A few hundred real processes per run on a machine that may be busy with other suites. */
const SLOW = 120_000;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
const markerOf = (v: HostileValue) => `MARKER-${v.id}`;

/** How a step hands its input to a command: as one shell word, as one argv item, or in the environment. */
const FORMS = ['shell', 'argv', 'env'] as const;
type Form = (typeof FORMS)[number];

/**
 * A step that prints `template`'s value exactly (printf %s), or, for values longer than the record's tail,
 * its sha256 (so the record shows whether every byte arrived).
 */
function echoStep(id: string, form: Form, template: string, hashed: boolean): Record<string, unknown> {
  const base = { id, owner: 'ops' };
  const pipe = hashed ? ' | sha256sum' : '';
  switch (form) {
    case 'shell':
      return { ...base, run: `printf %s ${template}${pipe}` };
    case 'argv':
      return hashed ? { ...base, run: ['sh', '-c', 'printf %s "$1" | sha256sum', 'sh', template] } : { ...base, run: ['printf', '%s', template] };
    case 'env':
      return { ...base, env: { VALUE: template }, run: `printf %s "$VALUE"${pipe}` };
  }
}

const isHashed = (value: string) => bytes(value) > DEFAULT_TAIL_BYTES;

/** What the record must show for a step that printed `value` (itself, or its hash). */
function expectedStdout(value: string): { text: string; truncated_bytes: number } {
  return isHashed(value) ? { text: `${sha256(value)}  -\n`, truncated_bytes: 0 } : { text: value, truncated_bytes: 0 };
}

function expectCleanRun(result: CliResult, dir: string): void {
  expect(result.timedOut).toBe(false);
  expect(stackTraceLines(result.stdout + result.stderr)).toEqual([]);
  expect(markersIn(dir), 'marker files: a value acted as code').toEqual([]);
}

/** Mismatches between what each step printed and what it should have, as readable lines (an empty list passes). */
function mismatches(steps: Map<string, RecordedStep>, expected: [stepId: string, value: string][]): string[] {
  const out: string[] = [];
  for (const [id, value] of expected) {
    const step = steps.get(id);
    const want = expectedStdout(value);
    if (step?.status !== 'succeeded') out.push(`${id}: ${step?.status ?? 'missing'} ${step?.reason ?? ''}`);
    else if (step.stdout?.text !== want.text || step.stdout.truncated_bytes !== want.truncated_bytes) {
      out.push(`${id}: printed ${JSON.stringify(step.stdout)}, expected ${JSON.stringify(want).slice(0, 200)}`);
    }
  }
  return out;
}

const ROLES = { ops: { title: 'Operator' } };

beforeAll(() => assertBuilt());

afterEach(async () => {
  await killAllClis();
  expect(cleanWorkspaces(), 'processes left running').toEqual([]);
});

describe(`${HOSTILE_VALUES.length} hostile values`, { timeout: SLOW }, () => {
  it('the corpus has at least 50 distinct values, each marker attempt names its own marker', () => {
    expect(HOSTILE_VALUES.length).toBeGreaterThanOrEqual(50);
    expect(new Set(HOSTILE_VALUES.map((v) => v.id)).size).toBe(HOSTILE_VALUES.length);
    expect(new Set(HOSTILE_VALUES.map((v) => v.make('M'))).size).toBe(HOSTILE_VALUES.length);
    for (const v of HOSTILE_VALUES) expect(v.make('M'), v.id).not.toContain('\0');
  });

  it('given with --var, reach shell, argv and env steps as data, byte for byte, and none acts', async () => {
    const dir = workspace('var');
    const vars: Record<string, string> = {};
    const steps: Record<string, unknown>[] = [];
    const args: string[] = [];
    const expected: [string, string][] = [];
    HOSTILE_VALUES.forEach((v, i) => {
      const value = v.make(markerOf(v));
      vars[`v${i}`] = 'harmless';
      args.push('--var', `v${i}=${value}`);
      for (const form of FORMS) {
        steps.push(echoStep(`${form}-${v.id}`, form, `\${{ vars.v${i} }}`, isHashed(value)));
        expected.push([`${form}-${v.id}`, value]);
      }
    });
    const file = writeRunbook(dir, { version: 1, name: 'hostile-vars', roles: ROLES, vars, phases: [{ id: 'echo', steps }] });

    const result = await runCli(['run', file, ...args], { cwd: dir, timeoutMs: SLOW - 10_000 });
    expectCleanRun(result, dir);
    expect(result.code, result.stderr).toBe(0);
    expect(mismatches(recordedSteps(dir), expected)).toEqual([]);
  });

  it('given as ask answers in the answers file, reach shell, argv and env steps as data, byte for byte, and none acts', async () => {
    const dir = workspace('answers');
    const steps: Record<string, unknown>[] = [];
    const answers: string[] = [];
    const expected: [string, string][] = [];
    for (const v of HOSTILE_VALUES) {
      const value = v.make(markerOf(v));
      steps.push({ id: `ask-${v.id}`, owner: 'ops', ask: `Value ${v.what}?` });
      answers.push(`ask-${v.id}: ${yamlQuote(value)}`);
      for (const form of FORMS) {
        steps.push(echoStep(`${form}-${v.id}`, form, `\${{ answers['ask-${v.id}'] }}`, isHashed(value)));
        // An ask step keeps its answer trimmed (src/steps/manual.ts, as typed at a prompt): whitespace at either end goes.
        expected.push([`${form}-${v.id}`, value.trim()]);
      }
    }
    const file = writeRunbook(dir, { version: 1, name: 'hostile-answers', roles: ROLES, phases: [{ id: 'echo', steps }] });
    writeFileSync(path.join(dir, 'answers.yaml'), `${answers.join('\n')}\n`);

    const result = await runCli(['run', file, '--answers', 'answers.yaml'], { cwd: dir, timeoutMs: SLOW - 10_000 });
    expectCleanRun(result, dir);
    expect(result.code, result.stderr).toBe(0);
    const recorded = recordedSteps(dir);
    expect(mismatches(recorded, expected)).toEqual([]);
    // The record keeps each answer as given.
    for (const v of HOSTILE_VALUES) expect(recorded.get(`ask-${v.id}`)?.answer, v.id).toBe(v.make(markerOf(v)).trim());
  });

  it('printed by one step, reach later shell, argv and env steps through ${{ steps.x.stdout }} as data, and none acts', async () => {
    const dir = workspace('outputs');
    mkdirSync(path.join(dir, 'values'));
    const steps: Record<string, unknown>[] = [];
    const expected: [string, string][] = [];
    for (const v of HOSTILE_VALUES) {
      const value = v.make(markerOf(v));
      writeFileSync(path.join(dir, 'values', v.id), value);
      steps.push({ id: `out-${v.id}`, owner: 'ops', run: ['cat', `values/${v.id}`] });
      // Later expressions see the last 64 KiB of a step's output (DEFAULT_KEEP_BYTES): a longer value arrives as its end.
      const seen = bytes(value) > DEFAULT_KEEP_BYTES ? value.slice(-DEFAULT_KEEP_BYTES) : value;
      for (const form of FORMS) {
        steps.push(echoStep(`${form}-${v.id}`, form, `\${{ steps['out-${v.id}'].stdout }}`, isHashed(value)));
        expected.push([`${form}-${v.id}`, seen]);
      }
    }
    const file = writeRunbook(dir, { version: 1, name: 'hostile-outputs', roles: ROLES, phases: [{ id: 'echo', steps }] });

    const result = await runCli(['run', file], { cwd: dir, timeoutMs: SLOW - 10_000 });
    expectCleanRun(result, dir);
    expect(result.code, result.stderr).toBe(0);
    expect(mismatches(recordedSteps(dir), expected)).toEqual([]);
  });
});

describe('values no command can receive', { timeout: SLOW }, () => {
  /**
   * One runbook; `--var case=…` picks the one consumer step that runs (a refusal fails the step, and a failed step ends the run).
   * A producer prints a NUL; the answers file holds a 1 MB answer.
   */
  const HUGE_MARKER = 'MARKER-huge';
  const huge = hugeValue(HUGE_MARKER);
  const sources = { 'output-nul': `steps['out-nul'].stdout`, 'answer-huge': `answers['ask-huge']` } as const;
  const cases = Object.entries(sources).flatMap(([source, expr]) => FORMS.map((form) => ({ name: `${source}-${form}`, source, form, expr })));

  function setUp(answers: string): string {
    const dir = workspace('refused');
    const consumers = cases.map((c) => ({ ...echoStep(c.name, c.form, `\${{ ${c.expr} }}`, false), if: `vars.case == '${c.name}'` }));
    writeRunbook(dir, {
      version: 1,
      name: 'refused',
      roles: ROLES,
      vars: { case: 'none' },
      phases: [
        {
          id: 'refused',
          steps: [
            { id: 'first', owner: 'ops', run: 'touch first-ran' },
            { id: 'ask-huge', owner: 'ops', ask: 'A 1 MB value?' },
            { id: 'out-nul', owner: 'ops', run: `printf 'before\\000after'` },
            ...consumers,
            { id: 'after', owner: 'ops', run: 'touch after-ran' },
          ],
        },
      ],
    });
    writeFileSync(path.join(dir, 'answers.yaml'), answers);
    return dir;
  }

  it('refuses an answers file with a NUL in an answer before anything runs, saying where and why', async () => {
    const dir = setUp(`ask-huge: ${yamlQuote(NUL_VALUE)}\n`);
    const result = await runCli(['run', 'runbook.yaml', '--answers', 'answers.yaml'], { cwd: dir, timeoutMs: 60_000 });
    expectCleanRun(result, dir);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/answers\.yaml:1:\d+: .*NUL character/);
    expect(existsSync(path.join(dir, 'first-ran'))).toBe(false);
    expect(recordFiles(dir)).toEqual([]);
  });

  it.each(cases.filter((c) => c.source === 'output-nul').map((c) => [c.name]))(
    'refuses a NUL in a step output (%s) before spawning, with a reason, and stops the run',
    async (name) => {
      const dir = setUp(`ask-huge: small\n`);
      const result = await runCli(['run', 'runbook.yaml', '--answers', 'answers.yaml', '--var', `case=${name}`], { cwd: dir, timeoutMs: 60_000 });
      expectCleanRun(result, dir);
      expect(result.code, result.stderr).toBe(1);
      const steps = recordedSteps(dir);
      // The producer really printed a NUL: the test would pass vacuously otherwise.
      expect(steps.get('out-nul')?.stdout?.text).toBe(NUL_VALUE);
      const step = steps.get(name);
      expect(step?.status).toBe('failed');
      expect(step?.reason).toMatch(/NUL character/);
      expect(step?.exit_code ?? undefined, 'never spawned: no exit code').toBeUndefined();
      expect(step?.stdout).toBeUndefined();
      expect(steps.get('after')?.status).toBe('not-run');
    },
  );

  it.each(cases.filter((c) => c.source === 'answer-huge').map((c) => [c.name]))(
    'fails a 1 MB value (%s) at spawn with a reason that says why, and nothing acts',
    async (name) => {
      const dir = setUp(`ask-huge: ${yamlQuote(huge)}\n`);
      const result = await runCli(['run', 'runbook.yaml', '--answers', 'answers.yaml', '--var', `case=${name}`], { cwd: dir, timeoutMs: 60_000 });
      expectCleanRun(result, dir);
      expect(result.code, result.stderr).toBe(1);
      const steps = recordedSteps(dir);
      expect(steps.get('ask-huge')?.answer).toBe(huge);
      const step = steps.get(name);
      expect(step?.status).toBe('failed');
      expect(step?.reason).toMatch(/too long/);
      expect(step?.exit_code ?? undefined).toBeUndefined();
      expect(steps.get('after')?.status).toBe('not-run');
    },
  );
});
