// The sentences for YAML syntax errors: what yaml found, said as the cause a person can act on, at the place to fix.
import { visit, type Document, type Node } from 'yaml';

/** The quoted string or flow collection (`[…]`, `{…}`) that ends where yaml stopped looking for its closing character. */
export function findUnclosed(doc: Document.Parsed, end: number): { offset: number; message: string } | undefined {
  let found: { offset: number; message: string } | undefined;
  const check = (node: Node, what: string, close: string) => {
    if (node.range?.[1] !== end) return undefined;
    const rest = close === '"' || close === "'" ? ', so it runs on to the end of the file' : '';
    found = { offset: node.range[0], message: `this ${what} is never closed${rest}: add the closing ${close}` };
    return visit.BREAK;
  };
  visit(doc, {
    Scalar: (_key, node) =>
      node.type === 'QUOTE_DOUBLE' ? check(node, '"…" string', '"') : node.type === 'QUOTE_SINGLE' ? check(node, "'…' string", "'") : undefined,
    Map: (_key, node) => (node.flow ? check(node, '{ … } mapping', '}') : undefined),
    Seq: (_key, node) => (node.flow ? check(node, '[ … ] list', ']') : undefined),
  });
  return found;
}

export function yamlErrorCode(code: string): string {
  // An unknown tag is refused the same way whether yaml or checkNodes finds it.
  if (code === 'TAG_RESOLVE_FAILED') return 'custom-tag';
  return `yaml-${code.toLowerCase().replace(/_/g, '-')}`;
}

/** yaml's messages are good; a few classes deserve a sentence that names the fix. */
export function describeYamlError(code: string, message: string): string {
  let first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  // "Unexpected scalar token in YAML stream: <the whole token>" can quote kilobytes of the file.
  if (first.length > 160) first = `${first.slice(0, 159)}…`;
  switch (code) {
    case 'TAB_AS_INDENT':
      return 'a tab indents this line: tabs cannot indent YAML; use spaces';
    case 'TAG_RESOLVE_FAILED':
      return `tag '${first.replace(/^Unresolved tag: /, '')}' is not allowed: runbooks use plain YAML 1.2 values; remove the tag`;
    case 'BAD_DIRECTIVE':
      return `${first}: runbooks are YAML 1.2; remove the directive`;
    case 'RESOURCE_EXHAUSTION':
      return `${first}: the structure is too deep or too large to read safely`;
    default:
      return first;
  }
}

interface Line {
  start: number;
  /** Leading white space, in characters. */
  indent: number;
  /** The leading white space itself (tabs show here). */
  lead: string;
  /** The text after it, trimmed. */
  content: string;
}

/** The line holding `offset` (step 0), or the nearest line before (-1) or after (1) it that is neither blank nor a comment: where it starts, its indentation, its text. */
function lineAround(text: string, offset: number, step: -1 | 0 | 1): Line | undefined {
  let start = offset <= 0 ? 0 : text.lastIndexOf('\n', offset - 1) + 1;
  for (;;) {
    if (step === -1) {
      if (start === 0) return undefined;
      // The line before starts after the newline before the one that ends it (none: the file's start).
      start = start >= 2 ? text.lastIndexOf('\n', start - 2) + 1 : 0;
    } else if (step === 1) {
      const next = text.indexOf('\n', start);
      if (next === -1) return undefined;
      start = next + 1;
    }
    const end = text.indexOf('\n', start);
    const content = text.slice(start, end === -1 ? undefined : end);
    const blank = content.trim() === '' || content.trimStart().startsWith('#');
    if (!blank || step === 0) {
      const lead = /^[ \t]*/.exec(content)![0];
      return { start, indent: content.length - content.trimStart().length, lead, content: content.trim() };
    }
  }
}

