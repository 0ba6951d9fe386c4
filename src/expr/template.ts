// `${{ expr }}` templates: split a string into text and CEL parts, render them as plain text or as shell-quoted words.
import { compileExpression, evaluateExpression, type CelContext, type CompiledExpression } from './cel.js';

/** `offset` is where the expression's source starts, `start` where its `${{` does, `end` just after its `}}`. */
export type TemplatePart = { kind: 'text'; text: string } | { kind: 'expr'; source: string; offset: number; start: number; end: number };

export type SplitResult = { ok: true; parts: TemplatePart[] } | { ok: false; message: string; offset: number };

const OPEN = '${{';
const CLOSE = '}}';

/** Split on `${{ … }}`; a `}}` inside a CEL string literal does not close the template. */
export function splitTemplate(text: string): SplitResult {
  const parts: TemplatePart[] = [];
  let cursor = 0;
  for (;;) {
    const open = text.indexOf(OPEN, cursor);
    if (open === -1) break;
    if (open > cursor) parts.push({ kind: 'text', text: text.slice(cursor, open) });
    const close = findClose(text, open + OPEN.length);
    if (close === -1) return { ok: false, message: "template '${{' is never closed with '}}'", offset: open };
    const inner = text.slice(open + OPEN.length, close);
    const source = inner.trim();
    if (source === '') return { ok: false, message: "empty template '${{ }}': put an expression inside, e.g. ${{ vars.base_url }}", offset: open };
    parts.push({ kind: 'expr', source, offset: open + OPEN.length + inner.length - inner.trimStart().length, start: open, end: close + CLOSE.length });
    cursor = close + CLOSE.length;
  }
  if (cursor < text.length) parts.push({ kind: 'text', text: text.slice(cursor) });
  return { ok: true, parts };
}

function findClose(text: string, from: number): number {
  let quote: string | undefined;
  for (let i = from; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '}' && text[i + 1] === '}') {
      return i;
    }
  }
  return -1;
}

/** A template whose expressions are compiled, ready to render many times. */
export interface CompiledTemplate {
  source: string;
  parts: ({ kind: 'text'; text: string } | { kind: 'expr'; expression: CompiledExpression; offset: number })[];
}

export type CompileTemplateResult = { ok: true; template: CompiledTemplate } | { ok: false; message: string; offset: number };

export function compileTemplate(text: string): CompileTemplateResult {
  const split = splitTemplate(text);
  if (!split.ok) return split;
  const parts: CompiledTemplate['parts'] = [];
  for (const part of split.parts) {
    if (part.kind === 'text') {
      parts.push(part);
      continue;
    }
    const compiled = compileExpression(part.source);
    if (!compiled.ok) return { ok: false, message: compiled.message, offset: part.offset + compiled.offset };
    parts.push({ kind: 'expr', expression: compiled.expression, offset: part.offset });
  }
  return { ok: true, template: { source: text, parts } };
}

export type RenderMode = 'text' | 'shell';
export type RenderResult = { ok: true; value: string } | { ok: false; message: string };

/**
 * Render a template. In `shell` mode each expression's value becomes one single-quoted string (`'…'`, see
 * shellLiteral): literal text wherever the shell reads quotes, which src/expr/shell-placement.ts makes sure of for
 * every template before a command runs (issue 12).
 */
export function renderTemplate(template: CompiledTemplate, context: CelContext, mode: RenderMode = 'text'): RenderResult {
  let out = '';
  for (const part of template.parts) {
    if (part.kind === 'text') {
      out += part.text;
      continue;
    }
    const result = evaluateExpression(part.expression, context);
    if (!result.ok) return { ok: false, message: `\${{ ${part.expression.source} }}: ${result.message}` };
    const text = stringifyValue(result.value);
    if (text.includes('\0')) return { ok: false, message: `\${{ ${part.expression.source} }} contains a NUL character, which no command can receive` };
    out += mode === 'shell' ? shellLiteral(text) : text;
  }
  return { ok: true, value: out };
}

/**
 * A template value in a shell string: always single-quoted, even a plain word. Left bare, a value such as `FOO=bar` in
 * command position becomes an environment assignment, `time` or `if` a reserved word, `PATH+` before a literal `=` an
 * append; quoted, it is never anything but text. POSIX single quoting: only the quote itself needs care inside '…'.
 */
export function shellLiteral(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A word as a person reads it in a displayed command: bare when nothing in it is special, else single-quoted. */
export function shellQuote(value: string): string {
  if (value !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) && !value.startsWith('-')) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function stringifyValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}
