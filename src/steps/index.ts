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
    case 'watch':
      // A window of ticks is the engine's (src/engine/watch.ts): it runs each check through the runners here.
      throw new Error(`step ${ctx.step.id} is a watch: the engine runs it, tick by tick`);
    default:
      return runManualStep(ctx);
  }
}
