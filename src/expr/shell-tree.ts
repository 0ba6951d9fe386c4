// Placing templates with the bash grammar: parse the script with each template as the single-quoted string it renders
// to, and allow a template only where that string comes back as one word in an allowed slot (see shell-placement.ts).
import { inspectCommand, inspectStdinReader, inspectTestOperand, type CommandInspection, type CommandWord, type ReparseWarning } from './shell-commands.js';
import type { ShellParser, SyntaxNode } from './shell-parser.js';
import { applyInspection, type AllowedContext, type PlacedTemplate, type RefusedContext, type ShellTemplateReport, type Site } from './shell-sites.js';

/** The placeholder for a template of `length` characters: what rendering produces (a single-quoted string), or bare letters. */
function placeholder(length: number, quoted: boolean): string {
  return quoted ? `'${'T'.repeat(length - 2)}'` : 'T'.repeat(length);
}

function withPlaceholders(script: string, sites: readonly Site[], quoted: boolean): string {
  let out = '';
  let cursor = 0;
  for (const site of sites) {
    out += script.slice(cursor, site.start) + placeholder(site.end - site.start, quoted);
    cursor = site.end;
  }
  return out + script.slice(cursor);
}

export function placeParsed(parser: ShellParser, script: string, sites: readonly Site[]): ShellTemplateReport {
  // The parse with unquoted placeholders only names the context of a refusal: done only when there is one.
  let named: (RefusedContext | undefined)[] | undefined;
  const nameOf = (i: number) => {
    named ??= parser.parse(withPlaceholders(script, sites, false), (root) => {
      const paths = pathsTo(root, sites);
      return sites.map((site, j) => namedContext(paths[j]!, script, site));
    });
    return named[i];
  };
  return parser.parse(withPlaceholders(script, sites, true), (root) => {
    let error = firstError(root) ?? midWordContinuation(script, root);
    let paths = error === undefined ? pathsTo(root, sites) : [];
    if (error === undefined && (error = firstSkipped(paths, script)) !== undefined) paths = [];
    const templates: PlacedTemplate[] = [];
    const commands = new Map<number, { path: Frame[]; at: number }>();
    const testWarnings: ReparseWarning[] = [];
    sites.forEach((site, i) => {
      if (error !== undefined) {
        templates.push({ ...site, context: nameOf(i) ?? 'unparsed', allowed: false, errorAt: error });
        return;
      }
      const verdict = judge(paths[i]!, site);
      if (verdict.allowed) {
        templates.push({ ...site, context: verdict.context, allowed: true });
        if (verdict.command !== undefined) commands.set(paths[i]![verdict.command]!.node.id, { path: paths[i]!, at: verdict.command });
        if (verdict.testOperator !== undefined) {
          const warning = inspectTestOperand(verdict.testOperator, site.start);
          if (warning !== undefined) testWarnings.push(warning);
        }
      } else {
        templates.push({ ...site, context: verdict.context ?? nameOf(i) ?? 'other', allowed: false });
      }
    });
    const inspection: CommandInspection = { warnings: [...testWarnings], refusals: [] };
    for (const { path, at } of commands.values()) {
      const words = commandWords(path[at]!.node, sites);
      const found = inspectCommand(words);
      inspection.warnings.push(...found.warnings);
      inspection.refusals.push(...found.refusals);
      const reader = pipedInto(path, at, sites);
      if (reader !== undefined) for (const start of words.flatMap((w) => w.templates)) inspection.warnings.push({ start, ...reader });
    }
    inspection.warnings.sort((a, b) => a.start - b.start);
    return applyInspection(templates, inspection);
  });
}

/** Offset of the first syntax error or missing token, or undefined when the tree is whole. */
function firstError(root: SyntaxNode): number | undefined {
  if (!root.hasError) return undefined;
  const stack: SyntaxNode[] = [root];
  let first: number | undefined;
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.isError || node.isMissing) {
      first = Math.min(first ?? node.startIndex, node.startIndex);
      continue;
    }
    if (node.hasError) for (const child of node.children) if (child !== null) stack.push(child);
  }
  return first ?? 0;
}

