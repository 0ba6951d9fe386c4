// Named rules over run state: whether a step runs, whether and what to roll back. Their names double as reasons shown to people.
import { compileExpression, evaluateExpression, type CelContext } from '../expr/cel.js';
import { isManualStep, type PhaseDoc, type RunbookDoc, type StepDoc } from '../runbook/types.js';
import { isStepFinished, type RunState } from './state.js';

export type SkipDecision = { run: true } | { run: false; reason: string } | { run: false; error: string };

/** `if:` decides; false skips the step (recorded), an error fails it closed. */
export function shouldRunStep(step: StepDoc, context: CelContext): SkipDecision {
  if (step.if === undefined) return { run: true };
  const compiled = compileExpression(step.if);
  if (!compiled.ok) return { run: false, error: `if: ${step.if}: ${compiled.message}` };
  const result = evaluateExpression(compiled.expression, context);
  if (!result.ok) return { run: false, error: `if: ${step.if}: ${result.message}` };
  if (result.value === true) return { run: true };
  if (result.value === false) return { run: false, reason: `if: ${step.if} was false` };
  return { run: false, error: `if: ${step.if} gave ${JSON.stringify(result.value)}, not true or false` };
}

/**
 * The steps whose failures were left to this gate (`on_failure: gate`, src/runbook/failure-policy.ts), in run order:
 * what its implicit condition `earlier_steps_ok` reports.
 */
export function failuresLeftToGate(state: RunState, gateId: string): string[] {
  return [...state.steps].filter(([, s]) => s.failure?.action === 'gate' && s.failure.gateId === gateId).map(([id]) => id);
}

/** Whether a step of this phase failed and went on to a gate: the phase did not succeed, whatever the gate decides. */
export function hasFailuresLeftToGate(state: RunState, phase: PhaseDoc): boolean {
  return (phase.steps ?? []).some((step) => state.steps.get(step.id)?.failure?.action === 'gate');
}

/** Phases whose rollback steps would run now: every phase already started that has any, newest first. */
export function phasesToRollBack(doc: RunbookDoc, state: RunState): PhaseDoc[] {
  return doc.phases.filter((phase) => state.phases.has(phase.id) && (phase.rollback ?? []).length > 0).reverse();
}

/** A failure rolls back when the failing phase, or one before it, has rollback steps — and only once (a rollback cut short by a crash is finished on resume). */
export function shouldRollBack(doc: RunbookDoc, state: RunState): boolean {
  return state.rollback?.status === undefined && phasesToRollBack(doc, state).length > 0;
}

/**
 * Steps a resumed run would stop at to ask whether they completed: started in an earlier session, not
 * finished (in flight at a crash, or interrupted), not idempotent, not manual (those are asked again) and not a
 * watch (it continues its window).
 * Without a terminal and without --in-flight, `run --resume` refuses up front, before it opens the journal.
 */
export function stepsNeedingInFlightDecision(doc: RunbookDoc, state: RunState): string[] {
  return doc.phases
    .flatMap((phase) => [...(phase.steps ?? []), ...(phase.finally ?? []), ...(phase.rollback ?? [])])
    .filter((step) => state.steps.has(step.id) && !isStepFinished(state, step.id) && step.idempotent !== true && !isManualStep(step) && step.watch === undefined)
    .map((step) => step.id);
}
