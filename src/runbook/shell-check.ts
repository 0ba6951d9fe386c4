// Issue 12: every template in a `run:` command, placed by src/expr/shell-placement.ts; a refused one is a problem at its file:line:col, a re-parsed one a warning.
import { needsShellParser, placeArgvTemplates, placeShellTemplates, type RefusedContext, type ReparseWarning } from '../expr/shell-placement.js';
import { splitTemplate } from '../expr/template.js';
import { ShellParserUnavailable } from '../expr/shell-parser.js';
import { MAX_SHELL_NESTING, shellNesting } from '../expr/shell-nesting.js';
import { MAX_PROBLEMS, type Problem } from './problem.js';
import type { RunbookDoc, StepDoc } from './types.js';
import type { Locator } from './yaml.js';

type Path = (string | number)[];

/**
 * Refused templates reported before the check stops (the loader's cap on problems): past the first few the rest are
 * usually the same mistake, and a hostile file full of them must not keep `validate` parsing.
 */
export const MAX_SHELL_PROBLEMS = MAX_PROBLEMS;

/**
 * Templates in commands that need the parser, per runbook. A real runbook has a few dozen; a file built to make
 * `validate` slow (a megabyte of templated commands, ~0.15 ms each to place) is refused here instead.
 */
export const MAX_PARSED_TEMPLATES = 2000;

/**
 * Characters of commands that need the parser, per runbook. Parsing and placing costs 1–5 µs a character: a real
 * runbook has a few KiB of such commands; a megabyte of them (fifty 20 KB commands) would take seconds, and loading the parser alone costs about as much as validating phase65.
 */
export const MAX_PARSED_BYTES = 128 * 1024;

export interface ShellCheck {
  problems: Problem[];
  /** Not errors: a template feeding a command that parses it again (`sh -c`, `ssh`, `eval`, …). */
  warnings: Problem[];
}

/** Why each refused context is refused, completing "template <here>: <why>". */
const REFUSALS: Record<RefusedContext, { where: string; why: string; code?: string }> = {
  'single-quotes': { where: "inside shell quotes ('…')", why: "the quote that starts the value ends yours, and the value runs as shell syntax", code: 'template-in-quotes' },
  'double-quotes': { where: 'inside shell quotes ("…")', why: 'the shell expands $( ), `…` and $VAR in the value there, and the quotes deployctl adds would stay in it', code: 'template-in-quotes' },
  'ansi-c-quotes': { where: "after a $ ($'…', ANSI-C quoting in bash)", why: "bash turns the value's backslash escapes into quotes there, which can end it" },
  'here-document': { where: 'in a here-document', why: 'the shell expands $( ), `…` and $VAR in its text, and a line of the value equal to the delimiter would end it early' },
  comment: { where: 'in a comment', why: 'a newline in the value ends the comment, and what follows it runs' },
  arithmetic: { where: 'in arithmetic ($(( )), (( )), let, for (( )))', why: "the shell evaluates the value as an expression, and bash runs a $( ) in an array index there" },
  'after-backslash': { where: 'after a backslash', why: "the backslash escapes the value's opening quote, so the value is read unquoted" },
  backticks: { where: 'inside backticks (`…`)', why: 'the command inside backticks is parsed a second time, after backslashes are removed' },
  'command-substitution': { where: 'inside $( )', why: 'the command inside $( ) is a script of its own, which deployctl does not follow templates into' },
  'process-substitution': { where: 'inside a process substitution (<( ) or >( ))', why: 'the command inside is a script of its own, which deployctl does not follow templates into' },
  'parameter-expansion': { where: 'in a parameter expansion (${…})', why: 'its words are expanded again, and inside "…" the quotes deployctl adds would stay in the value' },
  'case-pattern': { where: 'in a case pattern', why: 'the value is a pattern there, not a word passed on to a command' },
  'case-subject': { where: 'as the word a case statement tests', why: 'the value is matched there, not passed on to a command as one word' },
  'double-brackets': { where: 'in [[ ]]', why: "bash evaluates the operands of -eq, -lt … as arithmetic (running a $( ) in an array index), and the right side of == is a pattern" },
  declaration: { where: 'in export, local, declare, typeset, readonly or unset', why: 'bash evaluates the value as code when the variable is an integer or an array, and a name with an array index' },
  array: { where: 'in an array ( … )', why: 'bash evaluates [index]= keys inside an array assignment' },
  descriptor: { where: 'as a file descriptor (>&, <&)', why: 'the value chooses a descriptor to write to, or becomes a file name, depending on what it holds' },
  'here-string': { where: 'in a here-string (<<<)', why: '/bin/sh (dash) has no <<<, and bash expands the word' },
  unparsed: { where: 'in a command deployctl cannot read', why: 'the bash grammar does not parse it, so nothing shows that the value stays one word', code: 'template-unparsed' },
  other: { where: 'where the shell does not pass a value on as one word', why: 'templates go only in arguments, the command name, assignments, redirection targets and for lists' },
};