/**
 * Offset of the first line continuation inside a word (`ev\<newline>al`, `a\<newline>=1`), or undefined. Bash removes
 * it before reading words, so it reads one word (`eval`, the assignment `a=1`); the grammar reads two (`ev` and `al`).
 * A tree that splits a word bash reads whole is not what bash runs, so it is treated like a syntax error. A
 * continuation after a blank or before one (the usual `curl … \` then an indented line) is not inside a word.
 */
function midWordContinuation(script: string, root: SyntaxNode): number | undefined {
  for (let i = script.indexOf('\\\n'); i >= 0; i = script.indexOf('\\\n', i + 2)) {
    let run = 1;
    while (i - run >= 0 && script[i - run] === '\\') run++;
    if (run % 2 === 0) continue; // an escaped backslash, then a newline: no continuation
    const before = run > 1 || (i > 0 && !/\s/.test(script[i - 1]!));
    const after = i + 2 < script.length && !/\s/.test(script[i + 2]!);
    if (before && after && !literally(root.descendantForIndex(i))) return i;
  }
  return undefined;
}

/** Nodes whose text bash keeps as written, a backslash and newline included. */
const KEPT_AS_WRITTEN = new Set(['comment', 'raw_string', 'heredoc_body', 'heredoc_content', 'ansi_c_string']);

/** Whether `node` lies in a comment, single quotes or a here-document's text: no line continuation there. */
function literally(node: SyntaxNode | null): boolean {
  for (let n = node, depth = 0; n !== null && depth < 8; n = n.parent, depth++) if (KEPT_AS_WRITTEN.has(n.type)) return true;
  return false;
}

/**
 * Offset of text the grammar dropped without an error node, around a template, or undefined. tree-sitter-bash loses a
 * lone `-` before an assignment (`- a=b let x` parses as `a=b let x`, while bash runs `-`): a tree that does not hold
 * the text around a template is not what bash reads, so it is treated like a syntax error. Checked where it can change
 * a verdict, and cheaply (a walk of every leaf costs more than the parse): the gap before each node on a template's
 * path, and the gaps between the words of each command holding a template. Only blanks and line continuations may
 * go uncovered.
 */
function firstSkipped(paths: readonly Frame[][], script: string): number | undefined {
  const seen = new Set<number>();
  const gap = (from: number, to: number): number | undefined => {
    if (to <= from) return undefined;
    const skipped = /[^\s\\]|\\(?!\n)/.exec(script.slice(from, to));
    return skipped === null ? undefined : from + skipped.index;
  };
  for (const path of paths) {
    for (let k = 0; k < path.length; k++) {
      const node = path[k]!.node;
      if (seen.has(node.id)) continue;
      seen.add(node.id);
      // The root starts at its first token, not at 0: what comes before it was dropped too.
      const before = gap(k === 0 ? 0 : (node.previousSibling?.endIndex ?? path[k - 1]!.node.startIndex), node.startIndex);
      if (before !== undefined) return before;
      if (node.type !== 'command') continue;
      let end = node.startIndex;
      for (const child of node.children) {
        if (child === null) continue;
        const inside = gap(end, child.startIndex);
        if (inside !== undefined) return inside;
        end = child.endIndex;
      }
    }
  }
  return undefined;
}

/** A node on the way down to a template, with the field it holds in its parent (`argument`, `value`, …). */
interface Frame {
  node: SyntaxNode;
  field: string | null;
}

/**
 * For each site, the nodes from the root down to the smallest one holding it, in one walk of the tree with a cursor,
 * entering only nodes that hold a site. (Node.parent and Node.children cost a walk from the root or a copy of every
 * child each time: per template, that made a command of 800 lines take seconds.) Sites are in order and disjoint, so
 * those inside a node are a run of indexes, split among its children in one pass.
 */
