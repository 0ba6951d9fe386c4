// What every piece of the execute loop shares: the runbook, the options and ports, and the state folded from every event so far.
import type { CelContext } from '../expr/cel.js';
import type { Clock, Exec, HttpSend, Prompter } from '../ports/types.js';
import { roleLabel } from '../runbook/labels.js';
import type { LoadedRunbook } from '../runbook/load.js';
import type { RunbookDoc, RunbookSource } from '../runbook/types.js';
import type { Answers } from './answers.js';
import { celContext } from './context.js';
import type { Actor, RunEvent, RunInvocation, RunStatus } from './events.js';
import type { Masker } from './secrets.js';
import { applyEvent, initialRunState, type RunState } from './state.js';

export interface EngineDeps {
  exec: Exec;
  send: HttpSend;
  /** The run's clock: every wait the plan makes (watch ticks, the timeline) and every time recorded. A rehearsal's is scaled. */
  clock: Clock;
  /**
   * The clock steps time out, measure latencies and durations and pause between retries with. DESIGN: `--time-scale`
   * scales neither step timeouts nor measured latencies, so a rehearsal passes the unscaled clock here. Default: `clock`.
   */
  stepClock?: Clock;
  /** Undefined when nobody is at a terminal: answers then come from `answers`, and a missing one fails closed. */
  prompter: Prompter | undefined;
  answers: Answers;
  /** Environment for steps and for `env.*` in expressions. */
  env: Record<string, string>;
  secretValues: readonly string[];
  mask: (text: string) => string;
  /** The masker behind `mask`, for streamed output (secrets split across chunks or lines). */
  masker?: Masker;
  /** Every event, in order; subscribers (journal, reporter, notifier) must not throw. */
  emit: (event: RunEvent) => void;
}

export type InFlightDecision = 'rerun' | 'done' | 'abort';

export interface EngineOptions {
  runId: string;
  operator: string;
  host: string;
  toolVersion: string;
  /** This process's id: a resumed run records which process took it over. */
  pid: number;
  vars: Record<string, string | number | boolean>;
  dryRun: boolean;
  signal: AbortSignal;
  /** Continue an interrupted run: its folded journal, and what to do with a step left in flight. */
  resume?: { state: RunState; inFlight?: InFlightDecision };
  killGraceMs?: number;
  /** Default pause between attempts when a step has `retries` but no `retry_delay`. */
  defaultRetryDelayMs?: number;
  /** How this session was started, journaled so a later hint can repeat it (see RunInvocation). */
  invocation?: RunInvocation;
  /** `--time-scale`: recorded in run-started (the engine waits on `deps.clock` alike either way). */
  rehearsal?: { timeScale: number };
  /** `--t0`: the run's T, recorded in run-started. */
  t0?: number;
}

/** One run in progress. Events go out through `emit`, which is also the only thing that changes `state`. */
export class RunContext {
  readonly doc: RunbookDoc;
  readonly source: RunbookSource;
  /** Folded from every event emitted so far (and, on resume, from the journal). */
  state: RunState;

  constructor(
    runbook: LoadedRunbook,
    readonly options: EngineOptions,
    readonly deps: EngineDeps,
  ) {
    this.doc = runbook.doc;
    this.source = runbook.source;
    this.state = options.resume?.state ?? initialRunState;
  }

  emit(event: RunEvent): void {
    this.state = applyEvent(this.state, event);
    this.deps.emit(event);
  }

  now(): number {
    return this.deps.clock.now();
  }

  /** The clock of steps' own time: timeouts, latencies, retry pauses (see EngineDeps.stepClock). */
  stepClock(): Clock {
    return this.deps.stepClock ?? this.deps.clock;
  }

  /** What expressions see now. */
  celContext(): CelContext {
    return celContext({ doc: this.doc, state: this.state, env: this.deps.env, now: this.now() });
  }

  /** Who acts for a role: the role, its primary person if it names one, and the operator at the keyboard. */
  actorFor(roleId: string): Actor {
    const role = this.doc.roles[roleId];
    return { role: roleId, ...(role?.primary !== undefined ? { person: role.primary } : {}), operator: this.options.operator };
  }

  /** `[QA Lead · Carol]`, shown before every question. */
  whoFor(roleId: string): string {
    return roleLabel(roleId, this.doc.roles[roleId]);
  }

  interrupted(): boolean {
    return this.options.signal.aborted;
  }

  /** The signal that interrupted the run (the abort reason the CLI gives), SIGINT when it gave none. */
  signalName(): string {
    const reason: unknown = this.options.signal.reason;
    return typeof reason === 'string' ? reason : reason instanceof StopCause ? reason.signal : 'SIGINT';
  }

  /** Why the run was stopped from outside when it was not a signal (the state store lost): its own words and exit code. */
  stopCause(): StopCause | undefined {
    const reason: unknown = this.options.signal.reason;
    return this.options.signal.aborted && reason instanceof StopCause ? reason : undefined;
  }
}

/**
 * The reason to abort the run's signal with when what stops it is not a signal (the state store lost): the run ends
 * aborted with these words first (before where it was: "aborted at gate …"), and this exit code instead of 130.
 */
export class StopCause {
  constructor(
    readonly reason: string,
    readonly exitCode: number,
    /** What the `interrupted` event names as its signal. */
    readonly signal = 'state-lost',
  ) {}
}

/** Thrown inside the loop to stop it; carries how the run ends. */
export class StopRun {
  constructor(
    readonly status: RunStatus,
    readonly exitCode: number,
    readonly reason: string,
  ) {}
}
