// One step of a run: decide `if:`, run it (with its retries), and report it as one step-finished event.
import { PromptAbortedError } from '../ports/types.js';
import { parseDuration } from '../runbook/duration.js';
import { failurePolicy } from '../runbook/failure-policy.js';
import { isManualStep, stepKind, type PhaseDoc, type StepDoc } from '../runbook/types.js';
import { runStepOnce } from '../steps/index.js';
import type { StepResult } from '../steps/types.js';
import type { StepOutcome } from './events.js';
import { messages } from './messages.js';
import { phasesToRollBack, shouldRunStep } from './predicates.js';
import type { RunContext } from './run-context.js';
import { STEP_ENV } from './step-env.js';
import { runWatch } from './watch.js';

export { STEP_ENV };

/** `isFinally`: one of the phase's `finally:` steps; `stopping`: run after the phase stopped (failed, NO-GO, rolled back). */
export async function runStep(run: RunContext, step: StepDoc, phase: PhaseDoc, rollback: boolean, part: { isFinally?: boolean; stopping?: boolean } = {}): Promise<StepOutcome> {
  const { options, deps } = run;
  const marks = part.isFinally ? { finally: true as const } : {};
  // Steps measure and wait on the unscaled clock: a rehearsal scales the plan's waits, not retry delays or durations.
  const clock = run.stepClock();
  const kind = stepKind(step);
  const decision = shouldRunStep(step, run.celContext());
  // A dry run has no step results or answers to decide `if:` with: show the step as it would run.
  if (!decision.run && !(options.dryRun && 'error' in decision)) {
    const at = run.now();
    const outcome: StepOutcome =
      'error' in decision
        ? { status: 'failed', reason: decision.error, attempts: 0, startedAt: at, endedAt: at, durationMs: 0 }
        : { status: 'skipped', reason: decision.reason, attempts: 0, startedAt: at, endedAt: at, durationMs: 0 };
    run.emit({ kind: 'step-finished', at, stepId: step.id, phaseId: phase.id, rollback, ...marks, outcome });
    return outcome;
  }
  const maxAttempts = !isManualStep(step) && kind !== 'watch' && !options.dryRun ? 1 + (step.retries ?? 0) : 1;
  const retryDelay = step.retry_delay !== undefined ? parseDuration(step.retry_delay)! : (options.defaultRetryDelayMs ?? 1000);
  const startedAt = run.now();
  const startedMono = clock.monotonic();
  let result: StepResult = { status: 'failed', reason: 'not run' };
  let attempt = 0;
  while (attempt < maxAttempts) {
    attempt++;
    run.emit({ kind: 'step-started', at: run.now(), stepId: step.id, phaseId: phase.id, stepKind: kind, attempt, rollback, ...marks });
    result = await attemptStep(run, step, phase, rollback, part);
    // An inconclusive check is tried again too: data missing now (a scrape not yet in) is often there a moment later.
    if ((result.status !== 'failed' && result.status !== 'inconclusive') || attempt >= maxAttempts || run.interrupted()) break;
    run.emit({ kind: 'step-retrying', at: run.now(), stepId: step.id, attempt: attempt + 1, delayMs: retryDelay, reason: result.reason ?? result.status });
    await clock.sleep(retryDelay, options.signal);
    if (run.interrupted()) {
      result = { status: 'interrupted', reason: messages.interruptedWhileWaitingToRetry() };
      break;
    }
  }
  if (run.interrupted() && result.status !== 'interrupted' && result.status !== 'succeeded') {
    result = { ...result, status: 'interrupted', reason: result.reason ?? messages.interrupted() };
  }
  // Output longer than the record's tails goes into the journal too, so `steps.<id>.stdout` reads the same after a resume.
  const { fullOutput: kept, ...rest } = result;
  const longer = kept !== undefined && (kept.stdout.length > (rest.stdout?.text.length ?? 0) || kept.stderr.length > (rest.stderr?.text.length ?? 0));
  const endedAt = run.now();
  const outcome: StepOutcome = {
    ...rest,
    ...(longer ? { kept } : {}),
    ...(isManualStep(step) ? { by: run.actorFor(step.owner) } : {}),
    attempts: attempt,
    startedAt,
    endedAt,
    // A watch lasts its window, which is plan time; other steps' durations are measured work.
    durationMs: kind === 'watch' ? Math.max(0, endedAt - startedAt) : Math.max(0, Math.round(clock.monotonic() - startedMono)),
  };
  run.emit({ kind: 'step-finished', at: endedAt, stepId: step.id, phaseId: phase.id, rollback, ...marks, outcome });
  return outcome;
}

/** One attempt, through the runner of the step's kind; Ctrl-C at its prompt is an interruption, not a failure. */
async function attemptStep(run: RunContext, step: StepDoc, phase: PhaseDoc, rollback: boolean, part: { isFinally?: boolean; stopping?: boolean }): Promise<StepResult> {
  const stopping = part.stopping === true;
  const { options, deps } = run;
  const marks = { [STEP_ENV.runId]: options.runId, [STEP_ENV.stepId]: step.id };
  if (stepKind(step) === 'watch') return runWatch(run, step, phase);
  try {
    return await runStepOnce({
      step,
      phase,
      source: run.source,
      context: run.celContext(),
      actor: run.actorFor(step.owner),
      who: run.whoFor(step.owner),
      signal: options.signal,
      dryRun: options.dryRun,
      prompter: deps.prompter,
      answers: deps.answers,
      exec: deps.exec,
      send: deps.send,
      clock: run.stepClock(),
      // The marks go on top of the step's own env: steps/run.ts adds them last.
      env: deps.env,
      processMarks: marks,
      // Only a person's "no" is asked about before it fails the step.
      ...(isManualStep(step) ? { ifFailed: rollback ? messages.ifFailedInRollback() : stopping ? messages.ifFailedInFinally() : ifFailed(run, phase, step, part.isFinally === true) } : {}),
      secretValues: deps.secretValues,
      mask: deps.mask,
      ...(deps.masker !== undefined ? { masker: deps.masker } : {}),
      onLine: (stream, line) => run.emit({ kind: 'step-output', at: run.now(), stepId: step.id, stream, line }),
      onSpawn: (pid) => run.emit({ kind: 'step-spawned', at: run.now(), stepId: step.id, pid }),
      onProgress: (done, total, unit) => run.emit({ kind: 'step-progress', at: run.now(), stepId: step.id, done, total, unit }),
      ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
    });
  } catch (error) {
    if (!(error instanceof PromptAbortedError)) throw error;
    return { status: 'interrupted', reason: messages.abortedAtPrompt() };
  }
}

/** What a phase step failing now leads to, by its on_failure: the run goes on, its gate decides, its owner chooses, or it stops (rolling back what it can). */
function ifFailed(run: RunContext, phase: PhaseDoc, step: StepDoc, isFinally: boolean): string {
  // A cleanup step failing fails its completed phase, which stops the run like a failed step: no on_failure there.
  const policy = isFinally ? { policy: 'rollback' as const } : failurePolicy(run.doc, phase, step);
  if (policy.policy === 'continue') return messages.ifFailedContinues();
  if (policy.policy === 'gate' && 'gate' in policy) return messages.ifFailedGateDecides(policy.gate!);
  if (policy.policy === 'ask') return messages.ifFailedAsks();
  const phases = run.state.rollback?.status === undefined ? phasesToRollBack(run.doc, run.state).map((p) => p.id) : [];
  return phases.length > 0 ? messages.ifFailedRollsBack(phases) : messages.ifFailedStops();
}
