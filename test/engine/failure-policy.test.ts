// The failure policy in the engine: on_failure rollback | continue | ask | gate, the implicit earlier_steps_ok, and rollback authorization with its timeout (manual clock).
import { describe, expect, it } from 'vitest';
import type { EventOf, RunEvent, StepOutcome } from '../../src/engine/events.js';
import { parseJournal, serializeEvent } from '../../src/engine/journal.js';
import { foldEvents } from '../../src/engine/state.js';
import { fakeExec, harness, inlineRunbook, kinds, scriptedPrompter } from '../helpers/engine-fakes.js';

const ROLES = `
roles:
  lead: { title: Deployment Lead, primary: Ana }
  devops: { title: DevOps Engineer, primary: Chen }
  qa: { title: QA Lead, primary: Elif }
`;

function runbook(body: string, top = '') {
  return inlineRunbook(`
version: 1
name: policy
${ROLES}
${top}
phases:
${body}`);
}

/** Pre-flight checks, a go/no-go in its own phase, a deploy that can be rolled back, a closing phase. */
const PLAN = (gate = 'on_no_go: abort', extra = '') =>
  runbook(
    `
  - id: preflight
    preflight: true
    steps:
      - { id: status, owner: devops, run: "status" }
      - { id: health, owner: qa, run: "health" }
      - { id: ready, owner: qa, confirm: QA ready }
  - id: go-no-go
    gate:
      owner: lead
      require:
        approved: { confirm: Leadership approved }
      ${gate}
  - id: deploy
    steps:
      - { id: ship, owner: devops, run: "ship" }
    rollback:
      - { id: restore, owner: devops, run: "restore" }
  - id: close
    steps:
      - { id: celebrate, owner: lead, confirm: Celebrated, on_failure: continue }
      - { id: signoff, owner: lead, confirm: Signed off }
`,
    extra,
  );

const YES = (more: [string, boolean | string][] = []) =>
  new Map<string, boolean | string | string[]>([['ready', true], ['go-no-go.approved', true], ['go-no-go', 'go'], ['celebrate', true], ['signoff', true], ...more]);

/** What a resumed run reads: the events as the journal wrote them, parsed back. */
function fromJournal(events: RunEvent[]) {
  const parsed = parseJournal(events.map(serializeEvent).join(''));
  expect(parsed.skippedLines).toBe(0);
  return foldEvents(parsed.events);
}

function outcome(events: RunEvent[], stepId: string): StepOutcome | undefined {
  return events.filter((e): e is EventOf<'step-finished'> => e.kind === 'step-finished' && e.stepId === stepId).at(-1)?.outcome;
}
function handled(events: RunEvent[], stepId: string): EventOf<'failure-handled'> | undefined {
  return events.find((e): e is EventOf<'failure-handled'> => e.kind === 'failure-handled' && e.stepId === stepId);
}
function gateEvaluated(events: RunEvent[]): EventOf<'gate-evaluated'> | undefined {
  return events.find((e): e is EventOf<'gate-evaluated'> => e.kind === 'gate-evaluated');
}
function one<K extends RunEvent['kind']>(events: RunEvent[], kind: K): EventOf<K>[] {
  return events.filter((e): e is EventOf<K> => e.kind === kind);
}

