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
      return 'tab used for indentation: YAML indents with spaces only';
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

/** The line holding `offset` (step 0), or the nearest line before (-1) or after (1) it that is neither blank nor a comment: where it starts, its indentation, its text. */
function lineAround(text: string, offset: number, step: -1 | 0 | 1): { start: number; indent: number; content: string } | undefined {
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
      return { start, indent: content.length - content.trimStart().length, content: content.trim() };
    }
  }
}

/** The key a line starts with (`owner` of `owner: ops`, `id` of `- id: a`), for messages. */
function leadingKey(content: string): string | undefined {
  return /^(?:-\s+)?([^\s:#'"{}[\],][^:#]*?):(?:\s|$)/.exec(content)?.[1];
}

/**
 * Indentation mistakes, said in the file's own terms: yaml's "Nested mappings are not allowed in compact mappings"
 * points at the line before the mistake, and "All mapping items must start at the same column" at column 1.
 */
export function describeIndentError(code: string, offset: number, text: string, lineOf: (offset: number) => number): { offset: number; message: string } | undefined {
  if (code === 'BLOCK_AS_IMPLICIT_KEY') {
    // yaml stops at the value before a line indented deeper than its siblings: that next line is the mistake.
    const here = lineAround(text, offset, 0);
    const next = here === undefined ? undefined : lineAround(text, here.start, 1);
    if (here === undefined || next === undefined || next.indent <= here.indent) return undefined;
    const siblingColumn = here.indent + (here.content.startsWith('- ') ? 2 : 0) + 1;
    const key = leadingKey(next.content);
    return {
      offset: next.start + next.indent,
      message: `${key !== undefined ? `'${key}' is` : 'this line is'} indented to column ${next.indent + 1}, but the keys before it on line ${lineOf(here.start)} start at column ${siblingColumn}: line them up`,
    };
  }
  if (code === 'BAD_INDENT') {
    let here = lineAround(text, offset, 0);
    // yaml may stop at a blank or comment line before the one that is off.
    if (here !== undefined && (here.content === '' || here.content.startsWith('#'))) here = lineAround(text, here.start, 1);
    const above = here === undefined ? undefined : lineAround(text, here.start, -1);
    if (here === undefined || above === undefined || here.content === '') return undefined;
    const aboveColumn = above.indent + (above.content.startsWith('- ') ? 2 : 0) + 1;
    const key = leadingKey(here.content);
    return {
      offset: here.start + here.indent,
      message: `${key !== undefined ? `'${key}' starts` : 'this line starts'} at column ${here.indent + 1}, which lines up with no mapping above it (line ${lineOf(above.start)} starts at column ${aboveColumn}): indent it like its siblings`,
    };
  }
  return undefined;
}

