// A step the run ended without is `not-run` in expressions (success metrics, the record), never "pending" (review 1 item 34).
import { describe, expect, it } from 'vitest';
import { celContext } from '../../src/engine/context.js';
import { initialRunState, type RunState } from '../../src/engine/state.js';
import { evaluateSuccessMetrics } from '../../src/record/build.js';
import type { RunbookDoc } from '../../src/runbook/types.js';

const doc = {
  version: 1,
  name: 'metrics',
  roles: { ops: { title: 'Ops' } },
  phases: [
    { id: 'deploy', steps: [{ id: 'ship', owner: 'ops', run: 'true' }] },
    { id: 'monitor', steps: [{ id: 'stable', owner: 'ops', confirm: 'Stable for 4 hours?' }] },
  ],
  success_metrics: [{ id: 'stable', title: 'System Stable (4 hr)', target: 'YES', actual: "steps.stable.status == 'succeeded' ? 'YES' : steps.stable.status" }],
} as unknown as RunbookDoc;

const ship = { phaseId: 'deploy', rollback: false, startedAt: 1, outcome: { status: 'failed', attempts: 1, durationMs: 1, reason: 'exit code 1' } } as const;
const state = (finished?: RunState['finished']): RunState => ({ ...initialRunState, startedAt: 0, steps: new Map([['ship', ship as never]]), ...(finished ? { finished } : {}) });

describe('a step the run never reached', () => {
  it('is not-run once the run has ended (rolled back, failed, NO-GO), so a metric does not say "actual pending"', () => {
    for (const status of ['rolled-back', 'failed', 'no-go'] as const) {
      const ended = state({ status, exitCode: 4, at: 10 });
      expect(celContext({ doc, state: ended, env: {}, now: 10 }).steps['stable']).toMatchObject({ status: 'not-run', ok: false });
      expect(evaluateSuccessMetrics(doc, ended, {}, 10)[0]).toMatchObject({ actual: 'not-run' });
    }
  });

  it('is pending while the run goes on, or when it was aborted and may be resumed', () => {
    expect(celContext({ doc, state: state(), env: {}, now: 5 }).steps['stable']).toMatchObject({ status: 'pending' });
    expect(celContext({ doc, state: state({ status: 'aborted', exitCode: 130, at: 10 }), env: {}, now: 10 }).steps['stable']).toMatchObject({ status: 'pending' });
  });
});
