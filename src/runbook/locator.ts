// Source positions of a parsed YAML document: from a path in the parsed value back to the line and column it came from.
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair, type YAMLMap } from 'yaml';
import type { Position } from './problem.js';

/** Maps JSON-pointer-like paths of the parsed value back to source positions. */
export class Locator {
  /**
   * Each mapping's keys, indexed on first use: a file with 20,000 unknown keys asks for 20,000 positions, and scanning
   * the mapping for each made that quadratic (issue 12).
   */
  private readonly keyIndex = new WeakMap<YAMLMap, Map<string, Pair>>();

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

  /** The source text of the scalar at `path` exactly as written (`0x10`, `1.10`, `"a"` with its quotes), or undefined. */
  source(path: readonly (string | number)[]): string | undefined {
    const found = this.walk(path);
    if (!found.complete || !isScalar(found.node) || !found.node.range) return undefined;
    return this.text.slice(found.node.range[0], found.node.range[1]);
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
        const pair = this.pairOf(current, String(segment));
        if (pair !== undefined) {
          nextKey = pair.key as Node;
          next = (pair.value as Node | null) ?? (pair.key as Node);
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

  /** The first pair whose key is `name` (duplicates are refused before anyone asks for positions). */
  private pairOf(map: YAMLMap, name: string): Pair | undefined {
    let index = this.keyIndex.get(map);
    if (index === undefined) {
      index = new Map();
      for (const pair of map.items) {
        if (isScalar(pair.key)) {
          const key = String(pair.key.value);
          if (!index.has(key)) index.set(key, pair as Pair);
        }
      }
      this.keyIndex.set(map, index);
    }
    return index.get(name);
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
