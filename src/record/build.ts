// Fold a run's state into the record predicate: every phase, step and gate, the rollback, success metrics as target vs actual.
import type { Actor, CheckReading, EventOf, OutputTail, StepOutcome, WatchTick } from '../engine/events.js';
import type { People } from './people.js';
import type { FailureHandling, RollbackAuthorization, RunState, StepState } from '../engine/state.js';
import { deployDurationMs, measuredPhases, plannedWindows, resolveT0, targetLimitMs } from '../engine/timeline.js';
import { watchUptime } from '../engine/watch-state.js';
import { phaseTitle, stepTitle } from '../runbook/labels.js';
import { gateId, stepKind, type RunbookDoc, type StepDoc } from '../runbook/types.js';
import type {
  RecordActor,
  RecordAnswer,
  RecordAnswerRefused,
  RecordHostSession,
  RecordCheck,
  RecordFailureHandling,
  RecordGate,
  RecordOutput,
  RecordPhase,
  RecordPredicate,
  RecordRollback,
  RecordRollbackAuthorization,
  RecordStep,
  RecordTick,
  RecordWatch,
} from './types.js';
import { evaluateSuccessMetrics } from './success-metrics.js';
import { recordConditionEvidence, toRecordValue } from './values.js';

export { evaluateSuccessMetrics, toRecordValue };

