// Locked-down YAML: 1.2 core schema, one document, unique keys, no merge keys, no custom tags, bounded aliases and depth.
import {
  Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  parseAllDocuments,
  type Node,
  type ParsedNode,
  type Scalar,
} from 'yaml';
import type { Position, Problem } from './problem.js';

export const YAML_LIMITS = {
  /** Nesting of collections; a real runbook needs about 8. */
  maxDepth: 64,
  /** Alias nodes in the document, and alias expansions when converting to JS (the billion-laughs guard). */
  maxAliases: 100,
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
   * quoted scalars written without escapes; otherwise the start of the value.
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

  const tooDeep = findExcessiveFlowNesting(text);
  if (tooDeep !== undefined) {
    return {
      ok: false,
      problems: [positionFromText(text, tooDeep, file, 'too-deep', `nesting deeper than ${YAML_LIMITS.maxDepth} levels: flatten the structure`)],
    };
  }

  let docs: Document.Parsed[];
  try {
    const parsed = parseAllDocuments(text, {
      version: '1.2',
      schema: 'core',
      uniqueKeys: true,
      merge: false,
      strict: true,
      prettyErrors: false,
      stringKeys: true,
      lineCounter,
    });
    docs = Array.isArray(parsed) ? parsed : [];
  } catch (error) {
    if (error instanceof RangeError || error instanceof ReferenceError) {
      return { ok: false, problems: [{ file, line: 1, col: 1, code: 'too-complex', message: `the YAML is too complex to read safely (${error.message}); simplify it` }] };
    }
    throw error;
  }

  if (docs.length === 0) {
    return { ok: false, problems: [{ file, line: 1, col: 1, code: 'empty', message: 'the file is empty: a runbook starts with `version: 1`' }] };
  }
  if (docs.length > 1) {
    const second = docs[1]!;
    return {
      ok: false,
      problems: [problemAt(second.range[0], 'multiple-documents', `${docs.length} YAML documents in one file: keep one and remove the '---' that starts the next`)],
    };
  }
  const doc = docs[0]!;
  const problems: Problem[] = [];

  const directive = doc.directives?.yaml;
  if (directive?.explicit && directive.version !== '1.2') {
    problems.push({ file, line: 1, col: 1, code: 'yaml-version', message: `%YAML ${directive.version} is not supported: runbooks are YAML 1.2; remove the %YAML line` });
  }
  for (const error of doc.errors) {
    problems.push(problemAt(error.pos[0], yamlErrorCode(error.code), describeYamlError(error.code, error.message)));
  }
  for (const warning of doc.warnings) {
    problems.push(problemAt(warning.pos[0], yamlErrorCode(warning.code), describeYamlError(warning.code, warning.message)));
  }
  if (problems.length > 0) return { ok: false, problems };

  problems.push(...checkNodes(doc, problemAt));
  if (problems.length > 0) return { ok: false, problems };

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: YAML_LIMITS.maxAliases });
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

/**
 * The CST parser recurses once per flow level, so `[[[[…` can take seconds before it gives up.
 * The lexer is a flat generator: count flow depth there and stop early. Returns the offset of the first too-deep token.
 */
function findExcessiveFlowNesting(text: string): number | undefined {
  let depth = 0;
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    if (token === '[' || token === '{') {
      depth++;
      if (depth > YAML_LIMITS.maxDepth) return offset;
    } else if (token === ']' || token === '}') {
      depth = Math.max(0, depth - 1);
    }
    // Control tokens (document start, scalar marker, flow end) have no source width.
    if (!(token.length === 1 && token < ' ' && token !== '\n' && token !== '\t')) offset += token.length;
  }
  return undefined;
}

/** Walk the node tree without recursion: depth, tags, keys, NUL characters and alias counts. */
function checkNodes(doc: Document.Parsed, problemAt: (offset: number, code: string, message: string) => Problem): Problem[] {
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
      problems.push(problemAt(offset, 'custom-tag', `tag '${tag}' is not allowed: runbooks use plain YAML 1.2 values; remove the tag`));
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
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = pair.key as Node | null;
        const keyOffset = (key as ParsedNode | null)?.range?.[0] ?? offset;
        if (!isScalar(key)) {
          problems.push(problemAt(keyOffset, 'complex-key', 'keys must be plain strings'));
          continue;
        }
        const name = String((key as Scalar).value);
        if (name === '<<') {
          problems.push(problemAt(keyOffset, 'merge-key', "merge keys ('<<') are not supported: write the keys out"));
        } else if (RESERVED_KEYS.has(name)) {
          problems.push(problemAt(keyOffset, 'reserved-key', `'${name}' is a reserved key and cannot be used in a runbook`));
        } else if (name.includes('\0')) {
          problems.push(problemAt(keyOffset, 'nul-byte', 'NUL character in a key: remove it'));
        }
        stack.push({ node: pair.value, depth: depth + 1 });
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push({ node: item, depth: depth + 1 });
    }
  }
  return problems;
}

function yamlErrorCode(code: string): string {
  return `yaml-${code.toLowerCase().replace(/_/g, '-')}`;
}

/** yaml's messages are good; a few classes deserve a sentence that names the fix. */
function describeYamlError(code: string, message: string): string {
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  switch (code) {
    case 'DUPLICATE_KEY':
      return `${first}: each key may appear once in a mapping; remove or rename one`;
    case 'TAB_AS_INDENT':
      return 'tab used for indentation: YAML indents with spaces only';
    case 'TAG_RESOLVE_FAILED':
      return `${first}: runbooks use plain YAML 1.2 values; remove the tag`;
    case 'BAD_DIRECTIVE':
      return `${first}: runbooks are YAML 1.2; remove the directive`;
    case 'RESOURCE_EXHAUSTION':
      return `${first}: the structure is too deep or too large to read safely`;
    default:
      return first;
  }
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
