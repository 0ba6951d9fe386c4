// Problems as printed: one `path:line:col: message` line each, in source order, with nothing from the file able to break the line.
import { describe, expect, it } from 'vitest';
import { capProblems, countProblems, formatProblem, shorten, sortProblems, type Problem } from '../../src/runbook/problem.js';

const problem = (line: number, col: number, message = 'm'): Problem => ({ file: 'r.yaml', line, col, code: 'c', message });

describe('formatProblem', () => {
  it.each([
    ['a plain message', "owner 'x' is not a declared role", "r.yaml:3:7: owner 'x' is not a declared role"],
    ['a newline', "unknown key 'a\nb'", "r.yaml:3:7: unknown key 'a\\nb'"],
    ['a carriage return and a tab', 'a\rb\tc', 'r.yaml:3:7: a\\rb\\tc'],
    ['a terminal escape', "unknown key '\u001b[2J'", "r.yaml:3:7: unknown key '\\u001b[2J'"],
    ['a C1 control character', 'a\u009bb', 'r.yaml:3:7: a\\u009bb'],
    ['DEL', 'a\u007fb', 'r.yaml:3:7: a\\u007fb'],
    ['unicode text, untouched', 'déploiement ✓ 🚀', 'r.yaml:3:7: déploiement ✓ 🚀'],
  ])('prints %s on one line', (_what, message, line) => {
    expect(formatProblem(problem(3, 7, message))).toBe(line);
  });
});

describe('sortProblems', () => {
  it('orders by line, then column, and keeps the input as it was', () => {
    const input = [problem(3, 1), problem(1, 9), problem(1, 2)];

    expect(sortProblems(input).map((p) => `${p.line}:${p.col}`)).toEqual(['1:2', '1:9', '3:1']);
    expect(input.map((p) => `${p.line}:${p.col}`)).toEqual(['3:1', '1:9', '1:2']);
  });
});

describe('shorten', () => {
  it.each([
    ['a short name', 'timeout', 'timeout'],
    ['exactly 40 characters', 'k'.repeat(40), 'k'.repeat(40)],
    ['41 characters', 'k'.repeat(41), `${'k'.repeat(40)}…`],
    ['a megabyte', 'k'.repeat(1024 * 1024), `${'k'.repeat(40)}…`],
  ])('keeps %s quotable', (_what, text, short) => {
    expect(shorten(text)).toBe(short);
  });
});

describe('capProblems', () => {
  const at = (line: number, message: string | (() => string) = `p${line}`) => ({ file: 'f.yaml', line, col: 1, code: 'x', message });

  it('keeps every problem, sorted, when there are few', () => {
    expect(capProblems([at(3), at(1)], 2).map((p) => p.line)).toEqual([1, 3]);
  });

  it('keeps the first ones in source order and adds one line counting the rest, at the first left out', () => {
    const capped = capProblems([at(5), at(4), at(3), at(2), at(1)], 2);
    expect(capped).toEqual([at(1), at(2), { file: 'f.yaml', line: 3, col: 1, code: 'more-problems', omitted: 3, message: '3 more problems from here on are not shown: fix the ones above first' }]);
    expect(countProblems(capped)).toBe(5);
  });

  it('makes the messages of the problems it keeps only', () => {
    let made = 0;
    const lazy = (line: number) => at(line, () => `made ${++made}`);
    const capped = capProblems([lazy(1), lazy(2), lazy(3), lazy(4)], 2);
    expect(capped.map((p) => p.message).slice(0, 2)).toEqual(['made 1', 'made 2']);
    expect(made).toBe(2);
  });

  it('keeps the count of a list that is already capped, and says one problem in the singular', () => {
    const once = capProblems([at(1), at(2), at(3)], 2);
    expect(capProblems(once, 2)).toEqual(once);
    expect(once[2]!.message).toBe('1 more problem from here on is not shown: fix the ones above first');
  });
});
