// A failed step's result as conditions CI can read: each expectation not met, with the measured value against the expected one.
import type { StepResult } from '../steps/types.js';
import { METRIC_NAMES, type MetricName, type StepDoc, type StepKind } from '../runbook/types.js';
import { parseDuration } from '../runbook/duration.js';
import type { FailedCondition, FailureType } from './types.js';

/** How steps/metrics.ts names a metric at the start of a breach sentence (`p95 612 ms > max 500 ms`). */
const LABELS: Partial<Record<MetricName, string>> = { p50_ms: 'p50', p95_ms: 'p95', p99_ms: 'p99' };

export interface Judged {
  conditions: FailedCondition[];
  type: FailureType;
  /** The step's reason, with the most frequent request failure added when the reason names only a threshold. */
  reason: string;
}

/**
 * Structure a failed StepResult. The step runners' sentences are the source of truth; a sentence that
 * starts with a threshold's metric gets that metric's measured and expected values attached.
 */
export function judgeFailure(step: StepDoc, kind: StepKind, result: StepResult, lastAttemptMs: number): Judged {
  const conditions: FailedCondition[] = [];
  const requestFailures: string[] = [];
  let breached = false;
  for (const sentence of result.failures ?? []) {
    const metric = thresholdMetric(step, sentence);
    if (metric === undefined) {
      conditions.push({ message: sentence });
      requestFailures.push(sentence);
      continue;
    }
    breached = true;
    const measured = measuredValue(metric, result, sentence);
    conditions.push({ message: sentence, metric, ...(measured !== undefined ? { measured } : {}), expected: { ...step.metrics![metric] } });
  }
  let type: FailureType = breached ? 'threshold' : requestFailures.length > 0 ? 'http' : 'error';
  if (result.timedOut === true) {
    type = 'timeout';
    const limit = step.timeout !== undefined ? parseDuration(step.timeout) : undefined;
    conditions.unshift({
      message: result.reason ?? 'timed out',
      metric: 'duration_ms',
      measured: Math.round(lastAttemptMs),
      ...(limit !== undefined ? { expected: { max: limit } } : {}),
    });
  } else if (kind === 'run' && typeof result.exitCode === 'number' && result.exitCode !== 0) {
    type = 'exit-code';
    conditions.unshift({ message: `exit code ${result.exitCode}, expected 0`, metric: 'exit_code', measured: result.exitCode, expected: { equals: 0 } });
  } else if (conditions.length === 0) {
    conditions.push({ message: result.reason ?? 'failed' });
  }
  let reason = result.reason ?? conditions[0]!.message;
  const cause = requestFailures[0];
  if (breached && cause !== undefined && !reason.includes(cause)) reason = `${reason}; ${cause}`;
  return { conditions, type, reason };
}

function thresholdMetric(step: StepDoc, sentence: string): MetricName | undefined {
  for (const name of METRIC_NAMES) {
    if (step.metrics?.[name] === undefined) continue;
    const label = LABELS[name] ?? name;
    if (sentence.startsWith(`${label} `) || sentence === `${name} not measured`) return name;
  }
  return undefined;
}

/** The exact measurement when the probe has it; otherwise the number the sentence shows. */
function measuredValue(metric: MetricName, result: StepResult, sentence: string): number | undefined {
  const exact = metric === 'duration_ms' ? undefined : result.metrics?.[metric];
  if (typeof exact === 'number' && Number.isFinite(exact)) return exact;
  const shown = /^\S+ (-?[0-9.]+(?:e[+-]?[0-9]+)?)/.exec(sentence)?.[1];
  return shown === undefined ? undefined : Number(shown);
}
