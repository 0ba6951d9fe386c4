// Run state as a fold over events: the engine, resume, `status` and the record all read the run through this one function.
import type { Actor, AuthorizationSource, EventOf, GateCondition, GateDecision, RunbookRef, RunEvent, RunInvocation, RunStatus, StepOutcome } from './events.js';
import { addTick, decideWatch, openWatch, type WatchState } from './watch-state.js';

export interface StepState {
  phaseId: string;
  rollback: boolean;
  /** One of its phase's `finally:` steps. */
  finally?: boolean;
  /** Set by step-started; the step is in flight until `outcome` is set. */
  startedAt?: number;
  attempt?: number;
  command?: string;
  /** The process (group) id of the step's command, while it runs: a resume checks it is gone. */
  pid?: number;
  outcome?: StepOutcome;
  /** What its failure led to (a phase step that failed or was inconclusive), once decided. */
  failure?: FailureHandling;
  /** A watch step's window: its plan, tick counts and running totals (the ticks themselves are in the journal). */
  watch?: WatchState;
}

/** What a step's failure led to: the `failure-handled` event, kept on the step. */
export type FailureHandling = Omit<EventOf<'failure-handled'>, 'kind' | 'stepId' | 'phaseId'>;

export interface RollbackAuthorization {
  role: string;
  reason: string;
  phases: string[];
  timeoutMs: number;
  default: 'rollback' | 'abort';
  requestedAt: number;
  decision?: 'rollback' | 'abort';
  by?: Actor;
  answeredFrom?: AuthorizationSource;
  note?: string;
  decidedAt?: number;
}

export interface PhaseState {
  status: 'running' | 'succeeded' | 'failed' | 'skipped';
  startedAt: number;
  endedAt?: number;
  /** When it was found still running at the end of its window (the ALERT and `on: overrun` went out then). */
  overrunAt?: number;
}

export interface GateState {
  phaseId: string;
  conditions?: GateCondition[];
  evaluatedAt?: number;
  decision?: GateDecision;
  by?: Actor;
  decidedAt?: number;
  answeredFrom?: 'prompt' | 'answers-file' | 'automatic';
  note?: string;
  /** A person's reason for NO-GO while every condition held. */
  reason?: string;
  /** The gate's `if:` was false (`if: … was false`): skipped, never decided. */
  skipped?: string;
}

/** One prompt of a team run (issue 14): its current asking, and where the next one starts. */
export interface PromptState {
  /** The first claim slot of the newest asking. */
  slot: number;
  /** Asked and not answered (nor closed) yet. */
  open: boolean;
  /** Where a new asking of the prompt starts: after every slot an earlier asking used. */
  nextSlot: number;
  role?: string;
  offeredTo: string[];
  hostAnswers: boolean;
  request?: EventOf<'prompt-opened'>['request'];
}

/** What a team run adds to the state: who runs each session, the prompts, their answers and the claims refused. */
export interface TeamState {
  host?: EventOf<'team-host'>;
  /** Every session's `team-host`, in order (who ran the deployment when: separation of duties is checked against it). */
  hosts?: EventOf<'team-host'>[];
  prompts: ReadonlyMap<string, PromptState>;
  answers: EventOf<'prompt-answered'>[];
  refused: EventOf<'answer-refused'>[];
}

export const initialTeamState: TeamState = { prompts: new Map(), answers: [], refused: [] };

