// A problem found in an input file, with the 1-based position of the offending YAML node.
import { inert } from '../inert.js';

export interface Position {
  line: number;
  col: number;
}

export interface Problem {
  file: string;
  line: number;
  col: number;
  message: string;
  /** Machine-readable class of the problem, stable for tests and --json consumers. */
  code: string;
  /** Only on the last line of a capped list (code `more-problems`): how many problems it stands for. */
  omitted?: number;
  /** Only on warnings (which do not make a file invalid): `warning`. */
  severity?: 'warning';
}

/**
 * At most this many problems are reported per file, then one line that says how many more there are: a hostile file
 * with 87,000 unknown keys gets 21 lines, not 87,000 (issue 12). The first ones, in source order, are the ones to fix.
 */
export const MAX_PROBLEMS = 20;

/** A key or value quoted in a message, cut short: an explicit YAML key (`? …`) can be a megabyte long. */
export function shorten(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** `path:line:col: message`, the format editors and CI annotators understand. */
export function formatProblem(problem: Problem): string {
  // Messages quote the runbook (keys, values): one problem stays one line, and nothing reaches the terminal raw.
  return `${problem.file}:${problem.line}:${problem.col}: ${inert(problem.message)}`;
}

/** Problems in source order, so the first line printed is the first thing to fix. */
export function sortProblems(problems: Problem[]): Problem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
}

/** How many problems a (possibly capped) list stands for. */
export function countProblems(problems: readonly Problem[]): number {
  let count = 0;
  for (const p of problems) count += p.code === MORE_PROBLEMS ? (p.omitted ?? 0) : 1;
  return count;
}

export const MORE_PROBLEMS = 'more-problems';

/**
 * The first `max` problems in source order, then, if there were more, one problem at the first one left out that
 * says how many. Idempotent: a list that is already capped keeps its count.
 */
export function capProblems(problems: readonly Problem[], max = MAX_PROBLEMS): Problem[] {
  const real: Problem[] = [];
  let omitted = 0;
  let firstOmitted: Problem | undefined;
  for (const p of problems) {
    if (p.code === MORE_PROBLEMS) {
      omitted += p.omitted ?? 0;
      if (firstOmitted === undefined || before(p, firstOmitted)) firstOmitted = p;
    } else {
      real.push(p);
    }
  }
  const sorted = sortProblems(real);
  const kept = sorted.slice(0, max);
  const rest = sorted.slice(max);
  omitted += rest.length;
  if (rest[0] !== undefined && (firstOmitted === undefined || before(rest[0], firstOmitted))) firstOmitted = rest[0];
  if (omitted === 0 || firstOmitted === undefined) return kept;
  return [...kept, moreProblems(firstOmitted, omitted)];
}

/** The line that stands for `omitted` problems not shown, at the first of them. */
export function moreProblems(at: Pick<Problem, 'file' | 'line' | 'col'>, omitted: number): Problem {
  const n = omitted.toLocaleString('en-US');
  const message = `${n} more problem${omitted === 1 ? '' : 's'} from here on ${omitted === 1 ? 'is' : 'are'} not shown: fix the ones above first`;
  return { file: at.file, line: at.line, col: at.col, code: MORE_PROBLEMS, omitted, message };
}

function before(a: Problem, b: Problem): boolean {
  return a.line < b.line || (a.line === b.line && a.col < b.col);
}
