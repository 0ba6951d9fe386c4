// Load a runbook: read the bytes once, parse strictly, validate the grammar, check the meaning. Problems are values.
import * as path from 'node:path';
import { listDirectory, readFileLimited } from '../ports/fs.js';
import { capProblems, sortProblems, type Problem } from './problem.js';
import { closest } from './suggest.js';
import { checkSchema, describeValue } from './schema.js';
import { checkReservedIds } from './ids.js';
import { checkMeaning } from './semantic.js';
import { checkVarDefaults } from './var-defaults.js';
import { checkShellCommands } from './shell-check.js';
import { readSource, type ReadFileLimited } from './source.js';
import type { RunbookDoc, RunbookSource } from './types.js';
import { parseStrictYaml, type Locator } from './yaml.js';

export interface LoadedRunbook {
  doc: RunbookDoc;
  source: RunbookSource;
  /** Source positions of the runbook's nodes, for messages at run time. */
  locate: Locator;
  /** What is valid but risky (a template feeding `sh -c`, …), as positioned lines; set by loadCheckedRunbook. */
  warnings?: Problem[];
}

/**
 * A refused runbook whose grammar holds (only its meaning does not) keeps its document in `shaped`, so the shell
 * check can still run on it: its warnings, and its own problems, are then reported with the others instead of only
 * after the first ones are fixed.
 */
export type LoadResult =
  | { ok: true; runbook: LoadedRunbook }
  | { ok: false; problems: Problem[]; source?: RunbookSource; shaped?: Shaped; warnings?: Problem[] };

interface Shaped {
  doc: RunbookDoc;
  locate: Locator;
}

export function loadRunbook(file: string, readFile: ReadFileLimited = readFileLimited): LoadResult {
  const read = readSource(file, readFile);
  if (!read.ok) return { ...read, problems: read.problems.map((p) => (p.code === 'missing' ? { ...p, message: p.message + nearbyName(file) } : p)) };
  const result = parseRunbookText(read.text, file);
  return result.ok ? { ok: true, runbook: { ...result, source: read.source } } : { ...result, source: read.source };
}

/**
 * loadRunbook, then where each template of each `run:` command lands in the shell's grammar (src/runbook/shell-check.ts):
 * what `validate`, `run`, `plan` and `preflight` use. Asynchronous because the shell parser is WebAssembly, loaded only
 * when a command needs it. (`record verify` and `status` read roles and settings only, and use loadRunbook.)
 */
export async function loadCheckedRunbook(file: string, readFile: ReadFileLimited = readFileLimited): Promise<LoadResult> {
  const loaded = loadRunbook(file, readFile);
  if (!loaded.ok) {
    if (loaded.shaped === undefined) return loaded;
    const shell = await checkShellCommands(loaded.shaped.doc, loaded.shaped.locate);
    return { ok: false, problems: capProblems(sortProblems([...loaded.problems, ...shell.problems])), source: loaded.source, warnings: sortProblems(shell.warnings) };
  }
  const shell = await checkShellCommands(loaded.runbook.doc, loaded.runbook.locate);
  if (shell.problems.length > 0) return { ok: false, problems: sortProblems(shell.problems), source: loaded.runbook.source };
  return { ok: true, runbook: { ...loaded.runbook, warnings: sortProblems(shell.warnings) } };
}

/** parseRunbookText with the shell check of loadCheckedRunbook. */
export async function parseCheckedRunbookText(text: string, file: string): Promise<{ ok: true; doc: RunbookDoc; locate: Locator; warnings: Problem[] } | { ok: false; problems: Problem[] }> {
  const parsed = parseRunbookText(text, file);
  if (!parsed.ok) return parsed;
  const shell = await checkShellCommands(parsed.doc, parsed.locate);
  return shell.problems.length > 0 ? { ok: false, problems: sortProblems(shell.problems) } : { ...parsed, warnings: sortProblems(shell.warnings) };
}

/** Everything after the bytes: usable on text that did not come from a file (tests, fuzzing). At most MAX_PROBLEMS problems, then one that counts the rest. */
export function parseRunbookText(text: string, file: string): { ok: true; doc: RunbookDoc; locate: Locator } | { ok: false; problems: Problem[]; shaped?: Shaped } {
  const parsed = parseStrictYaml(text, file);
  if (!parsed.ok) return { ok: false, problems: capProblems(parsed.problems) };
  const { value, locate } = parsed.yaml;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    // describeValue shortens: a 1 MiB plain scalar is a single value too.
    const what = Array.isArray(value) ? 'a list' : `a single value (${describeValue(value)})`;
    const { line, col } = locate.value([]);
    return { ok: false, problems: [{ file, line, col, code: 'not-a-mapping', message: `the runbook is ${what}, not a mapping: it starts with keys such as 'version: 1' and 'name:'` }] };
  }
  if (!('version' in value) && !('phases' in value) && Object.values(value).every((v) => v === null || typeof v !== 'object' || Array.isArray(v))) {
    // Flat keys and no version or phases: most likely the answers file given where the runbook belongs.
    return {
      ok: false,
      problems: [{ file, line: 1, col: 1, code: 'not-a-runbook', message: "this is not a runbook (no 'version:' and no 'phases:'); if it is an answers file, give it with --answers and the runbook as the argument" }],
    };
  }
  const shape = checkSchema(value, locate);
  if (shape.length > 0) return { ok: false, problems: capProblems(shape) };
  const doc = value as RunbookDoc;
  const meaning = [...checkMeaning(doc, locate), ...checkReservedIds(doc, locate), ...checkVarDefaults(doc, locate)];
  if (meaning.length > 0) return { ok: false, problems: capProblems(meaning), shaped: { doc, locate } };
  return { ok: true, doc, locate };
}

/** `; did you mean runbooks/phase65.yaml?` for a runbook path with a typo (`.yml` for `.yaml`, a letter off), else nothing. */
function nearbyName(file: string): string {
  const dir = path.dirname(file);
  const names = (listDirectory(dir) ?? []).filter((n) => /\.ya?ml$/i.test(n));
  const base = path.basename(file);
  const match = closest(base, names) ?? names.find((n) => n.replace(/\.ya?ml$/i, '') === base.replace(/\.ya?ml$/i, ''));
  return match === undefined ? '' : `; did you mean ${path.join(dir, match)}?`;
}
