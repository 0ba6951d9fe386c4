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
}

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
