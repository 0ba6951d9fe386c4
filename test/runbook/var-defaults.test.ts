// Var defaults that YAML would turn into a different number are refused where they are written (issue 12, low).
import { describe, expect, it } from 'vitest';
import { parseRunbookText } from '../../src/runbook/load.js';

function problems(vars: string) {
  const result = parseRunbookText(`version: 1\nname: demo\nroles: { ops: { title: Ops } }\nvars:\n${vars}phases:\n  - id: p\n    steps:\n      - { id: s, owner: ops, run: "true" }\n`, 'r.yaml');
  return result.ok ? [] : result.problems.map((p) => ({ at: `${p.line}:${p.col}`, code: p.code, message: p.message }));
}

describe('var defaults', () => {
  it.each([
    ['an integer past 2^53', '  build: 12345678901234567890\n', "vars.build is 12345678901234567890, beyond the integers a number holds exactly (±9007199254740991): YAML would read it as 12345678901234567000; quote it ('12345678901234567890') to keep it as text"],
    ['hexadecimal', '  mask: 0x10\n', "vars.mask is written 0x10, which YAML reads as the number 16: write 16, or quote it ('0x10') to keep it as text"],
    ['octal', '  mode: 0o17\n', "vars.mode is written 0o17, which YAML reads as the number 15: write 15, or quote it ('0o17') to keep it as text"],
    ['a plus sign', '  level: +5\n', "vars.level is written +5, which YAML reads as the number 5: write 5, or quote it ('+5') to keep it as text"],
  ])('refuses %s, at the value', (_what, vars, message) => {
    expect(problems(vars)).toEqual([{ at: `5:${vars.indexOf(':') + 3}`, code: 'inexact-number', message }]);
  });

  it.each([
    ['infinity', '  limit: .inf\n', 'got Infinity'],
    ['not a number', '  limit: .nan\n', 'got NaN'],
    ['an exponent that overflows', '  limit: 1e400\n', 'got Infinity'],
  ])('refuses %s as no number at all (the schema), at the value', (_what, vars, got) => {
    expect(problems(vars)).toEqual([{ at: `5:${vars.indexOf(':') + 3}`, code: 'wrong-type', message: `vars.limit must be a string, a number or true or false, ${got}` }]);
  });

  it.each([
    ['integers', '  a: 1\n  b: -2\n  c: 0\n  d: 9007199254740991\n'],
    ['decimals', '  a: 0.5\n  b: 1.0\n  c: -0.25\n  d: 1e3\n  e: 1.5E-3\n'],
    ['quoted numbers, kept as text', '  a: "12345678901234567890"\n  b: \'0x10\'\n'],
    ['true and false', '  a: true\n  b: false\n'],
  ])('accepts %s', (_what, vars) => {
    expect(problems(vars)).toEqual([]);
  });
});
