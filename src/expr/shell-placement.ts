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
import { DECLARATION_BUILTINS, inspectCommand, type CommandWord, type ReparseWarning } from './shell-commands.js';
import { loadShellParser } from './shell-parser.js';
import { applyInspection, sitesOf, type AllowedContext, type PlacedTemplate, type ShellTemplateReport, type Site } from './shell-sites.js';
import { placeParsed } from './shell-tree.js';

export type { ReparseWarning } from './shell-commands.js';
export { ALLOWED_CONTEXTS, REFUSED_CONTEXTS, type AllowedContext, type PlacedTemplate, type RefusedContext, type ShellContext, type ShellTemplateReport } from './shell-sites.js';

// ---------------------------------------------------------------------------------------------
// The fast path: a plain command needs no parser.

/** Characters of a plain command besides templates: no quotes, escapes, expansions, operators, globs, braces or newlines. */
const PLAIN = /^[A-Za-z0-9_@%+=:,./ -]*$/;
/** An assignment before the command name, as bash reads one (`NAME=` or `NAME+=`; a `[subscript]` is not plain). */
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*\+?=/;
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
