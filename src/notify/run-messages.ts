// The messages about the run's course, composed from its state: a failed step's ALERT, the rollback's authorization ALERT and RESOLVED, the ALL-CLEAR, the failure notice.
import type { EventOf, RunStatus } from '../engine/events.js';
import type { RunState } from '../engine/state.js';
import { formatDuration } from '../runbook/duration.js';
import { phaseTitle, roleName, stepTitle } from '../runbook/labels.js';
import type { PhaseDoc, RunbookDoc, StepDoc } from '../runbook/types.js';
import { brief, checksLine, failureAction, healthAfterRollback, hhmm, liveStatus, nextInPlan, nextSteps, planEta, probesLine, rolledBackTo } from './facts.js';
import { formatAlert, formatAllClear, formatFailureNotice, formatResolved } from './messages.js';

/** A success metric's verdict as the ALL-CLEAR counts it (the record's evaluation, passed in by the command). */
export interface MetricVerdict {
  title: string;
  verdict: 'met' | 'missed' | 'not measured' | 'unknown';
}

export interface RunFacts {
  doc: RunbookDoc;
  state: RunState;
  env: Record<string, string>;
  now: number;
}

/** A phase step, cleanup step or rollback step failed or was inconclusive: what happened, and what follows by its policy. */
export function stepFailedAlert({ doc, state, now }: RunFacts, event: EventOf<'step-finished'>, step: StepDoc | undefined, phase: PhaseDoc | undefined): string {
  const what = `step '${event.stepId}'${step ? ` (${stepTitle(step)})` : ''}`;
  // An inconclusive check is an issue too: nobody knows whether the system is well.
  const verb = event.outcome.status === 'failed' ? 'failed' : 'was inconclusive';
  const action = event.rollback
    ? 'rollback step failed: the rollback stops here, half done; act now'
    : event.finally === true
      ? 'cleanup step failed; the other cleanup steps still run'
      : step !== undefined && phase !== undefined
        ? failureAction(doc, state, phase, step)
        : 'stopping the deployment';
  return formatAlert({
    type: `Step ${event.outcome.status}: ${step ? stepTitle(step) : event.stepId}`,
    severity: event.rollback ? 'critical' : action.startsWith('recorded;') ? 'medium' : 'high',
    at: now,
    description: `${what} ${verb}: ${event.outcome.reason ?? event.outcome.status}`,
    action,
    eta: planEta(doc, state, phase?.id, now),
    assignee: step ? roleName(step.owner, doc.roles[step.owner], doc.people) : 'the step owner',
  });
}

/** The rollback waits for its authorizer: they are told what, why, and what happens without an answer. */
export function authorizationAlert({ doc, now }: RunFacts, event: EventOf<'rollback-requested'>): string {
  const role = roleName(event.authorize, doc.roles[event.authorize], doc.people);
  return formatAlert({
    type: 'Rollback awaiting authorization',
    severity: 'high',
    at: now,
    description: `rolling back ${event.phases.join(', ')} needs ${role}'s authorization: ${brief(event.reason)}`,
    action: `authorize or decline at deployctl's prompt (or 'rollback: rollback | abort' in the answers file); without an answer: ${event.default === 'rollback' ? 'roll back' : 'do not roll back'}`,
    eta: `${hhmm(event.at + event.timeoutMs)} (the default applies after ${formatDuration(event.timeoutMs)})`,
    assignee: role,
  });
}

/** A rollback that completed: what it resolves, the version it went back to, and how healthy the system is after it. */
export function rollbackResolved(facts: RunFacts): string {
  const { doc, state, env, now } = facts;
  const rollback = state.rollback!;
  const since = Math.min(rollback.startedAt, state.authorization?.requestedAt ?? rollback.startedAt);
  return formatResolved({
    issue: `rolled back ${rollback.phases.join(', ')}`,
    durationMs: now - since,
    status: `rolled back to ${rolledBackTo(doc, state, env, now)}`,
    details: [`Health after rollback: ${healthAfterRollback(doc, state)}`],
    cause: brief(rollback.reason),
    next: nextSteps(doc, state),
  });
}

/** The ALL-CLEAR when the go_live phase completes (or the run, without one): counts from the run as it stands now. */
export function allClear(facts: RunFacts, phase: PhaseDoc | undefined, openIssues: readonly string[], metrics: readonly MetricVerdict[] | undefined): string {
  const { doc, state, now } = facts;
  const live = phase !== undefined ? `live since ${hhmm(now)} (${phaseTitle(phase)} complete)` : `every phase complete at ${hhmm(now)}`;
  return formatAllClear(doc, {
    durationMs: now - (state.startedAt ?? now),
    checks: checksLine(doc, state),
    metrics: metricsCount(metrics, doc),
    openIssues,
    live,
    probes: probesLine(state),
    next: phase !== undefined ? nextInPlan(doc, phase.id) : 'nothing: the run is over',
  });
}

/** The run ended otherwise than succeeded: why, what is live now, and for a rollback the version and health after it. */
export function failureNotice(facts: RunFacts, status: RunStatus, reason: string, resume: string | undefined): string {
  const { doc, state, env, now } = facts;
  const rolledBack = status === 'rolled-back' && state.rollback?.status === 'succeeded';
  return formatFailureNotice({
    status,
    durationMs: now - (state.startedAt ?? now),
    reason,
    live: liveStatus(doc, state, status),
    ...(rolledBack ? { details: [`Rolled back to: ${rolledBackTo(doc, state, env, now)}`, `Health after rollback: ${healthAfterRollback(doc, state)}`] } : {}),
    probes: probesLine(state),
    ...(resume !== undefined ? { resume } : {}),
  });
}

/** `5 of 9 met, 4 not measured yet (Uptime, …)`; without the evaluation, how many the runbook defines. */
function metricsCount(metrics: readonly MetricVerdict[] | undefined, doc: RunbookDoc): string {
  if (metrics === undefined) return `${doc.success_metrics?.length ?? 0} defined, not evaluated here`;
  if (metrics.length === 0) return 'none defined';
  const of = (v: MetricVerdict['verdict']) => metrics.filter((m) => m.verdict === v);
  const parts = [`${of('met').length} of ${metrics.length} met`];
  for (const [verdict, word] of [
    ['missed', 'missed'],
    ['not measured', 'not measured yet'],
    ['unknown', 'unknown'],
  ] as const) {
    const list = of(verdict);
    if (list.length > 0) parts.push(`${list.length} ${word} (${list.map((m) => m.title).join(', ')})`);
  }
  return parts.join(', ');
}
