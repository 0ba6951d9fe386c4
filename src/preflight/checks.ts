// Which steps `deployctl preflight` looks at: every step of every phase marked `preflight: true`, in runbook order.
import type { LoadedRunbook } from '../runbook/load.js';
import { isManualStep, stepKind, type PhaseDoc } from '../runbook/types.js';
import type { Check } from './types.js';

export function isPreflightPhase(phase: PhaseDoc): boolean {
  return phase.preflight === true;
}

export function preflightPhases(runbook: LoadedRunbook): PhaseDoc[] {
  return runbook.doc.phases.filter(isPreflightPhase);
}

/** The checks of the preflight phases. Rollback steps and gates are not checks: they belong to a real run. */
export function selectChecks(runbook: LoadedRunbook): Check[] {
  const checks: Check[] = [];
  runbook.doc.phases.forEach((phase, phaseIndex) => {
    if (!isPreflightPhase(phase)) return;
    (phase.steps ?? []).forEach((step, stepIndex) => {
      checks.push({
        step,
        phase,
        kind: stepKind(step),
        manual: isManualStep(step),
        position: runbook.locate.value(['phases', phaseIndex, 'steps', stepIndex]),
      });
    });
  });
  return checks;
}
