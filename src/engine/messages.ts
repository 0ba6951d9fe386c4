// Every sentence the engine and the manual steps say to a person, in one place: how a run ends, the questions it asks, and each refusal with its fix.

/** `health does not hold`, `health, errors do not hold`. */
function doNotHold(conditions: readonly string[]): string {
  return `${conditions.join(', ')} ${conditions.length === 1 ? 'does' : 'do'} not hold`;
}

export const messages = {
  // ---- how a run ends (the reason in run-finished, the record and the summary) ---------------------------------
  everyPhaseCompleted: () => 'every phase completed',
  dryRunComplete: () => 'dry run complete: nothing was executed',
  interrupted: () => 'interrupted',
  interruptedDuringStep: (stepId: string) => `interrupted during step '${stepId}'`,
  interruptedAtAuthorization: (reason: string) => `interrupted while the rollback waited for its authorization, after: ${reason} (resume to decide)`,
  interruptedDuringRollback: (reason: string) => `interrupted during rollback after: ${reason} (resume to finish the rollback)`,
  abortedAtGate: (gateId: string) => `aborted at gate '${gateId}'`,
  /** `lost the state database (…): the run stopped (aborted at gate 'go-no-go'); resume it once the state is back`. */
  stoppedBecause: (cause: string, where: string) => `${cause}: the run stopped (${where}); resume it once the state is back`,
  stateLost: (kind: 'database' | 'directory', why: string) => (/\bstate\b/.test(why) ? why : `lost the state ${kind}: ${why}`),
  stepFailed: (stepId: string, reason: string) => `step '${stepId}' failed: ${reason}`,
  stepInconclusive: (stepId: string, reason: string) => `step '${stepId}' was inconclusive (no data is not a pass: it counts as a failure): ${reason}`,
  /** A person chose to stop at a failure without rolling back (`on_failure: ask`). */
  stoppedWithoutRollback: (reason: string, who: string) => `${reason}; stopped by ${who} without rolling back`,
  /** The `rollback.authorize` role said no, or the default was abort. */
  rollbackDeclined: (reason: string, who: string) => `${reason}; the rollback was declined by ${who}: nothing was rolled back`,
  rollbackNotAuthorized: (reason: string, why: string) => `${reason}; not rolled back (${why}): nothing was rolled back`,
  /** With the conditions that did not hold, each with why: `gate 'canary' decided NO-GO: error_rate does not hold (0.0476 ≥ 0.001)`. */
  gateNoGo: (gateId: string, failing: readonly { name: string; why?: string | undefined }[] = []) =>
    failing.length === 0
      ? `gate '${gateId}' decided NO-GO`
      : `gate '${gateId}' decided NO-GO: ${failing.map((c) => `${c.name} does not hold${c.why !== undefined ? ` (${c.why})` : ''}`).join('; ')}`,
  rolledBack: (reason: string) => `${reason}; rolled back`,
  finallyFailed: (phaseId: string, stepIds: readonly string[]) => `cleanup of phase '${phaseId}' failed: ${stepIds.map((id) => `'${id}'`).join(', ')}`,
  interruptedDuringFinally: (phaseId: string) => `interrupted during the finally steps of phase '${phaseId}' (resume to finish them)`,
  rollbackFailed: (reason: string) => `${reason}; ROLLBACK FAILED TOO: the system may be in a mixed state, act now`,

  // ---- one step ------------------------------------------------------------------------------------------------
  abortedAtPrompt: () => 'aborted at the prompt (Ctrl-C)',
  interruptedWhileWaitingToRetry: () => 'interrupted while waiting to retry',

  // ---- a step left in flight, on resume ------------------------------------------------------------------------
  inFlightQuestion: (stepId: string) => `Step '${stepId}' was running when the previous session stopped, and it is not idempotent. Did it complete?`,
  inFlightStoppedQuestion: (stepId: string) =>
    `Step '${stepId}' did not complete: deployctl stopped it when the previous session was interrupted (its process tree was stopped), and it is not idempotent, so it may have done part of its work. Run it again, or stop here?`,
  inFlightChoiceAbort: () => 'Stop here, decide later (resume again when you know)',
  inFlightChoiceRerun: () => 'Run it again',
  inFlightChoiceDone: () => 'It completed: mark it done and go on',
  inFlightUndecided: (stepId: string) =>
    `step '${stepId}' was in flight when the previous session stopped and is not idempotent, so deployctl will not guess: check whether it completed, then resume with --in-flight done (it completed), --in-flight rerun (run it again) or --in-flight abort`,
  stoppedAtInFlight: (stepId: string) => `stopped at in-flight step '${stepId}' by the operator`,
  markedDoneOnResume: () => 'marked done by the operator on resume',

  // ---- a step's failure (on_failure) ---------------------------------------------------------------------------
  failureQuestion: (stepId: string, status: string, reason: string) => `Step '${stepId}' ${status === 'inconclusive' ? 'was inconclusive' : 'failed'}: ${reason}. What now?`,
  failureChoiceRollback: (ifFailed: string) => `Roll back: ${ifFailed}`,
  failureChoiceContinue: () => 'Continue: record the failure and go on',
  failureChoiceAbort: () => 'Abort: stop the run here, without rolling back',
  askUnanswered: (stepId: string, action: string) =>
    `no answer and no terminal to ask on: handled as without on_failure: ask (${action}); add '${stepId}.on_failure: continue' (or rollback, abort) to the answers file to decide`,
  /** The implicit gate condition's text: which steps it covers. */
  implicitCondition: (stepIds: readonly string[]) =>
    stepIds.length === 0 ? 'no step left to this gate failed' : `no step left to this gate failed (${stepIds.length <= 12 ? stepIds.join(', ') : `${stepIds.slice(0, 12).join(', ')} and ${stepIds.length - 12} more`})`,

  // ---- rollback authorization (top-level rollback:) -----------------------------------------------------------
  authorizeQuestion: (reason: string, phases: readonly string[], timeout: string, fallback: string) =>
    // The reason in full is on the failed lines above and in the record: the question must fit a terminal with its choices.
    `Roll back ${phases.join(', ')} now? Because ${reason.length > 200 ? `${reason.slice(0, 199)}… (in full above)` : reason}. Without an answer in ${timeout}: ${fallback}`,
  authorizeChoiceRollback: (phases: readonly string[]) => `Roll back ${phases.join(', ')}, newest first`,
  authorizeChoiceAbort: () => 'Do not roll back: stop here and leave the system as it is',
  authorizeTimedOut: (timeout: string, fallback: string) => `no answer within ${timeout}: the default (${fallback})`,
  authorizeNoTerminal: (fallback: string) => `no terminal to ask on and no 'rollback:' answer in the answers file: the default (${fallback}), at once`,
  authorizeChosen: (stepId: string) => `chosen at step '${stepId}' (on_failure: ask) by the role that authorizes rollbacks`,

  // ---- gates ---------------------------------------------------------------------------------------------------
  attestationDryRun: (key: string) => `dry run: needs answers key '${key}'`,
  attestationUnanswered: (key: string) => `no answer and no terminal to ask on: add '${key}: true' to the answers file`,
  gateDryRun: (who: string, conditions: readonly string[], keys: readonly string[]) =>
    `dry run: would ask ${who} to decide GO/NO-GO on ${conditions.join(', ')}; walked on as GO (answers keys: ${keys.join(', ')})`,
  noGoReasonQuestion: (gateId: string) => `Every condition of '${gateId}' holds. Why NO-GO? (kept in the record)`,
  noGoReasonMissing: (gateId: string) => `NO-GO although every condition held, and no reason given: add '${gateId}.reason: "…"' to the answers file`,
  gateQuestion: (gateId: string, failing: readonly string[]) =>
    failing.length === 0 ? `Go/no-go '${gateId}': every condition holds. Decide:` : `Go/no-go '${gateId}': ${doNotHold(failing)}. Decide:`,
  gateChoiceGo: () => 'GO',
  gateChoiceNoGo: () => 'NO-GO',
  goNotOffered: (failing: readonly string[]) => `not offered: ${doNotHold(failing)}`,
  gateUndecided: (gateId: string) => `no decision and no terminal to ask on: add '${gateId}: go' or '${gateId}: no-go' to the answers file`,
  goRefused: (failing: readonly string[]) => `the answers file says go, but ${doNotHold(failing)}`,

  // ---- confirm, checklist and ask ------------------------------------------------------------------------------
  wouldAsk: (who: string, stepId: string) => `dry run: would ask ${who} (answers key '${stepId}')`,
  confirmRefused: (text: string, ifFailed: string) => `Not confirmed: ${text}. Mark this step FAILED (${ifFailed})? No asks again`,
  checklistQuestion: () => 'Tick every item that is done',
  checklistUnticked: (missing: readonly string[], ifFailed: string) => `Not ticked: ${missing.join('; ')}. Mark this step FAILED (${ifFailed})? No goes back to the list`,
  /** What failing a step now leads to, for the question before a person fails it. */
  ifFailedRollsBack: (phases: readonly string[]) => `the run stops here and ROLLS BACK ${phases.join(', ')}, newest first`,
  ifFailedStops: () => 'the run stops here; nothing is rolled back',
  ifFailedContinues: () => 'the failure is recorded and the run goes on (on_failure: continue)',
  ifFailedGateDecides: (gateId: string) => `the remaining steps up to go/no-go '${gateId}' still run, and that gate decides`,
  ifFailedAsks: () => 'you then choose: roll back, continue or abort',
  ifFailedInRollback: () => 'the rollback stops here, half done',
  ifFailedInFinally: () => 'recorded as a failed cleanup step; the other cleanup steps still run',
  notConfirmed: (text: string) => `not confirmed: ${text}`,
  notTicked: (missing: readonly string[]) => `not ticked: ${missing.join('; ')}`,
  noAnswerGiven: () => 'no answer given',
  missingAnswer: (stepId: string, example: string) => `no answer for step '${stepId}' and no terminal to ask on: add '${example}' to the answers file (--answers)`,
};
