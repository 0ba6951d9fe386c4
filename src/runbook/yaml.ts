// Locked-down YAML: 1.2 core schema, one document, unique keys, no merge keys, no custom tags, bounded aliases and depth.
import {
  Composer,
  Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  Parser,
  type CST,
  type Node,
  type ParsedNode,
  type Scalar,
  visit,
} from 'yaml';
import { shorten, type Position, type Problem } from './problem.js';

export const YAML_LIMITS = {
  /** Nesting of collections; a real runbook needs about 8. */
  maxDepth: 64,
  /** Alias nodes in the document. */
  maxAliases: 100,
  /** Nodes that aliases may add to the value when written out: ajv and every later walk visit each copy. */
  maxAliasExpansion: 10_000,
  /** YAML syntax errors reported before giving up: past the first few, the rest are usually echoes of them. */
  maxErrors: 20,
} as const;

/** Keys that could reach Object.prototype if anything downstream used plain objects carelessly. */
export const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The only tags allowed: the YAML 1.2 core schema's own. Anything else is an error, not a warning. */
const CORE_TAGS = new Set(
  ['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`),
);

export interface ParsedYaml {
  doc: Document.Parsed;
  value: unknown;
  locate: Locator;
}

export type ParseYamlResult = { ok: true; yaml: ParsedYaml } | { ok: false; problems: Problem[] };

/** Maps JSON-pointer-like paths of the parsed value back to source positions. */
export class Locator {
  constructor(
    readonly file: string,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    private readonly text: string,
  ) {}

  at(offset: number): Position {
    const { line, col } = this.lines.linePos(offset);
    return { line, col };
  }

  /** Position of the value at `path`, or of its nearest existing ancestor. */
  value(path: readonly (string | number)[]): Position {
    const found = this.walk(path);
    return this.at(found.node?.range?.[0] ?? 0);
  }

  /** Position of the key of the last path segment (for unknown or misspelt keys); falls back to the value. */
  key(path: readonly (string | number)[]): Position {
    const found = this.walk(path);
    if (found.complete && found.keyNode?.range) return this.at(found.keyNode.range[0]);
    return this.at(found.node?.range?.[0] ?? 0);
  }

  /**
   * Position of a character inside a string value (e.g. where a CEL expression goes wrong). Exact for plain and
   * quoted scalars written on one line (escapes included), for `|` and `>` blocks and for plain scalars over several
   * lines; otherwise the start of the value.
   */
  inside(path: readonly (string | number)[], offset: number): Position {
    const found = this.walk(path);
    const node = found.node;
    if (!found.complete || !isScalar(node) || node.range === undefined || node.range === null || typeof node.value !== 'string') {
      return this.value(path);
    }
    const [start, end] = node.range;
    const raw = this.text.slice(start, end);
    const value = node.value;
    if (offset >= 0 && offset <= value.length) {
      if (node.type === 'PLAIN' && raw === value) return this.at(start + offset);
      if ((node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') && raw.slice(1, -1) === value) return this.at(start + 1 + offset);
      if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') {
        const inRaw = quotedLineOffset(raw, node.type, value, offset);
        if (inRaw !== undefined) return this.at(start + inRaw);
      }
      if (node.type === 'BLOCK_LITERAL') {
        const inRaw = blockLiteralOffset(raw, value, offset);
        if (inRaw !== undefined) return this.at(start + inRaw);
      }
      if (node.type === 'BLOCK_FOLDED' || node.type === 'PLAIN') {
        const inRaw = foldedOffset(raw, node.type === 'BLOCK_FOLDED', value, offset);
        if (inRaw !== undefined) return this.at(start + inRaw);
      }
    }
    return this.at(start);
  }

  private walk(path: readonly (string | number)[]): { node: Node | undefined; keyNode: Node | undefined; complete: boolean } {
    let node: Node | undefined = this.doc.contents ?? undefined;
    let keyNode: Node | undefined;
    for (const segment of path) {
      const current = this.deref(node);
      let next: Node | undefined;
      let nextKey: Node | undefined;
      if (isMap(current)) {
        for (const pair of current.items) {
          if (isScalar(pair.key) && String(pair.key.value) === String(segment)) {
            nextKey = pair.key;
            next = (pair.value as Node | null) ?? pair.key;
            break;
          }
        }
      } else if (isSeq(current) && typeof segment === 'number') {
        next = (current.items[segment] as Node | undefined) ?? undefined;
      }
      if (next === undefined) return { node: current ?? node, keyNode: undefined, complete: false };
      node = next;
      keyNode = nextKey;
    }
    return { node, keyNode, complete: true };
  }

  private deref(node: Node | undefined): Node | undefined {
    return isAlias(node) ? (node.resolve(this.doc) ?? undefined) : node;
  }
}

/**
 * Where character `offset` of a folded value (a `>` block, or a plain scalar over several lines) sits in its source.
 * Folding only joins lines (a space or a newline between them), so each source line's text appears in the value in
 * order: find each in turn, and the offset in the one that holds it.
 */
function foldedOffset(raw: string, block: boolean, value: string, offset: number): number | undefined {
  const header = block ? raw.slice(0, raw.indexOf('\n') + 1) : '';
  // An explicit indentation indicator (`>2`) is relative to the parent: rare enough to fall back to the block's start.
  if (block && (header === '' || /^[>][-+]?[0-9]/.test(header))) return undefined;
  let lineStart = header.length;
  let cursor = 0;
  for (const line of raw.slice(header.length).split('\n')) {
    const lead = /^[ \t]*/.exec(line)![0].length;
    const text = line.slice(lead).replace(/[ \t\r]+$/, '');
    if (text !== '') {
      const at = value.indexOf(text, cursor);
      if (at === -1) return undefined;
      if (offset >= at && offset < at + text.length) return lineStart + lead + (offset - at);
      cursor = at + text.length;
    }
    lineStart += line.length + 1;
  }
  return undefined;
}

/**
 * Where character `offset` of a one-line quoted scalar's value sits in its source, escapes (`\"`, `\u00e9`, `''`)
 * counted: `run: "echo \"${{ x }}\""` points at the `${{`. Undefined when the scalar spans lines.
 */
function quotedLineOffset(raw: string, type: 'QUOTE_DOUBLE' | 'QUOTE_SINGLE', value: string, offset: number): number | undefined {
  if (raw.includes('\n') || raw.includes('\r')) return undefined;
  const HEX: Record<string, number> = { x: 2, u: 4, U: 8 };
  let produced = 0;
  let rebuilt = '';
  let found: number | undefined;
  for (let i = 1; i < raw.length - 1; ) {
    if (produced === offset && found === undefined) found = i;
    let length = 1;
    let text: string;
    if (type === 'QUOTE_SINGLE' && raw[i] === "'" && raw[i + 1] === "'") {
      length = 2;
      text = "'";
    } else if (type === 'QUOTE_DOUBLE' && raw[i] === '\\') {
      const hex = HEX[raw[i + 1] ?? ''];
      length = hex !== undefined ? 2 + hex : 2;
      // The value says what the escape stood for; its length is all that matters here.
      text = hex !== undefined ? String.fromCodePoint(Number.parseInt(raw.slice(i + 2, i + 2 + hex), 16) || 0) : value.charAt(produced);
    } else {
      text = raw[i]!;
    }
    rebuilt += text;
    produced += text.length;
    i += length;
  }
  if (produced === offset && found === undefined) found = raw.length - 1;
  return rebuilt.length === value.length ? found : undefined;
}

/**
 * Where character `offset` of a `|` block's value sits in the block's source: same line, shifted by the indentation.
 * Multi-line shell commands live in these blocks, so template errors there deserve an exact position.
 */
function blockLiteralOffset(raw: string, value: string, offset: number): number | undefined {
  const header = raw.slice(0, raw.indexOf('\n') + 1);
  // An explicit indentation indicator (`|2`) is relative to the parent: rare enough to fall back to the block's start.
  if (header === '' || /^[|][-+]?[0-9]/.test(header)) return undefined;
  const lines = raw.slice(header.length).split('\n');
  const indent = /^ */.exec(lines.find((l) => l.trim() !== '') ?? '')![0].length;
  const before = value.slice(0, offset);
  const line = before.split('\n').length - 1;
  const col = offset - (before.lastIndexOf('\n') + 1);
  const valueLine = value.split('\n')[line] ?? '';
  // yaml turns CRLF into LF in the value; the source keeps the CR at the end of each line.
  if (lines[line] === undefined || lines[line].replace(/\r$/, '').slice(indent) !== valueLine) return undefined;
  return header.length + lines.slice(0, line).reduce((n, l) => n + l.length + 1, 0) + indent + col;
}

/** Parse one runbook-like YAML file strictly. Never throws for bad input; every refusal is a positioned problem. */
export function parseStrictYaml(text: string, file: string): ParseYamlResult {
  const lineCounter = new LineCounter();
  const problemAt = (offset: number, code: string, message: string): Problem => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col, code, message };
  };

  const nul = text.indexOf('\0');
  if (nul >= 0) {
    // LineCounter only learns line starts while parsing, so count them here.
    return { ok: false, problems: [positionFromText(text, nul, file, 'nul-byte', 'NUL byte in the file: runbooks are text; remove it')] };
  }

  const cst = readCst(text, lineCounter);
  if (cst.tooDeep !== undefined) {
    return { ok: false, problems: [problemAt(cst.tooDeep, 'too-deep', `nesting deeper than ${YAML_LIMITS.maxDepth} levels: flatten the structure`)] };
  }
  if (cst.secondDocument !== undefined) {
    return {
      ok: false,
      problems: [problemAt(cst.secondDocument, 'multiple-documents', "a second YAML document starts here: a runbook is one document; remove this '---' and what follows")],
    };
  }

  let doc: Document.Parsed;
  try {
    // forceDoc: a stream with no document (only comments, or only stray tokens) still yields one, with its errors.
    doc = [...new Composer(YAML_OPTIONS).compose(cst.tokens, true, text.length)][0]!;
  } catch (error) {
    if (error instanceof RangeError || error instanceof ReferenceError) {
      return { ok: false, problems: [{ file, line: 1, col: 1, code: 'too-complex', message: `the YAML is too complex to read safely (${error.message}); simplify it` }] };
    }
    throw error;
  }
  const problems: Problem[] = [];

  const directive = doc.directives?.yaml;
  if (directive?.explicit && directive.version !== '1.2') {
    const line = cst.tokens.find((t) => t.type === 'directive' && t.source.startsWith('%YAML'));
    problems.push(problemAt(line?.offset ?? 0, 'yaml-version', `%YAML ${directive.version} is not supported: runbooks are YAML 1.2; remove the %YAML line`));
  }
  // A syntax error throws the parser off for the rest of the file: the errors after the first are mostly its echoes
  // (one tab gave 18 problems, some in the library's own words). Show the first; warnings (tags) are each real.
  const syntax = [...doc.errors].sort((a, b) => a.pos[0] - b.pos[0]);
  const echoes = syntax.length - 1;
  const errors = [...syntax.slice(0, 1), ...doc.warnings].sort((a, b) => a.pos[0] - b.pos[0]);
  for (const error of errors.slice(0, YAML_LIMITS.maxErrors)) {
    // yaml reports where it gave up looking for the closing character; the fix is where the string or list opens.
    const unclosed = error.code === 'MISSING_CHAR' || error.code === 'BAD_INDENT' ? findUnclosed(doc, error.pos[0]) : undefined;
    const indent = unclosed === undefined ? describeIndentError(error.code, error.pos[0], text, (o) => lineCounter.linePos(o).line) : undefined;
    if (unclosed !== undefined) {
      problems.push(problemAt(unclosed.offset, 'yaml-unclosed', unclosed.message));
    } else if (indent !== undefined) {
      problems.push(problemAt(indent.offset, yamlErrorCode(error.code), indent.message));
    } else {
      problems.push(problemAt(error.pos[0], yamlErrorCode(error.code), describeYamlError(error.code, error.message)));
    }
  }
  const firstSyntax = syntax[0] === undefined ? undefined : problems.find((p) => p.code !== 'custom-tag' && p.code !== 'yaml-version');
  if (echoes > 0 && firstSyntax !== undefined) {
    firstSyntax.message += ` (fix this first: ${echoes} more YAML error${echoes === 1 ? '' : 's'} after it may come from it)`;
  }
  const moreAt = errors.length > YAML_LIMITS.maxErrors ? errors[YAML_LIMITS.maxErrors]!.pos[0] : cst.truncatedAt;
  if (moreAt !== undefined) {
    problems.push(problemAt(moreAt, 'too-many-errors', 'more YAML errors from here on: fix the ones above first'));
  }
  if (problems.length > 0) return { ok: false, problems };
  if (doc.contents === null) {
    const message = text.trim() === '' ? 'the file is empty: a runbook starts with `version: 1`' : 'the file holds no content: a runbook starts with `version: 1`';
    return { ok: false, problems: [{ file, line: 1, col: 1, code: 'empty', message }] };
  }

  problems.push(...checkNodes(doc, text, problemAt));
  if (problems.length > 0) return { ok: false, problems };
  problems.push(...checkAliases(doc, problemAt));
  if (problems.length > 0) return { ok: false, problems };

  let value: unknown;
  try {
    // checkNodes and checkAliases already bound aliases, and say where; yaml's own count refuses some harmless
    // files (100 aliases of one scalar) and cannot say where, so it is off.
    value = doc.toJS({ maxAliasCount: -1 });
  } catch (error) {
    if (error instanceof ReferenceError || error instanceof RangeError) {
      return { ok: false, problems: [{ file, line: 1, col: 1, code: 'alias-limit', message: `aliases expand too far (${error.message}): write the values out instead of using anchors` }] };
    }
    throw error;
  }
  if (value === null || value === undefined) {
    return { ok: false, problems: [{ file, line: 1, col: 1, code: 'empty', message: 'the file holds no content: a runbook starts with `version: 1`' }] };
  }
  return { ok: true, yaml: { doc, value, locate: new Locator(file, doc, lineCounter, text) } };
}

