// The notifier's share of real time: a failing watch tick's ALERT at once and RESOLVED at the next passing one, a phase past its window.
import type { EventOf } from '../engine/events.js';
import type { RunState } from '../engine/state.js';
import { plannedWindows, resolveT0 } from '../engine/timeline.js';
import type { Clock } from '../ports/types.js';
import { formatDuration, formatOffset } from '../runbook/duration.js';
import { phaseTitle, roleName, stepTitle } from '../runbook/labels.js';
import type { PhaseDoc, RunbookDoc, RunEventName, StepDoc } from '../runbook/types.js';
import { nextSteps, planEta } from './facts.js';
import { formatAlert, formatResolved, type MessageKind } from './messages.js';

const hhmm = (ms: number) => `${new Date(ms).toISOString().slice(11, 16)} UTC`;

/** What the notifier lends: how to send, escalate and time, and its list of open issues (status updates list them). */
export interface TimeAlertsHost {
  doc: RunbookDoc;
  clock: Clock;
  state: () => RunState;
  deliver: (kind: MessageKind, text: string) => void;
  fireOn: (name: RunEventName, reason: string, owner?: string, stepId?: string) => void;
  /** Start the `after:` escalation rules for an issue (they climb the owner's escalates_to path while it stays open). */
  armWaitTimers: (key: string, owner: string, what: string, stepId?: string) => void;
  /** Stop them, without a message of their own. */
  cancelWait: (key: string) => void;
  openIssues: Map<string, { text: string; since: number }>;
}

export interface TimeAlerts {
  onTick(event: EventOf<'watch-tick'>): void;
  onOverrun(event: EventOf<'phase-overrun'>): void;
  /** The watch ended: its open issue stops climbing (no tick will resolve it now); the status updates still list it. */
  onStepFinished(stepId: string): void;
  onPhaseFinished(phaseId: string): void;
}

