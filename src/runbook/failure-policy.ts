// What a step's failure leads to, from the runbook alone: stop and roll back, go on, ask its owner, or leave it to the next gate (DESIGN "Failure policy").
import { parseDuration } from './duration.js';
import { gateId, type FailurePolicy, type PhaseDoc, type RunbookDoc, type StepDoc } from './types.js';

/** The condition a gate gets when failures are left to it: it holds when none of them failed. */
export const IMPLICIT_CONDITION = 'earlier_steps_ok';

/** How long a rollback authorization waits for its answer when the runbook does not say. */
export const DEFAULT_AUTHORIZE_TIMEOUT_MS = 5 * 60_000;

/** The policy a step has without `on_failure:`: `gate` in a preflight phase and in a phase with a gate, `rollback` elsewhere. */
export function defaultFailurePolicy(phase: PhaseDoc): FailurePolicy {
  return phase.preflight === true || phase.gate !== undefined ? 'gate' : 'rollback';
}

/** The first gate at or after `phase` (its own comes after its steps): the one that decides what is left to a gate. */
export function gateAhead(doc: RunbookDoc, phase: PhaseDoc): PhaseDoc | undefined {
  const from = doc.phases.indexOf(phase);
  if (from === -1) return undefined;
  return doc.phases.slice(from).find((p) => p.gate !== undefined);
}

export interface EffectivePolicy {
  /** What happens: `gate` only when a gate is ahead. */
  policy: FailurePolicy;
  /** What the runbook says (or the default), before `gate` without a gate ahead became `rollback`. */
  declared: FailurePolicy;
  /** Set when `declared` came from the defaults, not from the step. */
  byDefault: boolean;
  /** The gate that decides (policy `gate`). */
  gate?: string;
}

function resolve(doc: RunbookDoc, phase: PhaseDoc, declared: FailurePolicy, byDefault: boolean): EffectivePolicy {
  if (declared !== 'gate') return { policy: declared, declared, byDefault };
  const ahead = gateAhead(doc, phase);
  // With no gate ahead, nothing would ever decide: a failure left there would be a silent pass.
  return ahead === undefined ? { policy: 'rollback', declared, byDefault } : { policy: 'gate', declared, byDefault, gate: gateId(ahead) };
}

/**
 * What a failure (or an inconclusive check) of a phase's step leads to. The one rule for "which failures a gate
 * decides": policy `gate` (the step's own, or the default of a preflight phase or a phase with a gate) with a gate
 * at or after the step's phase. Only for a phase's `steps:` (rollback and finally steps have their own rules).
 */
export function failurePolicy(doc: RunbookDoc, phase: PhaseDoc, step: StepDoc): EffectivePolicy {
  return step.on_failure !== undefined ? resolve(doc, phase, step.on_failure, false) : resolve(doc, phase, defaultFailurePolicy(phase), true);
}

/** `on_failure: ask` when nobody answers (no terminal, no answers-file key): the policy the step would have without it. */
export function unansweredAskPolicy(doc: RunbookDoc, phase: PhaseDoc): EffectivePolicy {
  return resolve(doc, phase, defaultFailurePolicy(phase), true);
}

/** The gate a step's failure goes on to, or undefined when it does not go on to one (it stops the run, continues, or asks). */
export function decidingGate(doc: RunbookDoc, phase: PhaseDoc, step: StepDoc): string | undefined {
  return failurePolicy(doc, phase, step).gate;
}

/**
 * The steps whose failures a gate decides: every phase step before it (since the previous gate) whose failure is left
 * to it, and the `ask` steps whose unanswered failure would be. Empty: the gate has no implicit condition.
 */
export function stepsLeftToGate(doc: RunbookDoc, gatePhase: PhaseDoc): StepDoc[] {
  const id = gateId(gatePhase);
  const steps: StepDoc[] = [];
  for (const phase of doc.phases) {
    for (const step of phase.steps ?? []) {
      const policy = failurePolicy(doc, phase, step);
      const gate = policy.policy === 'ask' ? unansweredAskPolicy(doc, phase).gate : policy.gate;
      if (gate === id) steps.push(step);
    }
    if (phase === gatePhase) break;
  }
  return steps;
}

/** The rollback authorization's timeout in ms. */
export function authorizeTimeoutMs(doc: RunbookDoc): number {
  const text = doc.rollback?.timeout;
  return text !== undefined ? (parseDuration(text) ?? DEFAULT_AUTHORIZE_TIMEOUT_MS) : DEFAULT_AUTHORIZE_TIMEOUT_MS;
}