export interface RunState {
  runId?: string;
  runbook?: RunbookRef;
  toolVersion?: string;
  operator?: string;
  host?: string;
  startedAt?: number;
  dryRun: boolean;
  vars: Record<string, string | number | boolean>;
  /** `--time-scale N`: this run is a rehearsal; its times are plan times (its waits ran N times faster). */
  rehearsal?: { timeScale: number };
  /** `--t0`: T, as given. */
  t0?: number;
  phases: ReadonlyMap<string, PhaseState>;
  steps: ReadonlyMap<string, StepState>;
  gates: ReadonlyMap<string, GateState>;
  rollback?: { reason: string; startedAt: number; phases: string[]; status?: 'succeeded' | 'failed'; endedAt?: number };
  /** The `rollback.authorize` role's answer (a person chose the rollback at their own `on_failure: ask`: no request). */
  authorization?: RollbackAuthorization;
  interrupted?: { signal: string; stepId?: string; at: number };
  resumes: { at: number; by: string }[];
  escalations: EventOf<'escalation'>[];
  notifications: EventOf<'notification'>[];
  finished?: { status: RunStatus; exitCode: number; reason?: string; at: number };
  lastEventAt?: number;
  /** Present once a team event was seen (runbooks with `people:`). */
  team?: TeamState;
  /** How the newest session was started (read from a journal: untrusted, checked where it is printed). */
  invocation?: RunInvocation;
}

export const initialRunState: RunState = {
  dryRun: false,
  vars: {},
  phases: new Map(),
  steps: new Map(),
  gates: new Map(),
  resumes: [],
  escalations: [],
  notifications: [],
};

function withEntry<K, V>(map: ReadonlyMap<K, V>, key: K, value: V): Map<K, V> {
  const next = new Map(map);
  next.set(key, value);
  return next;
}

