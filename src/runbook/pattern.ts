// `pattern:` on vars and ask steps: a regular expression the whole value must match, checked where the value enters (issue 12).
import type { RunbookDoc, Scalar, VarDoc, VarSpecDoc } from './types.js';

export type CompiledPattern = { ok: true; regex: RegExp } | { ok: false; message: string };

const cache = new Map<string, CompiledPattern>();

/**
 * Compile a pattern as a JavaScript regular expression (the dialect of JSON Schema's `pattern`), anchored at both
 * ends: `[0-9]+` must match the whole value, never a part of it, whether or not it is written with ^ and $.
 */
export function compilePattern(pattern: string): CompiledPattern {
  let compiled = cache.get(pattern);
  if (compiled === undefined) {
    try {
      compiled = { ok: true, regex: new RegExp(`^(?:${pattern})$`, 'u') };
    } catch (error) {
      compiled = { ok: false, message: error instanceof Error ? error.message.replace(/^Invalid regular expression: /, '') : String(error) };
    }
    cache.set(pattern, compiled);
  }
  return compiled;
}

/** Whether the whole of `value` matches; an invalid pattern matches nothing (the loader refuses it before a run). */
export function matchesPattern(pattern: string, value: string): boolean {
  const compiled = compilePattern(pattern);
  return compiled.ok && compiled.regex.test(value);
}

export function isVarSpec(value: VarDoc): value is VarSpecDoc {
  return typeof value === 'object' && value !== null;
}

/** Each var's default value, whether it is written as `name: value` or `name: { default, pattern }`. */
export function varDefaults(doc: Pick<RunbookDoc, 'vars'>): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  for (const [name, value] of Object.entries(doc.vars ?? {})) out[name] = isVarSpec(value) ? value.default : value;
  return out;
}

/** The pattern a var's values must match, if it has one. */
export function varPattern(doc: Pick<RunbookDoc, 'vars'>, name: string): string | undefined {
  const value = doc.vars?.[name];
  return value !== undefined && isVarSpec(value) ? value.pattern : undefined;
}
