// End to end in a real terminal (tmux): every path to a rollback shows the rollback live, draws its prompts, and ends.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { TMUX } from '../helpers/tmux.js';
import { startTestServer, testRoutes } from '../helpers/http-server.js';
import { BIN, OPERATOR, ROOT, STACK_FRAME, WAIT, prompt, readRecords, stepOf, terminals } from '../helpers/interactive.js';

const TEST_TIMEOUT = 120_000;
const t = terminals();

beforeAll(() => {
  if (!existsSync(TMUX)) throw new Error(`these tests need tmux at ${TMUX} (apt-get install tmux)`);
  if (!existsSync(path.join(ROOT, 'dist/cli/entry.js'))) throw new Error('build first: npm run build (npm test does it through pretest)');
});
afterEach(() => t.cleanup());

/** The rollback's confirm, as the task list draws it under the Rollback group. */
const ANNOUNCE = prompt('Rollback announced in the channel (y/N)');

describe('an interactive run that rolls back', () => {
  it('after a failed step in a later phase: skips the pending phases at once, shows the rollback steps live, draws the rollback prompt, exits 4', { timeout: TEST_TIMEOUT }, async () => {
    const dir = t.workdir('rollback-later.yaml');
    const term = await t.run(dir, ['run', 'rollback-later.yaml']);

    // The automated rollback step is shown while it runs (its output under its task), before the prompt.
    await term.waitFor(/Rollback \(deploy\)[\s\S]*undo[\s\S]*undoing/, WAIT);
    await term.waitFor(ANNOUNCE, WAIT);
    const pane = await term.capture();
    expect(pane).toMatch(/close: not run \(the run is rolling back\)/);
    expect(pane).toMatch(/✔ \[DevOps Engineer · Chen\] undo/);
    await term.sendKeys('y', 'Enter');

    await term.waitFor(/^Run \S+: ROLLED BACK/m, WAIT);
    expect(await term.exitCode(WAIT.timeoutMs)).toBe(4);
    expect(await term.capture()).not.toMatch(STACK_FRAME);
    const [record] = readRecords(dir);
    expect(record).toMatchObject({ status: 'rolled-back', exit_code: 4, rollback: { status: 'succeeded' } });
    // Credited to the operator who answered, on behalf of the role's holder.
    expect(stepOf(record!, 'announce')).toMatchObject({
      status: 'succeeded',
      answer: true,
      answered_from: 'prompt',
      actor: { role: 'lead', person: 'Ana', operator: OPERATOR, answered_by: OPERATOR, on_behalf_of: 'Ana' },
    });
    expect(stepOf(record!, 'bye').status).toBe('not-run');
  });

  it('after a failed step in the same phase: the rollback, then the phase\'s finally steps, each shown as it runs', { timeout: TEST_TIMEOUT }, async () => {
    const dir = t.workdir('rollback-same.yaml');
    const term = await t.run(dir, ['run', 'rollback-same.yaml']);

    await term.waitFor(ANNOUNCE, WAIT);
    const pane = await term.capture();
    expect(pane).toMatch(/verify: not run \(the run is rolling back\)/);
    expect(pane).toMatch(/close: not run \(the run is rolling back\)/);
    await term.sendKeys('y', 'Enter');

    await term.waitFor(/Finally: deploy/, WAIT);
    await term.waitFor(/^Run \S+: ROLLED BACK/m, WAIT);
    expect(await term.exitCode(WAIT.timeoutMs)).toBe(4);
    const [record] = readRecords(dir);
    expect(record).toMatchObject({ status: 'rolled-back', exit_code: 4 });
    expect(stepOf(record!, 'health').status).toBe('failed');
    expect(stepOf(record!, 'announce')).toMatchObject({ status: 'succeeded', answered_from: 'prompt' });
    expect(stepOf(record!, 'unfreeze')).toMatchObject({ status: 'succeeded' });
    expect(Date.parse(stepOf(record!, 'unfreeze').started_at)).toBeGreaterThanOrEqual(Date.parse(stepOf(record!, 'announce').ended_at));
    expect(stepOf(record!, 'check').status).toBe('not-run');
  });

  it('after NO-GO with on_no_go: rollback while every condition holds: names each holding condition, asks why, keeps the reason (and the values in the record), rolls back', { timeout: TEST_TIMEOUT }, async () => {
    const dir = t.workdir('rollback-nogo.yaml');
    const term = await t.run(dir, ['run', 'rollback-nogo.yaml']);

    await term.waitFor(prompt("Go/no-go 'verify': every condition holds. Decide:"), WAIT);
    // A holding condition is its name on screen (its expression took three lines each at 80 columns, review 1 item 4);
    // the values behind it are in the record (below). A failing one keeps its values: interactive-screen, evidence tests.
    const pane = await term.capture();
    expect(pane).toMatch(/✔ lag_ok$/m);
    expect(pane).toMatch(/✔ shipped$/m);
    expect(pane).not.toMatch(/lag_ok: /);
    await term.sendKeys('Down', 'Enter');
    await term.waitFor(prompt('Why NO-GO?'), WAIT);
    await term.type('payment provider freeze until 18:00');
    await term.sendKeys('Enter');

    await term.waitFor(ANNOUNCE, WAIT);
    expect(await term.capture()).toMatch(/close: not run \(the run is rolling back\)/);
    await term.sendKeys('y', 'Enter');
    await term.waitFor(/^Run \S+: ROLLED BACK/m, WAIT);
    expect(await term.exitCode(WAIT.timeoutMs)).toBe(4);

    const [record] = readRecords(dir);
    const gate = record!['phases'].find((p: { id: string }) => p.id === 'verify').gate;
    expect(gate).toMatchObject({ decision: 'no-go', answered_from: 'prompt', reason: 'payment provider freeze until 18:00' });
    expect(gate.decided_by).toMatchObject({ answered_by: OPERATOR, on_behalf_of: 'Ana' });
    // First the implicit condition for the steps of the gate's own phase (on_failure: gate, issue 13): none failed.
    expect(gate.conditions[0]).toMatchObject({ name: 'earlier_steps_ok', kind: 'implicit', value: true, ok: true });
    expect(gate.conditions[1]).toMatchObject({ name: 'lag_ok', value: true, tree: { op: '<', children: [{ value: 0.5 }, { value: 5 }] } });
    expect(record).toMatchObject({ status: 'rolled-back', exit_code: 4 });
  });

  it('resumed in a terminal after Ctrl-C at the rollback prompt: the first Ctrl-C stops it, the resume shows the rollback (not "not needed") and ends ROLLED BACK', { timeout: TEST_TIMEOUT }, async () => {
    const dir = t.workdir('rollback-later.yaml');
    const term = await t.run(dir, ['run', 'rollback-later.yaml']);

    await term.waitFor(ANNOUNCE, WAIT);
    await term.sendKeys('C-c');
    expect(await term.exitCode(WAIT.timeoutMs)).toBe(130);
    const stopped = await term.capture();
    expect(stopped).toMatch(/rollback of deploy: INTERRUPTED, half done/);
    expect(stopped).not.toMatch(/second interrupt/);

    const resumeLine = `${process.execPath} ${BIN} run rollback-later.yaml --resume; echo "RESUME-EXIT:$?"`;
    await term.type(resumeLine);
    await term.sendKeys('Enter');
    const scope = { ...WAIT, after: resumeLine };
    await term.waitFor(ANNOUNCE, scope);
    const during = (await term.capture()).split(resumeLine).at(-1)!;
    expect(during).toMatch(/Rollback \(deploy\)/);
    expect(during).toMatch(/undo: succeeded in an earlier session/);
    expect(during).not.toMatch(/Rollback: not needed|SKIPPED/);
    await term.sendKeys('y', 'Enter');
    const [, code] = await term.waitFor(/^RESUME-EXIT:(\d+)$/m, scope);
    expect(code).toBe('4');
    const after = (await term.capture()).split(resumeLine).at(-1)!;
    expect(after).toMatch(/✔ Rollback \(deploy\)/);
    expect(after).toMatch(/: ROLLED BACK/);
    expect(after).not.toMatch(/not needed/);

    const finished = readRecords(dir).at(-1)!;
    expect(finished).toMatchObject({ status: 'rolled-back', exit_code: 4, rollback: { status: 'succeeded' } });
    expect(finished['resumes']).toHaveLength(1);
  });
});

