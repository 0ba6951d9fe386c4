// Rollback: once, newest phase first, itself reported; and how a failed or NO-GO run ends with or without it.
import { ExitCode } from '../errors.js';
import { authorizeRollback, type ChosenRollback } from './authorize.js';
import type { RunStatus } from './events.js';
import { describeActor } from './failure.js';
import { settleInFlight } from './in-flight.js';
import { messages } from './messages.js';
import { phasesToRollBack, shouldRollBack } from './predicates.js';
import { StopRun, type RunContext } from './run-context.js';
import { runStep } from './run-step.js';

/**
 * After a failure or NO-GO: roll back if anything started can be (and the `rollback.authorize` role lets it), and say
 * how the run ends. `chosen`: a person chose this rollback at their step's `on_failure: ask`.
 */
export async function failRun(run: RunContext, reason: string, failedStatus: RunStatus, failedExit: number, wantRollback: boolean, chosen?: ChosenRollback): Promise<StopRun> {
  if (wantRollback && !run.options.dryRun && shouldRollBack(run.doc, run.state)) {
    const authorized = await authorizeRollback(run, reason, chosen);
    if (authorized === 'interrupted' || run.interrupted()) {
      if (run.state.interrupted === undefined) run.emit({ kind: 'interrupted', at: run.now(), signal: run.signalName() });
      return new StopRun('aborted', ExitCode.interrupted, messages.interruptedAtAuthorization(reason));
    }
    if (authorized === 'abort') {
      const a = run.state.authorization;
      const fromDefault = a?.answeredFrom === 'timeout' || a?.answeredFrom === 'no-terminal';
      return new StopRun(failedStatus, failedExit, fromDefault ? messages.rollbackNotAuthorized(reason, a?.note ?? 'the default') : messages.rollbackDeclined(reason, describeActor(run, a?.by)));
    }
    const result = await rollBack(run, reason);
    if (result === 'interrupted' || run.interrupted()) {
      if (run.state.interrupted === undefined) run.emit({ kind: 'interrupted', at: run.now(), signal: run.signalName() });
      return new StopRun('aborted', ExitCode.interrupted, messages.interruptedDuringRollback(reason));
    }
    return result === 'succeeded'
      ? new StopRun('rolled-back', ExitCode.rolledBack, messages.rolledBack(reason))
      : new StopRun('failed', ExitCode.failed, messages.rollbackFailed(reason));
  }
  // Resumed after the rollback had finished (the run stopped in its finally steps): it ends as the rollback did.
  const done = run.state.rollback?.status;
  if (wantRollback && !run.options.dryRun && done !== undefined) {
    return done === 'succeeded' ? new StopRun('rolled-back', ExitCode.rolledBack, messages.rolledBack(reason)) : new StopRun('failed', ExitCode.failed, messages.rollbackFailed(reason));
  }
  return new StopRun(failedStatus, failedExit, reason);
}

/**
 * Roll back every started phase that has rollback steps, newest first, once. The first rollback step that fails
 * stops the rollback: what comes after it may assume it worked, so a person decides from there. An interrupt
 * leaves the rollback pending (no rollback-finished), so a resume carries on where it stopped.
 */
async function rollBack(run: RunContext, reason: string): Promise<'succeeded' | 'failed' | 'interrupted'> {
  const phases = phasesToRollBack(run.doc, run.state);
  if (run.state.rollback === undefined) run.emit({ kind: 'rollback-started', at: run.now(), reason, phases: phases.map((p) => p.id) });
  for (const phase of phases) {
    for (const step of phase.rollback ?? []) {
      const previous = run.state.steps.get(step.id)?.outcome;
      if (previous !== undefined && previous.status !== 'interrupted') {
        // Finished in an earlier session: a failure there is still a failed rollback.
        if (previous.status === 'failed' || previous.status === 'inconclusive') return finishRollback(run, 'failed');
        continue;
      }
      if (run.state.steps.has(step.id) && (await settleInFlight(run, step, phase, true)) === 'done') continue;
      const outcome = await runStep(run, step, phase, true);
      if (outcome.status === 'interrupted' || run.interrupted()) return 'interrupted';
      // A rollback check that could not tell (no data) has not shown the rollback worked.
      if (outcome.status === 'failed' || outcome.status === 'inconclusive') return finishRollback(run, 'failed');
    }
  }
  return finishRollback(run, 'succeeded');
}

function finishRollback(run: RunContext, status: 'succeeded' | 'failed'): 'succeeded' | 'failed' {
  run.emit({ kind: 'rollback-finished', at: run.now(), status });
  return status;
}
