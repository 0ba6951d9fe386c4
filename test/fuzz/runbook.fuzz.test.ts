// Fuzzing the runbook loader and a dry run (issue 7 item 3): mutated runbooks give positioned problems or a dry run that executes nothing; never a throw, never over 2 s.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { compileExpression, evaluateExpression } from '../../src/expr/cel.js';
import type { HttpSend, Prompter } from '../../src/ports/types.js';
import { loadRunbook, parseRunbookText, type LoadedRunbook, type LoadResult } from '../../src/runbook/load.js';
import type { Problem } from '../../src/runbook/problem.js';
import { fakeExec, harness, inlineRunbook } from '../helpers/engine-fakes.js';
import { SEEDS } from './seeds.js';
import {
  applyByteOps,
  applyLineOps,
  applyTreeOps,
  byteOps,
  fuzzParams,
  lenientText,
  lineOps,
  maxLine,
  parseSeed,
  PROPERTY_TIMEOUT_MS,
  toYaml,
  treeOps,
  yamlStyle,
} from './mutators.js';

const FILE = 'fuzz.yaml';
const LIMIT_MS = 2000;

const SEED_NAMES = Object.keys(SEEDS);
const SEED_BYTES = Object.fromEntries(SEED_NAMES.map((n) => [n, new TextEncoder().encode(SEEDS[n]!)]));
const SEED_VALUES = Object.fromEntries(SEED_NAMES.map((n) => [n, parseSeed(SEEDS[n]!)]));
const seedName = fc.constantFrom(...SEED_NAMES);

