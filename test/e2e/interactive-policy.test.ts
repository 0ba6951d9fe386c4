// The failure policy in a real terminal (tmux): on_failure: ask asks the owner under the failed step; the rollback authorization asks the lead and, unanswered, closes at its timeout with the default.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { TMUX } from '../helpers/tmux.js';
import { OPERATOR, ROOT, STACK_FRAME, WAIT, prompt, readRecords, stepOf, terminals } from '../helpers/interactive.js';

const TEST_TIMEOUT = 120_000;
const t = terminals();

beforeAll(() => {
  if (!existsSync(TMUX)) throw new Error(`these tests need tmux at ${TMUX} (apt-get install tmux)`);
  if (!existsSync(path.join(ROOT, 'dist/cli/entry.js'))) throw new Error('build first: npm run build (npm test does it through pretest)');
});
afterEach(() => t.cleanup());

/** The pane with its wrapped lines joined: the terminal wraps long prompts at 120 columns. */
const unwrapped = (pane: string) => pane.split('\n').join('');

const ASK = prompt("Step 'warm' failed: exit code 3: cold caches. What now?");
const AUTHORIZE = prompt('Roll back deploy now? Because');

describe('on_failure: ask at a terminal', () => {
  it('continue: the run goes on past the failure; a refused celebration is recorded and rolls nothing back; exit 0', { timeout: TEST_TIMEOUT }, async () => {
    const dir = t.workdir('policy.yaml');
    const term = await t.run(dir, ['run', 'policy.yaml']);

    await term.waitFor(ASK, WAIT);
    const pane = await term.capture();
    // Asked of the step's owner, under the step, with the three choices.
    expect(pane).toMatch(/\[DevOps Engineer · Chen\] Step 'warm' failed/);
    expect(pane).toMatch(/Roll back: the run stops here and ROLLS BACK deploy, newest first/);
    expect(pane).toMatch(/Continue: record the failure and go on/);
    expect(pane).toMatch(/Abort: stop the run here, without rolling back/);
    await term.sendKeys('Down', 'Enter');

    // The celebration: no, then yes to marking it failed. The question says the run goes on.
    await term.waitFor(prompt('Team celebrated (y/N)'), WAIT);
    await term.sendKeys('n', 'Enter');
    await term.waitFor(prompt('Not confirmed: Team celebrated. Mark this step FAILED (the failure is recorded'), WAIT);
    expect(unwrapped(await term.capture())).toContain('Mark this step FAILED (the failure is recorded and the run goes on (on_failure: continue))?');
    await term.sendKeys('y', 'Enter');
    await term.waitFor(prompt('All done (y/N)'), WAIT);
    await term.sendKeys('y', 'Enter');

    await term.waitFor(/^Run \S+: SUCCEEDED/m, WAIT);
    expect(await term.exitCode(WAIT.timeoutMs)).toBe(0);
    const end = unwrapped(await term.capture());
    expect(await term.capture()).not.toMatch(STACK_FRAME);
    expect(end).toMatch(/✖ warm \(warm\): exit code 3: cold caches → the run went on \(on_failure: continue\) \(chosen by e2e-operator\)/);
    const [record] = readRecords(dir);
    expect(record).toMatchObject({ status: 'succeeded', exit_code: 0, rollback: null });
    expect(stepOf(record!, 'warm')).toMatchObject({
      status: 'failed',
      on_failure: { policy: 'ask', action: 'continue', answered_from: 'prompt', decided_by: { role: 'devops', answered_by: OPERATOR, on_behalf_of: 'Chen' } },
    });
    expect(stepOf(record!, 'after').status).toBe('succeeded');
    expect(stepOf(record!, 'celebrate')).toMatchObject({ status: 'failed', on_failure: { policy: 'continue', action: 'continue' } });
  });

  it('abort: the run stops there without rolling back; exit 1', { timeout: TEST_TIMEOUT }, async () => {
    const dir = t.workdir('policy.yaml');
    const term = await t.run(dir, ['run', 'policy.yaml']);
    await term.waitFor(ASK, WAIT);
    await term.sendKeys('Down', 'Down', 'Enter');
    await term.waitFor(/^Run \S+: FAILED/m, WAIT);
    expect(await term.exitCode(WAIT.timeoutMs)).toBe(1);
    expect(unwrapped(await term.capture())).toMatch(/stopped by e2e-operator on behalf of \[DevOps Engineer · Chen\] without rolling back/);
    const [record] = readRecords(dir);
    expect(record).toMatchObject({ status: 'failed', rollback: null });
    expect(stepOf(record!, 'warm').on_failure).toMatchObject({ action: 'abort' });
  });
});