export function createTimeAlerts(host: TimeAlertsHost): TimeAlerts {
  const { doc, clock } = host;
  const stepsById = new Map<string, StepDoc>();
  for (const phase of doc.phases) for (const step of phase.steps ?? []) stepsById.set(step.id, step);
  const issueKey = (stepId: string) => `tick:${stepId}`;

  function onTick(event: EventOf<'watch-tick'>): void {
    const step = stepsById.get(event.stepId);
    const watch = host.state().steps.get(event.stepId)?.watch;
    if (step?.watch === undefined || watch === undefined) return;
    const { tick } = event;
    const title = stepTitle(step);
    const key = issueKey(event.stepId);
    const open = host.openIssues.get(key);
    const of = `of ${watch.plan.plannedTicks}`;
    const limit = step.watch.failure_limit ?? 0;
    const nextDue = watch.plan.startedAt + watch.plan.initialDelayMs + watch.lastSlot * watch.plan.everyMs;
    const more = watch.lastSlot < watch.plan.plannedTicks;
    if (tick.status === 'passed') {
      if (open === undefined) return;
      host.openIssues.delete(key);
      host.cancelWait(key);
      const left = watch.plan.plannedTicks - watch.lastSlot;
      host.deliver(
        'resolved',
        formatResolved({
          issue: `watch '${event.stepId}' (${title}) failing`,
          durationMs: clock.now() - open.since,
          status: `Back to normal: tick ${tick.n} ${of} passed (${watch.failed} failing of ${watch.ticks} so far, failure_limit ${limit})`,
          cause: open.text,
          // The window goes on; the run as a whole only as it does (a failure left to a gate ahead, say).
          next: `${more ? `watching on: ${left} more tick${left === 1 ? '' : 's'}, the next at ${hhmm(nextDue)}` : 'that was the last tick of the window'}; ${nextSteps(doc, host.state())}`,
        }),
      );
      return;
    }
    if (tick.status === 'inconclusive') return;
    const failing = tick.status === 'failed';
    const what = failing
      ? `tick ${tick.n} ${of} failed: ${tick.reason ?? 'a check failed'}`
      : `${tick.through !== undefined ? `ticks ${tick.n}-${tick.through}` : `tick ${tick.n}`} ${of} missed: ${tick.reason ?? 'not run'}`;
    const left = limit - watch.failed;
    host.deliver(
      'issue',
      formatAlert({
        type: `Watch ${failing ? 'failing' : 'missed ticks'}: ${title}`,
        severity: failing ? 'high' : 'medium',
        at: clock.now(),
        description: `watch '${event.stepId}': ${what}`,
        action: failing
          ? left >= 0
            ? `watching on; ${left === 0 ? 'one more failing tick fails the watch' : `${left + 1} more failing ticks fail the watch`} (failure_limit ${limit})`
            : `more failing ticks than failure_limit ${limit}: the watch fails now`
          : 'no data for that time: counted against inconclusive_limit, never as passed',
        // The next tick may clear it; after the last one, the plan's end of this phase.
        eta: more ? `next tick at ${hhmm(nextDue)}` : planEta(doc, host.state(), host.state().steps.get(event.stepId)?.phaseId, clock.now()),
        assignee: roleName(step.owner, doc.roles[step.owner], doc.people),
      }),
    );
    if (open === undefined) {
      host.openIssues.set(key, { text: `watch '${event.stepId}' ${failing ? 'failing' : 'missed ticks'} since tick ${tick.n}`, since: clock.now() });
      // "Issue taking > 15 min": a failing watch climbs its owner's escalation path until a tick passes.
      host.armWaitTimers(key, step.owner, `watch '${event.stepId}' (${title}) failing`, event.stepId);
    }
  }

  function onOverrun(event: EventOf<'phase-overrun'>): void {
    const phase = doc.phases.find((p) => p.id === event.phaseId);
    if (phase === undefined) return;
    const state = host.state();
    const t0 = resolveT0(doc, state);
    const at = (ms: number) => (t0 === undefined ? hhmm(ms) : `${formatOffset(ms - t0)} (${hhmm(ms)})`);
    const started = state.phases.get(phase.id)?.startedAt;
    const planned = plannedWindows(doc, t0).get(phase.id);
    const index = doc.phases.indexOf(phase);
    const next = doc.phases.slice(index + 1).find((p) => p.at !== undefined);
    const name = `phase '${phase.id}' (${phaseTitle(phase)})`;
    const reason =
      started !== undefined && started >= event.plannedEnd
        ? `${name} started at ${at(started)}, after the end of its window (${at(event.plannedEnd)})${planned?.start !== undefined ? `; it was planned for ${at(planned.start)}` : ''}`
        : `${name} is still running at ${at(event.plannedEnd)}, the end of its window${started !== undefined ? `; it started at ${at(started)}${planned?.start !== undefined ? `, planned ${at(planned.start)}` : ''}` : ''}`;
    host.openIssues.set(`overrun:${phase.id}`, { text: `phase '${phase.id}' past its window (planned end ${at(event.plannedEnd)})`, since: event.at });
    host.deliver(
      'issue',
      formatAlert({
        type: `Behind schedule: ${phaseTitle(phase)}`,
        severity: 'medium',
        at: clock.now(),
        description: reason,
        action: next !== undefined ? `finish it, or re-plan: '${next.id}' (${phaseTitle(next)}) was due at ${at(event.plannedEnd)}` : 'finish it, or re-plan',
        eta: `${formatDuration(Math.max(0, clock.now() - event.plannedEnd))} behind plan so far`,
        assignee: ownersOf(doc, phase),
      }),
    );
    host.fireOn('overrun', reason);
  }

  return {
    onTick,
    onOverrun,
    onStepFinished(stepId) {
      if (stepsById.get(stepId)?.watch !== undefined) host.cancelWait(issueKey(stepId));
    },
    onPhaseFinished(phaseId) {
      host.openIssues.delete(`overrun:${phaseId}`);
    },
  };
}

/** The people at work in a phase: its steps' owners and its gate's (a phase has one or the other). */
function ownersOf(doc: RunbookDoc, phase: PhaseDoc): string {
  const owners = [...new Set([...(phase.steps ?? []).map((s) => s.owner), ...(phase.gate !== undefined ? [phase.gate.owner] : [])])];
  return owners.map((o) => roleName(o, doc.roles[o], doc.people)).join(', ');
}
