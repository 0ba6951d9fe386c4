// The execute loop with fake ports: a command table, scripted prompts, a manual clock.
import { describe, expect, it } from 'vitest';
import { foldEvents } from '../../src/engine/state.js';
import { parseJournal, serializeEvent } from '../../src/engine/journal.js';
import type { RunEvent, StepOutcome } from '../../src/engine/events.js';
import { PromptAbortedError, type Prompter, type PromptRequest } from '../../src/ports/types.js';
import { StopCause } from '../../src/engine/run-context.js';
import { fakeExec, harness, inlineRunbook, kinds, scriptedPrompter } from '../helpers/engine-fakes.js';

const ROLES = `
roles:
  lead: { title: Deployment Lead, primary: Ana }
  devops: { title: DevOps Engineer, primary: Chen }
`;

const DEPLOY = inlineRunbook(`
version: 1
name: demo
${ROLES}
vars: { version: "1.2.3" }
phases:
  - id: pre
    steps:
      - { id: backup, owner: devops, run: "backup now" }
      - { id: brief, owner: lead, confirm: Brief given }
  - id: gate
    gate:
      owner: lead
      require:
        backups_ready: steps.backup.ok
        approved: { confirm: Leadership approved }
      on_no_go: abort
  - id: deploy
    steps:
      - { id: ship, owner: devops, run: "ship \${{ vars.version }}" }
      - { id: verify, owner: devops, run: "verify" }
    rollback:
      - { id: restore, owner: devops, run: "restore" }
  - id: after
    steps:
      - { id: announce, owner: lead, confirm: Announced }
`);

const ALL_YES = new Map<string, boolean | string | string[]>([
  ['brief', true],
  ['gate.approved', true],
  ['gate', 'go'],
  ['announce', true],
]);

function outcome(events: RunEvent[], stepId: string): StepOutcome | undefined {
  const finished = events.filter((e): e is Extract<RunEvent, { kind: 'step-finished' }> => e.kind === 'step-finished' && e.stepId === stepId);
  return finished.at(-1)?.outcome;
}

