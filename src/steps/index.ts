// One runner per step kind; the engine calls this and gets a StepResult value back.
import { stepKind } from '../runbook/types.js';
import { runHttpStep } from './http-step.js';
import { runManualStep } from './manual.js';
import { runPrometheusStep } from './prometheus.js';
import { runCommandStep } from './run.js';
import type { StepResult, StepRunContext } from './types.js';

export function runStepOnce(ctx: StepRunContext): Promise<StepResult> {
  switch (stepKind(ctx.step)) {
    case 'run':
      return runCommandStep(ctx);
    case 'http':
      return runHttpStep(ctx);
    case 'prometheus':
      return runPrometheusStep(ctx);
    default:
      return runManualStep(ctx);
  }
}
