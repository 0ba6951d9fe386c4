// CEL: compile errors with offsets, the references the loader checks, and evaluation that reports instead of throwing.
import { describe, expect, it } from 'vitest';
import { compileExpression, evaluateExpression, fromCel, type CelContext, type CompiledExpression } from '../../src/expr/cel.js';

function compiled(source: string): CompiledExpression {
  const result = compileExpression(source);
  if (!result.ok) throw new Error(`${source}: ${result.message}`);
  return result.expression;
}

describe('compileExpression', () => {
  it.each([
    ['a dangling operator', 'steps.a.ok &&', 13, 'Unexpected token: EOF'],
    ['a dangling plus', '1 +', 3, 'Unexpected token: EOF'],
    ['a member access cut short', 'steps.a.ok && steps.', 20, 'Expected IDENTIFIER'],
    ['an unknown variable', 'foo.bar', 0, 'Unknown variable: foo'],
    ['an unknown variable in an index', 'steps[x]', 6, 'Unknown variable: x'],
    ['an unterminated string', 'vars.a == "abc', 10, 'Unterminated string'],
    ['an unbalanced parenthesis', '(steps.a.ok', 11, 'Expected RPAREN, got EOF'],
    ['a stray closing parenthesis', ')', 0, 'Unexpected token: RPAREN'],
    ['an empty expression', '', 0, 'Unexpected token: EOF'],
    ['a shell-style operator', 'steps.a.ok &&& true', 13, 'Unexpected character: &'],
    ['branches of different types', 'steps.a.ok ? 1 : "x"', 0, 'Ternary branches must have the same type'],
    ['nesting past the depth limit', `${'('.repeat(60)}1${')'.repeat(60)}`, 48, 'Exceeded maxDepth'],
    ['too many nodes', `1${' + 1'.repeat(3000)}`, 0, 'Exceeded maxAstNodes'],
  ])('refuses %s with the offset where it goes wrong', (_what, source, offset, message) => {
    expect(compileExpression(source)).toEqual({ ok: false, offset, message: expect.stringContaining(message) });
  });

  it('says an expression is nested too deeply instead of passing on a stack overflow', () => {
    expect(compileExpression(`${'!'.repeat(20_000)}true`)).toEqual({ ok: false, offset: 0, message: 'the expression is nested too deeply: simplify it' });
  });

  it.each([
    ['steps.a', [{ root: 'steps', name: 'a', offset: 6 }]],
    ["steps['b-c'].ok", [{ root: 'steps', name: 'b-c', offset: 6 }]],
    ['steps["b-c"].ok', [{ root: 'steps', name: 'b-c', offset: 6 }]],
    ['answers.x', [{ root: 'answers', name: 'x', offset: 8 }]],
    ["answers['on-call'] != ''", [{ root: 'answers', name: 'on-call', offset: 8 }]],
    ['has(steps.a.ok)', [{ root: 'steps', name: 'a', offset: 10 }]],
    ['vars.a + vars["b"]', [{ root: 'vars', name: 'a', offset: 5 }, { root: 'vars', name: 'b', offset: 14 }]],
    ['env.HOME', [{ root: 'env', name: 'HOME', offset: 4 }]],
    ['run.elapsed_ms > 0', [{ root: 'run', name: 'elapsed_ms', offset: 4 }]],
    ['steps.a.ok && !steps.b.ok', [{ root: 'steps', name: 'a', offset: 6 }, { root: 'steps', name: 'b', offset: 21 }]],
    ['[steps.a.ok].all(x, x)', [{ root: 'steps', name: 'a', offset: 7 }]],
    ['steps.a.metrics.p95_ms < 500.0', [{ root: 'steps', name: 'a', offset: 6 }]],
    ['size(steps) > 0', []],
    ['true', []],
  ])('finds the references in %j', (source, references) => {
    expect(compiled(source).references.map(({ root, name, offset }) => ({ root, name, offset }))).toEqual(references);
  });

  it.each([
    ['steps.a.ok', [['a', 'ok', 8]]],
    ["steps['b-c'].status == 'failed'", [['b-c', 'status', 13]]],
    ['steps.a.metrics.p95_ms < 500.0', [['a', 'metrics', 8]]],
    ['has(steps.a)', [['a', undefined, undefined]]],
  ] as const)('notes the field read on each reference in %j', (source, expected) => {
    expect(compiled(source).references.map((r) => [r.name, r.field, r.fieldOffset])).toEqual(expected);
  });

  it.each([
    ['has(steps.a.ok)', 'bool'],
    ['steps.a.ok', 'dyn'],
    ['steps.a.metrics.p95_ms < 500', 'bool'],
    ['vars.a + "x"', 'string'],
    ['size(steps)', 'int'],
    ['1.5 * 2.0', 'double'],
  ])('infers the type of %j as %s', (source, type) => {
    expect(compiled(source).type).toBe(type);
  });
});

