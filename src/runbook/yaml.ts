// Locked-down YAML: 1.2 core schema, one document, unique keys, no merge keys, no custom tags, bounded aliases and depth.
import { Composer, Document, Lexer, LineCounter, Parser, type CST } from 'yaml';
import { Locator } from './locator.js';
import { shorten, type Problem } from './problem.js';
import { describeIndentError, describeYamlError, findUnclosed, yamlErrorCode } from './yaml-errors.js';
import { checkAliases, checkNodes, YAML_LIMITS } from './yaml-nodes.js';

export { Locator };
export { RESERVED_KEYS, YAML_LIMITS } from './yaml-nodes.js';

export interface ParsedYaml {
  doc: Document.Parsed;
  value: unknown;
  locate: Locator;
}

export type ParseYamlResult = { ok: true; yaml: ParsedYaml } | { ok: false; problems: Problem[] };

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

  const longAt = offsetOfLine(text, YAML_LIMITS.maxLines + 1);
  if (longAt !== undefined && longAt < text.length) {
    const n = YAML_LIMITS.maxLines.toLocaleString('en-US');
    return { ok: false, problems: [positionFromText(text, longAt, file, 'too-many-lines', `more than ${n} lines: runbooks and answers files are far shorter (a 24-hour plan fits in about 1,000); is this the right file?`)] };
  }

  const cst = readCst(text, lineCounter);
  if (cst.tooDeep !== undefined) {
    return { ok: false, problems: [problemAt(cst.tooDeep, 'too-deep', `nesting deeper than ${YAML_LIMITS.maxDepth} levels: flatten the structure`)] };
  }
  if (cst.tooManyValues !== undefined) {
    const n = YAML_LIMITS.maxValues.toLocaleString('en-US');
    return { ok: false, problems: [problemAt(cst.tooManyValues, 'too-many-values', `more than ${n} values (keys, list items, scalars) by here: runbooks and answers files are far smaller (a 24-hour plan has about 3,000); is this the right file?`)] };
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
    const indent = unclosed === undefined ? describeIndentError(error.code, error.message, error.pos[0], text, (o) => lineCounter.linePos(o).line) : undefined;
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
      // checkAliases has bounded and resolved every alias, so this is yaml's own limit on something else.
      return { ok: false, problems: [{ file, line: 1, col: 1, code: 'too-complex', message: `the YAML is too complex to read safely (${shorten(error.message)}); simplify it` }] };
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
  /** Offset of the value that took the count past maxValues. */
  tooManyValues?: number;
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
  let values = 0;
  let scalarSource = false;
  for (const lexeme of new Lexer().lex(text)) {
    // The lexeme after a scalar marker is that scalar's text, already counted.
    if (scalarSource) scalarSource = false;
    else if (isValueLexeme(lexeme)) {
      scalarSource = lexeme === SCALAR_MARKER;
      if (++values > YAML_LIMITS.maxValues) return { tokens, tooManyValues: parser.offset };
    }
    const stop = drain(parser.next(lexeme));
    if (stop) return stop;
  }
  return drain(parser.end()) ?? { tokens };
}

/** Where line `line` (1-based) starts, if the text has that many lines. */
function offsetOfLine(text: string, line: number): number | undefined {
  let at = 0;
  for (let n = 1; n < line; n++) {
    const next = text.indexOf('\n', at);
    if (next === -1) return undefined;
    at = next + 1;
  }
  return at;
}

/** The lexer's marker before a plain or block scalar's text (yaml's CST.SCALAR). */
const SCALAR_MARKER = '\x1f';

/**
 * Lexemes that add a value, or may: a scalar, a quoted string, an alias, a collection's start, a list item, a key or
 * value indicator, a flow separator. An over-count of the nodes the document will have, which is what a bound needs.
 */
function isValueLexeme(lexeme: string): boolean {
  switch (lexeme[0]) {
    case SCALAR_MARKER:
    case '"':
    case "'":
    case '*':
      return true;
    case '[':
    case '{':
    case ',':
    case '-':
    case '?':
    case ':':
      return lexeme.length === 1;
    default:
      return false;
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
