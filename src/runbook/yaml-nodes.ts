// The limits of a runbook's YAML, and the checks on its composed node tree: depth, tags, keys, NUL characters, aliases.
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node, type ParsedNode, type Scalar } from 'yaml';
import { MAX_PROBLEMS, moreProblems, shorten, type Problem } from './problem.js';

export const YAML_LIMITS = {
  /** Nesting of collections; a real runbook needs about 8. */
  maxDepth: 64,
  /** Alias nodes in the document. */
  maxAliases: 100,
  /** Nodes that aliases may add to the value when written out: ajv and every later walk visit each copy. */
  maxAliasExpansion: 10_000,
  /** YAML syntax errors reported before giving up: past the first few, the rest are usually echoes of them. */
  maxErrors: 20,
  /**
   * Values (keys, scalars, list items, collections, aliases) read before refusing the file. A long runbook (a 24-hour
   * plan of 1,000 lines) has under 3,000; a hostile megabyte has 500,000, and the YAML library alone needs seconds and
   * hundreds of megabytes for those (issue 12). Counted while lexing, so the refusal costs little; at the limit, a
   * file costs about what a runbook 7 times the size of that plan would.
   */
  maxValues: 20_000,
  /** Lines: blank and comment lines cost the parser as much as values do (a megabyte of newlines took seconds). */
  maxLines: 20_000,
} as const;

/** Keys that could reach Object.prototype if anything downstream used plain objects carelessly. */
export const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The only tags allowed: the YAML 1.2 core schema's own. Anything else is an error, not a warning. */
const CORE_TAGS = new Set(
  ['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`),
);

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

/**
 * Walk the node tree without recursion and without spreading lists into calls (a 200,000-item list overflowed the
 * stack, issue 12): depth, tags, keys, NUL characters and alias counts. Nodes are visited in source order, so the
 * problems kept are the first ones in the file; past MAX_PROBLEMS they are only counted.
 */
export function checkNodes(doc: Document.Parsed, text: string, problemAt: (offset: number, code: string, message: string) => Problem): Problem[] {
  const problems: Problem[] = [];
  let omitted = 0;
  let firstOmitted: Problem | undefined;
  const add = (problem: Problem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(problem);
    else if (omitted++ === 0) firstOmitted = problem;
  };
  const stack: { node: unknown; depth: number }[] = [{ node: doc.contents, depth: 0 }];
  let aliases = 0;
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (node === null || node === undefined) continue;
    const offset = (node as ParsedNode).range?.[0] ?? 0;
    if (isAlias(node)) {
      aliases++;
      if (aliases > YAML_LIMITS.maxAliases) {
        add(problemAt(offset, 'alias-limit', `more than ${YAML_LIMITS.maxAliases} aliases: write the values out instead of using anchors`));
        break;
      }
      continue;
    }
    const tag = (node as Node).tag;
    if (tag !== undefined && !CORE_TAGS.has(tag)) {
      const at = tagOffset(text, offset);
      const written = at === offset ? tag : /^\S+/.exec(text.slice(at, at + 200))![0];
      add(problemAt(at, 'custom-tag', `tag '${shorten(written)}' is not allowed: runbooks use plain YAML 1.2 values; remove the tag`));
    }
    if (isScalar(node)) {
      if (typeof node.value === 'string' && node.value.includes('\0')) {
        add(problemAt(offset, 'nul-byte', 'NUL character in a string: remove the \\0 escape'));
      }
      continue;
    }
    if (depth >= YAML_LIMITS.maxDepth) {
      add(problemAt(offset, 'too-deep', `nesting deeper than ${YAML_LIMITS.maxDepth} levels: flatten the structure`));
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
          add(problemAt(keyOffset, 'complex-key', 'keys must be plain strings'));
          continue;
        }
        const name = String((key as Scalar).value);
        const first = seen.get(name);
        if (first === undefined) {
          seen.set(name, keyOffset);
        } else {
          const { line } = problemAt(first, '', '');
          add(problemAt(keyOffset, 'duplicate-key', `duplicate key '${shorten(name)}': it is already set on line ${line}; each key may appear once in a mapping, so remove or rename one`));
        }
        if (name === '<<') {
          add(problemAt(keyOffset, 'merge-key', "merge keys ('<<') are not supported: write the keys out"));
        } else if (RESERVED_KEYS.has(name)) {
          add(problemAt(keyOffset, 'reserved-key', `'${name}' is a reserved key (JavaScript gives it a meaning of its own): rename it`));
        } else if (name.includes('\0')) {
          add(problemAt(keyOffset, 'nul-byte', 'NUL character in a key: remove it'));
        }
        children.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) children.push(item);
    }
    // Reversed onto the stack, so nodes are visited in source order: the first problems found are the first in the file.
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i], depth: depth + 1 });
  }
  if (firstOmitted !== undefined) problems.push(moreProblems(firstOmitted, omitted));
  return problems;
}

/**
 * The billion-laughs guard, with a position: walk the document in source order and count the nodes each alias adds
 * when written out; refuse at the alias that takes the total past the limit, and at any alias inside its own anchor.
 * Depth is already bounded by checkNodes, so recursion is safe here.
 */
export function checkAliases(doc: Document.Parsed, problemAt: (offset: number, code: string, message: string) => Problem): Problem[] {
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
      if (source === undefined) {
        // yaml composes an alias to nothing without complaint and throws only when the value is built, where the
        // error has no position (it said "aliases expand too far" at 1:1).
        problem = problemAt(offset, 'unknown-alias', `alias *${shorten(node.source)} names no anchor before it: define &${shorten(node.source)} on an earlier value, or write the value out`);
        return 0;
      }
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
