// A phase that runs past its window on the timeline: found by a timer on the run's clock, announced once as phase-overrun.
import type { PhaseDoc } from '../runbook/types.js';
import type { RunContext } from './run-context.js';
import { plannedEnd } from './timeline.js';

const NOTHING = { cancel: () => undefined };

/**
 * Arm the phase's overrun timer when it starts (or is resumed): at its planned end, if it is still running, the run
 * says so (phase-overrun: the notifier sends the ALERT and fires `on: overrun`). Once per phase, also across a resume.
 * A dry run has no timeline to keep.
 */
export function watchForOverrun(run: RunContext, phase: PhaseDoc): { cancel(): void } {
  if (run.options.dryRun || run.state.phases.get(phase.id)?.overrunAt !== undefined) return NOTHING;
  const end = plannedEnd(run.doc, run.state, phase);
  if (end === undefined) return NOTHING;
  const fire = (): void => {
    const state = run.state.phases.get(phase.id);
    if (state?.status !== 'running' || state.overrunAt !== undefined) return;
    run.emit({ kind: 'phase-overrun', at: run.now(), phaseId: phase.id, plannedEnd: end });
  };
  const delay = end - run.now();
  if (delay <= 0) {
    fire();
    return NOTHING;
  }
  return run.deps.clock.setTimer(delay, fire);
}
