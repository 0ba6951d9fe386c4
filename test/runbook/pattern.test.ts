// `pattern:` on vars and ask steps: checked when the runbook loads (the regex itself, a default that breaks it, where it may stand), matched whole.
import { describe, expect, it } from 'vitest';
import { parseRunbookText } from '../../src/runbook/load.js';
import { matchesPattern, varDefaults } from '../../src/runbook/pattern.js';

const HEAD = 'version: 1\nname: t\nroles: { ops: { title: Ops } }\n';
const STEPS = 'phases:\n  - id: p\n    steps:\n      - { id: s, owner: ops, run: "true" }\n';

function load(text: string) {
  return parseRunbookText(text, 'r.yaml');
}

/** The 1-based line:col of the first occurrence of `needle` in `text`. */
function at(text: string, needle: string): { line: number; col: number } {
  const offset = text.indexOf(needle);
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, col: offset - before.lastIndexOf('\n') };
}

describe('vars with a pattern', () => {
  it('accepts { default, pattern } beside plain name: value vars, and gives expressions the default', () => {
    const result = load(`${HEAD}vars:\n  base_url: http://x\n  version: { default: 6.5.0, pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+(-[a-z]+)?$' }\n  count: { default: 3 }\n${STEPS}`);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(varDefaults(result.doc)).toEqual({ base_url: 'http://x', version: '6.5.0', count: 3 });
  });

  it.each([
    ['a pattern that is not a regular expression', "  v: { default: x, pattern: '^(x' }", "'^(x'", 'bad-pattern', /not a valid regular expression/],
    ['a default the pattern refuses', "  v: { default: 'x y', pattern: '^[a-z]+$' }", "'x y'", 'default-breaks-pattern', /default 'x y' does not match its own pattern \^\[a-z\]\+\$/],
    ['a number default the pattern refuses', "  n: { default: 10, pattern: '^[0-9]$' }", '10,', 'default-breaks-pattern', /default 10 does not match/],
    ['a var mapping without a default', "  v: { pattern: '^x$' }", '{ pattern', 'missing-key', /vars\.v is missing 'default'/],
    ['a misspelt key in a var mapping', "  v: { default: x, patern: '^x$' }", 'patern', 'unknown-key', /did you mean 'pattern'/],
    ['a list as a var', '  v: [a, b]', '[a, b]', 'wrong-type', /vars\.v must be a string/],
  ])('refuses %s, at the offending node', (_what, line, needle, code, message) => {
    const text = `${HEAD}vars:\n${line}\n${STEPS}`;
    const result = load(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ ...at(text, needle), code });
    expect(result.problems[0]!.message).toMatch(message);
  });
});

describe('ask steps with a pattern', () => {
  it('accepts a pattern on an ask step', () => {
    expect(load(`${HEAD}phases:\n  - id: p\n    steps:\n      - { id: t, owner: ops, ask: Ticket?, pattern: '^CHG-[0-9]+$' }\n`).ok).toBe(true);
  });

  it.each([
    ['on a step that asks nothing', "      - { id: t, owner: ops, run: 'true', pattern: '^x$' }", 'pattern', 'pattern-without-ask', /pattern applies to ask steps only/],
    ['that is not a regular expression', "      - { id: t, owner: ops, ask: Ticket?, pattern: '[' }", "'['", 'bad-pattern', /not a valid regular expression/],
  ])('refuses a pattern %s', (_what, step, needle, code, message) => {
    const text = `${HEAD}phases:\n  - id: p\n    steps:\n${step}\n`;
    const result = load(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([expect.objectContaining({ ...at(text, needle), code, message: expect.stringMatching(message) })]);
  });
});

describe('matchesPattern', () => {
  it.each([
    ['^[0-9]+$', '42', true],
    ['^[0-9]+$', '42; rm -rf /', false],
    // Anchored whole, written with ^…$ or not: a pattern never matches just a part of a value.
    ['[0-9]+', '42; rm -rf /', false],
    ['[0-9]+', '42', true],
    ['a|b', 'ab', false],
    ['a|b', 'b', true],
    // `$` before a newline in other regex dialects: here a trailing newline is refused.
    ['^[a-z]+$', 'abc\n', false],
    ['^[A-Z]+-[0-9]+$', 'CHG-6500', true],
    ['^.+$', 'é😀', true],
  ])('%s against %j: %s', (pattern, value, expected) => {
    expect(matchesPattern(pattern, value)).toBe(expected);
  });
});
