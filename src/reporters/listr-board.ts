// What the task list knows while engine events arrive: each task's ending, the phases reached, the rollback's start. Bookkeeping only: listr2 tasks wait on it (listr.ts), events settle it (listr-events.ts).
import type { EventOf, GateCondition, StepOutcome } from '../engine/events.js';
import type { RunState } from '../engine/state.js';
import { gateId, type PhaseDoc, type RunbookDoc } from '../runbook/types.js';
import { Deferred, deferredIn } from './deferred.js';
import { lateFinallyKey, rollbackKey } from './listr-rollback.js';
import type { Task } from './listr-prompt.js';
import type { Ending, GateEnding, Handled } from './task-endings.js';

/** What the Rollback group waits for; `authorize`: the rollback waits for the `rollback.authorize` role first. */
export type RollbackStart = { phases: string[]; authorize?: EventOf<'rollback-requested'> } | undefined;

/**
 * A line under a task that is still going: listr2's renderer drops a finished task's output buffer, and writing to it
 * then throws (a joining terminal draws events in bursts, so a late line can find its task finished).
 */
export function setOutput(task: Task, line: string): void {
  if (task.task.hasFinalized()) return;
  task.output = line;
}

export class TaskBoard {
  private readonly steps = new Map<string, Deferred<Ending>>();
  private readonly gates = new Map<string, Deferred<GateEnding>>();
  /** Each task by key, once listr2 has started it (steps and gates; the authorization's task too). */
  readonly tasks = new Map<string, Deferred<Task>>();
  private readonly phases = new Map<string, Deferred<boolean>>();
  readonly rollbackStart = new Deferred<RollbackStart>();
  readonly authorization = new Deferred<EventOf<'rollback-authorized'> | undefined>();
  /** The phase whose `finally:` steps run after it stopped (failed, NO-GO, rolled back); undefined when none does. */
  readonly lateFinally = new Deferred<string | undefined>();
  /** The task key of each step's latest start. */
  readonly activeKey = new Map<string, string>();
  /** Phases whose group has ended (phase-finished, or ended in an earlier session). */
  readonly endedPhases = new Set<string>();
  /** Why the phases not yet reached will not run (a rollback has begun), once the forward path is over. */
  forwardOver: string | undefined;
  /** Who answered each step's or gate's prompt, when the line should say (a team run, issue 14). */
  readonly credits = new Map<string, string>();
  /** Phase steps that failed and wait for what their failure leads to (failure-handled): their task shows the question. */
  readonly awaitingHandling = new Map<string, StepOutcome>();
  /** Steps started and not yet finished, by task key. */
  readonly running = new Set<string>();
  /** Each gate's conditions as last evaluated: the NO-GO line names those that did not hold, with their values. */
  readonly evaluated = new Map<string, GateCondition[]>();

  constructor(private readonly doc: RunbookDoc) {}

  taskFor = (key: string) => deferredIn(this.tasks, key);
  stepEnding = (key: string) => deferredIn(this.steps, key);
  gateEnding = (id: string) => deferredIn(this.gates, id);
  phaseStart = (id: string) => deferredIn(this.phases, id);
  keyOf = (stepId: string) => this.activeKey.get(stepId) ?? stepId;
  /** A prompt's task: the step or gate its id starts with (`qa-ready.refused` → qa-ready). */
  promptKey = (promptId: string) => this.keyOf(promptId.includes('.') ? promptId.slice(0, promptId.indexOf('.')) : promptId);
  /** A line under a task, once listr2 has started it: the engine runs ahead of listr2, so lines wait rather than drop. */
  show = (key: string, line: string) => void this.taskFor(key).promise.then((task) => setOutput(task, line));

  /**
   * The forward path is over (a rollback began, or the run ended): phases not reached are skipped at once, and steps
   * and gates still waiting in a phase's group will not run. The task list then reaches the Rollback group while the
   * rollback runs, so its steps show live and its prompts are drawn (a rollback's confirm once waited forever behind
   * the spinner of a phase that was never going to start).
   */
  endForward(why: string): void {
    this.forwardOver ??= why;
    for (const phase of this.doc.phases) {
      this.phaseStart(phase.id).resolve(false);
      this.endPhaseGroup(phase, why);
    }
  }

  /** What is left of a phase's group will not run there. */
  endPhaseGroup(phase: PhaseDoc, why?: string): void {
    this.endedPhases.add(phase.id);
    for (const step of [...(phase.steps ?? []), ...(phase.finally ?? [])]) this.stepEnding(step.id).resolve({ kind: 'not-run', ...(why ? { why } : {}) });
    if (phase.gate) this.gateEnding(gateId(phase)).resolve({ kind: 'not-run', ...(why ? { why } : {}) });
  }

  /** Failed steps still waiting for what their failure leads to end as they are (the run stopped, or rolls back). */
  settleAwaiting(): void {
    for (const [key, outcome] of this.awaitingHandling) this.stepEnding(key).resolve({ kind: 'outcome', outcome });
    this.awaitingHandling.clear();
  }

  /** A resumed run: what an earlier session finished is shown as such, never re-run. */
  restore(resumed: RunState): void {
    for (const id of resumed.phases.keys()) this.phaseStart(id).resolve(true);
    const resumedOutcome = (o: StepOutcome, handled: Handled | undefined): Ending => ({
      kind: 'outcome',
      outcome: { ...o, resumedFrom: o.resumedFrom ?? 'an earlier session' },
      ...(handled !== undefined ? { handled } : {}),
    });
    for (const [id, s] of resumed.steps) {
      if (s.outcome === undefined || s.outcome.status === 'interrupted') continue;
      const late = s.finally === true && resumed.phases.get(s.phaseId)?.status === 'failed';
      this.stepEnding(s.rollback ? rollbackKey(id) : late ? lateFinallyKey(id) : id).resolve(resumedOutcome(s.outcome, s.failure));
      if (late) this.lateFinally.resolve(s.phaseId);
    }
    for (const [id, g] of resumed.gates) {
      if (g.decision !== undefined) this.gateEnding(id).resolve({ kind: 'decided', decision: g.decision });
    }
    if (resumed.rollback !== undefined) {
      // Resumed mid-rollback: the engine finishes it without announcing it again.
      this.rollbackStart.resolve({ phases: resumed.rollback.phases });
      this.endForward('the run is rolling back');
    }
  }

  /** The run ended: every group still waiting ends, and the rollback and late finally groups that never began. */
  endRun(): void {
    this.settleAwaiting();
    this.authorization.resolve(undefined);
    this.endForward('the run ended');
    for (const step of this.doc.phases.flatMap((p) => [...(p.rollback ?? []).map((s) => rollbackKey(s.id)), ...(p.finally ?? []).map((s) => lateFinallyKey(s.id))])) {
      this.stepEnding(step).resolve({ kind: 'not-run' });
    }
    this.rollbackStart.resolve(undefined);
    this.lateFinally.resolve(undefined);
  }
}