const YAML_OPTIONS = {
  version: '1.2',
  schema: 'core',
  // Duplicate keys are found by checkNodes, which can name the key and where it first appeared.
  uniqueKeys: false,
  merge: false,
  strict: true,
  prettyErrors: false,
  stringKeys: true,
} as const;

interface CstResult {
  /** The top-level CST tokens, ready for the composer. */
  tokens: CST.Token[];
  /** Offset of the first collection nested deeper than maxDepth. */
  tooDeep?: number;
  /** Offset where a second document starts. */
  secondDocument?: number;
  /** Offset of the first stray token not read, when there were too many to report. */
  truncatedAt?: number;
}

/**
 * Lex and parse to the CST (concrete syntax tree) by hand, so hostile input is refused early and cheaply: nesting is
 * checked after every lexeme on the parser's stack of open collections (deep `[[[[…` slows the parser down level by
 * level, and composing recurses once per level), and reading stops at a second document or once stray tokens have
 * made enough errors.
 */
function readCst(text: string, lineCounter: LineCounter): CstResult {
  const parser = new Parser(lineCounter.addNewLine);
  lineCounter.addNewLine(0);
  const tokens: CST.Token[] = [];
  let documents = 0;
  let strayErrors = 0;
  /** Keep one finished top-level token; returns a result when reading should stop. */
  const take = (token: CST.Token): CstResult | undefined => {
    if (token.type === 'document' && ++documents > 1) return { tokens, secondDocument: token.offset };
    if (token.type === 'error' && ++strayErrors > YAML_LIMITS.maxErrors) return { tokens, truncatedAt: token.offset };
    tokens.push(token);
    return undefined;
  };
  const drain = (produced: Iterable<CST.Token>): CstResult | undefined => {
    for (const token of produced) {
      const stop = take(token);
      if (stop) return stop;
    }
    // Every open collection's ancestors are open too, so the stack holds the whole chain down to the deepest one.
    if (parser.stack.length > YAML_LIMITS.maxDepth) {
      const open = parser.stack.filter((t) => t.type === 'block-map' || t.type === 'block-seq' || t.type === 'flow-collection');
      if (open.length > YAML_LIMITS.maxDepth) return { tokens, tooDeep: open[YAML_LIMITS.maxDepth]!.offset };
    }
    return undefined;
  };
  for (const lexeme of new Lexer().lex(text)) {
    const stop = drain(parser.next(lexeme));
    if (stop) return stop;
  }
  return drain(parser.end()) ?? { tokens };
}

