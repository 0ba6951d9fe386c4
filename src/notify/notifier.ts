// The communication plan and escalation matrix, live: status updates on a cadence, alerts, escalation timers, all-clear. Never blocks or fails the run.
import { celContext } from '../engine/context.js';
import type { RunEvent } from '../engine/events.js';
import { messages as engineMessages } from '../engine/messages.js';
import { applyEvent, initialRunState, type RunState } from '../engine/state.js';
import { compileExpression, evaluateExpression } from '../expr/cel.js';
import { notHolding } from '../expr/explain.js';
import type { Clock, HttpSend } from '../ports/types.js';
import { formatDuration, parseDuration } from '../runbook/duration.js';
import { holderName, roleName, stepTitle } from '../runbook/labels.js';
import { gateId, type EscalationRuleDoc, type PhaseDoc, type RunbookDoc, type RunEventName, type StepDoc } from '../runbook/types.js';
import { createDelivery } from './delivery.js';
import { nextSteps, planEta } from './facts.js';
import { formatAlert, formatResolved, formatStatusUpdate, statusView } from './messages.js';
import { allClear, authorizationAlert, failureNotice, rollbackResolved, stepFailedAlert, type MetricVerdict } from './run-messages.js';
import { createTimeAlerts } from './watch-alerts.js';

export interface NotifierDeps {
  doc: RunbookDoc;
  /** The run's clock: status cadence, escalation `after:` and every message's time (a rehearsal's is scaled). */
  clock: Clock;
  /** Delivering a message (webhook retry backoff, the wait for deliveries at the end) takes real time even in a rehearsal. Default: `clock`. */
  deliveryClock?: Clock;
  send: HttpSend;
  /** Append text to a file (channel `file:`), creating it and its directory. */
  appendFile: (file: string, text: string) => void;
  /** Resolve a channel's file path (relative paths are relative to the working directory). */
  resolvePath: (file: string) => string;
  env: Record<string, string>;
  /** Where the notifier's own events go: the same bus as the engine's (journal, reporter, record). */
  emit: (event: RunEvent) => void;
  mask: (text: string) => string;
  dryRun: boolean;
  /** Dry run: messages are printed here instead of sent. */
  print: (text: string) => void;
  webhook?: { timeoutMs?: number; attempts?: number; backoffMs?: number };
  /** A resumed run: what happened before, so status updates and the all-clear tell the whole run. */
  initialState?: RunState;
  /** `run --status-every`: this run's cadence instead of the runbook's `notify.status_every`. */
  statusEveryMs?: number;
  /** The command that continues an aborted run, for its notice. */
  resumeCommand?: string;
  /** The success metrics' verdicts now (the record's evaluation), for the ALL-CLEAR's counts. */
  successMetrics?: (state: RunState, now: number) => MetricVerdict[];
}

export interface Notifier {
  onEvent(event: RunEvent): void;
  /** Wait (bounded) for deliveries still in flight, so the all-clear is out before the record is sealed. */
  finish(maxWaitMs?: number): Promise<void>;
}

interface OpenIssue {
  text: string;
  since: number;
}

const SELF_EVENTS = new Set<RunEvent['kind']>(['escalation', 'notification']);

