// Problems as printed: one `path:line:col: message` line each, in source order, with nothing from the file able to break the line.
import { describe, expect, it } from 'vitest';
import { formatProblem, shorten, sortProblems, type Problem } from '../../src/runbook/problem.js';

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
