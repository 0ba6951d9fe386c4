// The communication plan's messages, in the team's own formats: status update, ALERT, RESOLVED, all-clear and its failure counterpart.
import type { RunStatus } from '../engine/events.js';
import type { RunState } from '../engine/state.js';
import { deployDurationMs, targetLimitMs } from '../engine/timeline.js';
import { timelineLine, watchLines } from './timeline-lines.js';
import { formatDuration, parseDuration } from '../runbook/duration.js';
import { phaseTitle, roleName } from '../runbook/labels.js';
import type { RunbookDoc } from '../runbook/types.js';

export type MessageKind = 'status' | 'issue' | 'resolved' | 'escalation' | 'all-clear' | 'failure';

const hhmm = (ms: number) => `${new Date(ms).toISOString().slice(11, 16)} UTC`;

export interface StatusView {
  /** Lines for each phase: done, in progress, pending. */
  phases: { title: string; state: 'COMPLETE' | 'IN PROGRESS' | 'PENDING' | 'FAILED' | 'SKIPPED' }[];
  issues: string[];
  status: 'IN PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'NO-GO' | 'ROLLED BACK' | 'ABORTED';
}

const RUN_STATUS_WORDS: Record<RunStatus, StatusView['status']> = {
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  'no-go': 'NO-GO',
  'rolled-back': 'ROLLED BACK',
  aborted: 'ABORTED',
};

/** What a status update says, derived from run state alone (so `deployctl status` can print it from a journal). */
export function statusView(doc: RunbookDoc, state: RunState, openIssues: readonly string[]): StatusView {
  const phases = doc.phases.map((phase) => {
    const p = state.phases.get(phase.id);
    const word: StatusView['phases'][number]['state'] =
      p === undefined ? 'PENDING' : p.status === 'running' ? 'IN PROGRESS' : p.status === 'succeeded' ? 'COMPLETE' : p.status === 'failed' ? 'FAILED' : 'SKIPPED';
    return { title: phaseTitle(phase), state: word };
  });
  return { phases, issues: [...openIssues], status: state.finished ? RUN_STATUS_WORDS[state.finished.status] : 'IN PROGRESS' };
}

const PHASE_ICONS: Record<StatusView['phases'][number]['state'], string> = {
  COMPLETE: '🟢',
  'IN PROGRESS': '🟡',
  PENDING: '⏳',
  FAILED: '🔴',
  SKIPPED: '⚪',
};

export function formatStatusUpdate(doc: RunbookDoc, state: RunState, view: StatusView, now: number, nextAt: number | undefined, unchanged = false): string {
  const elapsed = now - (state.startedAt ?? now);
  const target = targetLimitMs(doc);
  const lines = [
    `[Deployment Status - ${hhmm(now)}]${unchanged ? ' (no change)' : ''}`,
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

export interface AlertInput {
  type: string;
  severity: string;
  at: number;
  description: string;
  action: string;
  eta?: string;
  assignee: string;
}

export function formatAlert(a: AlertInput): string {
  return [
    `🚨 ALERT: ${a.type}`,
    `Severity: ${capitalize(a.severity)}`,
    `Time: ${hhmm(a.at)}`,
    `Description: ${a.description}`,
    `Action: ${a.action}`,
    `ETA: ${a.eta ?? 'TBD'}`,
    `Assignee: ${a.assignee}`,
  ].join('\n');
}

export function formatResolved(issue: string, durationMs: number, status: string, next: string): string {
  return [`✅ RESOLVED: ${issue}`, `Resolution Time: ${formatDuration(durationMs)}`, `Status: ${status}`, 'Root Cause: TBD after analysis', `Next Steps: ${next}`].join('\n');
}

export function formatAllClear(doc: RunbookDoc, durationMs: number, metrics: string): string {
  return [
    '🎉 DEPLOYMENT COMPLETE',
    'Deployment: SUCCESS',
    `Duration: ${formatDuration(durationMs)}`,
    'Checks: All passing ✓',
    'Status: Live in production',
    `Metrics: ${metrics}`,
    'Next: Monitoring continues for 24 hours',
    `Thanks to: ${Object.values(doc.roles).map((r) => r.primary ?? r.title).join(', ')}`,
  ].join('\n');
}

export function formatFailureNotice(status: RunStatus, durationMs: number, reason: string, metrics: string, resume = 'deployctl run <runbook> --resume'): string {
  const headline = { failed: '❌ DEPLOYMENT FAILED', 'no-go': '⛔ DEPLOYMENT HELD: NO-GO', 'rolled-back': '↩️ DEPLOYMENT ROLLED BACK', aborted: '⏹️ DEPLOYMENT ABORTED', succeeded: '🎉 DEPLOYMENT COMPLETE' }[status];
  const live = { failed: 'Unknown: check the system now', 'no-go': 'Previous version still live', 'rolled-back': 'Previous version restored', aborted: 'Stopped part-way; resumable', succeeded: 'Live in production' }[status];
  const next = status === 'aborted' ? `resume with ${resume} when ready, or decide to stop here` : status === 'no-go' ? 'fix what the gate found, then a new run' : 'post-incident review';
  return [headline, `Deployment: ${status.toUpperCase()}`, `Duration: ${formatDuration(durationMs)}`, `Reason: ${reason}`, `Status: ${live}`, `Metrics: ${metrics}`, `Next: ${next}`].join('\n');
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