/** Where the tag of the node starting at `valueStart` is written: nodes know their value's range, not their tag's. */
function tagOffset(text: string, valueStart: number): number {
  let end = valueStart;
  // At most two properties precede a value: a tag and an anchor, in either order.
  for (let k = 0; k < 2; k++) {
    while (end > 0 && /\s/.test(text[end - 1]!)) end--;
    let start = end;
    while (start > 0 && !/\s/.test(text[start - 1]!)) start--;
    if (text[start] === '!') return start;
    if (text[start] !== '&') break;
    end = start;
  }
  return valueStart;
}

/** Walk the node tree without recursion: depth, tags, keys, NUL characters and alias counts. */
function checkNodes(doc: Document.Parsed, text: string, problemAt: (offset: number, code: string, message: string) => Problem): Problem[] {
  const problems: Problem[] = [];
  const stack: { node: unknown; depth: number }[] = [{ node: doc.contents, depth: 0 }];
  let aliases = 0;
  while (stack.length > 0 && problems.length < 50) {
    const { node, depth } = stack.pop()!;
    if (node === null || node === undefined) continue;
    const offset = (node as ParsedNode).range?.[0] ?? 0;
    if (isAlias(node)) {
      aliases++;
      if (aliases > YAML_LIMITS.maxAliases) {
        problems.push(problemAt(offset, 'alias-limit', `more than ${YAML_LIMITS.maxAliases} aliases: write the values out instead of using anchors`));
        break;
      }
      continue;
    }
    const tag = (node as Node).tag;
    if (tag !== undefined && !CORE_TAGS.has(tag)) {
      const at = tagOffset(text, offset);
      const written = at === offset ? tag : /^\S+/.exec(text.slice(at, at + 200))![0];
      problems.push(problemAt(at, 'custom-tag', `tag '${written}' is not allowed: runbooks use plain YAML 1.2 values; remove the tag`));
    }
    if (isScalar(node)) {
      if (typeof node.value === 'string' && node.value.includes('\0')) {
        problems.push(problemAt(offset, 'nul-byte', 'NUL character in a string: remove the \\0 escape'));
      }
      continue;
    }
    if (depth >= YAML_LIMITS.maxDepth) {
      problems.push(problemAt(offset, 'too-deep', `nesting deeper than ${YAML_LIMITS.maxDepth} levels: flatten the structure`));
      break;
    }
    const children: unknown[] = [];
    if (isMap(node)) {
      const seen = new Map<string, number>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = pair.key as Node | null;
        const keyOffset = (key as ParsedNode | null)?.range?.[0] ?? offset;
        if (!isScalar(key)) {
          problems.push(problemAt(keyOffset, 'complex-key', 'keys must be plain strings'));
          continue;
        }
        const name = String((key as Scalar).value);
        const first = seen.get(name);
        if (first === undefined) {
          seen.set(name, keyOffset);
        } else {
          const { line } = problemAt(first, '', '');
          problems.push(problemAt(keyOffset, 'duplicate-key', `duplicate key '${shorten(name)}': it is already set on line ${line}; each key may appear once in a mapping, so remove or rename one`));
        }
        if (name === '<<') {
          problems.push(problemAt(keyOffset, 'merge-key', "merge keys ('<<') are not supported: write the keys out"));
        } else if (RESERVED_KEYS.has(name)) {
          problems.push(problemAt(keyOffset, 'reserved-key', `'${name}' is a reserved key and cannot be used in a runbook`));
        } else if (name.includes('\0')) {
          problems.push(problemAt(keyOffset, 'nul-byte', 'NUL character in a key: remove it'));
        }
        children.push(pair.value);
      }
    } else if (isSeq(node)) {
      children.push(...node.items);
    }
    // Reversed onto the stack, so nodes are visited in source order: the first problems found are the first in the file.
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i], depth: depth + 1 });
  }
  return problems;
}