/** The key a line starts with (`owner` of `owner: ops`, `id` of `- id: a`), for messages. */
function leadingKey(content: string): string | undefined {
  return /^(?:-\s+)?([^\s:#'"{}[\],][^:#]*?):(?:\s|$)/.exec(content)?.[1];
}

/**
 * Indentation mistakes, said as the cause a person can act on (issue 11): "line 12 is indented 1 space less than the
 * mapping it belongs to", or "line 4 is indented with a tab". yaml's own words ("Sequence item without - indicator",
 * "All mapping items must start at the same column") point at the line before the mistake, or at column 1.
 */
export function describeIndentError(code: string, yamlMessage: string, offset: number, text: string, lineOf: (offset: number) => number): { offset: number; message: string } | undefined {
  let line: Line | undefined;
  if (code === 'BLOCK_AS_IMPLICIT_KEY') {
    const item = dedentedListItem(text, offset, lineOf);
    if (item !== undefined) return item;
    // yaml stops at the value before a line indented deeper than its siblings: that next line is the mistake.
    const here = lineAround(text, offset, 0);
    line = here === undefined ? undefined : lineAround(text, here.start, 1);
    if (here === undefined || line === undefined || (line.indent <= here.indent && !line.lead.includes('\t'))) return undefined;
  } else if (code === 'BAD_INDENT' || code === 'TAB_AS_INDENT' || (code === 'MISSING_CHAR' && yamlMessage.startsWith('Sequence item without'))) {
    line = lineAround(text, offset, 0);
    // yaml may stop at a blank or comment line before the one that is off.
    if (line !== undefined && (line.content === '' || line.content.startsWith('#'))) line = lineAround(text, line.start, 1);
  }
  if (line === undefined || line.content === '') return undefined;
  const n = lineOf(line.start);
  const tab = line.lead.indexOf('\t');
  if (tab >= 0) return { offset: line.start + tab, message: `line ${n} is indented with a tab: tabs cannot indent YAML; use spaces` };
  if (code === 'TAB_AS_INDENT') return undefined;
  const column = line.indent + 1;
  const { deeper, shallower } = enclosingMappings(text, line);
  const spaces = (d: number) => `${d} space${d === 1 ? '' : 's'}`;
  const at = { offset: line.start + line.indent };
  // A key typed a space or two off its siblings is the common slip: name the mapping on the lines just above.
  if (deeper !== undefined && (deeper.column - column <= 2 || shallower === undefined)) {
    const d = deeper.column - column;
    return { ...at, message: `line ${n} is indented ${spaces(d)} less than the mapping it belongs to (its keys start at column ${deeper.column}, on line ${lineOf(deeper.start)}): indent it to column ${deeper.column}` };
  }
  if (deeper === undefined && shallower !== undefined) {
    const d = column - shallower.column;
    return { ...at, message: `line ${n} is indented ${spaces(d)} more than the mapping it belongs to (its keys start at column ${shallower.column}, on line ${lineOf(shallower.start)}): indent it to column ${shallower.column}` };
  }
  if (deeper !== undefined && shallower !== undefined) {
    return {
      ...at,
      message: `line ${n} is indented ${spaces(deeper.column - column)} less than the mapping on line ${lineOf(deeper.start)} (its keys start at column ${deeper.column}) and ${spaces(column - shallower.column)} more than the one on line ${lineOf(shallower.start)} (column ${shallower.column}): indent it to the column of the one it belongs to`,
    };
  }
  return undefined;
}

/**
 * The mappings open above `line`, walking up through lines indented less and less: the nearest whose keys start to
 * the right of the line (it may belong there, indented too little) and to the left (too much). A line that starts
 * with `- ` opens a mapping at the column after the dash.
 */
function enclosingMappings(text: string, line: Line): { deeper?: { column: number; start: number }; shallower?: { column: number; start: number } } {
  const column = line.indent + 1;
  let deeper: { column: number; start: number } | undefined;
  let shallower: { column: number; start: number } | undefined;
  let limit = Infinity;
  for (let above = lineAround(text, line.start, -1); above !== undefined && shallower === undefined; above = lineAround(text, above.start, -1)) {
    if (above.indent >= limit) continue;
    limit = above.indent;
    const keys = above.indent + 1 + (/^-(\s|$)/.test(above.content) ? 2 : 0);
    if (keys > column) {
      if (deeper === undefined || keys < deeper.column) deeper = { column: keys, start: above.start };
    } else if (keys < column) {
      shallower = { column: keys, start: above.start };
    }
    if (above.indent === 0) break;
  }
  return { ...(deeper ? { deeper } : {}), ...(shallower ? { shallower } : {}) };
}


/**
 * A list item (`- id: b`) written at the column of the key that holds the list (`steps:`), while the items before it
 * start further right: yaml says "A block sequence may not be used as an implicit map key" at column 1 of that line.
 * Said as the slip it is: the item belongs to the list above, at that list's column.
 */
function dedentedListItem(text: string, offset: number, lineOf: (offset: number) => number): { offset: number; message: string } | undefined {
  const here = lineAround(text, offset, 0);
  if (here === undefined || !/^-(\s|$)/.test(here.content)) return undefined;
  // The outermost list whose items sit right of this line, above it and below the key it would otherwise belong to.
  let list: Line | undefined;
  for (let above = lineAround(text, here.start, -1); above !== undefined && above.indent > here.indent; above = lineAround(text, above.start, -1)) {
    if (/^-(\s|$)/.test(above.content) && (list === undefined || above.indent <= list.indent)) list = above;
  }
  if (list === undefined) return undefined;
  const n = lineOf(here.start);
  const column = list.indent + 1;
  return {
    offset: here.start + here.indent,
    message: `line ${n} starts a list item at column ${here.indent + 1}, but the list it continues starts its items at column ${column} (line ${lineOf(list.start)}): indent it (and the lines under it) to column ${column}`,
  };
}
