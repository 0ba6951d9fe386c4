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
  const named = parser.parse(withPlaceholders(script, sites, false), (root) => sites.map((site) => namedContext(root, script, site)));
  return parser.parse(withPlaceholders(script, sites, true), (root) => {
    const error = firstError(root);
    const templates: PlacedTemplate[] = [];
    const commands = new Map<number, SyntaxNode>();
    const testWarnings: ReparseWarning[] = [];
    sites.forEach((site, i) => {
      if (error !== undefined) {
        templates.push({ ...site, context: named[i] ?? 'unparsed', allowed: false, errorAt: error });
        return;
      }
      const verdict = judge(root, site);
      if (verdict.allowed) {
        templates.push({ ...site, context: verdict.context, allowed: true });
        if (verdict.command !== undefined) commands.set(verdict.command.id, verdict.command);
        if (verdict.testOperator !== undefined) {
          const warning = inspectTestOperand(verdict.testOperator, site.start);
          if (warning !== undefined) testWarnings.push(warning);
        }
      } else {
        templates.push({ ...site, context: verdict.context ?? named[i] ?? 'other', allowed: false });
      }
    });
    const inspection: CommandInspection = { warnings: [...testWarnings], refusals: [] };
    for (const command of commands.values()) {
      const words = commandWords(command, sites);
      const found = inspectCommand(words);
      inspection.warnings.push(...found.warnings);
      inspection.refusals.push(...found.refusals);
      const reader = pipedInto(command, sites);
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

/** The smallest node whose range holds [start, end). */
function nodeAt(root: SyntaxNode, start: number, end: number): SyntaxNode {
  let node = root;
  for (;;) {
    const inner = node.children.find((c) => c !== null && c.startIndex <= start && c.endIndex >= end && c.endIndex > c.startIndex);
    if (inner === undefined || inner === null) return node;
    node = inner;
  }
}

function fieldOf(parent: SyntaxNode, child: SyntaxNode): string | null {
  const index = parent.children.findIndex((c) => c !== null && c.id === child.id);
  return index === -1 ? null : parent.fieldNameForChild(index);
}

const firstToken = (node: SyntaxNode): string | undefined => node.child(0)?.type;

/** The context a node imposes on everything inside it, when that context refuses templates. */
function refusingContext(node: SyntaxNode, child: SyntaxNode | undefined): RefusedContext | undefined {
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
      return child !== undefined && fieldOf(node, child) === 'value' ? 'case-pattern' : undefined;
    case 'case_statement':
      return child !== undefined && fieldOf(node, child) === 'value' ? 'case-subject' : undefined;
    case 'file_redirect':
      return node.children.some((c) => c !== null && (c.type === '>&' || c.type === '<&' || c.type === '>&-' || c.type === '<&-')) ? 'descriptor' : undefined;
    default:
      return undefined;
  }
}

/** The innermost refusing context around `node` (itself included; `child` is where we came from), walking up to the root. */
function innermostRefusal(node: SyntaxNode, from?: SyntaxNode): RefusedContext | undefined {
  let child = from;
  for (let current: SyntaxNode | null = node; current !== null; child = current, current = current.parent) {
    const context = refusingContext(current, child);
    if (context !== undefined) return context;
  }
  return undefined;
}

/** From the unquoted-placeholder parse and the text itself: what a refused template sits in, for the message. */
function namedContext(root: SyntaxNode, script: string, site: Site): RefusedContext | undefined {
  const before = /\\*$/.exec(script.slice(0, site.start))![0].length;
  if (before % 2 === 1) return 'after-backslash';
  if (script[site.start - 1] === '$') return 'ansi-c-quotes';
  return innermostRefusal(nodeAt(root, site.start, site.end));
}

type Verdict =
  | { allowed: true; context: AllowedContext; command?: SyntaxNode; testOperator?: string }
  | { allowed: false; context?: RefusedContext };

const TEST_EXPRESSIONS = new Set(['binary_expression', 'unary_expression', 'parenthesized_expression', 'negated_expression']);

/** Decide one template in the quoted-placeholder parse (which has no errors). */
function judge(root: SyntaxNode, site: Site): Verdict {
  const node = nodeAt(root, site.start, site.end);
  if (node.type !== 'raw_string' || node.startIndex !== site.start || node.endIndex !== site.end) return { allowed: false };
  const above = node.parent;
  if (above === null) return { allowed: false };
  const refused = innermostRefusal(above, node);
  if (refused !== undefined) return { allowed: false, context: refused };

  let child = node;
  let parent = above;
  while (parent.type === 'concatenation' && parent.parent !== null) {
    child = parent;
    parent = parent.parent;
  }
  const field = fieldOf(parent, child);
  switch (parent.type) {
    case 'command_name':
      return parent.parent === null ? { allowed: false } : { allowed: true, context: 'command-name', command: parent.parent };
    case 'command':
      return field === 'argument' ? { allowed: true, context: 'argument', command: parent } : { allowed: false };
    case 'variable_assignment':
      return field === 'value' ? { allowed: true, context: 'assignment' } : { allowed: false };
    case 'file_redirect':
      return field === 'destination' ? { allowed: true, context: 'redirect-target' } : { allowed: false };
    case 'for_statement':
      return field === 'value' ? { allowed: true, context: 'for-list' } : { allowed: false };
    default: {
      if (!TEST_EXPRESSIONS.has(parent.type) && parent.type !== 'test_command') return { allowed: false };
      let test: SyntaxNode | null = parent;
      while (test !== null && TEST_EXPRESSIONS.has(test.type)) test = test.parent;
      if (test?.type !== 'test_command' || firstToken(test) !== '[') return { allowed: false };
      const operator = parent.type === 'unary_expression' ? parent.childForFieldName('operator')?.text ?? parent.child(0)?.text : undefined;
      return { allowed: true, context: 'test-operand', ...(operator !== undefined ? { testOperator: operator } : {}) };
    }
  }
}

/** A later stage of the pipeline `command` is in that runs what it is piped as code (`… | sh`), if any. */
function pipedInto(command: SyntaxNode, sites: readonly Site[]): { command: string; why: string } | undefined {
  let stage: SyntaxNode = command;
  if (stage.parent?.type === 'redirected_statement') stage = stage.parent;
  const pipeline = stage.parent;
  if (pipeline?.type !== 'pipeline') return undefined;
  const stages = pipeline.namedChildren.filter((c): c is SyntaxNode => c !== null);
  const at = stages.findIndex((c) => c.id === stage.id);
  for (const later of stages.slice(at + 1)) {
    const node = later.type === 'redirected_statement' ? later.childForFieldName('body') : later;
    if (node?.type !== 'command') continue;
    const reader = inspectStdinReader(commandWords(node, sites));
    if (reader !== undefined) return reader;
  }
  return undefined;
}

/** A command node's name and arguments as words (assignments and redirections left out). */
function commandWords(command: SyntaxNode, sites: readonly Site[]): CommandWord[] {
  const words: CommandWord[] = [];
  command.children.forEach((child, i) => {
    if (child === null) return;
    const field = command.fieldNameForChild(i);
    if (child.type === 'command_name') {
      const inner = child.child(0);
      if (inner !== null) words.push(wordOf(inner, sites));
    } else if (field === 'argument') {
      words.push(wordOf(child, sites));
    }
  });
  return words;
}

function wordOf(node: SyntaxNode, sites: readonly Site[]): CommandWord {
  const inside = sites.filter((s) => s.start >= node.startIndex && s.end <= node.endIndex).map((s) => s.start);
  return { literal: inside.length > 0 ? undefined : literalOf(node), templates: inside };
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
    case 'concatenation': {
      const parts = node.children.filter((c) => c !== null).map(literalOf);
      return parts.every((p) => p !== undefined) ? parts.join('') : undefined;
    }
    default:
      return undefined;
  }
}