function pathsTo(root: SyntaxNode, sites: readonly Site[]): Frame[][] {
  const paths: Frame[][] = sites.map(() => []);
  interface Entry { frame: Frame; lo: number; hi: number; next: number; covered: boolean[]; entered: boolean; inChildren: boolean }
  const cursor = root.walk();
  const stack: Entry[] = [{ frame: { node: root, field: null }, lo: 0, hi: sites.length, next: 0, covered: [], entered: false, inChildren: false }];
  try {
    while (stack.length > 0) {
      const top = stack.at(-1)!;
      let moved: boolean;
      if (!top.entered) {
        top.entered = true;
        top.next = top.lo;
        moved = top.inChildren = cursor.gotoFirstChild();
      } else {
        moved = cursor.gotoNextSibling();
      }
      if (!moved) {
        // Sites no child holds: this node is the smallest one around them.
        let frames: Frame[] | undefined;
        for (let i = top.lo; i < top.hi; i++) if (top.covered[i - top.lo] !== true) paths[i] = frames ??= stack.map((e) => e.frame);
        if (top.inChildren) cursor.gotoParent();
        stack.pop();
        continue;
      }
      const start = cursor.startIndex;
      const end = cursor.endIndex;
      let first = top.next;
      while (first < top.hi && sites[first]!.start < start) first++;
      let last = first;
      while (end > start && last < top.hi && sites[last]!.end <= end) last++;
      top.next = last;
      if (last === first) continue;
      for (let i = first; i < last; i++) top.covered[i - top.lo] = true;
      stack.push({ frame: { node: cursor.currentNode, field: cursor.currentFieldName }, lo: first, hi: last, next: first, covered: [], entered: false, inChildren: false });
    }
  } finally {
    cursor.delete();
  }
  return paths;
}

const firstToken = (node: SyntaxNode): string | undefined => node.child(0)?.type;

/** The context a node imposes on everything inside it, when that context refuses templates (`childField`: where we came from). */
function refusingContext(node: SyntaxNode, childField: string | null | undefined): RefusedContext | undefined {
  switch (node.type) {
    case 'raw_string':
      return 'single-quotes';
    case 'ansi_c_string':
      return 'ansi-c-quotes';
    case 'string':
    case 'translated_string':
      return 'double-quotes';
    case 'comment':
      return 'comment';
    case 'heredoc_body':
    case 'heredoc_start':
    case 'heredoc_end':
    case 'heredoc_redirect':
      return 'here-document';
    case 'herestring_redirect':
      return 'here-string';
    case 'arithmetic_expansion':
    case 'c_style_for_statement':
      return 'arithmetic';
    case 'compound_statement':
      return firstToken(node) === '((' ? 'arithmetic' : undefined;
    case 'command_substitution':
      return firstToken(node) === '`' ? 'backticks' : 'command-substitution';
    case 'process_substitution':
      return 'process-substitution';
    case 'expansion':
    case 'simple_expansion':
      return 'parameter-expansion';
    case 'test_command':
      return firstToken(node) === '[[' ? 'double-brackets' : undefined;
    case 'declaration_command':
    case 'unset_command':
      return 'declaration';
    case 'array':
      return 'array';
    case 'case_item':
      return childField === 'value' ? 'case-pattern' : undefined;
    case 'case_statement':
      return childField === 'value' ? 'case-subject' : undefined;
    case 'file_redirect':
      return node.children.some((c) => c !== null && (c.type === '>&' || c.type === '<&' || c.type === '>&-' || c.type === '<&-')) ? 'descriptor' : undefined;
    default:
      return undefined;
  }
}

/** The innermost refusing context at `path[at]` or above it, walking up to the root. */
function innermostRefusal(path: readonly Frame[], at: number): RefusedContext | undefined {
  for (let i = at; i >= 0; i--) {
    const context = refusingContext(path[i]!.node, path[i + 1]?.field);
    if (context !== undefined) return context;
  }
  return undefined;
}

