// Untrusted text made inert for a terminal: control characters (and bidi overrides) become visible escapes, so
// nothing quoted from a runbook, a record or a step's output can move the cursor, recolour or retitle a terminal.

/** C0 and C1 controls, DEL, the line and paragraph separators, and the bidi embeddings, overrides and isolates (Trojan Source). */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const CONTROLS_BUT_TAB = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const CONTROLS_BUT_LAYOUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The same, plus the SGR sequences deployctl's own colours are made of (chalk level 1: bold, dim, red, green, yellow, cyan and their resets). */
const CONTROLS_BUT_OUR_COLOURS = /\u001b\[(?:1|2|22|31|32|33|36|39)m|[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

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

/** Inert text of several lines: newlines and tabs kept, every other control character (a carriage return too) escaped. */
export function inertText(text: string): string {
  return text.replace(CONTROLS_BUT_LAYOUT, escape);
}

/**
 * What reaches a terminal from deployctl: `inertText`, except that with `colour` the few SGR sequences deployctl's
 * own styles are made of pass (so `plan` and `preflight` keep their colours). Every other escape sequence, from
 * wherever it came, is shown, never obeyed: the last line of defence behind the renderers' own escaping.
 */
export function inertForTerminal(text: string, colour: boolean): string {
  if (!colour) return inertText(text);
  return text.replace(CONTROLS_BUT_OUR_COLOURS, (c) => (c.length > 1 ? c : escape(c)));
}