describe('--answers in a terminal', () => {
  it('takes what the file answers (shown as answered from it), asks only what it lacks, and says so at the start', { timeout: TEST_TIMEOUT }, async () => {
    const dir = t.workdir('happy.yaml');
    writeFileSync(path.join(dir, 'some.answers.yaml'), 'briefing: true\nqa-ready: true\ngo-no-go.leadership_approved: true\n');
    const term = await t.run(dir, ['run', 'happy.yaml', '--answers', 'some.answers.yaml']);

    await term.waitFor(/answers from some\.answers\.yaml are used \(3 given\); the 2 it lacks are asked here/, WAIT);
    await term.waitFor(prompt('Who is on call?'), WAIT);
    const pane = await term.capture();
    expect(pane).not.toMatch(/\? .*The team has been briefed/);
    expect(pane).toMatch(/The team has been briefed.*answered from some\.answers\.yaml/);
    await term.type('Dana Scully');
    await term.sendKeys('Enter');
    await term.waitFor(prompt("Go/no-go 'go-no-go': every condition holds. Decide:"), WAIT);
    expect(await term.capture()).not.toMatch(/\? .*Leadership approved/);
    await term.sendKeys('Enter');
    expect(await term.exitCode(WAIT.timeoutMs)).toBe(0);

    const [record] = readRecords(dir);
    expect(stepOf(record!, 'briefing')).toMatchObject({ answered_from: 'answers-file', actor: { answered_by: OPERATOR } });
    expect(stepOf(record!, 'qa-ready')).toMatchObject({ answered_from: 'answers-file' });
    expect(stepOf(record!, 'on-call')).toMatchObject({ answer: 'Dana Scully', answered_from: 'prompt' });
  });
});