describe('on_failure: gate (the default in a preflight phase)', () => {
  it('records a pre-flight failure, runs the remaining pre-flight steps, and the go/no-go decides NO-GO with earlier_steps_ok naming it (exit 3)', async () => {
    const h = harness();
    const exec = fakeExec({ status: { exitCode: 1, stderr: 'down\n' }, health: {}, ship: {}, restore: {} });
    const result = await h.run(PLAN(), {}, { exec, answers: YES() });
    expect(result).toMatchObject({ status: 'no-go', exitCode: 3 });
    // The steps after the failure still ran; nothing was deployed.
    expect(outcome(h.events, 'health')?.status).toBe('succeeded');
    expect(outcome(h.events, 'ready')?.status).toBe('succeeded');
    expect(exec.calls).toEqual(['status', 'health']);
    expect(handled(h.events, 'status')).toMatchObject({ policy: 'gate', action: 'gate', gateId: 'go-no-go' });
    const gate = gateEvaluated(h.events)!;
    expect(gate.conditions.map((c) => [c.name, c.kind, c.ok])).toEqual([
      ['earlier_steps_ok', 'implicit', false],
      ['approved', 'confirm', true],
    ]);
    expect(gate.conditions[0]).toMatchObject({ text: 'no step left to this gate failed (status, health, ready)', notes: ['status failed: exit code 1: down'] });
    expect(result.reason).toBe("gate 'go-no-go' decided NO-GO: earlier_steps_ok does not hold (status failed: exit code 1: down)");
    // The answers file said go: GO is never taken over a failing condition.
    expect(one(h.events, 'gate-decided')[0]).toMatchObject({ decision: 'no-go', answeredFrom: 'automatic' });
    expect(foldEvents(h.events).phases.get('preflight')?.status).toBe('failed');
    expect(one(h.events, 'rollback-started')).toEqual([]);
  });

  it('rolls back when the gate does (on_no_go: rollback): exit 4', async () => {
    const h = harness();
    const doc = runbook(`
  - id: deploy
    steps:
      - { id: ship, owner: devops, run: "ship" }
    rollback:
      - { id: restore, owner: devops, run: "restore" }
  - id: verify
    steps:
      - { id: smoke, owner: qa, run: "smoke" }
      - { id: load, owner: qa, run: "load" }
    gate:
      owner: lead
      require: { fast: "steps.load.ok" }
      on_no_go: rollback
`);
    const exec = fakeExec({ ship: {}, smoke: { exitCode: 2 }, load: {}, restore: {} });
    const result = await h.run(doc, {}, { exec, answers: new Map([['verify', 'go']]) });
    expect(result).toMatchObject({ status: 'rolled-back', exitCode: 4 });
    // A failed step in a gate's own phase is the gate's to decide: load still ran.
    expect(exec.calls).toEqual(['ship', 'smoke', 'load', 'restore']);
    expect(result.reason).toBe("gate 'verify' decided NO-GO: earlier_steps_ok does not hold (smoke failed: exit code 2); rolled back");
  });

  it("a gate whose if: is false is not skipped while a failure is left to it: it decides NO-GO (a skipped gate would let the failure through)", async () => {
    const h = harness();
    const doc = runbook(`
  - id: deploy
    steps:
      - { id: ship, owner: devops, run: "ship" }
    rollback:
      - { id: restore, owner: devops, run: "restore" }
  - id: canary
    steps:
      - { id: canary-check, owner: qa, run: "canary-check" }
    gate:
      owner: lead
      if: "false"
      require: { fine: "true" }
      on_no_go: rollback
`);
    const failing = fakeExec({ ship: {}, 'canary-check': { exitCode: 1 }, restore: {} });
    const result = await h.run(doc, {}, { exec: failing, answers: new Map([['canary', 'go']]) });
    expect(result).toMatchObject({ status: 'rolled-back', exitCode: 4 });
    expect(one(h.events, 'gate-skipped')).toEqual([]);
    expect(result.reason).toBe("gate 'canary' decided NO-GO: earlier_steps_ok does not hold (canary-check failed: exit code 1); rolled back");
    // With nothing left to it, the same gate is skipped as its if: says.
    const h2 = harness();
    const passing = await h2.run(doc, {}, { exec: fakeExec({ ship: {}, 'canary-check': {}, restore: {} }), answers: new Map([['canary', 'go']]) });
    expect(passing).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(one(h2.events, 'gate-skipped')).toHaveLength(1);
  });

  it('holds when every step left to the gate passed, and a gate that no step is left to has no implicit condition', async () => {
    const h = harness();
    const exec = fakeExec({ status: {}, health: {}, ship: {} });
    const result = await h.run(PLAN(), {}, { exec, answers: YES() });
    expect(result).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(gateEvaluated(h.events)!.conditions.map((c) => [c.name, c.ok])).toEqual([
      ['earlier_steps_ok', true],
      ['approved', true],
    ]);
    const h2 = harness();
    const bare = runbook(`
  - id: work
    steps:
      - { id: ship, owner: devops, run: "ship" }
  - id: check
    gate: { owner: lead, require: { shipped: steps.ship.ok } }
`);
    await h2.run(bare, {}, { exec: fakeExec({ ship: {} }), answers: new Map([['check', 'go']]) });
    expect(gateEvaluated(h2.events)!.conditions.map((c) => c.name)).toEqual(['shipped']);
  });

  it('behaves as rollback with no gate ahead: the run stops at the failure', async () => {
    const h = harness();
    const doc = runbook(`
  - id: deploy
    steps:
      - { id: ship, owner: devops, run: "ship" }
    rollback:
      - { id: restore, owner: devops, run: "restore" }
  - id: after
    preflight: true
    steps:
      - { id: check, owner: qa, run: "check", on_failure: gate }
      - { id: later, owner: qa, run: "later" }
`);
    const exec = fakeExec({ ship: {}, check: { exitCode: 1 }, later: {}, restore: {} });
    const result = await h.run(doc, {}, { exec });
    expect(result).toMatchObject({ status: 'rolled-back', exitCode: 4 });
    expect(exec.calls).toEqual(['ship', 'check', 'restore']);
    expect(handled(h.events, 'check')).toMatchObject({ policy: 'gate', action: 'rollback', note: 'no gate ahead: handled as rollback' });
  });

  it('an inconclusive step follows the same rule: an explicit on_failure: rollback in a gate phase stops the run although the gate reads it', async () => {
    const h = harness();
    const doc = runbook(`
  - id: deploy
    steps:
      - { id: ship, owner: devops, run: "ship" }
      - { id: check, owner: qa, run: "check", on_failure: rollback }
      - { id: later, owner: qa, run: "later" }
    gate: { owner: lead, require: { checked: steps.check.ok } }
    rollback:
      - { id: restore, owner: devops, run: "restore" }
`);
    const exec = fakeExec({ ship: {}, check: { exitCode: 1 }, later: {}, restore: {} });
    const result = await h.run(doc, {}, { exec, answers: new Map([['deploy', 'go']]) });
    expect(result).toMatchObject({ status: 'rolled-back', exitCode: 4 });
    expect(exec.calls).toEqual(['ship', 'check', 'restore']);
  });
});

