// The lines after a run: who decided each gate, in words that read; every step counted, the rollback's own included.
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/engine/execute.js';
import { initialRunState, type GateState, type RunState, type StepState } from '../../src/engine/state.js';
import type { StepOutcome } from '../../src/engine/events.js';
import { formatRunSummary } from '../../src/reporters/summary.js';
import type { RunbookDoc } from '../../src/runbook/types.js';

const doc = {
  version: 1,
  name: 'summary',
  roles: { lead: { title: 'Deployment Lead', primary: 'Ana Torres' }, ops: { title: 'Ops' } },
  phases: [
    {
      id: 'deploy',
      steps: [{ id: 'ship', owner: 'ops', run: 'true' }],
      gate: { id: 'canary', owner: 'lead', require: { ok: 'true' } },
      rollback: [
        { id: 'undo', owner: 'ops', run: 'true' },
        { id: 'announce', owner: 'lead', confirm: 'Announced?' },
        { id: 'close', owner: 'lead', confirm: 'Closed?' },
      ],
    },
  ],
} as unknown as RunbookDoc;

const outcome = (status: StepOutcome['status']): StepOutcome => ({ status, attempts: 1, durationMs: 5 }) as StepOutcome;
const step = (status: StepOutcome['status'], rollback = false): StepState => ({ phaseId: 'deploy', rollback, outcome: outcome(status) });

function summary(state: Partial<RunState>, status: RunResult['status'] = 'rolled-back'): string {
  const full: RunState = { ...initialRunState, runId: 'r1', startedAt: 0, lastEventAt: 1000, ...state };
  return formatRunSummary(doc, { status, exitCode: status === 'aborted' ? 130 : 4, state: full }, undefined);
}

describe('formatRunSummary', () => {
  it('says a gate decided without a person was decided automatically, not "by automatically"', () => {
    const gate: GateState = { phaseId: 'deploy', decision: 'no-go', answeredFrom: 'automatic', conditions: [{ name: 'ok', text: 'false', value: false, ok: false }] } as GateState;
    const text = summary({ gates: new Map([['canary', gate]]), steps: new Map([['ship', step('succeeded')]]) });
    expect(text).toContain('gate canary: NO-GO automatically (owner [Deployment Lead · Ana Torres]); not holding: ok');
    expect(text).not.toMatch(/by automatically/);
  });

  it('credits the operator on behalf of the role when a person decided', () => {
    const gate = { phaseId: 'deploy', decision: 'go', answeredFrom: 'prompt', by: { operator: 'lena' } } as unknown as GateState;
    expect(summary({ gates: new Map([['canary', gate]]) }, 'succeeded')).toContain('gate canary: GO by lena on behalf of [Deployment Lead · Ana Torres]');
  });

  it('counts an interrupted rollback step (Ctrl-C at the rollback prompt), with the rollback steps not reached', () => {
    const text = summary(
      {
        steps: new Map([
          ['ship', step('succeeded')],
          ['undo', step('succeeded', true)],
          ['announce', step('interrupted', true)],
        ]),
        rollback: { reason: 'NO-GO', startedAt: 10, phases: ['deploy'] },
      },
      'aborted',
    );
    expect(text).toMatch(/rollback of deploy: INTERRUPTED, half done.*\(rollback steps: 1 succeeded, 1 interrupted, 1 not run of 3\)/);
    // The phases' own counts are unchanged: the forward step is the only one of them.
    expect(text).toContain('steps: 1 succeeded, 0 failed, 0 skipped, 0 not run (of 1)');
  });
});