export interface BuildRecordInputs {
  doc: RunbookDoc;
  state: RunState;
  env: Record<string, string | undefined>;
  /** When the record is sealed (the run's end). */
  now: number;
  /** With people: their keys as loaded (the record lists each person's keyids). */
  people?: People;
  /** Every watch's ticks, by step id, in order (read back from the journal: the run's state keeps only their tally). */
  ticks?: ReadonlyMap<string, readonly { at: number; tick: WatchTick }[]>;
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

export function buildRecordPredicate({ doc, state, env, now, people, ticks }: BuildRecordInputs): RecordPredicate {
  if (state.runId === undefined || state.runbook === undefined || state.startedAt === undefined) {
    throw new Error('buildRecordPredicate: the run never started (no run-started event)');
  }
  // Who answered each prompt last (a step's question, a gate's decision): signed answers credit their givers.
  const answeredBy = new Map((state.team?.answers ?? []).map((a) => [a.promptId, a] as const));
  const recordActor = (actor: Actor, answered: boolean, promptId: string) => creditedActor(actor, answered, answeredBy.get(promptId));
  const endedAt = state.finished?.at ?? now;
  const t0 = resolveT0(doc, state);
  const windows = plannedWindows(doc, t0);
  const stepRecord = (step: StepDoc, rollback: boolean) => recordStep(step, state.steps.get(step.id), rollback, recordActor, ticks?.get(step.id));
  const phases: RecordPhase[] = doc.phases.map((phase) => {
    const phaseState = state.phases.get(phase.id);
    const gateState = phase.gate ? state.gates.get(gateId(phase)) : undefined;
    const record: RecordPhase = {
      id: phase.id,
      title: phaseTitle(phase),
      ...(phase.at !== undefined ? { at: phase.at } : {}),
      status: phaseState === undefined ? 'not-run' : phaseState.status === 'running' ? 'failed' : phaseState.status,
      ...optional('planned_start', iso(windows.get(phase.id)?.start)),
      ...optional('planned_end', iso(windows.get(phase.id)?.end)),
      ...optional('started_at', iso(phaseState?.startedAt)),
      ...optional('ended_at', iso(phaseState?.endedAt)),
      ...optional('overrun_ms', overrunMs(windows.get(phase.id)?.end, phaseState?.endedAt ?? (phaseState !== undefined ? endedAt : undefined))),
      steps: (phase.steps ?? []).map((step) => stepRecord(step, false)),
    };
    if (phase.gate) {
      const gate: RecordGate = {
        id: gateId(phase),
        owner: phase.gate.owner,
        conditions: (gateState?.conditions ?? []).map((c) => ({
          name: c.name,
          kind: c.kind,
          text: c.text,
          value: toRecordValue(c.value),
          ok: c.ok,
          ...optional('error', c.error),
          ...recordConditionEvidence(c),
        })),
        decision: gateState?.decision ?? null,
        ...optional('decided_by', gateState?.by ? recordActor(gateState.by, gateState.answeredFrom !== 'automatic', gateId(phase)) : undefined),
        ...optional('decided_at', iso(gateState?.decidedAt)),
        ...optional('answered_from', gateState?.answeredFrom),
        ...optional('note', gateState?.note),
        ...optional('reason', gateState?.reason),
        ...optional('skipped', gateState?.skipped),
      };
      record.gate = gate;
    }
    if ((phase.finally ?? []).length > 0) record.finally = phase.finally!.map((step) => stepRecord(step, false));
    return record;
  });

  let rollback: RecordRollback | null = null;
  if (state.rollback !== undefined) {
    const rolledBack = doc.phases.filter((p) => state.rollback!.phases.includes(p.id)).reverse();
    rollback = {
      reason: state.rollback.reason,
      started_at: iso(state.rollback.startedAt)!,
      ...optional('ended_at', iso(state.rollback.endedAt)),
      status: state.rollback.status ?? 'failed',
      steps: rolledBack.flatMap((p) => (p.rollback ?? []).map((step) => stepRecord(step, true))),
    };
  }

  const predicate: RecordPredicate = {
    schema_version: 1,
    run_id: state.runId,
    runbook: {
      name: state.runbook.name,
      ...optional('title', state.runbook.title),
      path: state.runbook.path,
      sha256: state.runbook.sha256,
    },
    tool: { name: 'deployctl', version: state.toolVersion ?? 'unknown' },
    operator: state.operator ?? 'unknown',
    host: state.host ?? 'unknown',
    started_at: iso(state.startedAt)!,
    ended_at: iso(endedAt)!,
    duration_ms: Math.max(0, endedAt - state.startedAt),
    ...optional('target_duration_ms', targetLimitMs(doc)),
    ...(typeof doc.target_duration === 'object'
      ? {
          ...optional('deploy_duration_ms', deployDurationMs(doc, state, endedAt)),
          deploy_phases: { from: measuredPhases(doc)[0]?.id ?? doc.phases[0]!.id, to: measuredPhases(doc).at(-1)?.id ?? doc.phases.at(-1)!.id },
        }
      : {}),
    ...optional('t0', iso(t0)),
    ...(state.rehearsal !== undefined ? { rehearsal: true as const, time_scale: state.rehearsal.timeScale } : {}),
    status: state.finished?.status ?? 'aborted',
    exit_code: state.finished?.exitCode ?? 1,
    ...optional('reason', state.finished?.reason),
    dry_run: false,
    vars: { ...state.vars },
    resumes: state.resumes.map((r) => ({ at: iso(r.at)!, by: r.by })),
    phases,
    rollback,
    ...optional('rollback_authorization', state.authorization ? recordAuthorization(state.authorization) : undefined),
    success_metrics: evaluateSuccessMetrics(doc, state, env, endedAt),
    escalations: state.escalations.map((e) => ({
      rule: e.rule,
      reason: e.reason,
      to: e.to.map((t) => ({ role: t.role, title: t.title, ...optional('person', t.person) })),
      at: iso(e.at)!,
      ...optional('step_id', e.stepId),
    })),
    notifications: state.notifications.map((n) => ({
      channel: n.channel,
      kind: n.messageKind,
      at: iso(n.at)!,
      delivered: n.delivered,
      attempts: n.attempts,
      ...optional('error', n.error),
    })),
    roles: Object.fromEntries(
      Object.entries(doc.roles).map(([id, role]) => [
        id,
        { title: role.title, ...optional('primary', role.primary), ...optional('backup', role.backup), ...(doc.people !== undefined && role.delegate === true ? { delegate: true as const } : {}) },
      ]),
    ),
    ...teamRecord(doc, state, people),
  };
  return predicate;
}

/** With people (issue 14): the people, every answer with its signature, and the claims refused. */
function teamRecord(doc: RunbookDoc, state: RunState, people: People | undefined): Pick<RecordPredicate, 'people' | 'answers' | 'answers_refused' | 'host_sessions'> {
  if (doc.people === undefined) return {};
  const team = state.team;
  return {
    people: Object.fromEntries(Object.entries(doc.people).map(([id, person]) => [id, { name: person.name, keys: (people?.get(id)?.keys ?? []).map((k) => k.keyId) }])),
    answers: (team?.answers ?? []).map(
      (a): RecordAnswer => ({
        prompt_id: a.promptId,
        slot: a.slot,
        ...optional('role', a.role),
        answer: toRecordValue(a.answer),
        ...optional('person', a.person),
        ...optional('operator', a.operator),
        ...optional('on_behalf_of', a.onBehalfOf),
        via: a.via,
        ...optional('answers_file', a.answersFile),
        at: iso(a.at)!,
        answered_at: iso(a.answeredAt)!,
        ...optional('signature', a.signature),
      }),
    ),
    answers_refused: (team?.refused ?? []).map(
      (r): RecordAnswerRefused => ({ prompt_id: r.promptId, ...optional('slot', r.slot), claimed_by: r.claimedBy, reason: r.reason, ...optional('keyid', r.keyid), at: iso(r.at)! }),
    ),
    ...((team?.hosts ?? []).length === 0 ? {} : { host_sessions: team!.hosts!.map((h): RecordHostSession => ({ at: iso(h.at)!, operator: h.operator, ...optional('person', h.person), keyid: h.keyid })) }),
  };
}

function overrunMs(plannedEnd: number | undefined, endedAt: number | undefined): number | undefined {
  return plannedEnd === undefined || endedAt === undefined || endedAt <= plannedEnd ? undefined : endedAt - plannedEnd;
}

function recordStep(
  step: StepDoc,
  stepState: StepState | undefined,
  rollback: boolean,
  recordActor: (actor: Actor, answered: boolean, promptId: string) => RecordActor,
  ticks?: readonly { at: number; tick: WatchTick }[],
): RecordStep {
  const base = { id: step.id, title: stepTitle(step), kind: stepKind(step), owner: step.owner };
  if (stepState === undefined || stepState.rollback !== rollback) return { ...base, status: 'not-run', attempts: 0 };
  const outcome: StepOutcome | undefined = stepState.outcome;
  if (outcome === undefined) {
    // Started and never finished: a crash or an interrupt left it in flight.
    return {
      ...base,
      status: 'interrupted',
      attempts: stepState.attempt ?? 1,
      ...optional('started_at', iso(stepState.startedAt)),
      ...optional('command', stepState.command),
      reason: 'in flight when the run stopped',
      ...optional('watch', recordWatch(step, stepState, ticks)),
    };
  }
  return {
    ...base,
    ...optional('actor', outcome.by ? recordActor(outcome.by, outcome.answeredFrom !== undefined, step.id) : undefined),
    status: outcome.status,
    ...optional('reason', outcome.reason),
    ...optional('failures', outcome.failures),
    attempts: outcome.attempts,
    started_at: iso(outcome.startedAt)!,
    ended_at: iso(outcome.endedAt)!,
    duration_ms: outcome.durationMs,
    ...optional('command', outcome.command),
    ...(outcome.exitCode !== undefined ? { exit_code: outcome.exitCode } : {}),
    ...(outcome.signal !== undefined ? { signal: outcome.signal } : {}),
    ...(outcome.timedOut ? { timed_out: true } : {}),
    ...optional('stdout', recordOutput(outcome.stdout)),
    ...optional('stderr', recordOutput(outcome.stderr)),
    ...optional('metrics', outcome.metrics ? { ...outcome.metrics, statuses: { ...outcome.metrics.statuses } } : undefined),
    ...optional('check', outcome.check ? recordCheck(outcome.check) : undefined),
    ...optional('watch', recordWatch(step, stepState, ticks)),
    ...optional('warmup', outcome.warmup ? { requests: outcome.warmup.requests, failed: outcome.warmup.failed, max_ms: outcome.warmup.maxMs } : undefined),
    ...optional('answer', outcome.answer),
    ...optional('answered_from', outcome.answeredFrom),
    ...optional('resumed_from', outcome.resumedFrom),
    ...optional('on_failure', stepState.failure ? recordFailure(stepState.failure) : undefined),
  };
}

function recordFailure(f: FailureHandling): RecordFailureHandling {
  return {
    policy: f.policy,
    action: f.action,
    ...optional('gate', f.gateId),
    ...optional('decided_by', f.by ? recordActor(f.by, f.answeredFrom === 'prompt' || f.answeredFrom === 'answers-file') : undefined),
    decided_at: iso(f.at)!,
    ...optional('answered_from', f.answeredFrom),
    ...optional('note', f.note),
  };
}

/** Who was asked to authorize the rollback, what they (or the default) said, and when. */
function recordAuthorization(a: RollbackAuthorization): RecordRollbackAuthorization {
  const answered = a.answeredFrom === 'prompt' || a.answeredFrom === 'answers-file' || a.answeredFrom === 'chosen';
  return {
    role: a.role,
    reason: a.reason,
    phases: [...a.phases],
    timeout_ms: a.timeoutMs,
    default: a.default,
    ...optional('requested_at', a.answeredFrom === 'chosen' ? undefined : iso(a.requestedAt)),
    decision: a.decision ?? null,
    ...optional('decided_by', a.by ? recordActor(a.by, answered) : undefined),
    ...optional('decided_at', iso(a.decidedAt)),
    ...optional('answered_from', a.answeredFrom),
    ...optional('note', a.note),
  };
}

/** A check's reading in the record's words (snake_case, ISO times), its series capped at 100 like any recorded list. */
export function recordCheck(check: CheckReading): RecordCheck {
  const reduce = check.range?.reduce;
  return {
    source: check.source,
    query: check.query,
    url: check.url,
    evaluated_at: iso(check.evaluatedAt)!,
    ...(check.range !== undefined && (reduce === 'max' || reduce === 'min' || reduce === 'avg' || reduce === 'last')
      ? { range: { start: iso(check.range.startMs)!, step_ms: check.range.stepMs, reduce } }
      : {}),
    result: check.result,
    results: check.results.slice(0, 100).map((r) => ({ labels: { ...r.labels }, value: r.value })),
    verdict: check.verdict,
    ...optional('expect', check.expect),
    ...(check.warnings !== undefined && check.warnings.length > 0 ? { warnings: check.warnings.slice(0, 10) } : {}),
  };
}

/**
 * Who acted. With a signed answer (issue 14), whoever signed it answered: the role's holder, or someone on their behalf.
 * Otherwise the person a role names is who the answer was for, not who gave it: the operator typed it (or passed the
 * answers file), and the record says so.
 */
/** An actor as the record credits it, with no signed answer to go by (a failure policy, a rollback authorization). */
function recordActor(actor: Actor, answered: boolean): RecordActor {
  return creditedActor(actor, answered, undefined);
}

function creditedActor(actor: Actor, answered: boolean, signed: EventOf<'prompt-answered'> | undefined): RecordActor {
  if (answered && signed !== undefined) {
    return {
      role: actor.role,
      ...optional('person', actor.person),
      operator: actor.operator,
      answered_by: signed.person ?? signed.operator ?? actor.operator,
      ...optional('on_behalf_of', signed.onBehalfOf),
    };
  }
  return {
    role: actor.role,
    ...optional('person', actor.person),
    operator: actor.operator,
    ...(answered ? { answered_by: actor.operator, ...optional('on_behalf_of', actor.person) } : {}),
  };
}

function recordOutput(tail: OutputTail | undefined): RecordOutput | undefined {
  if (tail === undefined || (tail.text === '' && tail.truncatedBytes === 0)) return undefined;
  return { text: tail.text, truncated_bytes: tail.truncatedBytes };
}

/** Spread helper: include `key` only when the value is defined (the schema has no nulls for optional fields). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]: V });
}

/** A watch's window in the record's words: the tally from the state, every tick (compact) from the journal. */
function recordWatch(step: StepDoc, stepState: StepState, ticks: readonly { at: number; tick: WatchTick }[] | undefined): RecordWatch | undefined {
  const watch = stepState.watch;
  if (watch === undefined || step.watch === undefined) return undefined;
  const { plan } = watch;
  return {
    every_ms: plan.everyMs,
    initial_delay_ms: plan.initialDelayMs,
    ...optional('window_ms', plan.closesAt !== undefined ? plan.closesAt - plan.startedAt : undefined),
    planned_ticks: plan.plannedTicks,
    failure_limit: step.watch.failure_limit ?? 0,
    inconclusive_limit: step.watch.inconclusive_limit ?? 0,
    started_at: iso(plan.startedAt)!,
    ticks: watch.ticks,
    passed: watch.passed,
    failed: watch.failed,
    inconclusive: watch.inconclusive,
    missed: watch.missed,
    uptime: round(watchUptime(watch), 6),
    checks: step.watch.checks.map((check) => {
      const tally = watch.checks[check.id];
      return {
        id: check.id,
        kind: tally?.kind ?? (check.run !== undefined ? 'run' : check.http !== undefined ? 'http' : 'prometheus'),
        passed: tally?.passed ?? 0,
        failed: tally?.failed ?? 0,
        inconclusive: tally?.inconclusive ?? 0,
        skipped: tally?.skipped ?? 0,
        ...optional('metrics', tally?.metrics ? { ...tally.metrics, statuses: { ...tally.metrics.statuses } } : undefined),
        ...(tally?.lastResult !== undefined ? { last_result: tally.lastResult } : {}),
      };
    }),
    decisions: watch.decisions.map((d) => ({ at: iso(d.at)!, decision: d.decision, by: creditedActor(d.by, d.answeredFrom !== 'automatic', undefined), answered_from: d.answeredFrom, inconclusive: d.inconclusive })),
    ...optional('tick_log', ticks?.map(({ at, tick }) => recordTick(at, tick))),
  };
}

function recordTick(at: number, tick: WatchTick): RecordTick {
  return {
    n: tick.n,
    ...optional('through', tick.through),
    at: iso(tick.status === 'missed' ? tick.due : at)!,
    status: tick.status,
    ...optional('reason', tick.reason),
    ...(tick.checks.length > 0
      ? {
          checks: tick.checks.map((c) => ({
            id: c.id,
            status: c.status,
            ...optional('reason', c.reason),
            ...(c.metrics !== undefined ? { samples: c.metrics.samples, errors: c.metrics.errors, p50_ms: round(c.metrics.p50_ms, 1), p95_ms: round(c.metrics.p95_ms, 1) } : {}),
            ...(c.exitCode !== undefined ? { exit_code: c.exitCode } : {}),
            ...(c.result !== undefined ? { result: c.result } : {}),
            duration_ms: c.durationMs,
          })),
        }
      : {}),
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