/** One transition. Pure: returns a new state and never changes `state`. */
export function applyEvent(state: RunState, event: RunEvent): RunState {
  const next: RunState = { ...state, lastEventAt: event.at };
  switch (event.kind) {
    case 'run-started':
      return {
        ...next,
        runId: event.runId,
        runbook: event.runbook,
        toolVersion: event.tool.version,
        operator: event.operator,
        host: event.host,
        startedAt: event.at,
        dryRun: event.dryRun,
        vars: event.vars,
        ...(event.invocation !== undefined ? { invocation: event.invocation } : {}),
        ...(event.rehearsal !== undefined ? { rehearsal: event.rehearsal } : {}),
        ...(event.t0 !== undefined ? { t0: event.t0 } : {}),
      };
    case 'run-resumed':
      // A resumed run is running again: forget how the previous session ended.
      return {
        ...next,
        finished: undefined,
        interrupted: undefined,
        resumes: [...state.resumes, { at: event.at, by: event.by }],
        ...(event.invocation !== undefined ? { invocation: event.invocation } : {}),
      };
    case 'phase-started': {
      const previous = state.phases.get(event.phaseId);
      return { ...next, phases: withEntry(state.phases, event.phaseId, { status: 'running', startedAt: previous?.startedAt ?? event.at }) };
    }
    case 'phase-finished': {
      const previous = state.phases.get(event.phaseId);
      return {
        ...next,
        phases: withEntry(state.phases, event.phaseId, {
          status: event.status,
          startedAt: previous?.startedAt ?? event.at,
          endedAt: event.at,
          ...(previous?.overrunAt !== undefined ? { overrunAt: previous.overrunAt } : {}),
        }),
      };
    }
    case 'phase-overrun': {
      const previous = state.phases.get(event.phaseId);
      return previous === undefined ? next : { ...next, phases: withEntry(state.phases, event.phaseId, { ...previous, overrunAt: previous.overrunAt ?? event.at }) };
    }
    case 'step-started': {
      // A watch started again (resumed) continues its window.
      const window = state.steps.get(event.stepId)?.watch;
      return {
        ...next,
        steps: withEntry(state.steps, event.stepId, {
          ...(window !== undefined ? { watch: window } : {}),
          phaseId: event.phaseId,
          rollback: event.rollback,
          startedAt: event.at,
          attempt: event.attempt,
          ...(event.command !== undefined ? { command: event.command } : {}),
          ...(event.finally ? { finally: true } : {}),
        }),
      };
    }
    case 'watch-started': {
      const previous = state.steps.get(event.stepId);
      if (previous === undefined || previous.watch !== undefined) return next;
      return { ...next, steps: withEntry(state.steps, event.stepId, { ...previous, watch: openWatch(event.plan) }) };
    }
    case 'watch-tick': {
      const previous = state.steps.get(event.stepId);
      if (previous?.watch === undefined) return next;
      return { ...next, steps: withEntry(state.steps, event.stepId, { ...previous, watch: addTick(previous.watch, event.tick) }) };
    }
    case 'watch-decided': {
      const previous = state.steps.get(event.stepId);
      if (previous?.watch === undefined) return next;
      return { ...next, steps: withEntry(state.steps, event.stepId, { ...previous, watch: decideWatch(previous.watch, event) }) };
    }
    case 'step-spawned': {
      const previous = state.steps.get(event.stepId);
      return previous === undefined ? next : { ...next, steps: withEntry(state.steps, event.stepId, { ...previous, pid: event.pid }) };
    }
    case 'step-finished': {
      const previous = state.steps.get(event.stepId);
      return {
        ...next,
        steps: withEntry(state.steps, event.stepId, {
          ...previous,
          phaseId: event.phaseId,
          rollback: event.rollback,
          ...(event.finally ? { finally: true } : {}),
          outcome: event.outcome,
        }),
      };
    }
    case 'gate-evaluated': {
      const previous = state.gates.get(event.gateId);
      return { ...next, gates: withEntry(state.gates, event.gateId, { ...previous, phaseId: event.phaseId, conditions: event.conditions, evaluatedAt: event.at }) };
    }
    case 'gate-skipped': {
      const previous = state.gates.get(event.gateId);
      return { ...next, gates: withEntry(state.gates, event.gateId, { ...previous, phaseId: event.phaseId, skipped: event.reason, decidedAt: event.at }) };
    }
    case 'gate-decided': {
      const previous = state.gates.get(event.gateId);
      return {
        ...next,
        gates: withEntry(state.gates, event.gateId, {
          ...previous,
          phaseId: event.phaseId,
          decision: event.decision,
          by: event.by,
          decidedAt: event.at,
          answeredFrom: event.answeredFrom,
          ...(event.note !== undefined ? { note: event.note } : {}),
          ...(event.reason !== undefined ? { reason: event.reason } : {}),
        }),
      };
    }
    case 'failure-handled': {
      const previous = state.steps.get(event.stepId);
      if (previous === undefined) return next;
      const failure: FailureHandling = {
        policy: event.policy,
        action: event.action,
        at: event.at,
        ...(event.gateId !== undefined ? { gateId: event.gateId } : {}),
        ...(event.by !== undefined ? { by: event.by } : {}),
        ...(event.answeredFrom !== undefined ? { answeredFrom: event.answeredFrom } : {}),
        ...(event.note !== undefined ? { note: event.note } : {}),
      };
      return { ...next, steps: withEntry(state.steps, event.stepId, { ...previous, failure }) };
    }
    case 'rollback-requested':
      // Asked again after a resume: the question is new, the reason the same.
      return {
        ...next,
        authorization: { role: event.authorize, reason: event.reason, phases: event.phases, timeoutMs: event.timeoutMs, default: event.default, requestedAt: event.at },
      };
    case 'rollback-authorized': {
      const base: RollbackAuthorization = state.authorization ?? { role: event.by.role, reason: '', phases: [], timeoutMs: 0, default: 'rollback', requestedAt: event.at };
      return {
        ...next,
        authorization: {
          ...base,
          decision: event.decision,
          by: event.by,
          answeredFrom: event.answeredFrom,
          decidedAt: event.at,
          ...(event.note !== undefined ? { note: event.note } : {}),
        },
      };
    }
    case 'rollback-started':
      return { ...next, rollback: { reason: event.reason, startedAt: event.at, phases: event.phases } };
    case 'rollback-finished':
      return state.rollback === undefined ? next : { ...next, rollback: { ...state.rollback, status: event.status, endedAt: event.at } };
    case 'interrupted':
      return { ...next, interrupted: { signal: event.signal, at: event.at, ...(event.stepId !== undefined ? { stepId: event.stepId } : {}) } };
    case 'run-finished':
      return { ...next, finished: { status: event.status, exitCode: event.exitCode, at: event.at, ...(event.reason !== undefined ? { reason: event.reason } : {}) } };
    case 'escalation':
      return { ...next, escalations: [...state.escalations, event] };
    case 'notification':
      return { ...next, notifications: [...state.notifications, event] };
    case 'step-output':
    case 'step-progress':
    case 'step-retrying':
    case 'gate-opened':
      return next;
    case 'team-host':
    case 'prompt-opened':
    case 'prompt-offered':
    case 'prompt-answered':
    case 'answer-refused':
    case 'prompt-closed':
      return { ...next, team: applyTeamEvent(state.team ?? initialTeamState, event) };
  }
}

