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
 * An inconclusive step (a check with no data) goes on to the gate of its own phase when that gate reads it (a
 * condition names `steps.<id>`): the gate decides, seeing its status. Otherwise nothing would look at it, and going on
 * would be a silent pass: the run stops there as at a failure.
 */
export function isDecidedByGate(phase: PhaseDoc, stepId: string): boolean {
  for (const condition of Object.values(phase.gate?.require ?? {})) {
    if (typeof condition !== 'string') continue;
    const compiled = compileExpression(condition);
    if (compiled.ok && compiled.expression.references.some((ref) => ref.root === 'steps' && ref.name === stepId)) return true;
  }
  return false;
}

/** Whether a step's outcome ends the run (rolling back when there is something to roll back). */
export function shouldStopRun(phase: PhaseDoc, stepId: string, status: string): boolean {
  return status === 'failed' || (status === 'inconclusive' && !isDecidedByGate(phase, stepId));
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
