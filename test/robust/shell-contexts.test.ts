// Issue 12's corpus: hostile payloads × every shell context the parser tells apart × every value source (--var, answers file, a typed answer, a step's output).
//
// Where a context is refused, the runbook does not load: the problem is at the template's line:col, whatever the
// source. Where a context is allowed, the engine runs the commands for real (/bin/sh through the exec port) and each
// payload must arrive byte for byte, with no marker file created. Each context runs as one step in a directory of its
// own (`cwd:`), so a marker names the payload (its file name) and the context (its directory).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAnswers } from '../../src/engine/answers.js';
import { executeRun } from '../../src/engine/execute.js';
import type { RunEvent } from '../../src/engine/events.js';
import { ALLOWED_CONTEXTS, REFUSED_CONTEXTS, type ShellContext } from '../../src/expr/shell-placement.js';
import { systemClock } from '../../src/ports/clock.js';
import { execCommand } from '../../src/ports/exec.js';
import type { PromptRequest } from '../../src/ports/types.js';
import { parseCheckedRunbookText, type LoadedRunbook } from '../../src/runbook/load.js';
import { HOSTILE_VALUES, yamlQuote, type HostileValue } from '../fixtures/robust/hostile-values.js';

const SLOW = 240_000;

/** Values that are harmless as data but would change a command if they were read as syntax in command position. */
const WORD_VALUES: HostileValue[] = [
  { id: 'assign', what: 'NAME=value', make: () => 'FOO=bar' },
  { id: 'assign-path', what: 'PATH=… (would hide every command)', make: () => 'PATH=/nonexistent' },
  { id: 'assign-ifs', what: 'IFS=… ', make: () => 'IFS=/' },
  { id: 'assign-cmd', what: 'NAME=value then a command', make: (m) => `X=1 touch ${m}` },
  { id: 'reserved-if', what: 'the reserved word if', make: () => 'if' },
  { id: 'reserved-time', what: 'the reserved word time', make: () => 'time' },
  { id: 'brace', what: 'a lone {', make: () => '{' },
  { id: 'bang', what: 'a lone !', make: () => '!' },
  { id: 'dash-dash', what: 'an option that looks like the end of options', make: () => '--' },
];

/** 100 KiB is a size test, not a shell-context one (test/robust/injection.test.ts has it), and would pass ARG_MAX here. */
const PAYLOADS = [...HOSTILE_VALUES.filter((v) => v.id !== 'large'), ...WORD_VALUES];
const marker = (v: HostileValue) => `MARKER-${v.id}`;
const valueOf = (v: HostileValue) => v.make(marker(v));

/** An allowed context: a command that hands the value `T` on and writes what arrived to `R` (or proves it ran on). */
interface AllowedCase {
  context: (typeof ALLOWED_CONTEXTS)[number];
  /** Distinct name of this shape (several shapes share a context). */
  shape: string;
  script: string;
  /** What R holds after the command, given the value that arrived. */
  expect: (value: string) => string;
  /** Payloads this shape cannot carry as data, and why (none may act all the same: the marker check covers them). */
  skip?: (value: string) => boolean;
}

const same = (value: string) => value;

const ALLOWED_CASES: AllowedCase[] = [
  { context: 'argument', shape: 'argument', script: 'printf %s T > R', expect: same },
  { context: 'argument', shape: 'argument-concat', script: 'printf %s [T]--v=T > R', expect: (v) => `[${v}]--v=${v}` },
  { context: 'argument', shape: 'pipeline', script: 'true | printf %s T > R', expect: same },
  { context: 'argument', shape: 'and-list', script: 'false || printf %s T > R', expect: same },
  { context: 'argument', shape: 'if-body', script: 'if true; then printf %s T > R; fi', expect: same },
  { context: 'argument', shape: 'subshell', script: '( printf %s T ) > R', expect: same },
  { context: 'argument', shape: 'group', script: '{ printf %s T; } > R', expect: same },
  { context: 'argument', shape: 'case-branch', script: 'case x in x) printf %s T > R;; esac', expect: same },
  { context: 'argument', shape: 'function-arg', script: 'f() { printf %s "$1"; }; f T > R', expect: same },
  { context: 'argument', shape: 'after-heredoc', script: "cat > /dev/null <<'EOF'\nnot a template: $(x)\nEOF\nprintf %s T > R", expect: same },
  { context: 'argument', shape: 'continued-line', script: 'printf %s \\\n  T > R', expect: same },
  { context: 'command-name', shape: 'command-name', script: 'T > /dev/null 2>&1; printf %s ran > R', expect: () => 'ran' },
  {
    context: 'command-name',
    shape: 'command-name-with-arguments',
    // A value that became an assignment (FOO=bar) or a keyword would run the printf; as a command name it is not found.
    script: 'T printf %s became-syntax > R 2> /dev/null || printf %s ran > R',
    expect: () => 'ran',
    // `time` is a real program on many machines, and runs its arguments: the value chose the program, as it may here.
    skip: (v) => v === 'time',
  },
  { context: 'assignment', shape: 'assignment-prefix', script: "V=T sh -c 'printf %s \"$V\"' > R", expect: same },
  { context: 'assignment', shape: 'assignment', script: 'V=T; printf %s "$V" > R', expect: same },
  {
    context: 'redirect-target',
    shape: 'redirect-target',
    script: 'mkdir -p R.d && printf %s ok > R.d/T 2> /dev/null; ls R.d > R',
    // ls prints a name and a newline; names holding a newline, a slash or nothing cannot be one file.
    expect: (v) => `${v}\n`,
    skip: (v) => v === '' || v === '.' || v === '..' || /[/\n]/.test(v) || Buffer.byteLength(v) > 255,
  },
  { context: 'for-list', shape: 'for-list', script: 'for x in T; do printf %s "$x"; done > R', expect: same },
  { context: 'test-operand', shape: 'test-operand', script: '[ xT = xT ] && printf %s same > R', expect: () => 'same' },
];

