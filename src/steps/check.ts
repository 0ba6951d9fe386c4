// The verdict on numbers a check read (Prometheus series, a JSON field): no data and NaN are inconclusive, `expect:` decides the rest.
import type { CheckSeries } from '../engine/events.js';
import { compileExpression, evaluateExpression, type CelContext, type CompiledExpression } from '../expr/cel.js';
import { explainFalse, formatNumber } from '../expr/explain.js';
import type { NoDataPolicy } from '../runbook/types.js';
import type { Series } from './prometheus-api.js';

export type CheckVerdict = 'pass' | 'fail' | 'inconclusive';

export interface CheckPolicy {
  /** CEL over `result` and `results` (and the usual variables): compiled with the 'check' dialect, or its text. */
  expect?: CompiledExpression | string;
  /** Default inconclusive. */
  noData?: NoDataPolicy;
  /** What the number is: `error rate` in `error rate 0.0021 ≥ 0.001`. Default `result`. */
  label?: string;
  /** Where the number came from, appended to every reason: `query: sum(rate(…))`. */
  source: string;
  /** Steps, vars, answers, env, run as of now, for an `expect:` that uses them. */
  context?: CelContext;
}

export interface CheckJudgement {
  verdict: CheckVerdict;
  /** Why it did not pass (or passed without data): one sentence ending in `(query: …)`. */
  reason?: string;
  /** The single number, when there is exactly one and it is finite. */
  result: number | null;
  results: CheckSeries[];
}

/** The number of series a reason names before it says "and N more". */
const SERIES_IN_REASON = 3;

/**
 * Judge what a check read. In order: nothing read is no data (`no_data` says what that is: fail, inconclusive, or —
 * only when a runbook says so — pass); a NaN or ±Inf anywhere is inconclusive (a ratio over no requests is 0/0); then
 * `expect:` decides, with `result` (the single series' value, null when there are several) and `results` (every series
 * with its labels). Without `expect:` a finite reading passes: the step measures, later conditions judge.
 */
export function judgeCheck(series: readonly Series[], policy: CheckPolicy): CheckJudgement {
  const label = policy.label ?? 'result';
  const results = series.map(toCheckSeries);
  const result = series.length === 1 && Number.isFinite(series[0]!.value) ? series[0]!.value : null;
  const because = (text: string) => `${text} (${policy.source})`;

  if (series.length === 0) {
    const noData = policy.noData ?? 'inconclusive';
    if (noData === 'pass') return { verdict: 'pass', reason: because('no data, and no_data: pass accepts that'), result, results };
    return { verdict: noData === 'fail' ? 'fail' : 'inconclusive', reason: because(`no data: ${label} has no value`), result, results };
  }
  const nonFinite = series.filter((s) => !Number.isFinite(s.value));
  if (nonFinite.length > 0) {
    const shown = nonFinite.slice(0, SERIES_IN_REASON).map((s) => `${label}${describeLabels(s.labels)} is ${formatNumber(s.value)}`);
    const more = nonFinite.length > SERIES_IN_REASON ? ` and ${nonFinite.length - SERIES_IN_REASON} more` : '';
    const hint = nonFinite.some((s) => Number.isNaN(s.value)) ? ' (a ratio over no requests is 0/0)' : '';
    return { verdict: 'inconclusive', reason: because(`${shown.join(', ')}${more}: not a number to judge${hint}`), result, results };
  }
  if (policy.expect === undefined) return { verdict: 'pass', result, results };

  const compiled = typeof policy.expect === 'string' ? compileExpression(policy.expect, 'check') : { ok: true as const, expression: policy.expect };
  if (!compiled.ok) return { verdict: 'fail', reason: because(`expect: ${compiled.message}`), result, results };
  const expression = compiled.expression;
  if (result === null && usesResult(expression)) {
    return {
      verdict: 'fail',
      reason: because(`${series.length} series answered, and \`result\` needs exactly one: aggregate them (sum, max, …) or write expect over \`results\``),
      result,
      results,
    };
  }
  const context: CelContext = { ...policy.context, result, results };
  const evaluated = evaluateExpression(expression, context);
  if (!evaluated.ok) return { verdict: 'fail', reason: because(`expect: ${expression.source}: ${evaluated.message}`), result, results };
  if (evaluated.value === true) return { verdict: 'pass', result, results };
  if (evaluated.value !== false) return { verdict: 'fail', reason: because(`expect: ${expression.source} gave ${JSON.stringify(evaluated.value)}, not true or false`), result, results };
  return { verdict: 'fail', reason: because(explainFalse(expression, context, { names: { result: label } }, evaluated)), result, results };
}

/** `{code="500"}`: a series' labels as PromQL writes them; nothing for a scalar. */
export function describeLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`;
}

/** JSON cannot hold NaN or Inf: the journal and the record keep them as Prometheus spells them. */
export function toCheckSeries(series: Series): CheckSeries {
  return { labels: { ...series.labels }, value: Number.isFinite(series.value) ? series.value : formatNumber(series.value) };
}

/** Whether the condition reads the bare `result` (not only `results`). */
function usesResult(expression: CompiledExpression): boolean {
  return /(^|[^.\w])result(?![\w])/.test(expression.source.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, ''));
}