describe('an 80×24 terminal', () => {
  it('keeps the phase at work on screen: finished phases are one line, its title, the step at work and its prompt are visible', { timeout: TEST_TIMEOUT }, async () => {
    const dir = t.workdir('tall.yaml');
    const server = await startTestServer({ '/slow': testRoutes.slow(40) });
    try {
      const term = await t.run(dir, ['run', 'tall.yaml', '--var', `probe_url=${server.url}/slow`], { width: 80, height: 24 });
      // A long probe shows how far it is, then its evidence beside its title as soon as it ends.
      await term.waitFor(/\b([1-9]|[1-5]\d)\/60 samples\b/, WAIT);
      await term.waitFor(prompt('Ready to go on (y/N)'), WAIT);
      const screen = await term.screen();
      // The task list wraps long titles itself at 80 columns.
      expect(await term.capture()).toMatch(/probe \([^)]*p50\s+\d+\s+ms\s+·\s+p95\s+\d+\s+ms\s+·\s+errors\s+0\/60\s+\(0%\)\)/);
      await checkScreen(term, screen);
    } finally {
      await server.close();
    }
  });
});

/** In 24 lines: finished phases as one line each, the phase at work with its title, its step at work and the prompt. */
async function checkScreen(term: Awaited<ReturnType<typeof t.run>>, screen: string): Promise<void> {
  expect(screen).toMatch(/^✔ First phase$/m);
  expect(screen).toMatch(/^✔ Second phase$/m);
  expect(screen).toMatch(/^❯ Long phase$/m);
  expect(screen).toMatch(/\[Deployment Lead · Ana\] Ready to go on/);
  // Finished phases show no steps; the long phase's earliest finished steps have left the screen.
  expect(screen).not.toMatch(/warm-1|prep-1|check-01/);
  await term.sendKeys('y', 'Enter');
  expect(await term.exitCode(WAIT.timeoutMs)).toBe(0);
}