/** From the unquoted-placeholder parse and the text itself: what a refused template sits in, for the message. */
function namedContext(path: readonly Frame[], script: string, site: Site): RefusedContext | undefined {
  let backslashes = 0;
  while (script[site.start - 1 - backslashes] === '\\') backslashes++;
  if (backslashes % 2 === 1) return 'after-backslash';
  if (script[site.start - 1] === '$') return 'ansi-c-quotes';
  return innermostRefusal(path, path.length - 1);
}

/** `command`: the index in the path of the command node the template is a word of. */
type Verdict =
  | { allowed: true; context: AllowedContext; command?: number; testOperator?: string }
  | { allowed: false; context?: RefusedContext };

const TEST_EXPRESSIONS = new Set(['binary_expression', 'unary_expression', 'parenthesized_expression', 'negated_expression']);

/** Decide one template in the quoted-placeholder parse (which has no errors), from the path down to it. */
function judge(path: readonly Frame[], site: Site): Verdict {
  const node = path.at(-1)?.node;
  if (node === undefined || node.type !== 'raw_string' || node.startIndex !== site.start || node.endIndex !== site.end || path.length < 2) return { allowed: false };
  const refused = innermostRefusal(path, path.length - 2);
  if (refused !== undefined) return { allowed: false, context: refused };

  let at = path.length - 2;
  while (path[at]!.node.type === 'concatenation' && at > 0) at--;
  const parent = path[at]!.node;
  const field = path[at + 1]!.field;
  switch (parent.type) {
    case 'command_name':
      return at === 0 ? { allowed: false } : { allowed: true, context: 'command-name', command: at - 1 };
    case 'command':
      return field === 'argument' ? { allowed: true, context: 'argument', command: at } : { allowed: false };
    case 'variable_assignment':
      return field === 'value' ? { allowed: true, context: 'assignment' } : { allowed: false };
    case 'file_redirect':
      return field === 'destination' ? { allowed: true, context: 'redirect-target' } : { allowed: false };
    case 'for_statement':
      return field === 'value' ? { allowed: true, context: 'for-list' } : { allowed: false };
    default: {
      if (!TEST_EXPRESSIONS.has(parent.type) && parent.type !== 'test_command') return { allowed: false };
      let up = at;
      while (up > 0 && TEST_EXPRESSIONS.has(path[up]!.node.type)) up--;
      const test = path[up]!.node;
      if (test.type !== 'test_command' || firstToken(test) !== '[') return { allowed: false };
      const operator = parent.type === 'unary_expression' ? parent.childForFieldName('operator')?.text ?? parent.child(0)?.text : undefined;
      return { allowed: true, context: 'test-operand', ...(operator !== undefined ? { testOperator: operator } : {}) };
    }
  }
}

/** A later stage of the pipeline the command at `path[at]` is in that runs what it is piped as code (`… | sh`), if any. */
function pipedInto(path: readonly Frame[], at: number, sites: readonly Site[]): { command: string; why: string } | undefined {
  let up = at;
  if (up > 0 && path[up - 1]!.node.type === 'redirected_statement') up--;
  const stage = path[up]!.node;
  const pipeline = up > 0 ? path[up - 1]!.node : undefined;
  if (pipeline?.type !== 'pipeline') return undefined;
  const stages = pipeline.namedChildren.filter((c): c is SyntaxNode => c !== null);
  const position = stages.findIndex((c) => c.id === stage.id);
  for (const later of stages.slice(position + 1)) {
    const node = later.type === 'redirected_statement' ? later.childForFieldName('body') : later;
    if (node?.type !== 'command') continue;
    const reader = inspectStdinReader(commandWords(node, sites));
    if (reader !== undefined) return reader;
  }
  return undefined;
}

