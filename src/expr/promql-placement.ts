// Templates in a PromQL query: where each `${{ }}` sits (string literal or bare token), PromQL string escaping, and the
// checks that keep a template value from changing the query's syntax (review 1 item 14).
import { evaluateExpression, type CelContext } from './cel.js';
import { compileTemplate, splitTemplate, stringifyValue } from './template.js';

/**
 * Where a template sits in a query:
 * - `string`: inside a PromQL "…" or '…' string literal; its value is escaped there (backslash, quote, newline,
 *   control characters), so it is only ever the literal's text;
 * - `token`: outside any literal, between tokens (`[${{ promql_duration(…) }}]`); its value must be one whole PromQL
 *   number, duration or string literal, checked when it is rendered;
 * - refused anywhere else: inside a `…` raw string (no escaping exists there), a `#` comment (a newline ends it), or
 *   glued to a name, number or another template (`rate${{ x }}`), where the value would join the token next to it.
 */
export type PromqlSite = { kind: 'string'; quote: '"' | "'" } | { kind: 'token' };

export type PromqlPlacement =
  | { ok: true; sites: PromqlSite[] }
  | { ok: false; message: string; offset: number };

const WORD = /[A-Za-z0-9_:.]/;
const glueFix = 'put it inside a PromQL string literal ("${{ … }}"), where its value is escaped, or make it a whole token of its own (e.g. [${{ promql_duration(steps.deploy.finished_ago_ms) }}])';

/** Read the query with its templates left out; say where each one sits, or why one may not sit where it is. */
export function placePromqlTemplates(query: string): PromqlPlacement {
  const split = splitTemplate(query);
  if (!split.ok) return split;
  const sites: PromqlSite[] = [];
  type State = { in: 'code' } | { in: 'string'; quote: '"' | "'" | '`' } | { in: 'comment' };
  let state: State = { in: 'code' };
  let previous = ''; // the character just before the current position, in code ('' at the start or after a template)
  let afterTemplate = false;
  let cursor = 0; // where the current text part starts
  for (const part of split.parts) {
    if (part.kind === 'expr') {
      cursor = part.end;
      if (state.in === 'comment') return { ok: false, offset: part.start, message: `a template in a PromQL # comment could end the comment with a newline: move it out of the comment` };
      if (state.in === 'string') {
        if (state.quote === '`') return { ok: false, offset: part.start, message: `a template in a PromQL \`…\` raw string cannot be escaped (a backtick in its value would end the string): use a "…" string instead` };
        sites.push({ kind: 'string', quote: state.quote });
        continue;
      }
      if (afterTemplate || WORD.test(previous)) return { ok: false, offset: part.start, message: `this template is glued to the token before it, so its value would change that token: ${glueFix}` };
      sites.push({ kind: 'token' });
      afterTemplate = true;
      previous = '';
      continue;
    }
    const text = part.text;
    if (afterTemplate && state.in === 'code' && text.length > 0 && WORD.test(text[0]!)) {
      return { ok: false, offset: cursor, message: `the template before '${text[0]}' is glued to it, so its value would change the next token: ${glueFix}` };
    }
    afterTemplate = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (state.in === 'comment') {
        if (c === '\n') state = { in: 'code' };
      } else if (state.in === 'string') {
        if (c === '\\' && state.quote !== '`') i++;
        else if (c === state.quote) state = { in: 'code' };
      } else if (c === '"' || c === "'" || c === '`') {
        state = { in: 'string', quote: c };
      } else if (c === '#') {
        state = { in: 'comment' };
      }
      previous = c;
    }
    cursor += text.length;
  }
  return { ok: true, sites };
}

/** A value as the text of a PromQL string literal opened with `quote`: backslash, the quote, newlines and control characters escaped. */
export function promqlStringBody(value: string, quote: '"' | "'" = '"'): string {
  let out = '';
  for (const c of value) {
    const code = c.codePointAt(0)!;
    if (c === '\\') out += '\\\\';
    else if (c === quote) out += `\\${quote}`;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code >= 0xd800 && code <= 0xdfff) out += '\\ufffd'; // a lone surrogate is no UTF-8: Prometheus would refuse the query
    else out += c;
  }
  return out;
}

/** `promql_string(v)`: the value as a whole double-quoted PromQL string literal. */
export function promqlString(value: string): string {
  return `"${promqlStringBody(value)}"`;
}

/** `promql_duration(ms)`: a PromQL duration covering `ms` (whole seconds, rounded up, at least 1s). */
export function promqlDuration(ms: number): string {
  const seconds = Number.isFinite(ms) ? Math.max(1, Math.ceil(ms / 1000)) : 1;
  return `${seconds}s`;
}

const NUMBER = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
const DURATION = /^([0-9]+(ms|s|m|h|d|w|y))+$/;
const STRING_LITERAL = /^"([^"\\\n\r]|\\.)*"$/s;

/** A bare template's value is allowed only as one whole token that cannot be anything else. */
export function isPromqlToken(value: string): boolean {
  return NUMBER.test(value) || DURATION.test(value) || STRING_LITERAL.test(value);
}

export type RenderedQuery = { ok: true; value: string } | { ok: false; reason: string };

/**
 * Render a query's templates so that no value changes its syntax: a value in a string literal is escaped as PromQL
 * string text; a bare value must be one whole number, duration or "…" literal. A placement `validate` refuses is
 * refused here too (a runbook loaded without validation never gets further).
 */
export function renderPromqlQuery(query: string, context: CelContext): RenderedQuery {
  const placement = placePromqlTemplates(query);
  if (!placement.ok) return { ok: false, reason: `template: ${placement.message}` };
  const compiled = compileTemplate(query);
  if (!compiled.ok) return { ok: false, reason: `template: ${compiled.message}` };
  let out = '';
  let site = 0;
  for (const part of compiled.template.parts) {
    if (part.kind === 'text') {
      out += part.text;
      continue;
    }
    const where = placement.sites[site++]!;
    const result = evaluateExpression(part.expression, context);
    if (!result.ok) return { ok: false, reason: `template \${{ ${part.expression.source} }}: ${result.message}` };
    const text = stringifyValue(result.value);
    if (where.kind === 'string') {
      out += promqlStringBody(text, where.quote);
    } else if (isPromqlToken(text)) {
      out += text;
    } else {
      return {
        ok: false,
        reason: `template \${{ ${part.expression.source} }} outside a PromQL string gave ${JSON.stringify(text.slice(0, 80))}, which is not one number, duration or promql_string(): refused, so the value cannot change the query (put the template inside "…")`,
      };
    }
  }
  return { ok: true, value: out };
}