export function createNotifier(deps: NotifierDeps): Notifier {
  const { doc, clock } = deps;
  let state: RunState = deps.initialState ?? initialRunState;
  const timers = new Map<string, { cancel(): void }[]>();
  const escalatedWaits = new Map<string, number>();
  const openIssues = new Map<string, OpenIssue>();
  /** `when:` rules whose condition held at the last check (on resume: the ones that fired before, not to repeat them). */
  const whenHeld = new Set<number>(
    (doc.escalation ?? []).flatMap((rule, index) => (rule.when !== undefined && state.escalations.some((e) => e.rule === rule.name) ? [index] : [])),
  );
  const statusEvery = deps.statusEveryMs ?? (doc.notify?.status_every !== undefined ? parseDuration(doc.notify.status_every) : undefined);
  let statusTimer: { cancel(): void } | undefined;
  let lastFingerprint: string | undefined;
  /** When the last status update that had news went out: an unchanged one says "no change since" then. */
  let lastChangeAt: number | undefined;
  let finished = false;
  /** The ALL-CLEAR goes out once: when the go_live phase completes (in this session or an earlier one), else at the end. */
  let allClearSent = state.notifications.some((n) => n.messageKind === 'all-clear');

  const rules = doc.escalation ?? [];
  const stepsById = new Map<string, StepDoc>();
  const phaseOf = new Map<string, PhaseDoc>();
  for (const phase of doc.phases) {
    for (const step of [...(phase.steps ?? []), ...(phase.finally ?? []), ...(phase.rollback ?? [])]) {
      stepsById.set(step.id, step);
      phaseOf.set(step.id, phase);
    }
  }
  /** The phase at work: for an ETA when nothing more precise is known. */
  const runningPhase = () => doc.phases.find((p) => state.phases.get(p.id)?.status === 'running')?.id;
  const facts = () => ({ doc, state, env: deps.env, now: clock.now() });

  const { deliver, pending } = createDelivery(deps);

  // ---- escalation -----------------------------------------------------------------------------------------------

  const roleTarget = (role: string) => ({ role, title: doc.roles[role]?.title ?? role, ...(doc.roles[role]?.primary ? { person: holderName(doc.people, doc.roles[role]!.primary!) } : {}) });

  function escalate(rule: EscalationRuleDoc, targets: string[], level: number, reason: string, stepId?: string): void {
    if (targets.length === 0) return;
    const to = targets.map(roleTarget);
    const severity = rule.severity ?? 'high';
    deps.emit({ kind: 'escalation', at: clock.now(), rule: rule.name, reason, to, severity, level, ...(stepId !== undefined ? { stepId } : {}) });
    deliver(
      'escalation',
      formatAlert({
        type: rule.name,
        severity,
        at: clock.now(),
        description: reason,
        action: rule.action ?? `Escalated to ${to.map((t) => roleName(t.role, doc.roles[t.role], doc.people)).join(' and ')}`,
        eta: planEta(doc, state, (stepId !== undefined ? phaseOf.get(stepId)?.id : undefined) ?? runningPhase(), clock.now()),
        assignee: to.map((t) => roleName(t.role, doc.roles[t.role], doc.people)).join(', '),
      }),
    );
  }

  /** `to:` when given; otherwise up the owner's escalates_to path, one role per level. */
  function targetsFor(rule: EscalationRuleDoc, owner: string | undefined, level: number): string[] {
    if (rule.to !== undefined) return level === 1 ? rule.to : [];
    let role = owner;
    for (let i = 0; i < level; i++) {
      role = role === undefined ? undefined : doc.roles[role]?.escalates_to?.[0];
    }
    return role === undefined ? [] : [role];
  }

  function armWaitTimers(key: string, owner: string, what: string, stepId?: string): void {
    if (timers.has(key)) return;
    const armed: { cancel(): void }[] = [];
    for (const rule of rules) {
      if (rule.after === undefined) continue;
      const after = parseDuration(rule.after)!;
      const arm = (level: number) => {
        const targets = targetsFor(rule, owner, level);
        if (targets.length === 0) return;
        armed.push(
          clock.setTimer(after, () => {
            escalatedWaits.set(key, escalatedWaits.get(key) ?? clock.now());
            openIssues.set(`wait:${key}`, { text: `${what} open for over ${formatDuration(after * level)}`, since: clock.now() });
            escalate(rule, targets, level, `${what} has been open for more than ${formatDuration(after * level)}`, stepId);
            arm(level + 1);
          }),
        );
      };
      arm(1);
    }
    timers.set(key, armed);
  }

  function endWait(key: string, what: string, status: string): void {
    for (const timer of timers.get(key) ?? []) timer.cancel();
    timers.delete(key);
    const escalatedAt = escalatedWaits.get(key);
    if (escalatedAt !== undefined) {
      escalatedWaits.delete(key);
      openIssues.delete(`wait:${key}`);
      deliver(
        'resolved',
        formatResolved({ issue: `${what} (escalated wait)`, durationMs: clock.now() - escalatedAt, status, cause: `${what} waited ${formatDuration(clock.now() - escalatedAt)} past its escalation`, next: nextSteps(doc, state) }),
      );
    }
  }

  function fireOn(name: RunEventName, reason: string, owner?: string, stepId?: string): void {
    for (const rule of rules) {
      const on = rule.on === undefined ? [] : Array.isArray(rule.on) ? rule.on : [rule.on];
      if (on.includes(name)) escalate(rule, targetsFor(rule, owner, 1), 1, reason, stepId);
    }
  }

  /** `when:` rules fire when their condition becomes true on evidence (finished steps only), again if it clears and recurs. */
  function checkWhenRules(stepId: string, after = `step '${stepId}'`): void {
    const context = celContext({ doc, state, env: deps.env, now: clock.now(), onlyFinished: true });
    rules.forEach((rule, index) => {
      if (rule.when === undefined) return;
      const compiled = compileExpression(rule.when);
      if (!compiled.ok) return;
      const result = evaluateExpression(compiled.expression, context);
      const holds = result.ok && result.value === true;
      const held = whenHeld.has(index);
      if (holds) whenHeld.add(index);
      else if (result.ok) whenHeld.delete(index);
      if (holds && !held) {
        escalate(rule, targetsFor(rule, stepsById.get(stepId)?.owner, 1), 1, `${rule.name}: condition met after ${after} (${rule.when.length > 80 ? 'see runbook' : rule.when})`, stepId);
      }
    });
  }

  const timeAlerts = createTimeAlerts({
    doc,
    clock,
    state: () => state,
    deliver,
    fireOn,
    armWaitTimers,
    cancelWait: (key) => {
      for (const timer of timers.get(key) ?? []) timer.cancel();
      timers.delete(key);
      escalatedWaits.delete(key);
      openIssues.delete(`wait:${key}`);
    },
    openIssues,
  });

  // ---- status updates -------------------------------------------------------------------------------------------

  function scheduleStatus(): void {
    if (statusEvery === undefined || finished) return;
    statusTimer = clock.setTimer(statusEvery, () => {
      sendStatus();
      scheduleStatus();
    });
  }

  /** On the cadence whether or not anything changed (issue 13): an unchanged update says since when nothing has. */
  function sendStatus(): void {
    const view = statusView(doc, state, [...openIssues.values()].map((i) => i.text));
    const fingerprint = JSON.stringify(view);
    const now = clock.now();
    const unchangedSince = fingerprint === lastFingerprint ? lastChangeAt : undefined;
    if (unchangedSince === undefined) lastChangeAt = now;
    lastFingerprint = fingerprint;
    deliver('status', formatStatusUpdate(doc, state, view, now, statusEvery !== undefined ? now + statusEvery : undefined, unchangedSince));
  }

  // ---- events ---------------------------------------------------------------------------------------------------

  function onEvent(event: RunEvent): void {
    if (SELF_EVENTS.has(event.kind)) return;
    state = applyEvent(state, event);
    switch (event.kind) {
      case 'run-started':
      case 'run-resumed':
        scheduleStatus();
        break;
      case 'step-started': {
        const step = stepsById.get(event.stepId);
        // A watch is meant to take its window: only its failing ticks are an issue that can take too long.
        if (step && step.watch === undefined) armWaitTimers(`step:${event.stepId}`, step.owner, `step '${event.stepId}' (${stepTitle(step)})`, event.stepId);
        break;
      }
      case 'phase-finished': {
        // Past its window no more (its overrun issue closes), then, for the go-live phase, the ALL-CLEAR.
        timeAlerts.onPhaseFinished(event.phaseId);
        // The release is live: the ALL-CLEAR, with the counts as they stand (the run may go on for hours).
        const phase = doc.phases.find((p) => p.id === event.phaseId);
        if (phase?.go_live === true && event.status === 'succeeded' && !allClearSent) {
          allClearSent = true;
          deliver('all-clear', allClear(facts(), phase, [...openIssues.values()].map((i) => i.text), deps.successMetrics?.(state, clock.now())));
        }
        break;
      }
      case 'step-retrying': {
        const step = stepsById.get(event.stepId);
        if (!openIssues.has(`step:${event.stepId}`)) {
          openIssues.set(`step:${event.stepId}`, { text: `step '${event.stepId}' failing, retrying`, since: clock.now() });
          deliver(
            'issue',
            formatAlert({
              type: `Step failing: ${step ? stepTitle(step) : event.stepId}`,
              severity: 'medium',
              at: clock.now(),
              description: `attempt ${event.attempt - 1} of '${event.stepId}' failed: ${event.reason}`,
              action: `retrying in ${formatDuration(event.delayMs)}`,
              eta: `next attempt at ${new Date(clock.now() + event.delayMs).toISOString().slice(11, 19)} UTC`,
              assignee: step ? roleName(step.owner, doc.roles[step.owner], doc.people) : 'the step owner',
            }),
          );
        }
        break;
      }
      case 'step-finished': {
        const step = stepsById.get(event.stepId);
        const what = `step '${event.stepId}'${step ? ` (${stepTitle(step)})` : ''}`;
        endWait(`step:${event.stepId}`, what, event.outcome.status === 'succeeded' ? 'Back to normal' : 'Step failed');
        const issue = openIssues.get(`step:${event.stepId}`);
        if (issue !== undefined) {
          openIssues.delete(`step:${event.stepId}`);
          if (event.outcome.status === 'succeeded') {
            deliver(
              'resolved',
              formatResolved({
                issue: `${what} failing`,
                durationMs: clock.now() - issue.since,
                status: `succeeded after ${event.outcome.attempts} attempts`,
                cause: issue.text,
                next: nextSteps(doc, state),
              }),
            );
          }
        }
        if (event.outcome.status === 'failed' || event.outcome.status === 'inconclusive') {
          const verb = event.outcome.status === 'failed' ? 'failed' : 'was inconclusive';
          openIssues.set(`failed:${event.stepId}`, { text: `${what} ${verb}`, since: clock.now() });
          deliver('issue', stepFailedAlert(facts(), event, step, phaseOf.get(event.stepId)));
          fireOn('failure', `${what} ${verb}: ${event.outcome.reason ?? event.outcome.status}`, step?.owner, event.stepId);
        }
        timeAlerts.onStepFinished(event.stepId);
        checkWhenRules(event.stepId);
        break;
      }
      case 'watch-tick':
        timeAlerts.onTick(event);
        checkWhenRules(event.stepId, `tick ${event.tick.n} of watch '${event.stepId}'`);
        break;
      case 'phase-overrun':
        timeAlerts.onOverrun(event);
        break;
      case 'gate-opened': {
        const phase = doc.phases.find((p) => p.gate && gateId(p) === event.gateId);
        if (phase?.gate) armWaitTimers(`gate:${event.gateId}`, phase.gate.owner, `go/no-go decision '${event.gateId}'`);
        break;
      }
      case 'gate-decided': {
        endWait(`gate:${event.gateId}`, `go/no-go decision '${event.gateId}'`, event.decision === 'go' ? 'GO' : 'NO-GO');
        if (event.decision === 'no-go') {
          const phase = doc.phases.find((p) => p.gate && gateId(p) === event.gateId);
          // The reasons, as the run's end will say them: every condition that did not hold (a pre-flight failure is
          // `earlier_steps_ok`, naming the failed checks), or a person's reason for NO-GO while all held.
          const failing = notHolding(state.gates.get(event.gateId)?.conditions ?? []);
          const why = [event.reason, event.note].filter((t): t is string => t !== undefined && t !== '');
          fireOn('no-go', `${engineMessages.gateNoGo(event.gateId, failing)}${why.length > 0 ? `${failing.length > 0 ? '; ' : ': '}${why.join('; ')}` : ''}`, phase?.gate?.owner);
        }
        break;
      }
      case 'prompt-offered': {
        // backup_after passed (issue 14): the backup is told, by name, how to answer.
        const names = event.to.map((id) => { const person = doc.people?.[id]; return person !== undefined ? `${person.name}${person.contact !== undefined ? ` (${person.contact})` : ''}` : id; });
        deliver(
          'escalation',
          formatAlert({
            type: `Waiting for an answer: ${event.promptId}`,
            severity: 'medium',
            at: clock.now(),
            description: `${event.reason}; offered to ${names.join(' and ')} now`,
            action: event.to.map((id) => `deployctl join --as ${id}`).join(' or '),
            eta: planEta(doc, state, runningPhase(), clock.now()),
            assignee: names.join(', '),
          }),
        );
        break;
      }
      case 'rollback-requested':
        deliver('issue', authorizationAlert(facts(), event));
        break;
      case 'rollback-started':
        fireOn('rollback', `rolling back ${event.phases.join(', ')}: ${event.reason}`);
        break;
      case 'rollback-finished':
        // A completed rollback resolves the incident that caused it: what it went back to, and the health after it.
        if (event.status === 'succeeded' && state.rollback !== undefined) deliver('resolved', rollbackResolved(facts()));
        break;
      case 'run-finished': {
        finished = true;
        statusTimer?.cancel();
        for (const list of timers.values()) for (const timer of list) timer.cancel();
        timers.clear();
        if (event.status !== 'succeeded') deliver('failure', failureNotice(facts(), event.status, event.reason ?? event.status, deps.resumeCommand));
        else if (!allClearSent) {
          allClearSent = true;
          deliver('all-clear', allClear(facts(), undefined, [...openIssues.values()].map((i) => i.text), deps.successMetrics?.(state, clock.now())));
        } else {
          // The ALL-CLEAR went out at go-live: the end of the run is the last status update.
          const now = clock.now();
          deliver('status', formatStatusUpdate(doc, state, statusView(doc, state, [...openIssues.values()].map((i) => i.text)), now, undefined));
        }
        if (event.status === 'aborted') fireOn('aborted', `the run was aborted: ${event.reason ?? 'interrupted'}`);
        break;
      }
      default:
        break;
    }
  }

  return {
    onEvent,
    async finish(maxWaitMs = 10_000) {
      if (pending.size === 0) return;
      let timer: { cancel(): void } | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = (deps.deliveryClock ?? clock).setTimer(maxWaitMs, resolve);
      });
      await Promise.race([Promise.allSettled([...pending]).then(() => undefined), deadline]);
      timer?.cancel();
    },
  };
}