/** A variable's name, as bash requires one. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A word bash may take for an assignment: a NAME, then `=`, `+=`, or a `[` with an `=` after it. */
const ASSIGNMENT_LIKE = /^[A-Za-z_][A-Za-z0-9_]*(\+?=|\[[^]*=)/;
/** Bash removes line continuations before it reads words. */
const joined = (text: string) => text.replace(/\\\n/g, '');

/**
 * Whether bash takes a word before the command name for an assignment. The grammar's own `variable_assignment` is
 * trusted for the shape (it parses a subscript holding `]` or quotes, `a[${b[0]}]=1`), but not for the name: it also
 * takes `--a=b` and `1a=b` for assignments, so the name must be a NAME. A word the grammar did not take for one
 * (`_=0@`, `a\<newline>=1`) is an assignment when its text says so; a subscript there counts whatever it holds, so
 * that a doubt makes the next word the command name and is checked, never the other way round.
 */
function isAssignment(node: SyntaxNode): boolean {
  if (node.type === 'variable_assignment') {
    const name = node.childForFieldName('name');
    const base = name?.type === 'subscript' ? name.childForFieldName('name') : name;
    return base !== null && base !== undefined && NAME.test(joined(base.text));
  }
  return ASSIGNMENT_LIKE.test(joined(node.text));
}

/**
 * A command node's name and arguments as words (assignments and redirections left out). The grammar is looser than
 * bash about assignments (see isAssignment): leading words are dropped when bash takes them for assignments.
 */
function commandWords(command: SyntaxNode, sites: readonly Site[]): CommandWord[] {
  const words: { word: CommandWord; assignment: boolean }[] = [];
  command.children.forEach((child, i) => {
    if (child === null) return;
    const field = command.fieldNameForChild(i);
    if (child.type === 'variable_assignment') {
      words.push({ word: wordOf(child, sites), assignment: isAssignment(child) });
    } else if (child.type === 'command_name' || field === 'argument') {
      const inner = child.type === 'command_name' ? child.child(0) : child;
      if (inner !== null) words.push({ word: wordOf(inner, sites), assignment: isAssignment(inner) });
    }
  });
  const name = words.findIndex((w) => !w.assignment);
  return name < 0 ? [] : words.slice(name).map((w) => w.word);
}

function wordOf(node: SyntaxNode, sites: readonly Site[]): CommandWord {
  const inside = sitesWithin(sites, node.startIndex, node.endIndex).map((s) => s.start);
  return { literal: inside.length > 0 ? undefined : literalOf(node), templates: inside };
}

/** The sites (in order, as splitTemplate gives them) that lie inside [start, end): a binary search, then a short scan. */
function sitesWithin(sites: readonly Site[], start: number, end: number): Site[] {
  let low = 0;
  let high = sites.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (sites[middle]!.start < start) low = middle + 1;
    else high = middle;
  }
  const out: Site[] = [];
  for (let i = low; i < sites.length && sites[i]!.end <= end; i++) out.push(sites[i]!);
  return out;
}

/** The text a word node stands for when nothing in it is expanded: quotes and backslashes removed. */
function literalOf(node: SyntaxNode): string | undefined {
  switch (node.type) {
    case 'word':
    case 'number':
      return node.text.replace(/\\\n/g, '').replace(/\\(.)/gs, '$1');
    case 'raw_string':
      return node.text.slice(1, -1);
    case 'string': {
      const parts = node.namedChildren.filter((c) => c !== null);
      if (parts.some((c) => c.type !== 'string_content')) return undefined;
      return node.text.slice(1, -1).replace(/\\([$`"\\\n])/g, '$1');
    }
    case 'variable_assignment': {
      // Only reached for a word bash does not take as an assignment (`--a=b/let`, see commandWords): its text.
      const value = node.childForFieldName('value');
      const prefix = node.text.slice(0, value === null ? undefined : value.startIndex - node.startIndex);
      if (/[\\'"$`]/.test(prefix)) return undefined;
      const rest = value === null ? '' : literalOf(value);
      return rest === undefined ? undefined : prefix + rest;
    }
    case 'concatenation': {
      const parts = node.children.filter((c) => c !== null).map(literalOf);
      return parts.every((p) => p !== undefined) ? parts.join('') : undefined;
    }
    default:
      return undefined;
  }
}
