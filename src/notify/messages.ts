// The communication plan's messages, in the team's own formats: status update, ALERT, RESOLVED, all-clear and its failure counterpart.
import type { RunStatus } from '../engine/events.js';
import type { RunState } from '../engine/state.js';
import { deployDurationMs, targetLimitMs } from '../engine/timeline.js';
import { timelineLine, watchLines } from './timeline-lines.js';
import { formatDuration, parseDuration } from '../runbook/duration.js';
import { phaseTitle, roleName } from '../runbook/labels.js';
import type { RunbookDoc } from '../runbook/types.js';
import { hhmm } from './facts.js';

export type MessageKind = 'status' | 'issue' | 'resolved' | 'escalation' | 'all-clear' | 'failure';



export type PhaseWord = 'COMPLETE' | 'IN PROGRESS' | 'PENDING' | 'FAILED' | 'SKIPPED' | 'ROLLING BACK' | 'ROLLED BACK' | 'ROLLBACK FAILED';

export interface StatusView {
  /** Lines for each phase: done, in progress, pending; during and after a rollback, the phases it undoes and the ones never reached. */
  phases: { title: string; state: PhaseWord }[];
  issues: string[];
  status: 'IN PROGRESS' | 'AWAITING ROLLBACK AUTHORIZATION' | 'ROLLING BACK' | 'SUCCEEDED' | 'FAILED' | 'NO-GO' | 'ROLLED BACK' | 'ABORTED';
}

const RUN_STATUS_WORDS: Record<RunStatus, StatusView['status']> = {
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  'no-go': 'NO-GO',
  'rolled-back': 'ROLLED BACK',
  aborted: 'ABORTED',
};

/** The run as a whole: its end when it has one; a rollback under way (or waiting for its authorization) before that. */
function runWord(state: RunState): StatusView['status'] {
  if (state.finished) return RUN_STATUS_WORDS[state.finished.status];
  if (state.rollback !== undefined) return state.rollback.status === undefined ? 'ROLLING BACK' : state.rollback.status === 'succeeded' ? 'ROLLED BACK' : 'FAILED';
  if (state.authorization !== undefined && state.authorization.decision === undefined) return 'AWAITING ROLLBACK AUTHORIZATION';
  return 'IN PROGRESS';
}

/** What a status update says, derived from run state alone (so `deployctl status` can print it from a journal). */
export function statusView(doc: RunbookDoc, state: RunState, openIssues: readonly string[]): StatusView {
  const rollback = state.rollback;
  // Once the run stops going forward (it ended, or it rolls back), a phase never started is not pending: it will not run.
  const stopped = state.finished !== undefined || rollback !== undefined || (state.authorization !== undefined && state.authorization.decision === undefined);
  const phases = doc.phases.map((phase) => {
    const p = state.phases.get(phase.id);
    let word: PhaseWord;
    if (rollback !== undefined && rollback.phases.includes(phase.id)) {
      word = rollback.status === undefined ? 'ROLLING BACK' : rollback.status === 'succeeded' ? 'ROLLED BACK' : 'ROLLBACK FAILED';
    } else if (p === undefined) word = stopped ? 'SKIPPED' : 'PENDING';
    else word = p.status === 'running' ? 'IN PROGRESS' : p.status === 'succeeded' ? 'COMPLETE' : p.status === 'failed' ? 'FAILED' : 'SKIPPED';
    return { title: phaseTitle(phase), state: word };
  });
  return { phases, issues: [...openIssues], status: runWord(state) };
}

const PHASE_ICONS: Record<PhaseWord, string> = {
  COMPLETE: '🟢',
  'IN PROGRESS': '🟡',
  PENDING: '⏳',
  FAILED: '🔴',
  SKIPPED: '⚪',
  'ROLLING BACK': '↩️',
  'ROLLED BACK': '↩️',
  'ROLLBACK FAILED': '🔴',
};

/** `unchangedSince`: nothing changed since the update sent then (the header says so, and when). */
export function formatStatusUpdate(doc: RunbookDoc, state: RunState, view: StatusView, now: number, nextAt: number | undefined, unchangedSince?: number): string {
  const elapsed = now - (state.startedAt ?? now);
  const target = targetLimitMs(doc);
  const lines = [
    `[Deployment Status - ${hhmm(now)}]${unchangedSince !== undefined ? ` (no change since ${hhmm(unchangedSince)})` : ''}`,
    `📊 Status: ${view.status}`,
    `⏱️ Elapsed: ${formatDuration(elapsed)}${target !== undefined ? (typeof doc.target_duration === 'object' ? deploymentAgainstTarget(doc, state, now, target) : ` / ${formatDuration(target)} total`) : ''}`,
    ...timelineLine(doc, state, now),
    ...watchLines(doc, state),
    ...view.phases.map((p) => `${PHASE_ICONS[p.state]} ${p.title}: ${p.state}`),
    `👥 Team: ${teamLine(doc)}`,
    `🚨 Issues: ${view.issues.length === 0 ? 'None' : view.issues.join('; ')}`,
  ];
  if (nextAt !== undefined) lines.push(`Next update: ${hhmm(nextAt)}`);
  return lines.join('\n');
}