/** A refused context, as written in a `|` block: one template (`T`). */
const REFUSED_CASES: Record<Exclude<(typeof REFUSED_CONTEXTS)[number], 'other'>, string> = {
  'single-quotes': "echo 'v=T'",
  'double-quotes': 'echo "v=T"',
  'ansi-c-quotes': 'echo $T',
  'here-document': 'cat > release.conf <<EOF\nversion=T\nEOF',
  comment: 'true # T',
  arithmetic: 'echo $(( T + 1 ))',
  'after-backslash': 'echo \\T',
  backticks: 'echo `echo T`',
  'command-substitution': 'echo "$(echo T)"',
  'process-substitution': 'cat <(echo T)',
  'parameter-expansion': 'echo ${x:-T}',
  'case-pattern': 'case x in T) echo y;; esac',
  'case-subject': 'case T in x) echo y;; esac',
  'double-brackets': '[[ T -eq 1 ]]',
  declaration: 'export V=T',
  array: 'a=(T)',
  descriptor: 'echo x >&T',
  'here-string': 'cat <<< T',
  unparsed: 'echo T )',
};

/** How a value reaches a template, and the template that names value `i`. */
const SOURCES = ['var', 'answers-file', 'prompt', 'step-output'] as const;
type Source = (typeof SOURCES)[number];
const templateFor = (source: Source, i: number) =>
  source === 'var' ? `\${{ vars.v${i} }}` : source === 'step-output' ? `\${{ steps.out${i}.stdout }}` : `\${{ answers.ask${i} }}`;
/** An ask step keeps its answer trimmed (src/steps/manual.ts); the other sources carry the value as it is. */
const arrives = (source: Source, value: string) => (source === 'answers-file' || source === 'prompt' ? value.trim() : value);