/** The team part of a transition: prompts open and close, each asking starting after the slots of the ones before. */
function applyTeamEvent(team: TeamState, event: EventOf<'team-host' | 'prompt-opened' | 'prompt-offered' | 'prompt-answered' | 'answer-refused' | 'prompt-closed'>): TeamState {
  const prompt = (id: string): PromptState => team.prompts.get(id) ?? { slot: 1, open: false, nextSlot: 1, offeredTo: [], hostAnswers: false };
  switch (event.kind) {
    case 'team-host':
      return { ...team, host: event, hosts: [...(team.hosts ?? []), event] };
    case 'prompt-opened': {
      const before = prompt(event.promptId);
      return {
        ...team,
        prompts: withEntry(team.prompts, event.promptId, {
          slot: event.slot,
          open: true,
          nextSlot: Math.max(before.nextSlot, event.slot),
          ...(event.role !== undefined ? { role: event.role } : {}),
          offeredTo: event.offeredTo,
          hostAnswers: event.hostAnswers,
          request: event.request,
        }),
      };
    }
    case 'prompt-offered': {
      const before = prompt(event.promptId);
      return { ...team, prompts: withEntry(team.prompts, event.promptId, { ...before, offeredTo: [...new Set([...before.offeredTo, ...event.to])] }) };
    }
    case 'prompt-answered': {
      const before = prompt(event.promptId);
      return {
        ...team,
        answers: [...team.answers, event],
        prompts: withEntry(team.prompts, event.promptId, { ...before, open: false, nextSlot: Math.max(before.nextSlot, event.slot + 1) }),
      };
    }
    case 'answer-refused': {
      const before = prompt(event.promptId);
      const nextSlot = event.slot !== undefined ? Math.max(before.nextSlot, event.slot + 1) : before.nextSlot;
      return { ...team, refused: [...team.refused, event], prompts: withEntry(team.prompts, event.promptId, { ...before, nextSlot }) };
    }
    case 'prompt-closed': {
      const before = prompt(event.promptId);
      return { ...team, prompts: withEntry(team.prompts, event.promptId, { ...before, open: false, nextSlot: Math.max(before.nextSlot, event.slot) }) };
    }
  }
}

export function foldEvents(events: Iterable<RunEvent>, state: RunState = initialRunState): RunState {
  let current = state;
  for (const event of events) current = applyEvent(current, event);
  return current;
}

/** Steps that started and never finished: what a crash or Ctrl-C left in flight. */
export function inFlightSteps(state: RunState): string[] {
  return [...state.steps].filter(([, s]) => s.startedAt !== undefined && s.outcome === undefined).map(([id]) => id);
}

/** A step whose outcome is final for resume: it ran to an end (an interrupted step is not finished). */
export function isStepFinished(state: RunState, stepId: string): boolean {
  const outcome = state.steps.get(stepId)?.outcome;
  return outcome !== undefined && outcome.status !== 'interrupted';
}

/** A run can be resumed unless it came to a real end; an aborted (interrupted) run stays resumable. */
export function isRunResumable(state: RunState): boolean {
  return state.runId !== undefined && !state.dryRun && (state.finished === undefined || state.finished.status === 'aborted');
}
