// `--var` values and var defaults: a var keeps the exact text it was given unless its type (its default's) is a number or true/false, and a number never changes on the way in (issue 12, low).
import { describe, expect, it } from 'vitest';
import { isCliError } from '../../src/errors.js';
import { resolveVars } from '../../src/engine/vars.js';
import { parseRunbookText } from '../../src/runbook/load.js';
import type { RunbookDoc } from '../../src/runbook/types.js';

function doc(vars: string): RunbookDoc {
  const parsed = parseRunbookText(`version: 1\nname: demo\nroles: { ops: { title: Ops } }\nvars:\n${vars}phases:\n  - id: p\n    steps:\n      - { id: s, owner: ops, run: "true" }\n`, 'r.yaml');
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => p.message).join('\n'));
  return parsed.doc;
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isCliError(error)) return `${error.message}${error.hint ? ` | ${error.hint}` : ''}`;
    throw error;
  }
  throw new Error('expected a refusal');
}

const numbers = doc('  build: 1\n  ratio: 0.5\n  name: "12"\n  flag: false\n');

describe('resolveVars keeps what was given', () => {
  it.each([
    ['a string var keeps digits past 2^53 exactly', 'name=9007199254740993', 'name', '9007199254740993'],
    ['a string var keeps hex, binary and spaces as text', 'name= 0x10 ', 'name', ' 0x10 '],
    ['a number var takes a decimal integer', 'build=42', 'build', 42],
    ['a number var takes a negative integer', 'build=-7', 'build', -7],
    ['a number var takes the largest exact integer', 'build=9007199254740991', 'build', 9007199254740991],
    ['a number var takes a decimal fraction', 'ratio=0.25', 'ratio', 0.25],
    ['a number var takes an exponent', 'ratio=1.5e3', 'ratio', 1500],
    ['a true/false var takes false', 'flag=false', 'flag', false],
  ])('%s', (_what, pair, name, value) => {
    expect(resolveVars(numbers, [pair])[name]).toStrictEqual(value);
  });

  it('leaves the defaults as they were written when nothing overrides them', () => {
    expect(resolveVars(numbers, [])).toStrictEqual({ build: 1, ratio: 0.5, name: '12', flag: false });
  });
});

describe('resolveVars refuses a number it would change', () => {
  it.each([
    ['an integer past 2^53 (it would become …992)', 'build=9007199254740993', "--var build=9007199254740993: 'build' is a number (its default is 1), and 9007199254740993 is beyond the integers a number holds exactly (±9007199254740991)"],
    ['a huge integer', 'build=12345678901234567890', 'beyond the integers a number holds exactly'],
    ['hexadecimal', 'build=0x10', "'0x10' is not a decimal number"],
    ['binary', 'build=0b11', "'0b11' is not a decimal number"],
    ['octal', 'build=0o17', "'0o17' is not a decimal number"],
    ['spaces around a number', 'build= 1e3 ', "' 1e3 ' is not a decimal number"],
    ['leading zeros', 'build=007', "'007' is not a decimal number"],
    ['a plus sign', 'build=+5', "'+5' is not a decimal number"],
    ['Infinity', 'ratio=Infinity', "'Infinity' is not a decimal number"],
    ['an exponent that overflows', 'ratio=1e400', "'1e400' is too large"],
    ['an empty value', 'build=', "'' is not a decimal number"],
    ['a bare dot', 'ratio=.5', "'.5' is not a decimal number"],
  ])('refuses %s', (_what, pair, message) => {
    const text = refusal(() => resolveVars(numbers, [pair]));
    expect(text).toContain(message);
    // The fix: what to write, and how to keep the text instead.
    expect(text).toMatch(/quote the default in the runbook/);
  });
});
