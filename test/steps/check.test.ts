// judgeCheck: no data by policy, NaN and ±Inf inconclusive, expect over result and results, failures explained with values.
import { describe, expect, it } from 'vitest';
import { judgeCheck } from '../../src/steps/check.js';

const SOURCE = 'query: sum(rate(x[5m]))';
const one = (value: number) => [{ labels: {}, value }];

describe('judgeCheck', () => {
  it.each([
    [undefined, 'inconclusive'],
    ['inconclusive', 'inconclusive'],
    ['fail', 'fail'],
    ['pass', 'pass'],
  ] as const)('no data with no_data %s is %s, and says so', (noData, verdict) => {
    const judged = judgeCheck([], { expect: 'result < 0.001', ...(noData ? { noData } : {}), label: 'error rate', source: SOURCE });
    expect(judged).toMatchObject({ verdict, result: null, results: [] });
    expect(judged.reason).toMatch(noData === 'pass' ? /^no data, and no_data: pass accepts that \(query: / : /^no data: error rate has no value \(query: sum/);
  });

  it.each([
    [Number.NaN, 'NaN', /0\/0/],
    [Number.POSITIVE_INFINITY, '+Inf', /not a number to judge \(query/],
    [Number.NEGATIVE_INFINITY, '-Inf', /not a number to judge \(query/],
  ])('%s is inconclusive even with no_data: pass, and is kept as %s', (value, kept, reason) => {
    const judged = judgeCheck(one(value), { expect: 'result < 0.001', noData: 'pass', label: 'error rate', source: SOURCE });
    expect(judged.verdict).toBe('inconclusive');
    expect(judged.result).toBeNull();
    expect(judged.results).toEqual([{ labels: {}, value: kept }]);
    expect(judged.reason).toMatch(new RegExp(`^error rate is ${kept.replace('+', '\\+')}`));
    expect(judged.reason).toMatch(reason);
  });

  it('passes a value that meets expect, and keeps it', () => {
    expect(judgeCheck(one(0.0004), { expect: 'result < 0.001', source: SOURCE })).toEqual({ verdict: 'pass', result: 0.0004, results: [{ labels: {}, value: 0.0004 }] });
  });

  it('fails a value that does not, naming the value, the condition and the query', () => {
    const judged = judgeCheck(one(0.0021), { expect: 'result < 0.001', label: 'error rate', source: SOURCE });
    expect(judged).toMatchObject({ verdict: 'fail', result: 0.0021 });
    expect(judged.reason).toBe('error rate 0.0021 ≥ 0.001 (query: sum(rate(x[5m])))');
  });

  it('without expect a number passes: the step measures, later conditions judge', () => {
    expect(judgeCheck(one(42), { source: SOURCE }).verdict).toBe('pass');
  });

  it('judges several series through results, with their labels', () => {
    const series = [
      { labels: { route: '/a' }, value: 0.1 },
      { labels: { route: '/b' }, value: 0.9 },
    ];
    expect(judgeCheck(series, { expect: 'results.all(r, r.value < 0.5)', source: SOURCE }).verdict).toBe('fail');
    expect(judgeCheck(series, { expect: "results.exists(r, r.labels.route == '/b' && r.value > 0.5)", source: SOURCE }).verdict).toBe('pass');
  });

  it('refuses `result` when several series answered, and says how to fix it', () => {
    const series = [
      { labels: { code: '200' }, value: 1 },
      { labels: { code: '500' }, value: 2 },
    ];
    const judged = judgeCheck(series, { expect: 'result < 5', source: SOURCE });
    expect(judged.verdict).toBe('fail');
    expect(judged.reason).toMatch(/^2 series answered, and `result` needs exactly one: aggregate them/);
  });

  it('reads vars and steps in expect', () => {
    const context = { vars: { max_error_rate: 0.01 } };
    expect(judgeCheck(one(0.02), { expect: 'result < vars.max_error_rate', source: SOURCE, context }).reason).toBe('result 0.02 ≥ 0.01 (query: sum(rate(x[5m])))');
  });

  it('an expect that does not evaluate, or is not a boolean, fails with the reason', () => {
    expect(judgeCheck(one(1), { expect: 'result < vars.missing', source: SOURCE, context: { vars: {} } }).reason).toMatch(/^expect: result < vars.missing: /);
    expect(judgeCheck(one(1), { expect: 'result + 1.0', source: SOURCE }).reason).toMatch(/gave 2, not true or false/);
  });
});