const root = path.join(os.tmpdir(), `deployctl-shell-contexts-${process.pid}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The YAML of a runbook: `producers` (ask or output steps), then one step per case, each in its own directory. */
function runbookYaml(source: Source, cases: { id: string; script: string; cwd?: string }[]): string {
  const lines = ['version: 1', 'name: shell-contexts', 'roles: { ops: { title: Ops } }'];
  if (source === 'var') lines.push('vars:', ...PAYLOADS.map((_, i) => `  v${i}: harmless`));
  lines.push('phases:', '  - id: p', '    steps:');
  PAYLOADS.forEach((v, i) => {
    if (source === 'answers-file' || source === 'prompt') lines.push(`      - { id: ask${i}, owner: ops, ask: ${JSON.stringify(`Value ${v.id}?`)} }`);
    if (source === 'step-output') lines.push(`      - { id: out${i}, owner: ops, run: [cat, values/${i}] }`);
  });
  for (const c of cases) {
    lines.push(`      - id: ${c.id}`, '        owner: ops', ...(c.cwd !== undefined ? [`        cwd: ${c.cwd}`] : []), '        run: |', ...c.script.split('\n').map((l) => `          ${l}`));
  }
  return `${lines.join('\n')}\n`;
}

/** The script of one allowed case: its shape once per payload, each writing to its own result file r<i>. */
function caseScript(c: AllowedCase, source: Source): string {
  return PAYLOADS.map((_, i) => c.script.replaceAll('T', templateFor(source, i)).replaceAll('R', `r${i}`)).join('\n');
}

async function load(text: string, dir: string): Promise<LoadedRunbook> {
  const parsed = await parseCheckedRunbookText(text, 'corpus.yaml');
  if (!parsed.ok) throw new Error(`corpus runbook refused:\n${parsed.problems.map((p) => `${p.line}:${p.col} ${p.message}`).join('\n')}`);
  return { doc: parsed.doc, locate: parsed.locate, source: { path: 'corpus.yaml', dir, bytes: new TextEncoder().encode(text), sha256: 'test' } };
}

async function runSource(source: Source): Promise<{ dir: string; events: RunEvent[]; exitCode: number }> {
  const dir = path.join(root, source);
  mkdirSync(path.join(dir, 'values'), { recursive: true });
  const cases = ALLOWED_CASES.map((c) => ({ id: c.shape, cwd: c.shape, script: caseScript(c, source) }));
  for (const c of cases) mkdirSync(path.join(dir, c.cwd), { recursive: true });
  PAYLOADS.forEach((v, i) => writeFileSync(path.join(dir, 'values', String(i)), valueOf(v)));
  const runbook = await load(runbookYaml(source, cases), dir);

  const vars: Record<string, string> = {};
  let answers = new Map<string, string | boolean | string[]>();
  let prompter: { ask(request: PromptRequest): Promise<string> } | undefined;
  if (source === 'var') PAYLOADS.forEach((v, i) => (vars[`v${i}`] = valueOf(v)));
  if (source === 'answers-file') {
    // Through the answers-file loader, as `--answers` reads it.
    const text = PAYLOADS.map((v, i) => `ask${i}: ${yamlQuote(valueOf(v))}`).join('\n');
    const loaded = loadAnswers('answers.yaml', runbook.doc, () => ({ ok: true, bytes: new TextEncoder().encode(text) }));
    if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
    answers = new Map(loaded.answers);
  }
  if (source === 'prompt') prompter = { ask: async (request) => valueOf(PAYLOADS[Number(request.id.slice(3))]!) };

  const events: RunEvent[] = [];
  const result = await executeRun(
    runbook,
    { runId: '20261206T000000Z-c0ffee', operator: 'corpus', host: 'test', toolVersion: '0.0.0-test', pid: 4242, vars, dryRun: false, signal: new AbortController().signal },
    {
      exec: execCommand,
      send: async () => ({ ok: false, error: 'no network here', durationMs: 0, timedOut: false }),
      clock: systemClock,
      prompter,
      answers,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8' },
      secretValues: [],
      mask: (text) => text,
      emit: (event) => events.push(event),
    },
  );
  return { dir, events, exitCode: result.exitCode };
}

/** Marker files anywhere under `dir`, as `<context directory>/<marker>`: which payload acted, and where. */
function markers(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => path.basename(f).startsWith('MARKER') && !f.includes('.d/'));
}

describe('the corpus', () => {
  it(`has at least 40 payloads (${PAYLOADS.length}) and a case for every context the placement tells apart`, () => {
    expect(PAYLOADS.length).toBeGreaterThanOrEqual(40);
    const covered = new Set<ShellContext>([...ALLOWED_CASES.map((c) => c.context), ...(Object.keys(REFUSED_CASES) as ShellContext[])]);
    // 'other' is the catch-all for a parse this module does not name; every named context has a case.
    expect([...ALLOWED_CONTEXTS, ...REFUSED_CONTEXTS].filter((c) => c !== 'other' && !covered.has(c))).toEqual([]);
  });
});

describe.each(SOURCES)('a value from %s', (source) => {
  it.each(Object.entries(REFUSED_CASES))('in %s: the runbook is refused at the template, so nothing can run', async (_context, script) => {
    const template = templateFor(source, 0);
    const text = runbookYaml(source, [{ id: 'consumer', script: `touch first-ran\n${script.replaceAll('T', template)}` }]);
    const result = await parseCheckedRunbookText(text, 'corpus.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const offset = text.lastIndexOf(template);
    const before = text.slice(0, offset);
    expect(result.problems).toEqual([expect.objectContaining({ line: before.split('\n').length, col: offset - before.lastIndexOf('\n') })]);
  });

  it(`in every allowed context (${ALLOWED_CASES.length} shapes) × ${PAYLOADS.length} payloads: arrives byte for byte, and nothing acts`, { timeout: SLOW }, async () => {
    const { dir, events, exitCode } = await runSource(source);
    expect(markers(dir), 'marker files (context/marker): a payload ran as code').toEqual([]);
    const failed = events.filter((e) => e.kind === 'step-finished' && e.outcome.status !== 'succeeded').map((e) => ('stepId' in e ? e.stepId : ''));
    expect(failed, 'steps that did not succeed').toEqual([]);
    expect(exitCode).toBe(0);

    const mismatches: string[] = [];
    for (const c of ALLOWED_CASES) {
      PAYLOADS.forEach((v, i) => {
        const value = arrives(source, valueOf(v));
        if (c.skip?.(value) === true) return;
        const file = path.join(dir, c.shape, `r${i}`);
        const got = existsSync(file) ? readFileSync(file, 'utf8') : '(no result file)';
        if (got !== c.expect(value)) mismatches.push(`${c.shape} × ${v.id}: got ${JSON.stringify(got.slice(0, 80))}, expected ${JSON.stringify(c.expect(value).slice(0, 80))}`);
      });
    }
    expect(mismatches).toEqual([]);
  });
});
