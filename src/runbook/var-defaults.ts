// Var defaults that YAML reads as a different number than the one written (0x10 → 16, 2^64 → …000) are refused where written.
import { readDecimal, MAX_EXACT_INTEGER } from './numbers.js';
import type { Problem } from './problem.js';
import type { RunbookDoc } from './types.js';
import type { Locator } from './yaml.js';

/**
 * A var's default declares its type: a number default makes `--var` values numbers too. So the default itself must
 * be a number written in decimal that YAML reads exactly as written; anything else is refused with the way to keep
 * the text (quote it), since a var keeps the exact text it was given unless its type says otherwise (issue 12).
 */
export function checkVarDefaults(doc: RunbookDoc, locate: Locator): Problem[] {
  const problems: Problem[] = [];
  for (const [name, entry] of Object.entries(doc.vars ?? {}) as [string, unknown][]) {
    // The short form `name: value`, or a long form `name: { default: value, … }`.
    const long = entry !== null && typeof entry === 'object';
    const value = long ? (entry as { default?: unknown }).default : entry;
    const path = long ? ['vars', name, 'default'] : ['vars', name];
    if (typeof value !== 'number') continue;
    const written = locate.source(path);
    if (written === undefined) continue;
    const read = readDecimal(written);
    if (read.ok && read.value === value) continue;
    const { line, col } = locate.value(path);
    const message =
      read.ok || read.reason === 'not-decimal' || read.reason === 'too-large'
        ? `vars.${name} is written ${written}, which YAML reads as the number ${value}: ${Number.isFinite(value) ? `write ${value}, or quote it` : 'quote it'} ('${written}') to keep it as text`
        : `vars.${name} is ${written}, beyond the integers a number holds exactly (±${MAX_EXACT_INTEGER}): YAML would read it as ${value}; quote it ('${written}') to keep it as text`;
    problems.push({ file: locate.file, line, col, code: 'inexact-number', message });
  }
  return problems;
}
