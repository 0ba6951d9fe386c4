// Untrusted text made inert for a terminal: control characters (and bidi overrides) become visible escapes, so
// nothing quoted from a runbook, a record or a step's output can move the cursor, recolour or retitle a terminal.

const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const CONTROLS_BUT_TAB = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escape(c: string): string {
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** One inert line: every control character escaped, newlines included. */
export function inert(text: string): string {
  return text.replace(CONTROLS, escape);
}

/** A line of a command's output as shown live: tabs kept (they are layout), every other control character escaped. */
export function inertOutputLine(text: string): string {
  return text.replace(CONTROLS_BUT_TAB, escape);
}
