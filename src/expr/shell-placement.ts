// Where each ${{ }} of a shell `run:` string lands once the shell reads it: one literal word (allowed), or shell syntax (refused); plus the commands that read it again.
//
// A template value goes into the command as `'…'` (template.ts, shellLiteral). Those quotes make it literal text only
// where the shell reads quotes as quotes and reads the word once: an argument, the command name, an assignment's
// value, a file to redirect to, a for loop's list. Anywhere else (a here-document, a comment, `$(( ))`, after a
// backslash, inside other quotes, `$( )` or backticks, a parameter expansion, …) the same bytes are code or change
// meaning, so `validate` refuses the template there (DESIGN.md, "Templates never become shell code").
//
// How: every template is replaced by a placeholder of the same length that is exactly what rendering produces, a
// single-quoted string, and the script is parsed with the bash grammar. A template is allowed only when its
// placeholder comes back as one single-quoted string node, in an allowed slot, under no node that would evaluate it,
// and the tree has no error anywhere. A second parse, with an unquoted placeholder, only names the context of a refusal.
// Plain commands (words, spaces and templates only) are decided without the parser (`needsShellParser`).
import { DECLARATION_BUILTINS, inspectCommand, inspectTestOperand, type CommandWord, type ReparseWarning } from './shell-commands.js';
import { loadShellParser, type ShellParser, type SyntaxNode } from './shell-parser.js';
import { splitTemplate } from './template.js';

export type { ReparseWarning } from './shell-commands.js';

/** Where a template may stand: its value is one literal word the shell passes on without reading it again. */
export const ALLOWED_CONTEXTS = ['argument', 'command-name', 'assignment', 'redirect-target', 'for-list', 'test-operand'] as const;

/** Where a template is refused, innermost first when contexts nest. */
export const REFUSED_CONTEXTS = [
  'single-quotes',
  'double-quotes',
  'ansi-c-quotes',
  'here-document',
  'comment',
  'arithmetic',
  'after-backslash',
  'backticks',
  'command-substitution',
  'process-substitution',
  'parameter-expansion',
  'case-pattern',
  'case-subject',
  'double-brackets',
  'declaration',
  'array',
  'descriptor',
  'here-string',
  'unparsed',
  'other',
] as const;

export type AllowedContext = (typeof ALLOWED_CONTEXTS)[number];
export type RefusedContext = (typeof REFUSED_CONTEXTS)[number];
export type ShellContext = AllowedContext | RefusedContext;

export interface PlacedTemplate {
  /** Offset of `${{` in the script. */
  start: number;
  /** Offset just after `}}`. */
  end: number;
  /** The CEL expression, as written. */
  source: string;
  context: ShellContext;
  allowed: boolean;
  /** For `unparsed`: where in the script the parser got lost (offset). */
  errorAt?: number;
}

export interface ShellTemplateReport {
  templates: PlacedTemplate[];
  warnings: ReparseWarning[];
}

interface Site {
  start: number;
  end: number;
  source: string;
}

function sitesOf(script: string): Site[] {
  const split = splitTemplate(script);
  // An unclosed or empty template is reported by the template check itself (semantic.ts).
  if (!split.ok) return [];
  return split.parts.flatMap((p) => (p.kind === 'expr' ? [{ start: p.start, end: p.end, source: p.source }] : []));
}

// ---------------------------------------------------------------------------------------------
// The fast path: a plain command needs no parser.

/** Characters of a plain command besides templates: no quotes, escapes, expansions, operators, globs, braces or newlines. */
const PLAIN = /^[A-Za-z0-9_@%+=:,./ -]*$/;
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;
/** Words that make the first word of a command something other than a command name. */
const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'case', 'esac', 'while', 'until', 'for', 'in', 'function', 'select', 'time', 'coproc', 'let', ...DECLARATION_BUILTINS]);

interface PlainWord {
  /** Text parts and templates, in order. */
  parts: ({ text: string } | { site: Site })[];
}

/** Split a plain command into words, or undefined when it is not one (then the parser decides). */
function plainWords(script: string, sites: readonly Site[]): PlainWord[] | undefined {
  let rest = '';
  let cursor = 0;
  for (const site of sites) {
    rest += script.slice(cursor, site.start);
    cursor = site.end;
  }
  rest += script.slice(cursor);
  if (!PLAIN.test(rest)) return undefined;

  const words: PlainWord[] = [];
  let current: PlainWord | undefined;
  const pushText = (text: string) => {
    text.split(/( +)/).forEach((piece) => {
      if (piece === '') return;
      if (piece.startsWith(' ')) current = undefined;
      else {
        if (current === undefined) words.push((current = { parts: [] }));
        current.parts.push({ text: piece });
      }
    });
  };
  cursor = 0;
  for (const site of sites) {
    pushText(script.slice(cursor, site.start));
    if (current === undefined) words.push((current = { parts: [] }));
    current.parts.push({ site });
    cursor = site.end;
  }
  pushText(script.slice(cursor));
  return words;
}

