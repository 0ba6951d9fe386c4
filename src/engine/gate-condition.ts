// A gate condition as evaluated: its value and the evidence behind it, as the gate-evaluated event, the journal and the run state hold it.
import type { EvidenceNode } from '../expr/evidence.js';

export interface GateCondition {
  name: string;
  /** `implicit`: `earlier_steps_ok`, which deployctl adds to a gate for the failures left to it. */
  kind: 'expression' | 'confirm' | 'implicit';
  /** The CEL expression, the attestation text, or what the implicit condition checks. */
  text: string;
  value: unknown;
  ok: boolean;
  error?: string;
  /** The evidence behind an expression's value (src/expr/evidence.ts): its parts with their values, rendered by src/expr/explain.ts. */
  tree?: EvidenceNode;
  /** A false condition: why each step it reads did not pass (`canary-p95 inconclusive: no data (query: …)`); earlier_steps_ok: the failures left to the gate. */
  notes?: string[];
  /** Journals of earlier builds only (read, never written): the sentence conditionWhy now renders from `tree` and `notes`. */
  explained?: string;
  /** Journals of earlier builds only (read, never written): the top-level operator and operands `tree` now holds. */
  evidence?: LegacyEvidence;
}

/** What journals of builds before the evidence tree kept of a condition's values: its top-level operator and each operand. */
export interface LegacyEvidence {
  operator: string;
  operands: { text: string; value: unknown; error?: string }[];
}

export type GateDecision = 'go' | 'no-go';
