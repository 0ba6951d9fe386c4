// The communication plan and escalation matrix, live: status updates on a cadence, alerts, escalation timers, all-clear. Never blocks or fails the run.
import { inertText } from '../inert.js';
import { celContext } from '../engine/context.js';
import type { RunEvent } from '../engine/events.js';
import { messages as engineMessages } from '../engine/messages.js';
import { applyEvent, initialRunState, type RunState } from '../engine/state.js';
import { compileExpression, evaluateExpression } from '../expr/cel.js';
import { compileTemplate, renderTemplate } from '../expr/template.js';
import type { Clock, HttpSend } from '../ports/types.js';
import { formatDuration, parseDuration } from '../runbook/duration.js';
import { roleName, stepTitle } from '../runbook/labels.js';
import { gateId, type EscalationRuleDoc, type RunbookDoc, type RunEventName, type StepDoc } from '../runbook/types.js';
import { formatAlert, formatAllClear, formatFailureNotice, formatResolved, formatStatusUpdate, statusView, type MessageKind } from './messages.js';
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
  const pending = new Set<Promise<void>>();
  const queues = new Map<string, Promise<void>>();
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
  let unchangedIntervals = 0;
  let finished = false;

  const rules = doc.escalation ?? [];
  const stepsById = new Map<string, StepDoc>();
  for (const phase of doc.phases) for (const step of [...(phase.steps ?? []), ...(phase.finally ?? []), ...(phase.rollback ?? [])]) stepsById.set(step.id, step);

  // ---- delivery -------------------------------------------------------------------------------------------------

  const channelEnabled = (condition: string | undefined): boolean => {
    if (condition === undefined) return true;
    const compiled = compileExpression(condition);
    if (!compiled.ok) return false;
    const result = evaluateExpression(compiled.expression, { env: deps.env });
    return result.ok && result.value === true;
  };
  const renderChannelTemplate = (text: string): string | undefined => {
    const compiled = compileTemplate(text);
    if (!compiled.ok) return undefined;
    const rendered = renderTemplate(compiled.template, { env: deps.env });
    return rendered.ok ? rendered.value : undefined;
  };

  function deliver(kind: MessageKind, rawText: string): void {
    // Masked, then made inert: a message quotes step reasons, titles and answers, and ends up in chat clients, log
    // files people tail, and terminals; what it says is kept, what it would do to a terminal is not.
    const text = inertText(deps.mask(rawText));
    for (const channel of doc.notify?.channels ?? []) {
      if (!channelEnabled(channel.if)) continue;
      const base = { kind: 'notification' as const, channel: channel.id, messageKind: kind, text };
      if (deps.dryRun) {
        // Its headline only: the body's figures (duration, checks, "Live in production") would be this dry run's, not a
        // deployment's, and read as if it had happened.
        deps.print(`[${channel.id}] ${kind} message "${text.split('\n')[0]!.trim()}"`);
        deps.emit({ ...base, at: clock.now(), delivered: false, attempts: 0, dryRun: true });
        continue;
      }
      if (channel.file !== undefined) {
        const file = renderChannelTemplate(channel.file);
        try {
          if (file === undefined || file === '') throw new Error(`the file template ${channel.file} gives no path`);
          deps.appendFile(deps.resolvePath(file), `--- ${new Date(clock.now()).toISOString()} ${kind}\n${text}\n\n`);
          deps.emit({ ...base, at: clock.now(), delivered: true, attempts: 1 });
        } catch (error) {
          deps.emit({ ...base, at: clock.now(), delivered: false, attempts: 1, error: deps.mask((error as Error).message) });
        }
      } else if (channel.webhook !== undefined) {
        const url = renderChannelTemplate(channel.webhook);
        if (url === undefined || url === '') {
          deps.emit({ ...base, at: clock.now(), delivered: false, attempts: 0, error: 'the webhook URL is empty (is its environment variable set?)' });
          continue;
        }
        // One message at a time per channel, so the channel reads in order (an alert is not overtaken by the all-clear).
        const previous = queues.get(channel.id) ?? Promise.resolve();
        const delivery = previous.then(() => postWebhook(url, text)).then((result) => deps.emit({ ...base, at: clock.now(), ...result }));
        queues.set(channel.id, delivery);
        pending.add(delivery);
        void delivery.finally(() => pending.delete(delivery));
      }
    }
  }

  /** Slack-compatible POST {"text": …}: a short timeout, a few retries with backoff, never an exception. */
  async function postWebhook(url: string, text: string): Promise<{ delivered: boolean; attempts: number; error?: string }> {
    const attempts = deps.webhook?.attempts ?? 3;
    const backoff = deps.webhook?.backoffMs ?? 500;
    let error = 'not sent';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const result = await deps.send({
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
        timeoutMs: deps.webhook?.timeoutMs ?? 5000,
      });
      if (result.ok && result.status >= 200 && result.status < 300) return { delivered: true, attempts: attempt };
      error = result.ok ? `HTTP ${result.status}` : result.error;
      if (attempt < attempts) await (deps.deliveryClock ?? clock).sleep(backoff * 2 ** (attempt - 1));
    }
    return { delivered: false, attempts, error: deps.mask(error) };
  }

  // ---- escalation -----------------------------------------------------------------------------------------------

  const roleTarget = (role: string) => ({ role, title: doc.roles[role]?.title ?? role, ...(doc.roles[role]?.primary ? { person: doc.roles[role]!.primary! } : {}) });

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
        action: rule.action ?? `Escalated to ${to.map((t) => roleName(t.role, doc.roles[t.role])).join(' and ')}`,
        assignee: to.map((t) => roleName(t.role, doc.roles[t.role])).join(', '),
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
      deliver('resolved', formatResolved(`${what} (escalated wait)`, clock.now() - escalatedAt, status, 'the deployment continues'));
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

  function sendStatus(): void {
    const view = statusView(doc, state, [...openIssues.values()].map((i) => i.text));
    const fingerprint = JSON.stringify(view);
    const unchanged = fingerprint === lastFingerprint;
    if (unchanged) {
      unchangedIntervals++;
      // Quiet while nothing changes; say "no change" at most every third interval.
      if (unchangedIntervals % 3 !== 0) return;
    } else {
      unchangedIntervals = 0;
    }
    lastFingerprint = fingerprint;
    const now = clock.now();
    deliver('status', formatStatusUpdate(doc, state, view, now, statusEvery !== undefined ? now + statusEvery : undefined, unchanged));
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
              assignee: step ? roleName(step.owner, doc.roles[step.owner]) : 'the step owner',
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
            deliver('resolved', formatResolved(`${what} failing`, clock.now() - issue.since, 'Back to normal', `succeeded after ${event.outcome.attempts} attempts; the deployment continues`));
          }
        }
        if (event.outcome.status === 'failed' || event.outcome.status === 'inconclusive') {
          // An inconclusive check is an issue too: nobody knows whether the system is well.
          const verb = event.outcome.status === 'failed' ? 'failed' : 'was inconclusive';
          openIssues.set(`failed:${event.stepId}`, { text: `${what} ${verb}`, since: clock.now() });
          deliver(
            'issue',
            formatAlert({
              type: `Step ${event.outcome.status}: ${step ? stepTitle(step) : event.stepId}`,
              severity: event.rollback ? 'critical' : 'high',
              at: clock.now(),
              description: `${what} ${verb}: ${event.outcome.reason ?? event.outcome.status}`,
              action: event.rollback ? 'rollback step failed: act now' : 'stopping the deployment; rollback if the plan has one',
              assignee: step ? roleName(step.owner, doc.roles[step.owner]) : 'the step owner',
            }),
          );
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
      case 'phase-finished':
        timeAlerts.onPhaseFinished(event.phaseId);
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
          // The reasons, as the run's end will say them: every condition that did not hold, or a person's reason for
          // NO-GO while all held (the escalation said only "decided NO-GO").
          const failing = (state.gates.get(event.gateId)?.conditions ?? [])
            .filter((c) => !c.ok)
            .map((c) => ({ name: c.name, why: c.explained ?? c.error ?? (c.kind === 'confirm' ? 'not confirmed' : undefined) }));
          const why = [event.reason, event.note].filter((t): t is string => t !== undefined && t !== '');
          fireOn('no-go', `${engineMessages.gateNoGo(event.gateId, failing)}${why.length > 0 ? `${failing.length > 0 ? '; ' : ': '}${why.join('; ')}` : ''}`, phase?.gate?.owner);
        }
        break;
      }
      case 'rollback-started':
        fireOn('rollback', `rolling back ${event.phases.join(', ')}: ${event.reason}`);
        break;
      case 'run-finished': {
        finished = true;
        statusTimer?.cancel();
        for (const list of timers.values()) for (const timer of list) timer.cancel();
        timers.clear();
        const duration = clock.now() - (state.startedAt ?? clock.now());
        const metrics = metricsLine();
        if (event.status === 'succeeded') deliver('all-clear', formatAllClear(doc, duration, metrics));
        else deliver('failure', formatFailureNotice(event.status, duration, event.reason ?? event.status, metrics, deps.resumeCommand));
        if (event.status === 'aborted') fireOn('aborted', `the run was aborted: ${event.reason ?? 'interrupted'}`);
        break;
      }
      default:
        break;
    }
  }

  /** The probes' worst error rate and p95, for the all-clear's Metrics line. */
  function metricsLine(): string {
    const probes = [...state.steps.values()].map((s) => s.outcome?.metrics).filter((m) => m !== undefined);
    if (probes.length === 0) return 'no probes ran';
    const worstError = Math.max(...probes.map((m) => m.error_rate));
    const worstP95 = Math.max(...probes.map((m) => m.p95_ms));
    return `error rate ${(worstError * 100).toFixed(2)}% (worst probe), p95 ${Math.round(worstP95)} ms (worst probe), ${probes.length} probes`;
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