describe('on_failure: continue', () => {
  it('records the failure and goes on: a failed celebration cannot roll production back', async () => {
    const h = harness();
    const exec = fakeExec({ status: {}, health: {}, ship: {}, restore: {} });
    const result = await h.run(PLAN(), {}, { exec, answers: YES([['celebrate', false]]) });
    expect(result).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(outcome(h.events, 'celebrate')).toMatchObject({ status: 'failed', reason: 'not confirmed: Celebrated' });
    expect(handled(h.events, 'celebrate')).toMatchObject({ policy: 'continue', action: 'continue' });
    expect(outcome(h.events, 'signoff')?.status).toBe('succeeded');
    expect(exec.calls).not.toContain('restore');
    expect(foldEvents(h.events).phases.get('close')?.status).toBe('succeeded');
  });

  it('the question before a person fails a step says what its on_failure leads to', async () => {
    const doc = runbook(`
  - id: preflight
    preflight: true
    steps:
      - { id: ready, owner: qa, confirm: QA ready }
  - id: go
    gate: { owner: lead, require: { ok: "true" } }
  - id: deploy
    steps:
      - { id: ship, owner: devops, run: "ship" }
      - { id: warm, owner: devops, confirm: Caches warm, on_failure: ask }
      - { id: party, owner: lead, confirm: Celebrated, on_failure: continue }
    rollback:
      - { id: restore, owner: devops, run: "restore" }
`);
    const prompter = scriptedPrompter({ ready: false, 'ready.refused': true, go: 'no-go' });
    await harness().run(doc, {}, { exec: fakeExec({ ship: {}, restore: {} }), prompter });
    expect(prompter.requests.find((r) => r.id === 'ready.refused')?.message).toBe(
      "Not confirmed: QA ready. Mark this step FAILED (the remaining steps up to go/no-go 'go' still run, and that gate decides)? No asks again",
    );
    const p2 = scriptedPrompter({ ready: true, go: 'go', warm: false, 'warm.refused': true, 'warm.on_failure': 'continue', party: false, 'party.refused': true });
    const result = await harness().run(doc, {}, { exec: fakeExec({ ship: {}, restore: {} }), prompter: p2 });
    expect(p2.requests.find((r) => r.id === 'warm.refused')?.message).toBe('Not confirmed: Caches warm. Mark this step FAILED (you then choose: roll back, continue or abort)? No asks again');
    expect(p2.requests.find((r) => r.id === 'party.refused')?.message).toBe('Not confirmed: Celebrated. Mark this step FAILED (the failure is recorded and the run goes on (on_failure: continue))? No asks again');
    expect(result.exitCode).toBe(0);
  });

  it('without it, the same failure after the deploy rolls back (the default outside gated phases)', async () => {
    const h = harness();
    const exec = fakeExec({ status: {}, health: {}, ship: {}, restore: {} });
    const result = await h.run(PLAN(), {}, { exec, answers: YES([['signoff', false]]) });
    expect(result).toMatchObject({ status: 'rolled-back', exitCode: 4 });
    expect(handled(h.events, 'signoff')).toMatchObject({ policy: 'rollback', action: 'rollback' });
  });
});

