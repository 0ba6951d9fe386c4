// explainFalse: a false condition rendered with the values it compared, for failure reasons and gate NO-GOs.
import { describe, expect, it } from 'vitest';
import { compileExpression, type CelContext } from '../../src/expr/cel.js';
import { explainFalse, formatNumber } from '../../src/expr/explain.js';

function explain(source: string, context: CelContext, names?: Record<string, string>): string {
  const compiled = compileExpression(source, 'check');
  if (!compiled.ok) throw new Error(compiled.message);
  return explainFalse(compiled.expression, context, names ? { names } : {});
}

describe('explainFalse', () => {
  it.each([
    ['result < 0.001', { result: 0.0021 }, 'error rate 0.0021 ≥ 0.001'],
    ['result <= 0.5', { result: 0.71234 }, 'error rate 0.7123 > 0.5'],
    ['result > 0.999', { result: 0.95 }, 'error rate 0.95 ≤ 0.999'],
    ['result >= 100', { result: 12 }, 'error rate 12 < 100'],
    ['result == 0', { result: 3 }, 'error rate 3 ≠ 0'],
    ['result != 0', { result: 0 }, 'error rate 0 = 0'],
    ['result >= -1.5 && result <= 1', { result: 3 }, 'error rate 3 > 1'],
  ])('%s with %j reads "%s"', (source, context, reason) => {
    expect(explain(source, context, { result: 'error rate' })).toBe(reason);
  });

  it('shows a member access by its value, and explains only the false side of &&', () => {
    const context = { steps: { 'a-b': { result: 0.0476 }, x: { ok: true } } };
    expect(explain("steps['a-b'].result < 0.001 && steps.x.ok", context)).toBe('0.0476 ≥ 0.001');
  });

  it('explains every side of a false ||', () => {
    const context = { vars: { p: 'http://x' }, steps: { x: { result: 0.71 } } };
    expect(explain("vars.p == '' || steps.x.result < 0.5", context)).toBe('"http://x" ≠ \'\' and 0.71 ≥ 0.5');
  });

  it('explains the branch a ternary took', () => {
    expect(explain("vars.p == '' ? true : result < 1", { vars: { p: 'x' }, result: 2 })).toBe('result 2 ≥ 1');
  });

  it('falls back to the text and its value for what it cannot take apart', () => {
    expect(explain('results.all(r, r.value < 1)', { results: [{ labels: {}, value: 2 }] })).toBe('results.all(r, r.value < 1) is false');
    expect(explain('!steps.x.ok', { steps: { x: { ok: true } } })).toBe('!steps.x.ok is false');
  });

  it('says what went wrong when the expression does not evaluate', () => {
    expect(explain('steps.missing.ok', { steps: {} })).toMatch(/^steps\.missing\.ok: /);
  });
});

describe('formatNumber', () => {
  it.each([
    [0.0021, '0.0021'],
    [0.047619047, '0.04762'],
    [612.34, '612.3'],
    [1, '1'],
    [0.00001234, '0.00001234'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, '+Inf'],
    [Number.NEGATIVE_INFINITY, '-Inf'],
  ])('%s → %s', (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });
});
