// A problem found in an input file, with the 1-based position of the offending YAML node.

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
  return `${problem.file}:${problem.line}:${problem.col}: ${escapeControls(problem.message)}`;
}

/**
 * Messages quote the runbook (keys, values), which may hold newlines or terminal escapes: one problem stays one line,
 * and nothing from the file reaches the terminal as a control character.
 */
function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) =>
    c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Problems in source order, so the first line printed is the first thing to fix. */
export function sortProblems(problems: Problem[]): Problem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
}