/** The quoted string or flow collection (`[…]`, `{…}`) that ends where yaml stopped looking for its closing character. */
function findUnclosed(doc: Document.Parsed, end: number): { offset: number; message: string } | undefined {
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

/**
 * The billion-laughs guard, with a position: walk the document in source order and count the nodes each alias adds
 * when written out; refuse at the alias that takes the total past the limit, and at any alias inside its own anchor.
 * Depth is already bounded by checkNodes, so recursion is safe here.
 */
function checkAliases(doc: Document.Parsed, problemAt: (offset: number, code: string, message: string) => Problem): Problem[] {
  const anchors = new Map<string, Node>();
  const sizes = new Map<Node, number>();
  const open = new Set<Node>();
  let added = 0;
  let problem: Problem | undefined;
  const size = (node: unknown): number => {
    if (problem !== undefined || node === null || node === undefined) return 0;
    const offset = (node as ParsedNode).range?.[0] ?? 0;
    if (isAlias(node)) {
      const source = anchors.get(node.source);
      if (source === undefined) return 1;
      if (open.has(source)) {
        problem = problemAt(offset, 'alias-cycle', `alias *${node.source} is inside the value it names, which would make it endless: write the value out`);
        return 0;
      }
      const n = sizes.get(source) ?? 1;
      added += n;
      if (added > YAML_LIMITS.maxAliasExpansion) {
        problem = problemAt(offset, 'alias-limit', `aliases expand to more than ${YAML_LIMITS.maxAliasExpansion} values by here (a "billion laughs"): write the values out instead of using anchors`);
      }
      return n;
    }
    const anchor = (node as Node).anchor;
    if (anchor !== undefined) {
      anchors.set(anchor, node as Node);
      open.add(node as Node);
    }
    let n = 1;
    if (isMap(node)) {
      for (const pair of node.items) n += size(pair.key) + size(pair.value);
    } else if (isSeq(node)) {
      for (const item of node.items) n += size(item);
    }
    if (anchor !== undefined) {
      open.delete(node as Node);
      sizes.set(node as Node, n);
    }
    return n;
  };
  size(doc.contents);
  return problem === undefined ? [] : [problem];
}

function yamlErrorCode(code: string): string {
  // An unknown tag is refused the same way whether yaml or checkNodes finds it.
  if (code === 'TAG_RESOLVE_FAILED') return 'custom-tag';
  return `yaml-${code.toLowerCase().replace(/_/g, '-')}`;
}

/** yaml's messages are good; a few classes deserve a sentence that names the fix. */
function describeYamlError(code: string, message: string): string {
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
function describeIndentError(code: string, offset: number, text: string, lineOf: (offset: number) => number): { offset: number; message: string } | undefined {
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

/** Line and column of an offset computed straight from the text (for refusals before the YAML parser has run). */
export function positionFromText(text: string, offset: number, file: string, code: string, message: string): Problem {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { file, line, col: offset - lineStart + 1, code, message };
}
