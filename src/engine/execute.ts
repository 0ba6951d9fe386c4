// The execute loop: phases in order, steps with retries, gates from evidence, rollback once, newest first. Effects come in as ports.
import { ExitCode } from '../errors.js';
import { notHolding } from '../expr/explain.js';
import { PromptAbortedError } from '../ports/types.js';
import type { LoadedRunbook } from '../runbook/load.js';
import { gateId, type PhaseDoc } from '../runbook/types.js';
import type { GateDecision, RunStatus } from './events.js';
import { decideGate } from './gate.js';
import { settleInFlight } from './in-flight.js';
import { followFailure, isFailure } from './failure.js';
import { messages } from './messages.js';
import { watchForOverrun } from './overrun.js';
import { hasFailuresLeftToGate } from './predicates.js';
import { failRun } from './rollback.js';
import { RunContext, StopRun, type EngineDeps, type EngineOptions } from './run-context.js';
import { runStep } from './run-step.js';
import { isStepFinished, type RunState } from './state.js';

export type { EngineDeps, EngineOptions, InFlightDecision } from './run-context.js';
export { STEP_ENV } from './step-env.js';

export interface RunResult {
  status: RunStatus;
  exitCode: number;
  reason?: string;
  state: RunState;
}

export async function executeRun(runbook: LoadedRunbook, options: EngineOptions, deps: EngineDeps): Promise<RunResult> {
  const run = new RunContext(runbook, options, deps);
  announce(run);
  let stop: StopRun | undefined;
  try {
    for (const phase of run.doc.phases) {
      if (run.state.phases.get(phase.id)?.status === 'succeeded') continue;
      if (run.interrupted()) throw new StopRun('aborted', ExitCode.interrupted, messages.interrupted());
      if (!run.state.phases.has(phase.id)) run.emit({ kind: 'phase-started', at: run.now(), phaseId: phase.id });
      const overrun = watchForOverrun(run, phase);
      try {
        await runPhase(run, phase);
      } finally {
        overrun.cancel();
      }
      // A phase whose failures went on to a later gate did not succeed: that gate decides what it means.
      run.emit({ kind: 'phase-finished', at: run.now(), phaseId: phase.id, status: hasFailuresLeftToGate(run.state, phase) ? 'failed' : 'succeeded' });
    }
  } catch (error) {
    if (!(error instanceof StopRun)) throw error;
    stop = error;
  }

  let ending = stop ?? new StopRun('succeeded', ExitCode.ok, options.dryRun ? messages.dryRunComplete() : messages.everyPhaseCompleted());
  if (ending.status === 'aborted' && ending.exitCode === ExitCode.interrupted && run.state.interrupted === undefined) {
    run.emit({ kind: 'interrupted', at: run.now(), signal: run.signalName() });
  }
  // Stopped from outside for a reason of its own (the state database lost): that reason first, then where it was.
  const cause = run.stopCause();
  if (cause !== undefined && ending.status === 'aborted' && ending.exitCode === ExitCode.interrupted) ending = new StopRun('aborted', cause.exitCode, messages.stoppedBecause(cause.reason, ending.reason));
  run.emit({ kind: 'run-finished', at: run.now(), status: ending.status, exitCode: ending.exitCode, reason: ending.reason });
  return { status: ending.status, exitCode: ending.exitCode, reason: ending.reason, state: run.state };
}

/** run-started, or run-resumed when continuing an interrupted run. */
function announce(run: RunContext): void {
  const { doc, source, options } = run;
  if (options.resume) {
    run.emit({ kind: 'run-resumed', at: run.now(), runId: options.runId, by: options.operator, pid: options.pid, ...(options.invocation !== undefined ? { invocation: options.invocation } : {}) });
    return;
  }
  run.emit({
    kind: 'run-started',
    at: run.now(),
    runId: options.runId,
    runbook: { name: doc.name, ...(doc.title !== undefined ? { title: doc.title } : {}), path: source.path, sha256: source.sha256 },
    tool: { name: 'deployctl', version: options.toolVersion },
    operator: options.operator,
    host: options.host,
    vars: options.vars,
    dryRun: options.dryRun,
    ...(options.invocation !== undefined ? { invocation: options.invocation } : {}),
    ...(options.rehearsal !== undefined ? { rehearsal: options.rehearsal } : {}),
    ...(options.t0 !== undefined ? { t0: options.t0 } : {}),
  });
}

/**
 * The phase's steps and gate, then its `finally:` steps however that went: at once when the phase completed, after
 * the rollback when it stopped the run (a database taken read-only is put back after the restore, not during it).
 * Not after an interrupt: the run is paused, not over, and its resume runs them. A cleanup step that fails fails a
 * phase that had completed (and rolls back like any failed step); every other cleanup step still runs.
 */