/** Every field comes from the run (the ETA from the plan: src/notify/facts.ts planEta). */
export interface AlertInput {
  type: string;
  severity: string;
  at: number;
  description: string;
  action: string;
  eta: string;
  assignee: string;
}

export function formatAlert(a: AlertInput): string {
  return [
    `🚨 ALERT: ${a.type}`,
    `Severity: ${capitalize(a.severity)}`,
    `Time: ${hhmm(a.at)}`,
    `Description: ${a.description}`,
    `Action: ${a.action}`,
    `ETA: ${a.eta}`,
    `Assignee: ${a.assignee}`,
  ].join('\n');
}

export interface ResolvedInput {
  issue: string;
  durationMs: number;
  status: string;
  /** What the run knows of the cause: the failure it resolves (a person's analysis comes later). */
  cause: string;
  /** From the run's state: the deployment continues only while it does (facts.nextSteps). */
  next: string;
  /** Lines after Status (a rollback's version and health). */
  details?: string[];
}

export function formatResolved(r: ResolvedInput): string {
  return [
    `✅ RESOLVED: ${r.issue}`,
    `Resolution Time: ${formatDuration(r.durationMs)}`,
    `Status: ${r.status}`,
    ...(r.details ?? []),
    `Root Cause: to be analysed; the run saw: ${r.cause}`,
    `Next Steps: ${r.next}`,
  ].join('\n');
}

/** The ALL-CLEAR: every figure counted from the run at the moment it goes out. */
export interface AllClearInput {
  durationMs: number;
  checks: string;
  metrics: string;
  openIssues: readonly string[];
  live: string;
  probes: string;
  next: string;
}

export function formatAllClear(doc: RunbookDoc, a: AllClearInput): string {
  return [
    '🎉 DEPLOYMENT COMPLETE',
    'Deployment: SUCCESS',
    `Duration: ${formatDuration(a.durationMs)}`,
    `Checks: ${a.checks}`,
    `Success metrics: ${a.metrics}`,
    `Open issues: ${a.openIssues.length === 0 ? 'none' : `${a.openIssues.length}: ${a.openIssues.join('; ')}`}`,
    `Status: ${a.live}`,
    `Probes: ${a.probes}`,
    `Next: ${a.next}`,
    `Thanks to: ${Object.values(doc.roles).map((r) => r.primary ?? r.title).join(', ')}`,
  ].join('\n');
}

export interface FailureNoticeInput {
  status: RunStatus;
  durationMs: number;
  reason: string;
  /** What is live now, from the run (facts.liveStatus). */
  live: string;
  probes: string;
  resume?: string;
  /** Lines after Status (a rollback's version and health). */
  details?: string[];
}

export function formatFailureNotice(n: FailureNoticeInput): string {
  const headline = { failed: '❌ DEPLOYMENT FAILED', 'no-go': '⛔ DEPLOYMENT HELD: NO-GO', 'rolled-back': '↩️ DEPLOYMENT ROLLED BACK', aborted: '⏹️ DEPLOYMENT ABORTED', succeeded: '🎉 DEPLOYMENT COMPLETE' }[n.status];
  const next =
    n.status === 'aborted' ? `resume with ${n.resume ?? 'deployctl run <runbook> --resume'} when ready, or decide to stop here` : n.status === 'no-go' ? 'fix what the gate found, then a new run' : 'post-incident review';
  return [
    headline,
    `Deployment: ${n.status.toUpperCase()}`,
    `Duration: ${formatDuration(n.durationMs)}`,
    `Reason: ${n.reason}`,
    `Status: ${n.live}`,
    ...(n.details ?? []),
    `Metrics: ${n.probes}`,
    `Next: ${next}`,
  ].join('\n');
}

function teamLine(doc: RunbookDoc): string {
  return Object.entries(doc.roles)
    .map(([id, role]) => roleName(id, role))
    .join(', ');
}

function capitalize(text: string): string {
  return text.length === 0 ? text : `${text[0]!.toUpperCase()}${text.slice(1)}`;
}

/** Issues a status update lists, as far as the journal tells: failed steps, and escalated waits still open. */
export function openIssuesFromState(state: RunState): string[] {
  const issues: string[] = [];
  for (const [id, s] of state.steps) {
    if (s.outcome?.status === 'failed') issues.push(`step '${id}' failed`);
    if (s.outcome?.status === 'inconclusive') issues.push(`step '${id}' inconclusive (no data)`);
  }
  for (const e of state.escalations) {
    const open = e.stepId === undefined || state.steps.get(e.stepId)?.outcome === undefined;
    if (open) issues.push(`${e.rule} (escalated to ${e.to.map((t) => t.title).join(', ')})`);
  }
  return issues;
}

/** `; deployment 14m of 20m`: with `target_duration: { from, to }` the target is the deployment's, not the day's. */
function deploymentAgainstTarget(doc: RunbookDoc, state: RunState, now: number, target: number): string {
  const deploy = deployDurationMs(doc, state, now);
  return deploy === undefined ? `; deployment not started (target ${formatDuration(target)})` : `; deployment ${formatDuration(deploy)} of ${formatDuration(target)}`;
}
