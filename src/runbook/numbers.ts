// Numbers as people write them in decimal, read only when they come out exactly as written (issue 12: 2^53 + 1 became …992).

/** `-12`, `0`, `3.25`, `1.5e3`: decimal, no sign but '-', no leading zeros, no spaces, no hex, octal, binary or `_`. */
const DECIMAL = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
const INTEGER = /^-?(0|[1-9][0-9]*)$/;

export type ReadNumber = { ok: true; value: number } | { ok: false; reason: 'not-decimal' | 'inexact-integer' | 'too-large' };

/** The number `text` writes, if it is decimal and a JavaScript number holds it without change. */
export function readDecimal(text: string): ReadNumber {
  if (!DECIMAL.test(text)) return { ok: false, reason: 'not-decimal' };
  const value = Number(text);
  if (INTEGER.test(text) && !Number.isSafeInteger(value)) return { ok: false, reason: 'inexact-integer' };
  if (!Number.isFinite(value)) return { ok: false, reason: 'too-large' };
  return { ok: true, value };
}

export const MAX_EXACT_INTEGER = Number.MAX_SAFE_INTEGER;