/** `vars.version` → VERSION, `answers['change-ticket']` → CHANGE_TICKET, `steps.out.stdout` → OUT_STDOUT. */
export function envNameFor(expression: string): string {
  const name = expression
    .replace(/^(vars|answers|env)\s*(\.|\[)/, '')
    .replace(/^steps\s*(\.|\[)/, '')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase();
  return /^[A-Z_][A-Z0-9_]*$/.test(name) && name.length <= 40 ? name : 'VALUE';
}

function fix(expression: string): string {
  const name = envNameFor(expression);
  return `pass it in the step's env instead (env: { ${name}: "\${{ ${expression} }}" }) and write "$${name}" in the command: the shell never parses a variable's value again`;
}

function warningText(warning: ReparseWarning, expression: string): string {
  const name = envNameFor(expression);
  const env = warning.remote === true ? '' : `, or pass it in env: (${name}: "\${{ ${expression} }}") and write "$${name}" inside the code instead`;
  return `warning: \${{ ${expression} }} feeds ${warning.command}: ${warning.why}, so the quotes deployctl puts around the value do not protect it. Constrain the value where it enters (pattern: on the var or the ask step)${env}`;
}

function locateAt(locate: Locator, path: Path, offset: number): { line: number; col: number } {
  return locate.inside(path, offset);
}

/** The lists of steps a phase holds: every `run:` in any of them is checked (test/runbook/shell-check.test.ts finds them in the schema). */
export const STEP_LISTS = ['steps', 'rollback', 'finally'] as const;

/** Every `run:` of every step, rollback step and finally step, and of every watch's checks (a tick runs them alike), with its path. */
function runsOf(doc: RunbookDoc): { step: Pick<StepDoc, 'run'>; path: Path }[] {
  const out: { step: Pick<StepDoc, 'run'>; path: Path }[] = [];
  doc.phases.forEach((phase, p) => {
    for (const list of STEP_LISTS) {
      (phase[list] ?? []).forEach((step, s) => {
        out.push({ step, path: ['phases', p, list, s] });
        step.watch?.checks.forEach((check, c) => out.push({ step: check, path: ['phases', p, list, s, 'watch', 'checks', c] }));
      });
    }
  });
  return out.filter(({ step }) => step.run !== undefined);
}

export async function checkShellCommands(doc: RunbookDoc, locate: Locator): Promise<ShellCheck> {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const at = (path: Path, offset: number, code: string, message: string): Problem => ({ file: locate.file, ...locateAt(locate, path, offset), code, message });

  const all = runsOf(doc);
  // The parser's budget is checked before any parsing: a runbook over it is refused at once, without loading the
  // grammar or parsing the first 128 KiB only to refuse the rest (a hostile file then costs what a real one does).
  // A command nested deeper than any real one is refused where it goes too deep, unparsed: it costs the parser nothing.
  const needsParser = new Map<number, { tooDeepAt: number | undefined }>();
  let parsed = 0;
  let parsedBytes = 0;
  for (const [n, { step, path }] of all.entries()) {
    if (typeof step.run !== 'string' || !needsShellParser(step.run)) continue;
    const { tooDeepAt } = shellNesting(step.run);
    needsParser.set(n, { tooDeepAt });
    if (tooDeepAt !== undefined) continue;
    const split = splitTemplate(step.run);
    parsed += split.ok ? split.parts.filter((p) => p.kind === 'expr').length : 0;
    if (parsed > MAX_PARSED_TEMPLATES) {
      problems.push(at([...path, 'run'], 0, 'too-many-templates', `more than ${MAX_PARSED_TEMPLATES} templates in run: commands that are more than plain words: deployctl checks at most ${MAX_PARSED_TEMPLATES}, so none was checked; pass values in env: and refer to them as "$NAME" instead`));
      return { problems, warnings };
    }
    parsedBytes += step.run.length;
    if (parsedBytes > MAX_PARSED_BYTES) {
      problems.push(at([...path, 'run'], 0, 'too-much-shell', `more than ${MAX_PARSED_BYTES / 1024} KiB of run: commands with templates that are more than plain words: deployctl checks at most that much, so none was checked; move long scripts into files the steps run, and pass values in env: as "$NAME"`));
      return { problems, warnings };
    }
  }
  for (const [n, { step, path }] of all.entries()) {
    if (problems.length >= MAX_SHELL_PROBLEMS) {
      const left = all.length - n;
      problems.push(at(path, 0, 'too-many-problems', `${MAX_SHELL_PROBLEMS} templates refused so far; ${left} more run: command${left === 1 ? ' was' : 's were'} not checked: fix these first, then run deployctl validate again`));
      break;
    }
    const runPath = [...path, 'run'];
    if (Array.isArray(step.run)) {
      for (const w of placeArgvTemplates(step.run)) {
        const expression = /\$\{\{\s*([\s\S]*?)\s*\}\}/.exec(step.run[w.item]!.slice(w.start))?.[1] ?? 'value';
        warnings.push(at([...runPath, w.item], w.start, 'template-reparsed', warningText(w, expression)));
      }
      continue;
    }
    const script = step.run!;
    const tooDeepAt = needsParser.get(n)?.tooDeepAt;
    if (tooDeepAt !== undefined) {
      problems.push(at(runPath, tooDeepAt, 'shell-too-deep', `this command nests $( ), ( ), { }, \${ }, quotes or backticks more than ${MAX_SHELL_NESTING} levels deep, so deployctl does not parse it to check its templates; no real command needs this: split it, or move it into a script file the step runs and pass values in env: as "$NAME"`));
      continue;
    }
    let report;
    try {
      report = await placeShellTemplates(script);
    } catch (error) {
      if (!(error instanceof ShellParserUnavailable)) throw error;
      problems.push(at(runPath, 0, 'shell-parser-unavailable', `cannot check the templates in this command: ${error.message}`));
      continue;
    }
    for (const t of report.templates) {
      if (t.allowed) continue;
      const refusal = REFUSALS[t.context as RefusedContext];
      const where = t.errorAt !== undefined && t.context === 'unparsed' ? `${refusal.where} (it goes wrong at ${describeOffset(script, t.errorAt)})` : refusal.where;
      problems.push(at(runPath, t.start, refusal.code ?? 'template-in-shell-syntax', `template ${where}: ${refusal.why}; ${fix(t.source)}`));
    }
    for (const w of report.warnings) {
      const source = report.templates.find((t) => t.start === w.start)?.source ?? 'value';
      warnings.push(at(runPath, w.start, 'template-reparsed', warningText(w, source)));
    }
  }
  return { problems, warnings };
}

/** `line 2 of the command, column 7` for an offset inside a script; `its end: …` when the script stops too soon. */
function describeOffset(script: string, offset: number): string {
  if (offset >= script.trimEnd().length) return 'its end: something in it is not closed';
  const before = script.slice(0, offset);
  const line = before.split('\n').length;
  const col = offset - (before.lastIndexOf('\n') + 1) + 1;
  return `line ${line} of the command, column ${col}`;
}