describe('on_failure: ask', () => {
  const ASKING = runbook(`
  - id: deploy
    steps:
      - { id: ship, owner: devops, run: "ship" }
      - { id: warm, owner: devops, run: "warm", on_failure: ask }
      - { id: after, owner: devops, run: "after" }
    rollback:
      - { id: restore, owner: devops, run: "restore" }
`);
  const exec = () => fakeExec({ ship: {}, warm: { exitCode: 3 }, after: {}, restore: {} });

  it.each([
    ['continue', { status: 'succeeded', exitCode: 0 }, ['ship', 'warm', 'after']],
    ['rollback', { status: 'rolled-back', exitCode: 4 }, ['ship', 'warm', 'restore']],
    ['abort', { status: 'failed', exitCode: 1 }, ['ship', 'warm']],
  ] as const)('asks the owner at the prompt; %s', async (choice, expected, calls) => {
    const h = harness();
    const prompter = scriptedPrompter({ 'warm.on_failure': choice });
    const e = exec();
    const result = await h.run(ASKING, {}, { exec: e, prompter });
    expect(result).toMatchObject(expected);
    expect(e.calls).toEqual(calls);
    expect(prompter.requests[0]).toMatchObject({ kind: 'decide', id: 'warm.on_failure', who: '[DevOps Engineer · Chen]', message: "Step 'warm' failed: exit code 3. What now?" });
    expect(prompter.requests[0]?.kind === 'decide' && prompter.requests[0].choices.map((c) => c.label)).toEqual([
      'Roll back: the run stops here and ROLLS BACK deploy, newest first',
      'Continue: record the failure and go on',
      'Abort: stop the run here, without rolling back',
    ]);
    expect(handled(h.events, 'warm')).toMatchObject({ policy: 'ask', action: choice, answeredFrom: 'prompt', by: { role: 'devops', person: 'Chen', operator: 'tester' } });
    if (choice === 'abort') expect(result.reason).toBe("step 'warm' failed: exit code 3; stopped by tester on behalf of [DevOps Engineer · Chen] without rolling back");
  });

  it('takes the answer from the answers file (<step>.on_failure)', async () => {
    const h = harness();
    const result = await h.run(ASKING, {}, { exec: exec(), answers: new Map([['warm.on_failure', 'continue']]) });
    expect(result.exitCode).toBe(0);
    expect(handled(h.events, 'warm')).toMatchObject({ action: 'continue', answeredFrom: 'answers-file' });
  });

  it('without a terminal and without an answer, fails closed: as the step would be without ask (here: rollback)', async () => {
    const h = harness();
    const result = await h.run(ASKING, {}, { exec: exec() });
    expect(result).toMatchObject({ status: 'rolled-back', exitCode: 4 });
    expect(handled(h.events, 'warm')).toMatchObject({ policy: 'ask', action: 'rollback', answeredFrom: 'default' });
    expect(handled(h.events, 'warm')?.note).toContain("add 'warm.on_failure: continue' (or rollback, abort) to the answers file");
  });

  it('Ctrl-C at the question stops the run resumable; the resume asks again, and never twice once answered', async () => {
    const h1 = harness();
    const first = await h1.run(ASKING, {}, { exec: exec(), prompter: scriptedPrompter({ 'warm.on_failure': 'ABORT' }) });
    expect(first).toMatchObject({ status: 'aborted', exitCode: 130 });
    expect(handled(h1.events, 'warm')).toBeUndefined();
    const h2 = harness();
    const prompter = scriptedPrompter({ 'warm.on_failure': 'continue' });
    const e = exec();
    const second = await h2.run(ASKING, { resume: { state: fromJournal(h1.events) } }, { exec: e, prompter });
    expect(second).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(e.calls).toEqual(['after']);
    expect(prompter.requests.map((r) => r.id)).toEqual(['warm.on_failure']);
    // Resumed again (say it crashed before its end): the decision stands, nobody is asked.
    const h3 = harness();
    const cut = h2.events.findIndex((e2) => e2.kind === 'failure-handled');
    const third = await h3.run(ASKING, { resume: { state: fromJournal([...h1.events, ...h2.events.slice(0, cut + 1)]) } }, { exec: exec(), prompter: scriptedPrompter({}) });
    expect(third.exitCode).toBe(0);
  });
});