async function runPhase(run: RunContext, phase: PhaseDoc): Promise<void> {
  try {
    await runPhaseSteps(run, phase);
    if (phase.gate) await passGate(run, phase);
  } catch (error) {
    if (error instanceof StopRun && error.status !== 'aborted') {
      const cleanup = await runFinally(run, phase, true);
      if (cleanup.stop !== undefined) throw cleanup.stop;
    }
    throw error;
  }
  const cleanup = await runFinally(run, phase, false);
  if (cleanup.stop !== undefined) throw cleanup.stop;
  if (cleanup.failed.length > 0) {
    run.emit({ kind: 'phase-finished', at: run.now(), phaseId: phase.id, status: 'failed' });
    throw await failRun(run, messages.finallyFailed(phase.id, cleanup.failed), 'failed', ExitCode.failed, true);
  }
}

/** Every `finally:` step of the phase not finished yet; the ids of those that failed (in any session). */
async function runFinally(run: RunContext, phase: PhaseDoc, stopping: boolean): Promise<{ failed: string[]; stop?: StopRun }> {
  const failed: string[] = [];
  for (const step of phase.finally ?? []) {
    if (isStepFinished(run.state, step.id)) {
      if (run.state.steps.get(step.id)!.outcome!.status === 'failed') failed.push(step.id);
      continue;
    }
    if (run.interrupted()) return { failed, stop: new StopRun('aborted', ExitCode.interrupted, messages.interruptedDuringFinally(phase.id)) };
    if (run.state.steps.has(step.id) && (await settleInFlight(run, step, phase, false, true)) === 'done') continue;
    const outcome = await runStep(run, step, phase, false, { isFinally: true, stopping });
    if (outcome.status === 'interrupted' || run.interrupted()) {
      run.emit({ kind: 'interrupted', at: run.now(), signal: run.signalName(), stepId: step.id });
      return { failed, stop: new StopRun('aborted', ExitCode.interrupted, messages.interruptedDuringFinally(phase.id)) };
    }
    if (outcome.status === 'failed') failed.push(step.id);
  }
  return { failed };
}

/**
 * The phase's steps in order, skipping those an earlier session finished. A failure follows the step's `on_failure`
 * (src/engine/failure.ts): the run goes on, or ends here. Throws StopRun when the run ends here.
 */
async function runPhaseSteps(run: RunContext, phase: PhaseDoc): Promise<void> {
  for (const step of phase.steps ?? []) {
    if (isStepFinished(run.state, step.id)) {
      const previous = run.state.steps.get(step.id)!.outcome!;
      if (isFailure(previous.status)) await followFailure(run, phase, step, previous);
      continue;
    }
    if (run.state.steps.has(step.id) && (await settleInFlight(run, step, phase, false)) === 'done') continue;
    if (run.interrupted()) throw new StopRun('aborted', ExitCode.interrupted, messages.interrupted());
    const outcome = await runStep(run, step, phase, false);
    if (outcome.status === 'interrupted' || run.interrupted()) {
      run.emit({ kind: 'interrupted', at: run.now(), signal: run.signalName(), stepId: step.id });
      throw new StopRun('aborted', ExitCode.interrupted, messages.interruptedDuringStep(step.id));
    }
    if (isFailure(outcome.status)) await followFailure(run, phase, step, outcome);
  }
}

/** The phase's go/no-go. NO-GO ends the run, rolling back first if the gate says so. Throws StopRun when the run ends here. */
async function passGate(run: RunContext, phase: PhaseDoc): Promise<void> {
  let decision: GateDecision | 'skipped';
  try {
    decision = await decideGate(run, phase);
  } catch (error) {
    if (error instanceof PromptAbortedError) {
      run.emit({ kind: 'interrupted', at: run.now(), signal: 'SIGINT' });
      throw new StopRun('aborted', ExitCode.interrupted, messages.abortedAtGate(gateId(phase)));
    }
    throw error;
  }
  if (decision === 'no-go') {
    run.emit({ kind: 'phase-finished', at: run.now(), phaseId: phase.id, status: 'failed' });
    const conditions = run.state.gates.get(gateId(phase))?.conditions ?? [];
    const reason = messages.gateNoGo(gateId(phase), notHolding(conditions));
    throw phase.gate!.on_no_go === 'rollback' ? await failRun(run, reason, 'no-go', ExitCode.noGo, true) : new StopRun('no-go', ExitCode.noGo, reason);
  }
}