describe('executeRun', () => {
  it('runs every phase in order and succeeds with exit 0 when everything passes', async () => {
    const h = harness();
    const exec = fakeExec({ 'backup now': { stdout: 'saved\n' }, "ship '1.2.3'": {}, verify: {} });
    const result = await h.run(DEPLOY, {}, { exec, answers: ALL_YES });
    expect(result.exitCode).toBe(0);
    expect(result.status).toBe('succeeded');
    expect(exec.calls).toEqual(['backup now', "ship '1.2.3'", 'verify']);
    expect(kinds(h.events)).toEqual([
      'run-started',
      'phase-started:pre',
      'step-started:backup',
      'step-finished:backup',
      'step-started:brief',
      'step-finished:brief',
      'phase-finished:pre',
      'phase-started:gate',
      'gate-opened:gate',
      'gate-evaluated:gate',
      'gate-decided:gate',
      'phase-finished:gate',
      'phase-started:deploy',
      'step-started:ship',
      'step-finished:ship',
      'step-started:verify',
      'step-finished:verify',
      'phase-finished:deploy',
      'phase-started:after',
      'step-started:announce',
      'step-finished:announce',
      'phase-finished:after',
      'run-finished',
    ]);
    expect(outcome(h.events, 'backup')?.stdout?.text).toBe('saved\n');
    expect(outcome(h.events, 'brief')).toMatchObject({ status: 'succeeded', answer: true, answeredFrom: 'answers-file', by: { role: 'lead', person: 'Ana', operator: 'tester' } });
  });

  it('rolls back the started phases, newest first, and exits 4 when a later step fails', async () => {
    const h = harness();
    const exec = fakeExec({ 'backup now': {}, "ship '1.2.3'": {}, verify: { exitCode: 3, stderr: 'p95 too high\n' }, restore: {} });
    const result = await h.run(DEPLOY, {}, { exec, answers: ALL_YES });
    expect(result.exitCode).toBe(4);
    expect(result.status).toBe('rolled-back');
    expect(exec.calls).toEqual(['backup now', "ship '1.2.3'", 'verify', 'restore']);
    expect(outcome(h.events, 'verify')).toMatchObject({ status: 'failed', exitCode: 3, reason: 'exit code 3: p95 too high' });
    expect(h.events.find((e) => e.kind === 'rollback-started')).toMatchObject({ phases: ['deploy'] });
    expect(h.events.find((e) => e.kind === 'rollback-finished')).toMatchObject({ status: 'succeeded' });
    expect(outcome(h.events, 'announce')).toBeUndefined();
  });

  it("marks every step's processes with the run and step ids, which a step's env: cannot change", async () => {
    const h = harness();
    const seen: { env: Record<string, string>; marks: readonly string[] | undefined }[] = [];
    const exec = fakeExec({
      'true': async (request) => {
        seen.push({ env: request.env, marks: request.marks });
        return { exitCode: 0 };
      },
    });
    const runbook = inlineRunbook(`
version: 1
name: marks
roles: { ops: { title: Ops } }
phases:
  - id: p
    steps:
      - { id: plain, owner: ops, run: "true" }
      - { id: sneaky, owner: ops, run: "true", env: { DEPLOYCTL_STEP_ID: plain, DEPLOYCTL_RUN_ID: other } }
`);
    const result = await h.run(runbook, {}, { exec });
    expect(result.exitCode).toBe(0);
    const runId = '20261126T100000Z-abcdef';
    expect(seen.map((s) => [s.env['DEPLOYCTL_RUN_ID'], s.env['DEPLOYCTL_STEP_ID'], s.marks])).toEqual([
      [runId, 'plain', [`DEPLOYCTL_RUN_ID=${runId}`, 'DEPLOYCTL_STEP_ID=plain']],
      [runId, 'sneaky', [`DEPLOYCTL_RUN_ID=${runId}`, 'DEPLOYCTL_STEP_ID=sneaky']],
    ]);
  });

  describe('rollback across several phases', () => {
    const TWO = inlineRunbook(`
version: 1
name: two
${ROLES}
phases:
  - id: db
    steps: [{ id: migrate, owner: devops, run: migrate }]
    rollback: [{ id: unmigrate, owner: devops, run: unmigrate }]
  - id: app
    steps: [{ id: ship, owner: devops, run: ship }, { id: check, owner: devops, run: check }]
    rollback: [{ id: unship, owner: devops, run: unship }, { id: recheck, owner: devops, run: recheck }]
`);

    it('runs the rollback steps of every started phase, newest phase first, each phase in order', async () => {
      const h = harness();
      const exec = fakeExec({ migrate: {}, ship: {}, check: { exitCode: 1 }, unship: {}, recheck: {}, unmigrate: {} });
      const result = await h.run(TWO, {}, { exec });
      expect(result.exitCode).toBe(4);
      expect(exec.calls).toEqual(['migrate', 'ship', 'check', 'unship', 'recheck', 'unmigrate']);
      expect(h.events.find((e) => e.kind === 'rollback-started')).toMatchObject({ phases: ['app', 'db'] });
    });

    it('stops at the first rollback step that fails: what follows may assume it worked', async () => {
      const h = harness();
      const exec = fakeExec({ migrate: {}, ship: {}, check: { exitCode: 1 }, unship: { exitCode: 1 } });
      const result = await h.run(TWO, {}, { exec });
      expect(result.exitCode).toBe(1);
      expect(exec.calls).toEqual(['migrate', 'ship', 'check', 'unship']);
      expect(h.events.find((e) => e.kind === 'rollback-finished')).toMatchObject({ status: 'failed' });
    });

    it('leaves an interrupted rollback pending, and a resume finishes it', async () => {
      const h1 = harness();
      const controller = new AbortController();
      const first = fakeExec({
        migrate: {},
        ship: {},
        check: { exitCode: 1 },
        unship: async () => (controller.abort('SIGINT'), { exitCode: 130 }),
      });
      const interrupted = await h1.run(TWO, { signal: controller.signal }, { exec: first });
      expect(interrupted).toMatchObject({ exitCode: 130, status: 'aborted' });
      expect(h1.events.some((e) => e.kind === 'rollback-finished')).toBe(false);
      const h2 = harness();
      const second = fakeExec({ unship: {}, recheck: {}, unmigrate: {} });
      const resumed = await h2.run(TWO, { resume: { state: foldEvents(h1.events), inFlight: 'rerun' } }, { exec: second });
      expect(resumed).toMatchObject({ exitCode: 4, status: 'rolled-back' });
      expect(second.calls).toEqual(['unship', 'recheck', 'unmigrate']);
    });

    it('on resume, a rollback step that had failed still fails the rollback (it is not skipped as done)', async () => {
      const h1 = harness();
      const exec1 = fakeExec({ migrate: {}, ship: {}, check: { exitCode: 1 }, unship: { exitCode: 1 } });
      await h1.run(TWO, {}, { exec: exec1 });
      // A crash between the failed rollback step and rollback-finished: drop everything after the step's end.
      const cut = h1.events.findIndex((e) => e.kind === 'step-finished' && e.stepId === 'unship');
      const h2 = harness();
      const exec2 = fakeExec({ recheck: {}, unmigrate: {} });
      const resumed = await h2.run(TWO, { resume: { state: foldEvents(h1.events.slice(0, cut + 1)) } }, { exec: exec2 });
      expect(resumed).toMatchObject({ exitCode: 1, status: 'failed' });
      expect(exec2.calls).toEqual([]);
    });
  });

  it('exits 1 and says so loudly when the rollback fails too', async () => {
    const h = harness();
    const exec = fakeExec({ 'backup now': {}, "ship '1.2.3'": { exitCode: 1 }, restore: { exitCode: 1 } });
    const result = await h.run(DEPLOY, {}, { exec, answers: ALL_YES });
    expect(result.exitCode).toBe(1);
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/ROLLBACK FAILED TOO/);
  });

  it('fails with exit 1 and no rollback when nothing started so far has rollback steps', async () => {
    const h = harness();
    const exec = fakeExec({ 'backup now': { exitCode: 2 } });
    const result = await h.run(DEPLOY, {}, { exec, answers: ALL_YES });
    expect(result.exitCode).toBe(1);
    expect(result.status).toBe('failed');
    expect(h.events.some((e) => e.kind === 'rollback-started')).toBe(false);
    expect(exec.calls).toEqual(['backup now']);
  });

  it('decides NO-GO automatically when a condition fails, even if the answers file says go, and exits 3', async () => {
    const h = harness();
    const exec = fakeExec({ 'backup now': {} });
    const answers = new Map(ALL_YES);
    answers.set('gate.approved', false);
    const result = await h.run(DEPLOY, {}, { exec, answers });
    expect(result.exitCode).toBe(3);
    expect(result.status).toBe('no-go');
    const evaluated = h.events.find((e) => e.kind === 'gate-evaluated');
    expect(evaluated).toMatchObject({ conditions: [{ name: 'backups_ready', value: true, ok: true }, { name: 'approved', kind: 'confirm', value: false, ok: false }] });
    expect(h.events.find((e) => e.kind === 'gate-decided')).toMatchObject({ decision: 'no-go', answeredFrom: 'automatic', note: expect.stringContaining('approved does not hold') });
    expect(exec.calls).toEqual(['backup now']);
  });

  it('offers GO at the prompt only when every condition holds; manual conditions are asked first', async () => {
    const h = harness();
    const prompter = scriptedPrompter({ brief: true, 'gate.approved': true, gate: 'go', announce: true });
    const exec = fakeExec({ 'backup now': { exitCode: 1 } });
    const failing = inlineRunbook(`
version: 1
name: g
${ROLES}
phases:
  - id: pre
    steps:
      - { id: backup, owner: devops, run: "backup now", if: "false" }
  - id: gate
    gate:
      owner: lead
      require: { backups_ready: steps.backup.ok, approved: { confirm: Leadership approved } }
`);
    const result = await h.run(failing, {}, { exec, prompter });
    expect(prompter.requests.map((r) => r.id)).toEqual(['gate.approved', 'gate']);
    const decide = prompter.requests[1]!;
    expect(decide.kind).toBe('decide');
    if (decide.kind !== 'decide') throw new Error('unreachable');
    expect(decide.choices.find((c) => c.value === 'go')?.disabled).toMatch(/backups_ready/);
    // The scripted person picked GO anyway: a disabled choice cannot win.
    expect(result.exitCode).toBe(3);
    expect(outcome(h.events, 'backup')).toMatchObject({ status: 'skipped', reason: 'if: false was false' });
  });

  it('rolls back on NO-GO when the gate says on_no_go: rollback', async () => {
    const h = harness();
    const runbook = inlineRunbook(`
version: 1
name: r
${ROLES}
phases:
  - id: deploy
    steps: [{ id: ship, owner: devops, run: ship }]
    rollback: [{ id: restore, owner: devops, run: restore }]
  - id: verify
    gate: { owner: lead, require: { fine: { confirm: Looks fine } }, on_no_go: rollback }
`);
    const exec = fakeExec({ ship: {}, restore: {} });
    const result = await h.run(runbook, {}, { exec, answers: new Map<string, boolean | string>([['verify.fine', true], ['verify', 'no-go']]) });
    expect(result.exitCode).toBe(4);
    expect(result.status).toBe('rolled-back');
    expect(exec.calls).toEqual(['ship', 'restore']);
  });

  it('retries a failing step with the delay between attempts, then succeeds', async () => {
    const h = harness();
    const runbook = inlineRunbook(`
version: 1
name: retry
${ROLES}
phases:
  - id: p
    steps: [{ id: flaky, owner: devops, run: flaky, retries: 2, retry_delay: 30s }]
`);
    const exec = fakeExec({ flaky: [{ exitCode: 1 }, { exitCode: 1 }, { exitCode: 0 }] });
    const started = h.clock.monotonic();
    const result = await h.run(runbook, {}, { exec });
    expect(result.exitCode).toBe(0);
    expect(exec.calls).toEqual(['flaky', 'flaky', 'flaky']);
    expect(h.events.filter((e) => e.kind === 'step-retrying').map((e) => (e as { delayMs: number }).delayMs)).toEqual([30_000, 30_000]);
    expect(h.clock.monotonic() - started).toBe(60_000);
    expect(outcome(h.events, 'flaky')).toMatchObject({ status: 'succeeded', attempts: 3 });
  });

  it('gives up after the last retry with the last failure as the reason', async () => {
    const h = harness();
    const runbook = inlineRunbook(`
version: 1
name: retry
${ROLES}
phases:
  - id: p
    steps: [{ id: flaky, owner: devops, run: flaky, retries: 1 }]
`);
    const exec = fakeExec({ flaky: { exitCode: 7, stderr: 'nope\n' } });
    const result = await h.run(runbook, {}, { exec });
    expect(result.exitCode).toBe(1);
    expect(outcome(h.events, 'flaky')).toMatchObject({ status: 'failed', attempts: 2, reason: 'exit code 7: nope' });
  });

  it('fails a step closed when its if: cannot be evaluated', async () => {
    const h = harness();
    const runbook = inlineRunbook(`
version: 1
name: iferr
${ROLES}
phases:
  - id: p
    steps:
      - { id: a, owner: devops, run: a }
      - { id: b, owner: devops, run: b, if: "steps.a.metrics.p95_ms < 5.0" }
`);
    const exec = fakeExec({ a: {}, b: {} });
    const result = await h.run(runbook, {}, { exec });
    expect(result.exitCode).toBe(1);
    expect(exec.calls).toEqual(['a']);
    expect(outcome(h.events, 'b')?.reason).toMatch(/^if: .*p95_ms/);
  });

  it('fails a checklist that is not fully ticked and names the missing items', async () => {
    const h = harness();
    const runbook = inlineRunbook(`
version: 1
name: cl
${ROLES}
phases:
  - id: p
    steps: [{ id: ready, owner: lead, checklist: [Plan, Data, Tools] }]
`);
    const prompter = scriptedPrompter({ ready: ['Plan', 'Tools'], 'ready.unticked': true });
    const result = await h.run(runbook, {}, { prompter });
    expect(result.exitCode).toBe(1);
    expect(outcome(h.events, 'ready')).toMatchObject({ status: 'failed', reason: 'not ticked: Data', answer: ['Plan', 'Tools'] });
    // Before failing, the person was asked, and told what is missing.
    expect(prompter.requests.map((r) => [r.id, r.kind])).toEqual([['ready', 'checklist'], ['ready.unticked', 'confirm']]);
    expect(prompter.requests[1]!.message).toMatch(/^Not ticked: Data\./);
  });

  it('says before a person fails a step which phases that would roll back', async () => {
    const h = harness();
    const runbook = inlineRunbook(`
version: 1
name: cf
${ROLES}
phases:
  - id: deploy
    steps: [{ id: ship, owner: devops, run: ship }]
    rollback: [{ id: unship, owner: devops, run: unship }]
  - id: after
    steps: [{ id: celebrate, owner: lead, confirm: Team thanked }]
`);
    const requests: PromptRequest[] = [];
    const answers: boolean[] = [false, true];
    const result = await h.run(runbook, {}, { exec: fakeExec({ ship: {}, unship: {} }), prompter: { ask: async (request: PromptRequest) => (requests.push(request), answers.shift()!) } });
    expect(requests[1]!.message).toBe('Not confirmed: Team thanked. Mark this step FAILED (the run stops here and ROLLS BACK deploy, newest first)? No asks again');
    expect(result.exitCode).toBe(4);
  });

  it('asks before failing a step whose confirm was answered no; no asks the question again', async () => {
    const h = harness();
    const runbook = inlineRunbook(`
version: 1
name: cf
${ROLES}
phases:
  - id: p
    steps: [{ id: brief, owner: lead, confirm: Brief given }]
`);
    const answers: boolean[] = [false, false, true];
    const requests: PromptRequest[] = [];
    const result = await h.run(runbook, {}, { prompter: { ask: async (request: PromptRequest) => (requests.push(request), answers.shift()!) } });
    expect(result.exitCode).toBe(0);
    expect(requests.map((r) => r.id)).toEqual(['brief', 'brief.refused', 'brief']);
    expect(requests[1]!.message).toBe('Not confirmed: Brief given. Mark this step FAILED (the run stops here; nothing is rolled back)? No asks again');

    const h2 = harness();
    const refused = await h2.run(runbook, {}, { prompter: scriptedPrompter({ brief: false, 'brief.refused': true }) });
    expect(refused.exitCode).toBe(1);
    expect(outcome(h2.events, 'brief')).toMatchObject({ status: 'failed', reason: 'not confirmed: Brief given', answer: false });
  });

  it('reopens a partly ticked checklist, ticks kept, when the person does not want the step failed', async () => {
    const h = harness();
    const runbook = inlineRunbook(`
version: 1
name: cl
${ROLES}
phases:
  - id: p
    steps: [{ id: ready, owner: lead, checklist: [Plan, Data] }]
`);
    const answers: (string[] | boolean)[] = [['Plan'], false, ['Plan', 'Data']];
    const requests: PromptRequest[] = [];
    const prompter = { ask: async (request: PromptRequest) => (requests.push(request), answers.shift()!) };
    const result = await h.run(runbook, {}, { prompter });
    expect(result.exitCode).toBe(0);
    expect(requests.map((r) => r.id)).toEqual(['ready', 'ready.unticked', 'ready']);
    expect(requests[2]).toMatchObject({ kind: 'checklist', ticked: ['Plan'] });
    expect(outcome(h.events, 'ready')).toMatchObject({ status: 'succeeded', answer: ['Plan', 'Data'] });
  });

  it('stops with exit 130 when interrupted during a step, and leaves the run resumable', async () => {
    const h = harness();
    const controller = new AbortController();
    const exec = fakeExec({
      'backup now': {},
      "ship '1.2.3'": async (request) => {
        controller.abort('SIGINT');
        await new Promise((r) => setImmediate(r));
        return { exitCode: request.signal?.aborted ? 130 : 0 };
      },
    });
    const result = await h.run(DEPLOY, { signal: controller.signal }, { exec, answers: ALL_YES });
    expect(result.exitCode).toBe(130);
    expect(result.status).toBe('aborted');
    expect(h.events.find((e) => e.kind === 'interrupted')).toMatchObject({ signal: 'SIGINT', stepId: 'ship' });
    expect(exec.calls).not.toContain('restore');
  });

  it('treats Ctrl-C at a prompt as a clean abort (exit 130)', async () => {
    const h = harness();
    const exec = fakeExec({ 'backup now': {} });
    const result = await h.run(DEPLOY, {}, { exec, prompter: scriptedPrompter({ brief: 'ABORT' }) });
    expect(result.exitCode).toBe(130);
    expect(result.status).toBe('aborted');
    expect(outcome(h.events, 'brief')).toMatchObject({ status: 'interrupted' });
  });

  it('fails closed on a missing answer without a terminal, naming the key to add', async () => {
    const h = harness();
    const exec = fakeExec({ 'backup now': {} });
    const result = await h.run(DEPLOY, {}, { exec, answers: new Map() });
    expect(result.exitCode).toBe(1);
    expect(outcome(h.events, 'brief')?.reason).toContain("add 'brief: true' to the answers file");
  });

  it('in a dry run executes nothing and resolves every command', async () => {
    const h = harness();
    const exec = fakeExec({});
    const result = await h.run(DEPLOY, { dryRun: true, vars: { version: '9.9.9' } }, { exec });
    expect(result.exitCode).toBe(0);
    expect(exec.calls).toEqual([]);
    expect(outcome(h.events, 'ship')).toMatchObject({ status: 'skipped', dryRun: true, command: "ship '9.9.9'" });
    expect(h.events.find((e) => e.kind === 'gate-decided')).toMatchObject({ note: expect.stringContaining('gate.approved, gate') });
  });

  it('quotes template values as one shell word, so a var cannot change the command', async () => {
    const h = harness();
    const hostile = '1.0; touch /tmp/pwned $(id) `id`';
    const exec = fakeExec({ 'backup now': {}, [`ship '1.0; touch /tmp/pwned $(id) \`id\`'`]: {}, verify: {} });
    const result = await h.run(DEPLOY, { vars: { version: hostile } }, { exec, answers: ALL_YES });
    expect(exec.calls[1]).toBe(`ship '1.0; touch /tmp/pwned $(id) \`id\`'`);
    expect(result.exitCode).toBe(0);
  });

  describe('resume', () => {
    async function firstSession(reply: Record<string, { exitCode?: number; hang?: boolean }>) {
      const h = harness();
      const controller = new AbortController();
      const exec = fakeExec({
        ...reply,
        "ship '1.2.3'": async () => {
          controller.abort('SIGTERM');
          return { exitCode: 143 };
        },
      });
      await h.run(DEPLOY, { signal: controller.signal }, { exec, answers: ALL_YES });
      return foldEvents(h.events);
    }

    it('gives later expressions the same 64 KiB of a step\'s output after a resume as before it (through the journal)', async () => {
      const runbook = inlineRunbook(`
version: 1
name: output
roles: { ops: { title: Ops } }
phases:
  - id: p
    steps:
      - { id: build, owner: ops, run: "build" }
      - { id: stop, owner: ops, run: "stop" }
      - id: ship
        owner: ops
        if: steps.build.stdout.startsWith("artifact=app-1.2.3.tgz")
        run: ship
`);
      // The line that matters comes first, then 20 KB of build log: far more than the record's 4 KiB tail.
      const log = `artifact=app-1.2.3.tgz\n${'compiling module …\n'.repeat(1000)}`;
      const h1 = harness();
      const controller = new AbortController();
      await h1.run(runbook, { signal: controller.signal }, {
        exec: fakeExec({ build: { stdout: log }, stop: async () => (controller.abort('SIGINT'), { exitCode: 130 }) }),
      });
      const finished = h1.events.find((e) => e.kind === 'step-finished' && e.stepId === 'build') as Extract<RunEvent, { kind: 'step-finished' }>;
      expect(finished.outcome.stdout?.text.startsWith('artifact=')).toBe(false);
      expect(finished.outcome.kept?.stdout).toBe(log);
      // What the journal keeps: each event as a line, read back.
      const journal = parseJournal(h1.events.map(serializeEvent).join(''));
      const h2 = harness();
      const exec = fakeExec({ stop: {}, ship: {} });
      const result = await h2.run(runbook, { resume: { state: foldEvents(journal.events), inFlight: 'rerun' } }, { exec });
      expect(result.exitCode).toBe(0);
      expect(exec.calls).toEqual(['stop', 'ship']);
    });

    it('never re-runs finished steps and re-runs an interrupted idempotent step', async () => {
      const idempotent = inlineRunbook(
        (DEPLOY.source.bytes && new TextDecoder().decode(DEPLOY.source.bytes)).replace('run: "ship ${{ vars.version }}"', 'run: "ship ${{ vars.version }}", idempotent: true'),
      );
      const h1 = harness();
      const controller = new AbortController();
      await h1.run(idempotent, { signal: controller.signal }, {
        exec: fakeExec({ 'backup now': {}, "ship '1.2.3'": async () => (controller.abort('SIGINT'), { exitCode: 130 }) }),
        answers: ALL_YES,
      });
      const state = foldEvents(h1.events);
      const h2 = harness();
      const exec = fakeExec({ "ship '1.2.3'": {}, verify: {} });
      const result = await h2.run(idempotent, { resume: { state } }, { exec, answers: ALL_YES });
      expect(result.exitCode).toBe(0);
      expect(exec.calls).toEqual(["ship '1.2.3'", 'verify']);
      // The pid comes from EngineOptions (the composition root passes process.pid), not from the process itself.
      expect(h2.events[0]).toMatchObject({ kind: 'run-resumed', pid: 4242 });
    });

    it('stops and says how to decide when a non-idempotent step was in flight and nobody can be asked', async () => {
      const state = await firstSession({ 'backup now': {} });
      const h = harness();
      const exec = fakeExec({ verify: {} });
      const result = await h.run(DEPLOY, { resume: { state } }, { exec, answers: ALL_YES });
      expect(result.exitCode).toBe(2);
      expect(result.reason).toMatch(/--in-flight done .* --in-flight rerun/);
      expect(exec.calls).toEqual([]);
    });

    it('a run stopped because its state was lost says so, not "aborted at gate", and ends 1 (review 1 item 33)', async () => {
      const controller = new AbortController();
      // The state store fails while the lead is at the gate's prompt: the run's signal is aborted with its cause, and
      // the prompt is cut short like a Ctrl-C.
      const prompter: Prompter = {
        async ask(request) {
          if (request.id === 'brief') return true;
          controller.abort(new StopCause('lost the connection to the state database (terminated by the administrator)', 1));
          throw new PromptAbortedError();
        },
      };
      const h = harness();
      const result = await h.run(DEPLOY, { signal: controller.signal }, { exec: fakeExec({ 'backup now': {} }), prompter });
      expect(result.exitCode).toBe(1);
      expect(result.status).toBe('aborted');
      expect(result.reason).toBe("lost the connection to the state database (terminated by the administrator): the run stopped (aborted at gate 'gate'); resume it once the state is back");
      const finished = h.events.find((e) => e.kind === 'run-finished') as Extract<RunEvent, { kind: 'run-finished' }>;
      expect(finished.reason).toBe(result.reason);
    });

    it('does not ask "Did it complete?" about a step deployctl itself stopped on Ctrl-C: it says so, and offers rerun or stop (review 1 item 29)', async () => {
      const h1 = harness();
      const controller = new AbortController();
      const exec1 = fakeExec({ 'backup now': {}, "ship '1.2.3'": { hang: true } });
      const first = h1.run(DEPLOY, { signal: controller.signal }, { exec: exec1, answers: ALL_YES });
      setTimeout(() => controller.abort('SIGINT'), 50);
      expect((await first).exitCode).toBe(130);
      const state = foldEvents(h1.events);
      expect(state.steps.get('ship')?.outcome?.status).toBe('interrupted');

      const h2 = harness();
      const prompter = scriptedPrompter({ 'ship.in-flight': 'rerun' });
      const exec2 = fakeExec({ "ship '1.2.3'": {}, verify: {} });
      const result = await h2.run(DEPLOY, { resume: { state } }, { exec: exec2, answers: ALL_YES, prompter });
      expect(result.exitCode).toBe(0);
      const asked = prompter.requests.find((r) => r.id === 'ship.in-flight')!;
      expect(asked.message).not.toContain('Did it complete');
      expect(asked.message).toContain('did not complete: deployctl stopped it');
      expect((asked as { choices: { value: string }[] }).choices.map((c) => c.value)).toEqual(['abort', 'rerun']);
      expect(exec2.calls).toEqual(["ship '1.2.3'", 'verify']);
    });

    it('still asks whether it completed about a step whose session ended without recording its end (a crash)', async () => {
      // A kill -9 mid-step: the journal ends at the step's start (nothing after it was written).
      const h1 = harness();
      const controller = new AbortController();
      const first = h1.run(DEPLOY, { signal: controller.signal }, { exec: fakeExec({ 'backup now': {}, "ship '1.2.3'": { hang: true } }), answers: ALL_YES });
      setTimeout(() => controller.abort('SIGINT'), 50);
      await first;
      const cut = h1.events.findIndex((e) => e.kind === 'step-started' && e.stepId === 'ship');
      const state = foldEvents(h1.events.slice(0, cut + 1));
      expect(state.steps.get('ship')?.outcome).toBeUndefined();
      const prompter = scriptedPrompter({ 'ship.in-flight': 'done' });
      const result = await harness().run(DEPLOY, { resume: { state } }, { exec: fakeExec({ verify: {} }), answers: ALL_YES, prompter });
      expect(result.exitCode).toBe(0);
      const asked = prompter.requests.find((r) => r.id === 'ship.in-flight')!;
      expect(asked.message).toContain('Did it complete?');
      expect((asked as { choices: { value: string }[] }).choices.map((c) => c.value)).toEqual(['abort', 'rerun', 'done']);
    });

    it('marks the in-flight step done when the operator says it completed, and goes on', async () => {
      const state = await firstSession({ 'backup now': {} });
      const h = harness();
      const exec = fakeExec({ verify: {} });
      const result = await h.run(DEPLOY, { resume: { state, inFlight: 'done' } }, { exec, answers: ALL_YES });
      expect(result.exitCode).toBe(0);
      expect(exec.calls).toEqual(['verify']);
      expect(outcome(h.events, 'ship')).toMatchObject({ status: 'succeeded', reason: 'marked done by the operator on resume' });
    });
  });
});