describe('rollback authorization (top-level rollback:)', () => {
  const AUTH = 'rollback: { authorize: lead, timeout: 5m, default: rollback }';
  const failing = () => fakeExec({ status: {}, health: {}, ship: { exitCode: 1 }, restore: {} });
  const requests = (events: RunEvent[]) => one(events, 'rollback-requested');
  const authorized = (events: RunEvent[]) => one(events, 'rollback-authorized');

  it('asks the role at the prompt; yes rolls back and the answer, who and when are kept', async () => {
    const h = harness();
    const prompter = scriptedPrompter({ rollback: 'rollback' });
    const result = await h.run(PLAN('on_no_go: abort', AUTH), {}, { exec: failing(), answers: YES(), prompter });
    expect(result).toMatchObject({ status: 'rolled-back', exitCode: 4 });
    expect(requests(h.events)).toEqual([expect.objectContaining({ authorize: 'lead', timeoutMs: 300_000, default: 'rollback', phases: ['deploy'], reason: "step 'ship' failed: exit code 1" })]);
    expect(prompter.requests.at(-1)).toMatchObject({
      id: 'rollback',
      who: '[Deployment Lead · Ana]',
      message: "Roll back deploy now? Because step 'ship' failed: exit code 1. Without an answer in 5m: roll back",
    });
    expect(authorized(h.events)).toEqual([expect.objectContaining({ decision: 'rollback', answeredFrom: 'prompt', by: { role: 'lead', person: 'Ana', operator: 'tester' } })]);
    // The default first (Enter does what the timeout would): here rollback; with default: abort, abort first.
    expect(prompter.requests.at(-1)?.kind === 'decide' && prompter.requests.at(-1)!.choices.map((c) => c.value)).toEqual(['rollback', 'abort']);
    const p2 = scriptedPrompter({ rollback: 'rollback' });
    await harness().run(PLAN('on_no_go: abort', 'rollback: { authorize: lead, default: abort }'), {}, { exec: failing(), answers: YES(), prompter: p2 });
    expect(p2.requests.at(-1)?.kind === 'decide' && p2.requests.at(-1)!.choices.map((c) => c.value)).toEqual(['abort', 'rollback']);
    expect(foldEvents(h.events).authorization).toMatchObject({ role: 'lead', decision: 'rollback', answeredFrom: 'prompt' });
    // Authorized first, then rolled back.
    const order = kinds(h.events);
    expect(order.indexOf('rollback-authorized')).toBeLessThan(order.indexOf('rollback-started'));
  });

  it('no at the prompt: nothing is rolled back and the run fails (exit 1), saying who declined', async () => {
    const h = harness();
    const exec = failing();
    const result = await h.run(PLAN('on_no_go: abort', AUTH), {}, { exec, answers: YES(), prompter: scriptedPrompter({ rollback: 'abort' }) });
    expect(result).toMatchObject({ status: 'failed', exitCode: 1 });
    expect(exec.calls).not.toContain('restore');
    expect(one(h.events, 'rollback-started')).toEqual([]);
    expect(result.reason).toBe("step 'ship' failed: exit code 1; the rollback was declined by tester on behalf of [Deployment Lead · Ana]: nothing was rolled back");
  });

  it('without an answer by the timeout, the default happens (5 minutes on the clock port)', async () => {
    for (const fallback of ['rollback', 'abort'] as const) {
      const h = harness();
      const exec = failing();
      const result = await h.run(PLAN('on_no_go: abort', `rollback: { authorize: lead, timeout: 5m, default: ${fallback} }`), {}, { exec, answers: YES(), prompter: scriptedPrompter({ rollback: 'WAIT' }) });
      const [request] = requests(h.events);
      const [answer] = authorized(h.events);
      expect(answer!.at - request!.at).toBe(300_000);
      expect(answer).toMatchObject({ decision: fallback, answeredFrom: 'timeout', by: { role: 'lead', operator: 'tester' }, note: `no answer within 5m: the default (${fallback})` });
      expect(answer!.by.person).toBeUndefined();
      expect(result.exitCode).toBe(fallback === 'rollback' ? 4 : 1);
      if (fallback === 'abort') expect(result.reason).toBe("step 'ship' failed: exit code 1; not rolled back (no answer within 5m: the default (abort)): nothing was rolled back");
    }
  });

  it('without a terminal: the answers file key rollback, else the default at once (no wait)', async () => {
    const h = harness();
    const exec = failing();
    const result = await h.run(PLAN('on_no_go: abort', AUTH), {}, { exec, answers: YES([['rollback', 'abort']]) });
    expect(result).toMatchObject({ status: 'failed', exitCode: 1 });
    expect(authorized(h.events)[0]).toMatchObject({ decision: 'abort', answeredFrom: 'answers-file', by: { person: 'Ana' } });
    const h2 = harness();
    const result2 = await h2.run(PLAN('on_no_go: abort', AUTH), {}, { exec: failing(), answers: YES() });
    expect(result2).toMatchObject({ status: 'rolled-back', exitCode: 4 });
    const [request] = requests(h2.events);
    const [answer] = authorized(h2.events);
    expect(answer).toMatchObject({ decision: 'rollback', answeredFrom: 'no-terminal' });
    expect(answer!.at).toBe(request!.at);
  });

  it('a NO-GO that would roll back is authorized too; declined, the NO-GO stands (exit 3)', async () => {
    const h = harness();
    const doc = runbook(
      `
  - id: deploy
    steps:
      - { id: ship, owner: devops, run: "ship" }
      - { id: smoke, owner: qa, run: "smoke" }
    gate: { owner: qa, require: { smoked: steps.smoke.ok }, on_no_go: rollback }
    rollback:
      - { id: restore, owner: devops, run: "restore" }
`,
      AUTH,
    );
    const exec = fakeExec({ ship: {}, smoke: { exitCode: 1 }, restore: {} });
    const result = await h.run(doc, {}, { exec, answers: new Map([['deploy', 'go'], ['rollback', 'abort']]) });
    expect(result).toMatchObject({ status: 'no-go', exitCode: 3 });
    expect(exec.calls).toEqual(['ship', 'smoke']);
  });

  it('the authorizing role choosing rollback at its own on_failure: ask is the authorization; another role is asked', async () => {
    const doc = (owner: string) =>
      runbook(
        `
  - id: deploy
    steps:
      - { id: ship, owner: ${owner}, run: "ship", on_failure: ask }
    rollback:
      - { id: restore, owner: devops, run: "restore" }
`,
        AUTH,
      );
    const h = harness();
    const result = await h.run(doc('lead'), {}, { exec: fakeExec({ ship: { exitCode: 1 }, restore: {} }), prompter: scriptedPrompter({ 'ship.on_failure': 'rollback' }) });
    expect(result.exitCode).toBe(4);
    expect(requests(h.events)).toEqual([]);
    expect(authorized(h.events)[0]).toMatchObject({ decision: 'rollback', answeredFrom: 'chosen', by: { role: 'lead' } });
    const h2 = harness();
    const prompter = scriptedPrompter({ 'ship.on_failure': 'rollback', rollback: 'abort' });
    const result2 = await h2.run(doc('devops'), {}, { exec: fakeExec({ ship: { exitCode: 1 }, restore: {} }), prompter });
    expect(result2.exitCode).toBe(1);
    expect(prompter.requests.map((r) => r.id)).toEqual(['ship.on_failure', 'rollback']);
  });

  it('an answer given before a crash is kept on resume (the journal keeps the authorization): not asked again', async () => {
    const h1 = harness();
    await h1.run(PLAN('on_no_go: abort', AUTH), {}, { exec: failing(), answers: YES(), prompter: scriptedPrompter({ rollback: 'rollback' }) });
    // Cut right after the authorization, as a kill -9 would.
    const cut = h1.events.findIndex((e) => e.kind === 'rollback-authorized');
    const state = fromJournal(h1.events.slice(0, cut + 1));
    expect(state.authorization).toMatchObject({ decision: 'rollback', answeredFrom: 'prompt', role: 'lead' });
    expect(state.steps.get('ship')?.failure).toMatchObject({ action: 'rollback' });
    const h2 = harness();
    const exec = failing();
    const resumed = await h2.run(PLAN('on_no_go: abort', AUTH), { resume: { state } }, { exec, answers: YES(), prompter: scriptedPrompter({}) });
    expect(resumed).toMatchObject({ status: 'rolled-back', exitCode: 4 });
    expect(exec.calls).toEqual(['restore']);
    expect(one(h2.events, 'rollback-requested')).toEqual([]);
  });

  it('Ctrl-C at the question leaves the run resumable, and the resume asks again before rolling back', async () => {
    const h1 = harness();
    const first = await h1.run(PLAN('on_no_go: abort', AUTH), {}, { exec: failing(), answers: YES(), prompter: scriptedPrompter({ rollback: 'ABORT' }) });
    expect(first).toMatchObject({ status: 'aborted', exitCode: 130 });
    expect(first.reason).toBe("interrupted while the rollback waited for its authorization, after: step 'ship' failed: exit code 1 (resume to decide)");
    const h2 = harness();
    const exec = failing();
    const second = await h2.run(PLAN('on_no_go: abort', AUTH), { resume: { state: fromJournal(h1.events) } }, { exec, answers: YES(), prompter: scriptedPrompter({ rollback: 'rollback' }) });
    expect(second).toMatchObject({ status: 'rolled-back', exitCode: 4 });
    expect(exec.calls).toEqual(['restore']);
  });
});