describe('evaluateExpression', () => {
  it.each([
    ['a step result', 'steps.a.ok', { steps: { a: { ok: true } } }, true],
    ['a step with a dash in its id', "steps['qa-ready'].ok", { steps: { 'qa-ready': { ok: false } } }, false],
    ['has() on a missing field', 'has(steps.a.ok)', { steps: { a: {} } }, false],
    ['a JSON number against an int literal', 'steps.a.exit_code == 0', { steps: { a: { exit_code: 0 } } }, true],
    ['a JSON number against a double literal', 'steps.a.metrics.p95_ms < 500.0', { steps: { a: { metrics: { p95_ms: 120 } } } }, true],
    ['an answer', "answers['on-call'] == 'Dana'", { answers: { 'on-call': 'Dana' } }, true],
    ['an integer, as a JSON number', '2 + 3', {}, 5],
    ['a list', '[1, 2]', {}, [1, 2]],
    ['a map', '{"a": 1}', {}, { a: 1 }],
    ['a Map in the context', 'steps.a.ok', { steps: new Map([['a', { ok: true }]]) }, true],
    ['a null context variable, read as empty', 'size(steps)', { steps: null }, 0],
  ])('evaluates %s', (_what, source, context, value) => {
    expect(evaluateExpression(compiled(source), context as CelContext)).toEqual({ ok: true, value });
  });

  it.each([
    ['a missing step', 'steps.a.ok', {}, 'No such key: a'],
    ['a missing field', 'steps.a.ok', { steps: { a: {} } }, 'No such key: ok'],
    ['has() on a missing step', 'has(steps.a.ok)', {}, 'No such key: a'],
    ['a missing var', 'vars.missing == 1', { vars: {} }, 'No such key: missing'],
    ['division by zero', '1 / 0', {}, 'division by zero'],
    ['a context variable of the wrong type', 'steps.a.ok', { steps: 5 }, "Variable 'steps' is not of type"],
    ['a value CEL cannot hold', 'steps.a.ok', { steps: { a: { ok: () => true } } }, 'Unsupported type'],
    ['arithmetic on a JSON number and an int literal', 'vars.n + 1', { vars: { n: 1 } }, 'no such overload'],
  ])('reports %s as a value, without throwing', (_what, source, context, message) => {
    expect(evaluateExpression(compiled(source), context as CelContext)).toEqual({ ok: false, message: expect.stringContaining(message) });
  });
});

describe('fromCel', () => {
  it.each([
    ['a small bigint, as a number', 42n, 42],
    ['a bigint past 2^53, as a string', 2n ** 60n, '1152921504606846976'],
    ['a Map, as an object', new Map<unknown, unknown>([['a', 1n]]), { a: 1 }],
    ['bytes, as base64', new Uint8Array([104, 105]), 'aGk='],
    ['nested values', { l: [1n, { m: 2n }] }, { l: [1, { m: 2 }] }],
    ['a string', 'x', 'x'],
  ])('turns %s into JSON', (_what, value, json) => {
    expect(fromCel(value)).toEqual(json);
  });
});
