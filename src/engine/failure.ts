// A phase step failed (or was inconclusive): what follows, by its on_failure. Decided once and journaled, so a resumed run keeps it.
import { ExitCode } from '../errors.js';
import { PromptAbortedError } from '../ports/types.js';
import { failurePolicy, unansweredAskPolicy } from '../runbook/failure-policy.js';
import { roleLabel } from '../runbook/labels.js';
import type { PhaseDoc, StepDoc } from '../runbook/types.js';
import type { Actor, EventOf, FailureAction, StepOutcome } from './events.js';
import { messages } from './messages.js';
import { phasesToRollBack } from './predicates.js';
import { failRun } from './rollback.js';
import { StopRun, type RunContext } from './run-context.js';
import type { FailureHandling } from './state.js';

/** A status a step's `on_failure` applies to: a failure, or a check that could not tell (never a pass). */
export function isFailure(status: string): boolean {
  return status === 'failed' || status === 'inconclusive';
}

/** How the run's end names a failed or inconclusive step. */
export function stepEnded(stepId: string, status: string, reason: string | undefined): string {
  return status === 'inconclusive' ? messages.stepInconclusive(stepId, reason ?? 'no data') : messages.stepFailed(stepId, reason ?? 'failed');
}

/** `root on behalf of [QA Lead · Elif]`: who answered, for whom. */
export function describeActor(run: RunContext, by: Actor | undefined): string {
  if (by === undefined) return 'nobody';
  return `${by.operator} on behalf of ${roleLabel(by.role, run.doc.roles[by.role], run.doc.people)}`;
}

/**
 * After a phase step ended failed or inconclusive (now, or in an earlier session): go on (continue, or left to the
 * gate ahead), or end the run here (rolling back, or not). Throws StopRun when the run ends.
 */
export async function followFailure(run: RunContext, phase: PhaseDoc, step: StepDoc, outcome: StepOutcome): Promise<void> {
  let handling: FailureHandling;
  try {
    handling = await handleFailure(run, phase, step, outcome);
  } catch (error) {
    if (!(error instanceof PromptAbortedError)) throw error;
    run.emit({ kind: 'interrupted', at: run.now(), signal: 'SIGINT', stepId: step.id });
    throw new StopRun('aborted', ExitCode.interrupted, messages.interruptedDuringStep(step.id));
  }
  if (handling.action === 'continue' || handling.action === 'gate') return;
  if (run.state.phases.get(phase.id)?.status === 'running') run.emit({ kind: 'phase-finished', at: run.now(), phaseId: phase.id, status: 'failed' });
  const reason = stepEnded(step.id, outcome.status, outcome.reason);
  if (handling.action === 'abort') throw new StopRun('failed', ExitCode.failed, messages.stoppedWithoutRollback(reason, describeActor(run, handling.by)));
  // A person who chose the rollback may be the one who authorizes it.
  const chosen = handling.answeredFrom === 'prompt' || handling.answeredFrom === 'answers-file' ? { by: handling.by!, stepId: step.id } : undefined;
  throw await failRun(run, reason, 'failed', ExitCode.failed, true, chosen);
}

/** What the step's failure leads to: the one an earlier session decided, else its policy's (asking its owner for `ask`). */
async function handleFailure(run: RunContext, phase: PhaseDoc, step: StepDoc, outcome: StepOutcome): Promise<FailureHandling> {
  const previous = run.state.steps.get(step.id)?.failure;
  if (previous !== undefined) return previous;
  const effective = failurePolicy(run.doc, phase, step);
  let decided: Omit<EventOf<'failure-handled'>, 'kind' | 'at' | 'stepId' | 'phaseId' | 'policy'>;
  if (effective.policy === 'ask') {
    decided = await askOwner(run, phase, step, outcome);
  } else {
    decided = {
      action: effective.policy,
      ...(effective.gate !== undefined ? { gateId: effective.gate } : {}),
      ...(effective.declared === 'gate' && effective.policy !== 'gate' ? { note: 'no gate ahead: handled as rollback' } : {}),
    };
  }
  run.emit({ kind: 'failure-handled', at: run.now(), stepId: step.id, phaseId: phase.id, policy: effective.declared, ...decided });
  return run.state.steps.get(step.id)!.failure!;
}

const CHOICES: readonly FailureAction[] = ['rollback', 'continue', 'abort'];

/** `on_failure: ask`: the answers file (`<step>.on_failure`), else the owner at the prompt, else the step's default policy. */
async function askOwner(run: RunContext, phase: PhaseDoc, step: StepDoc, outcome: StepOutcome): Promise<Omit<EventOf<'failure-handled'>, 'kind' | 'at' | 'stepId' | 'phaseId' | 'policy'>> {
  const { deps } = run;
  const key = `${step.id}.on_failure`;
  const by = run.actorFor(step.owner);
  const given = deps.answers.get(key);
  if (typeof given === 'string' && (CHOICES as readonly string[]).includes(given)) return { action: given as FailureAction, by, answeredFrom: 'answers-file' };
  if (deps.prompter !== undefined) {
    const phases = run.state.rollback?.status === undefined ? phasesToRollBack(run.doc, run.state).map((p) => p.id) : [];
    const choice = await deps.prompter.ask({
      kind: 'decide',
      id: key,
      who: run.whoFor(step.owner),
      message: messages.failureQuestion(step.id, outcome.status, outcome.reason ?? outcome.status),
      choices: [
        { value: 'rollback', label: messages.failureChoiceRollback(phases.length > 0 ? messages.ifFailedRollsBack(phases) : messages.ifFailedStops()) },
        { value: 'continue', label: messages.failureChoiceContinue() },
        { value: 'abort', label: messages.failureChoiceAbort() },
      ],
    });
    return { action: choice as FailureAction, by, answeredFrom: 'prompt' };
  }
  // Nobody to ask: as the step would be without `ask` (fail closed: never a silent continue).
  const fallback = unansweredAskPolicy(run.doc, phase);
  const action = fallback.policy === 'gate' ? 'gate' : 'rollback';
  return { action, ...(fallback.gate !== undefined ? { gateId: fallback.gate } : {}), answeredFrom: 'default', note: messages.askUnanswered(step.id, fallback.gate !== undefined ? `left to gate '${fallback.gate}'` : 'rollback') };
}