/** Keep a failing input where a person can open it, and say where in the assertion message. */
function saveFailure(kind: string, content: string | Uint8Array): string {
  const dir = path.join(os.tmpdir(), 'deployctl-fuzz-failures');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${kind}-${createHash('sha256').update(content).digest('hex').slice(0, 12)}.yaml`);
  writeFileSync(file, content);
  return file;
}

function checkProblems(problems: readonly Problem[], text: string, where: string): void {
  expect(problems.length, `${where}: a refusal names at least one problem`).toBeGreaterThan(0);
  const lastLine = maxLine(text);
  for (const p of problems) {
    const at = `${where}: ${JSON.stringify(p).slice(0, 300)}`;
    expect(p.file, at).toBe(FILE);
    expect(Number.isInteger(p.line) && p.line >= 1 && p.line <= lastLine, `${at}: line within 1..${lastLine}`).toBe(true);
    expect(Number.isInteger(p.col) && p.col >= 1, `${at}: col >= 1`).toBe(true);
    expect(typeof p.message === 'string' && p.message.trim() !== '', `${at}: a message`).toBe(true);
    expect(typeof p.code === 'string' && p.code !== '', `${at}: a code`).toBe(true);
  }
}

/** Dry run with ports that record any use: nothing may be executed, sent or asked. */
async function checkDryRun(runbook: LoadedRunbook, where: string): Promise<void> {
  const exec = fakeExec({});
  const sent: string[] = [];
  const send: HttpSend = async (request) => {
    sent.push(String((request as { url?: unknown }).url));
    return { ok: false, error: 'fuzz: no network', durationMs: 0, timedOut: false };
  };
  const asked: string[] = [];
  const prompter: Prompter = {
    async ask(request) {
      asked.push(request.id);
      throw new Error(`a dry run asked ${request.id}`);
    },
  };
  const h = harness();
  const started = performance.now();
  const result = await h.run(runbook, { dryRun: true }, { exec, send, prompter });
  const ms = performance.now() - started;
  expect(ms, `${where}: dry run took ${ms.toFixed(0)} ms`).toBeLessThan(LIMIT_MS);
  expect(exec.calls, `${where}: a dry run executes nothing`).toEqual([]);
  expect(sent, `${where}: a dry run sends no request`).toEqual([]);
  expect(asked, `${where}: a dry run asks nobody`).toEqual([]);
  const last = h.events[h.events.length - 1];
  expect(last?.kind, `${where}: the run finishes`).toBe('run-finished');
  // A dry run assumes GO, skips every action and shows templates it cannot resolve yet as written, so it ends 0.
  expect({ exitCode: result.exitCode, status: result.status }, `${where}: ${result.reason ?? ''}`).toEqual({ exitCode: 0, status: 'succeeded' });
}

/** One mutant end to end: load (bytes through readSource, or text straight to the parser), then dry-run what loads. */
async function checkMutant(kind: string, input: Uint8Array | string): Promise<void> {
  const text = typeof input === 'string' ? input : lenientText(input);
  let saved: string | undefined;
  const where = () => (saved ??= saveFailure(kind, input));
  const started = performance.now();
  let result: LoadResult | ReturnType<typeof parseRunbookText>;
  try {
    result = typeof input === 'string' ? parseRunbookText(input, FILE) : loadRunbook(FILE, () => ({ ok: true, bytes: input }));
  } catch (error) {
    throw new Error(`loading threw (${where()}): ${(error as Error).stack ?? String(error)}`);
  }
  const ms = performance.now() - started;
  if (ms >= LIMIT_MS) expect.fail(`loading took ${ms.toFixed(0)} ms (${where()})`);
  if (!result.ok) {
    if (result.problems.length === 0 || result.problems.some((p) => !(p.line >= 1 && p.col >= 1 && p.message.trim() !== '' && p.line <= maxLine(text) && p.file === FILE))) {
      checkProblems(result.problems, text, where());
    }
    return;
  }
  const runbook: LoadedRunbook =
    'runbook' in result
      ? result.runbook
      : (() => {
          const bytes = new TextEncoder().encode(input as string);
          return { doc: result.doc, locate: result.locate, source: { path: FILE, dir: os.tmpdir(), bytes, sha256: createHash('sha256').update(bytes).digest('hex') } };
        })();
  try {
    await checkDryRun(runbook, `dry run of ${kind}`);
  } catch (error) {
    throw new Error(`${(error as Error).message} (${where()})`, { cause: error });
  }
}

describe('fuzzing the runbook loader and dry run', () => {
  // Regression (found by the structural fuzzer): a step that is not a mapping made the schema formatter throw
  // (`'run' in "Deployment Lead"`, schema.ts describeOneOf) instead of saying what is wrong.
  it.each(['Deployment Lead', 'false', '12', '~', '[a, b]'])('says a step written as %s must be a mapping, once, at its position', (step) => {
    const text = `version: 1\nname: n\nroles: { devops: { title: D } }\nphases:\n  - id: p\n    steps:\n      - ${step}\n    rollback:\n      - ${step}\n`;
    const result = parseRunbookText(text, FILE);
    expect(result.ok ? [] : result.problems.map((p) => `${p.line}:${p.col} ${p.code}`)).toEqual(['7:9 wrong-type', '9:9 wrong-type']);
    expect(result.ok || result.problems[0]!.message).toMatch(/^phase 'p' steps\[0\] must be a mapping, got /);
  });

  // Regression (found by this fuzzer): a dry run skips confirm/checklist/ask steps, so a later template such as
  // `deploy ${{ answers['on-call'] }}` could not render and the dry run of a valid runbook ended with exit 1.
  it('dry-runs a valid runbook whose commands need answers, step output or an unset env with exit 0, showing them as written', async () => {
    const runbook = inlineRunbook(`
version: 1
name: n
roles: { devops: { title: D } }
phases:
  - id: p
    steps:
      - { id: who, owner: devops, ask: Who is on call? }
      - { id: a, owner: devops, run: "deploy \${{ answers.who }}" }
      - { id: b, owner: devops, run: [echo, "\${{ steps.a.stdout.trim() }}", "\${{ env.SURELY_UNSET_VAR }}"], if: "steps.a.stdout.size() / 0 > 1" }
      - { id: c, owner: devops, http: { url: "http://127.0.0.1:9/\${{ answers.who }}" } }
`);
    const h = harness();
    const exec = fakeExec({});
    const result = await h.run(runbook, { dryRun: true }, { exec });
    expect(result.exitCode).toBe(0);
    expect(exec.calls).toEqual([]);
    const commands = h.events.flatMap((e) => (e.kind === 'step-finished' ? [[e.stepId, e.outcome.status, e.outcome.command]] : []));
    expect(commands).toEqual([
      ['who', 'skipped', undefined],
      ['a', 'skipped', 'deploy ${{ answers.who }}'],
      ['b', 'skipped', 'echo ${{ steps.a.stdout.trim() }} ${{ env.SURELY_UNSET_VAR }}'],
      ['c', 'skipped', 'GET http://127.0.0.1:9/${{ answers.who }}'],
    ]);
  });

  // Regression (found while fuzzing dry runs): evaluation had no time limit. cel-js runs matches() on JavaScript's
  // backtracking RegExp, and nested comprehensions multiply, so one valid `if:` could hang a dry run for hours.
  const list = (n: number) => `[${Array.from({ length: n }, (_, i) => i).join(', ')}]`;
  it.each([
    ['a backtracking matches()', `vars.x.matches('^(a+)+$')`],
    ['nested comprehensions', `${list(60)}.all(a, ${list(60)}.all(b, ${list(60)}.all(c, ${list(60)}.all(d, a + b + c + d >= 0))))`],
  ])('stops evaluating %s and says why, well within 2 s', (_name, source) => {
    const compiled = compileExpression(source);
    if (!compiled.ok) throw new Error(compiled.message);
    const started = performance.now();
    const result = evaluateExpression(compiled.expression, { vars: { x: `${'a'.repeat(40)}!` } });
    expect(performance.now() - started).toBeLessThan(LIMIT_MS);
    expect(result).toEqual({ ok: false, message: expect.stringMatching(/took longer than \d+ ms/) });
  });

  it('fails a step whose if: backtracks forever, within 2 s (a dry run shows the step instead of deciding)', async () => {
    const text = `version: 1\nname: slow\nroles: { devops: { title: D } }\nvars: { x: "${'a'.repeat(40)}!" }\nphases:\n  - id: p\n    steps:\n      - { id: s, owner: devops, run: echo, if: "vars.x.matches('^(a+)+$')" }\n`;
    const parsed = parseRunbookText(text, FILE);
    if (!parsed.ok) throw new Error(parsed.problems[0]!.message);
    const bytes = new TextEncoder().encode(text);
    const h = harness();
    const started = performance.now();
    const runbook = { doc: parsed.doc, locate: parsed.locate, source: { path: FILE, dir: os.tmpdir(), bytes, sha256: '0'.repeat(64) } };
    const exec = fakeExec({ echo: {} });
    const result = await h.run(runbook, {}, { exec });
    expect(performance.now() - started).toBeLessThan(LIMIT_MS);
    expect(result).toMatchObject({ exitCode: 1, status: 'failed', reason: expect.stringContaining('took longer than') });
    expect(exec.calls).toEqual([]);
    const dry = await harness().run(runbook, { dryRun: true }, { exec });
    expect(dry.exitCode).toBe(0);
    expect(exec.calls).toEqual([]);
  });

  it('starts from seeds that all load, and dry-runs them without executing anything', async () => {
    for (const name of SEED_NAMES) {
      const parsed = parseRunbookText(SEEDS[name]!, FILE);
      expect(parsed.ok ? [] : parsed.problems.map((p) => `${p.line}:${p.col} ${p.message}`), name).toEqual([]);
      await checkMutant(`seed-${path.basename(name)}`, SEED_BYTES[name]!);
    }
  });

  it('refuses byte-mutated runbooks with positioned problems, or dry-runs them without executing anything', { timeout: PROPERTY_TIMEOUT_MS }, async () => {
    await fc.assert(
      fc.asyncProperty(seedName, byteOps, async (seed, ops) => checkMutant('bytes', applyByteOps(SEED_BYTES[seed]!, ops))),
      fuzzParams(400),
    );
  });

  it('refuses line-mutated runbooks with positioned problems, or dry-runs them without executing anything', { timeout: PROPERTY_TIMEOUT_MS }, async () => {
    await fc.assert(
      fc.asyncProperty(seedName, lineOps, async (seed, ops) => checkMutant('lines', new TextEncoder().encode(applyLineOps(SEEDS[seed]!, ops)))),
      fuzzParams(300),
    );
  });

  it('refuses structurally mutated runbooks with positioned problems, or dry-runs them without executing anything', { timeout: PROPERTY_TIMEOUT_MS }, async () => {
    await fc.assert(
      fc.asyncProperty(seedName, treeOps, yamlStyle, async (seed, ops, style) => {
        let text: string;
        try {
          text = toYaml(applyTreeOps(SEED_VALUES[seed], ops), style);
        } catch {
          // The yaml library could not write this value back out: nothing to feed the loader.
          fc.pre(false);
          return;
        }
        await checkMutant('tree', text);
      }),
      fuzzParams(500),
    );
  });
});