describe('rollback authorization at a terminal', () => {
  it('asks the Deployment Lead in the Rollback group; unanswered, the default (roll back) happens at the timeout; exit 4', { timeout: TEST_TIMEOUT }, async () => {
    const dir = t.workdir('policy.yaml');
    const term = await t.run(dir, ['run', 'policy.yaml']);
    await term.waitFor(ASK, WAIT);
    // Roll back: the owner is not the authorizing role, so the lead is asked.
    await term.sendKeys('Enter');
    await term.waitFor(AUTHORIZE, WAIT);
    const pane = unwrapped(await term.capture());
    expect(pane).toMatch(/\[Deployment Lead · Ana\] Roll back deploy now\? Because step 'warm' failed: exit code 3: cold caches\. Without an answer in 3\.0s: roll back/);
    expect(pane).toMatch(/Authorize the rollback \(default in 3\.0s: rollback\)/);
    const asked = Date.now();
    // Nobody answers: the question closes by itself.
    await term.waitFor(/^Run \S+: ROLLED BACK/m, { timeoutMs: 30_000 });
    expect(Date.now() - asked).toBeGreaterThanOrEqual(2_000);
    expect(await term.exitCode(WAIT.timeoutMs)).toBe(4);
    const end = unwrapped(await term.capture());
    expect(end).toMatch(/rollback authorized by the default \(no answer within 3\.0s: the default \(rollback\)\)/);
    const [record] = readRecords(dir);
    expect(record).toMatchObject({ status: 'rolled-back', exit_code: 4, rollback: { status: 'succeeded' } });
    expect(record!['rollback_authorization']).toMatchObject({ role: 'lead', decision: 'rollback', answered_from: 'timeout', timeout_ms: 3000, default: 'rollback' });
    // Nobody decided: no person is credited.
    expect(record!['rollback_authorization'].decided_by).toEqual({ role: 'lead', operator: OPERATOR });
  });

  it('declined at the prompt: nothing is rolled back and the run fails, naming who declined; exit 1. Meanwhile status says who is awaited', { timeout: TEST_TIMEOUT }, async () => {
    const dir = t.workdir('policy.yaml');
    // Time enough to ask `deployctl status` from another process while the question is open.
    writeFileSync(path.join(dir, 'policy.yaml'), readFileSync(path.join(dir, 'policy.yaml'), 'utf8').replace('timeout: 3s', 'timeout: 2m'));
    const term = await t.run(dir, ['run', 'policy.yaml']);
    await term.waitFor(ASK, WAIT);
    await term.sendKeys('Enter');
    await term.waitFor(AUTHORIZE, WAIT);
    const status = await runCli(['status'], { cwd: dir, env: { DEPLOYCTL_OPERATOR: OPERATOR }, timeoutMs: 30_000 });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/⏳ Waiting on: \[Deployment Lead · Ana\] to authorize the rollback of deploy \(without an answer by \d\d:\d\d UTC: rollback\)/);
    await term.sendKeys('Down', 'Enter');
    await term.waitFor(/^Run \S+: FAILED/m, WAIT);
    expect(await term.exitCode(WAIT.timeoutMs)).toBe(1);
    expect(unwrapped(await term.capture())).toMatch(/the rollback was declined by e2e-operator on behalf of \[Deployment Lead · Ana\]: nothing was rolled back/);
    const [record] = readRecords(dir);
    expect(record).toMatchObject({ status: 'failed', rollback: null });
    expect(record!['rollback_authorization']).toMatchObject({ decision: 'abort', answered_from: 'prompt', decided_by: { answered_by: OPERATOR, on_behalf_of: 'Ana' } });
  });
});
