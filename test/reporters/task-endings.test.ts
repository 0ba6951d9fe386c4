// What a finished task shows: a failure the run went on past (on_failure: gate or continue) is a failure that does not end its phase's list, worded for each renderer.
import { describe, expect, it } from 'vitest';
import { showAuthorization, showStepEnding } from '../../src/reporters/task-endings.js';
import type { StepOutcome } from '../../src/engine/events.js';

const failed: StepOutcome = { status: 'failed', reason: 'exit code 1', attempts: 1, startedAt: 0, endedAt: 0, durationMs: 0 };
const screen = { said: (title: string, what: string) => `${title}: ${what}` };
const plain = { said: (_title: string, what: string) => what, plain: true };

describe('a failed step the run went on past', () => {
  it.each([
    [screen, { action: 'gate', gateId: 'go-no-go' }, "[Ops] ship: FAILED, gate 'go-no-go' decides: exit code 1"],
    [plain, { action: 'gate', gateId: 'go-no-go' }, "gate 'go-no-go' decides: exit code 1"],
    [screen, { action: 'continue' }, '[Ops] ship: FAILED, the run goes on (on_failure: continue): exit code 1'],
    [plain, { action: 'continue' }, 'the run goes on (on_failure: continue): exit code 1'],
  ])('fails without ending the phase (%#)', (options, handled, message) => {
    expect(showStepEnding('[Ops] ship', { kind: 'outcome', outcome: failed, handled }, options)).toEqual({ kind: 'fail', goesOn: true, message });
  });

  it('says INCONCLUSIVE for a check without data, in both renderers', () => {
    const outcome: StepOutcome = { ...failed, status: 'inconclusive', reason: 'no data' };
    expect(showStepEnding('[Ops] p95', { kind: 'outcome', outcome, handled: { action: 'gate', gateId: 'canary' } }, plain)).toMatchObject({ message: "INCONCLUSIVE, gate 'canary' decides: no data" });
  });

  it('a failure that stops the run ends its phase (goesOn unset)', () => {
    expect(showStepEnding('[Ops] ship', { kind: 'outcome', outcome: failed, handled: { action: 'rollback' } }, screen)).toEqual({ kind: 'fail', message: '[Ops] ship: exit code 1' });
  });
});

describe('the rollback authorization task', () => {
  const by = { role: 'lead', person: 'Ana', operator: 'root' };
  it.each([
    [{ decision: 'rollback', answeredFrom: 'prompt' }, { kind: 'title', title: 'Authorize: authorized (by root)' }],
    [{ decision: 'rollback', answeredFrom: 'timeout', note: 'no answer within 5m: the default (rollback)' }, { kind: 'title', title: 'Authorize: authorized (no answer within 5m: the default (rollback))' }],
    [{ decision: 'abort', answeredFrom: 'answers-file' }, { kind: 'fail', message: 'Authorize: NOT AUTHORIZED: nothing is rolled back (answered from a.yaml)' }],
  ] as const)('shows %j', (decided, shown) => {
    expect(showAuthorization('Authorize', { kind: 'rollback-authorized', at: 0, by, ...decided }, { ...screen, answersFile: 'a.yaml' })).toEqual(shown);
  });
});
