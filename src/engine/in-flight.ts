// A step left in flight by a crash or Ctrl-C, met again on resume: run it again, mark it done, or stop — never guess.
import { ExitCode } from '../errors.js';
import { PromptAbortedError } from '../ports/types.js';
import { isManualStep, type PhaseDoc, type StepDoc } from '../runbook/types.js';
import { messages } from './messages.js';
import { StopRun, type InFlightDecision, type RunContext } from './run-context.js';

/**
 * Re-run only if idempotent (or a watch), otherwise the operator decides (`--in-flight`, or at the prompt). A manual step
 * (confirm, checklist, ask) changed nothing outside deployctl, so it is simply asked again: Ctrl-C at its prompt
 * must not make the resume ask whether the question "completed". Throws StopRun when the run must stop here.
 */
export async function settleInFlight(run: RunContext, step: StepDoc, phase: PhaseDoc, rollback: boolean, isFinally = false): Promise<'run' | 'done'> {
  // A watch continues its window: its ticks are in the journal, the slots it missed are recorded as missed.
  if (step.idempotent || isManualStep(step) || step.watch !== undefined) return 'run';
  const decision = run.options.resume?.inFlight ?? (await askInFlight(run, step));
  if (decision === undefined) {
    throw new StopRun('aborted', ExitCode.usage, messages.inFlightUndecided(step.id));
  }
  if (decision === 'abort') throw new StopRun('aborted', ExitCode.failed, messages.stoppedAtInFlight(step.id));
  if (decision === 'done') {
    const at = run.now();
    run.emit({
      kind: 'step-finished',
      at,
      stepId: step.id,
      phaseId: phase.id,
      rollback,
      ...(isFinally ? { finally: true as const } : {}),
      outcome: { status: 'succeeded', reason: messages.markedDoneOnResume(), attempts: 0, startedAt: at, endedAt: at, durationMs: 0, by: run.actorFor(step.owner) },
    });
    return 'done';
  }
  return 'run';
}

/**
 * Ask at the terminal; undefined when there is nobody to ask. A step deployctl itself stopped (Ctrl-C: its process
 * tree was stopped, the journal says `interrupted`) did not complete, and deployctl knows it: asking "did it
 * complete?" would invite a wrong "done". It is said as it is, and only rerun or stop are offered.
 */
async function askInFlight(run: RunContext, step: StepDoc): Promise<InFlightDecision | undefined> {
  const { prompter } = run.deps;
  if (prompter === undefined) return undefined;
  const stopped = run.state.steps.get(step.id)?.outcome?.status === 'interrupted';
  try {
    return (await prompter.ask({
      kind: 'decide',
      id: `${step.id}.in-flight`,
      who: run.whoFor(step.owner),
      message: stopped ? messages.inFlightStoppedQuestion(step.id) : messages.inFlightQuestion(step.id),
      // The safe answer first: Enter without reading must not mark an unknown step done.
      choices: [
        { value: 'abort', label: messages.inFlightChoiceAbort() },
        { value: 'rerun', label: messages.inFlightChoiceRerun() },
        ...(stopped ? [] : [{ value: 'done', label: messages.inFlightChoiceDone() }]),
      ],
    })) as InFlightDecision;
  } catch (error) {
    if (error instanceof PromptAbortedError) throw new StopRun('aborted', ExitCode.interrupted, messages.abortedAtPrompt());
    throw error;
  }
}