const isAssignmentWord = (word: PlainWord) => {
  const first = word.parts[0];
  return first !== undefined && 'text' in first && ASSIGNMENT.test(first.text);
};

const literalOfPlain = (word: PlainWord): string | undefined => (word.parts.every((p) => 'text' in p) ? word.parts.map((p) => ('text' in p ? p.text : '')).join('') : undefined);

/** True when templates in `script` can only be placed by parsing it: anything but a plain command of words and templates. */
export function needsShellParser(script: string): boolean {
  const sites = sitesOf(script);
  if (sites.length === 0) return false;
  const words = plainWords(script, sites);
  if (words === undefined) return true;
  // A reserved word or a declaration builtin first, even glued to a template (`export${{ x }}`): the parser decides.
  const first = words.find((w) => !isAssignmentWord(w))?.parts[0];
  return first !== undefined && 'text' in first && RESERVED.has(first.text);
}

function placePlain(words: PlainWord[]): ShellTemplateReport {
  const templates: PlacedTemplate[] = [];
  const commandWords: CommandWord[] = [];
  let inCommand = false;
  for (const word of words) {
    const sites = word.parts.flatMap((p) => ('site' in p ? [p.site] : []));
    if (!inCommand && isAssignmentWord(word)) {
      for (const site of sites) templates.push({ ...site, context: 'assignment', allowed: true });
      continue;
    }
    const context: AllowedContext = inCommand ? 'argument' : 'command-name';
    inCommand = true;
    for (const site of sites) templates.push({ ...site, context, allowed: true });
    commandWords.push({ literal: literalOfPlain(word), templates: sites.map((s) => s.start) });
  }
  return applyInspection(templates, inspectCommand(commandWords));
}

/** Refusals from what a command does with its words (let, declarations) override the word's own verdict. */
function applyInspection(templates: PlacedTemplate[], inspection: ReturnType<typeof inspectCommand>): ShellTemplateReport {
  for (const refusal of inspection.refusals) {
    const t = templates.find((x) => x.start === refusal.start);
    if (t !== undefined) Object.assign(t, { context: refusal.context, allowed: false });
  }
  const refused = new Set(templates.filter((t) => !t.allowed).map((t) => t.start));
  return { templates, warnings: inspection.warnings.filter((w) => !refused.has(w.start)) };
}

// ---------------------------------------------------------------------------------------------
// The parser path.

export interface PlaceOptions {
  /** Parse even a plain command (tests compare both paths). */
  forceParser?: boolean;
}

/** Place every template of a shell `run:` string. Loads the parser only when the fast path cannot decide. */
export async function placeShellTemplates(script: string, options: PlaceOptions = {}): Promise<ShellTemplateReport> {
  const sites = sitesOf(script);
  if (sites.length === 0) return { templates: [], warnings: [] };
  if (options.forceParser !== true && !needsShellParser(script)) return placePlain(plainWords(script, sites)!);
  return placeParsed(await loadShellParser(), script, sites);
}

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

function placeParsed(parser: ShellParser, script: string, sites: readonly Site[]): ShellTemplateReport {
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
    const inspection = { warnings: [...testWarnings], refusals: [] as ReturnType<typeof inspectCommand>['refusals'] };
    for (const command of commands.values()) {
      const found = inspectCommand(commandWords(command, sites));
      inspection.warnings.push(...found.warnings);
      inspection.refusals.push(...found.refusals);
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

// ---------------------------------------------------------------------------------------------
// argv runs: no shell, but the command may still parse an item again (`[sh, -c, "… ${{ x }}"]`).

export interface ArgvWarning extends ReparseWarning {
  /** Index of the argv item holding the template; `start` is the offset inside that item. */
  item: number;
}

export function placeArgvTemplates(argv: readonly string[]): ArgvWarning[] {
  const positions: { item: number; offset: number }[] = [];
  const words: CommandWord[] = argv.map((arg, item) => {
    const sites = sitesOf(arg);
    const templates = sites.map((site) => {
      positions.push({ item, offset: site.start });
      return positions.length - 1;
    });
    return { literal: sites.length === 0 ? arg : undefined, templates };
  });
  return inspectCommand(words).warnings.map((w) => {
    const at = positions[w.start]!;
    return { ...w, item: at.item, start: at.offset };
  });
}
