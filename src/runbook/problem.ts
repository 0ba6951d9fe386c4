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

/** A problem whose message may be made only if it is shown: a "did you mean" over 5,000 step ids costs (issue 12). */
export type LazyProblem = Omit<Problem, 'message'> & { message: string | (() => string) };

/**
 * The first `max` problems in source order, then, if there were more, one problem at the first one left out that
 * says how many. Only the messages kept are made. Idempotent: a list that is already capped keeps its count.
 */
export function capProblems(problems: readonly LazyProblem[], max = MAX_PROBLEMS): Problem[] {
  const real: LazyProblem[] = [];
  let omitted = 0;
  let firstOmitted: LazyProblem | undefined;
  for (const p of problems) {
    if (p.code === MORE_PROBLEMS) {
      omitted += p.omitted ?? 0;
      if (firstOmitted === undefined || before(p, firstOmitted)) firstOmitted = p;
    } else {
      real.push(p);
    }
  }
  const sorted = [...real].sort((a, b) => a.line - b.line || a.col - b.col);
  const kept = sorted.slice(0, max).map((p): Problem => (typeof p.message === 'string' ? (p as Problem) : { ...p, message: p.message() }));
  const rest = sorted.length - kept.length;
  omitted += rest;
  const firstRest = sorted[max];
  if (firstRest !== undefined && (firstOmitted === undefined || before(firstRest, firstOmitted))) firstOmitted = firstRest;
  if (omitted === 0 || firstOmitted === undefined) return kept;
  kept.push(moreProblems(firstOmitted, omitted));
  return kept;
}

/** The line that stands for `omitted` problems not shown, at the first of them. */
export function moreProblems(at: Pick<Problem, 'file' | 'line' | 'col'>, omitted: number): Problem {
  const n = omitted.toLocaleString('en-US');
  const message = `${n} more problem${omitted === 1 ? '' : 's'} from here on ${omitted === 1 ? 'is' : 'are'} not shown: fix the ones above first`;
  return { file: at.file, line: at.line, col: at.col, code: MORE_PROBLEMS, omitted, message };
}

function before(a: Pick<Problem, 'line' | 'col'>, b: Pick<Problem, 'line' | 'col'>): boolean {
  return a.line < b.line || (a.line === b.line && a.col < b.col);
}
