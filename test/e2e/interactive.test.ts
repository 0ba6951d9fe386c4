// End to end in a real terminal (tmux): `deployctl run` asks each owner at a prompt, and Ctrl-C, NO-GO and a hangup end it cleanly.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTmux, TMUX, type TmuxSession } from '../helpers/tmux.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin/deployctl.js');
const FIXTURES = path.join(ROOT, 'test/fixtures/interactive');
const OPERATOR = 'e2e-operator';
/** The machine is shared and noisy: waits are generous, and each is a poll with a deadline, never a fixed sleep. */
const WAIT = { timeoutMs: 30_000 };
const TEST_TIMEOUT = 120_000;

/** A stack frame as Node prints it: `    at fn (file:///…/x.js:1:2)` or `    at file:///…/x.js:1:2`. */
const STACK_FRAME = /^\s+at .*(\(|file:|node:).*:\d+:\d+\)?$/m;

interface RecordStep {
  id: string;
  status: string;
  answer?: unknown;
  answered_from?: string;
  reason?: string;
  actor?: { role: string; person?: string; operator: string };
  stdout?: { text: string };
}
interface RecordPredicate {
  run_id: string;
  status: string;
  exit_code: number;
  reason?: string;
  operator: string;
  resumes: { at: string; by: string }[];
  phases: {
    id: string;
    status: string;
    steps: RecordStep[];
    gate?: {
      id: string;
      decision: string | null;
      answered_from?: string;
      decided_by?: { role: string; person?: string; operator: string };
      conditions: { name: string; kind: string; value: unknown; ok: boolean }[];
    };
  }[];
}

let sessions: TmuxSession[] = [];
let dirs: string[] = [];
let strayPids: number[] = [];

beforeAll(() => {
  if (!existsSync(TMUX)) throw new Error(`these tests need tmux at ${TMUX} (apt-get install tmux)`);
  if (!existsSync(path.join(ROOT, 'dist/cli/entry.js'))) throw new Error('build first: npm run build (npm test does it through pretest)');
});

afterEach(async () => {
  await Promise.all(sessions.map((s) => s.kill()));
  for (const pid of strayPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone, as it should be
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  sessions = [];
  dirs = [];
  strayPids = [];
});

/** A fresh working directory holding copies of the named fixtures. */
function workdir(...fixtures: string[]): string {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'deployctl-interactive-')));
  dirs.push(dir);
  for (const f of fixtures) copyFileSync(path.join(FIXTURES, f), path.join(dir, f));
  return dir;
}

/** What a person's shell would have, minus CI: TERM of a real terminal emulator, a UTF-8 locale, our operator name. */
function terminalEnv(dir: string): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: dir,
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
    PS1: '$ ',
    DEPLOYCTL_OPERATOR: OPERATOR,
    // Host locks of this work dir only: another test file, or another checkout's tests, running interactive-happy at
    // the same time must not make this run wait ('another run of interactive-happy is in progress').
    DEPLOYCTL_LOCK_DIR: path.join(dir, '.deployctl-host-locks'),
  };
}

async function runInTerminal(dir: string, args: string[]): Promise<TmuxSession> {
  const session = await startTmux({ command: [process.execPath, BIN, ...args], cwd: dir, env: terminalEnv(dir), width: 120, height: 40 });
  sessions.push(session);
  return session;
}

/** The signed records in `.deployctl/records/`, oldest first (file names start with the runbook name and the end time). */
function readRecords(dir: string): RecordPredicate[] {
  const recordsDir = path.join(dir, '.deployctl/records');
  if (!existsSync(recordsDir)) return [];
  return readdirSync(recordsDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const envelope = JSON.parse(readFileSync(path.join(recordsDir, f), 'utf8')) as { payloadType: string; payload: string };
      const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as { predicate: RecordPredicate };
      return statement.predicate;
    });
}

function onlyRecord(dir: string): RecordPredicate {
  const records = readRecords(dir);
  expect(records).toHaveLength(1);
  return records[0]!;
}

function stepOf(record: RecordPredicate, id: string): RecordStep {
  const step = record.phases.flatMap((p) => p.steps).find((s) => s.id === id);
  if (!step) throw new Error(`no step ${id} in the record`);
  return step;
}

function gateOf(record: RecordPredicate, id: string): NonNullable<RecordPredicate['phases'][number]['gate']> {
  const gate = record.phases.map((p) => p.gate).find((g) => g?.id === id);
  if (!gate) throw new Error(`no gate ${id} in the record`);
  return gate;
}

/** A prompt line as inquirer draws it: `? <who> <message>`. */
const prompt = (text: string) => new RegExp(`^\\? .*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm');

/** `deployctl …` without a terminal (stdin /dev/null, CI unset): for resuming a run non-interactively. */
function runPlain(dir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = terminalEnv(dir);
    execFile(process.execPath, [BIN, ...args], { cwd: dir, env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    }).stdin?.end();
  });
}

/** Live processes (zombies excluded) whose working directory is `dir` and whose argv matches. */
function processesIn(dir: string, matches: (argv: string[]) => boolean): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!matches(argv) || readlinkSync(`/proc/${entry}/cwd`) !== dir) continue;
      if (isAlive(Number(entry))) found.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/** Processes running `sleep <seconds>` in `dir` (the step's working directory). */
const sleepersIn = (dir: string, seconds: string) => processesIn(dir, (argv) => path.basename(argv[0] ?? '') === 'sleep' && argv[1] === seconds);
/** deployctl itself (not the tmux wrapper shell, whose argv also names it), running in `dir`. */
const deployctlIn = (dir: string) => processesIn(dir, (argv) => argv[0] === process.execPath && argv[1] === BIN);

/** Alive: it exists and is not a zombie waiting to be reaped (a zombie has already stopped running). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = WAIT.timeoutMs): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The terminal works after deployctl left: the cursor is shown, and the shell reads a typed line (cooked mode, echo). */
async function expectTerminalUsable(term: TmuxSession): Promise<void> {
  expect(await term.cursorVisible()).toBe(true);
  await term.type('echo usable-$((40+2))');
  await term.sendKeys('Enter');
  await term.waitFor(/^usable-42$/m, WAIT);
}

describe('deployctl run in a terminal', () => {
  it('asks each owner at a prompt, records every answer as given at the prompt, and exits 0 by itself', { timeout: TEST_TIMEOUT }, async () => {
    const dir = workdir('happy.yaml');
    const term = await runInTerminal(dir, ['run', 'happy.yaml']);

    await term.waitFor(prompt('The team has been briefed (y/N)'), WAIT);
    // The one assertion on paint: tasks are titled with the owning role and person (finished phases collapse later).
    expect(await term.capture()).toMatch(/\[Deployment Lead · Ana\] The team has been briefed/);
    await term.sendKeys('y', 'Enter');

    await term.waitFor(prompt('Tick every item that is done'), WAIT);
    expect(await term.capture()).toMatch(/\[QA Lead · Carol\] /);
    await term.sendKeys('a', 'Enter');

    await term.waitFor(prompt('Who is on call?'), WAIT);
    await term.type('Dana Scully');
    await term.sendKeys('Enter');

    await term.waitFor(prompt('Leadership approved (y/N)'), WAIT);
    await term.sendKeys('y', 'Enter');

    await term.waitFor(prompt("Go/no-go 'go-no-go': every condition holds. Decide:"), WAIT);
    await term.sendKeys('Enter');

    await term.waitFor(/^Run \S+: SUCCEEDED/m, WAIT);
    expect(await term.exitCode(WAIT.timeoutMs)).toBe(0);
    const pane = await term.capture();
    expect(pane).not.toMatch(STACK_FRAME);
    await expectTerminalUsable(term);

    const record = onlyRecord(dir);
    expect(record).toMatchObject({ status: 'succeeded', exit_code: 0, operator: OPERATOR });
    expect(stepOf(record, 'build')).toMatchObject({ status: 'succeeded' });
    expect(stepOf(record, 'build').stdout?.text).toBe('building\nline two\ndone building\n');
    expect(stepOf(record, 'briefing')).toMatchObject({ status: 'succeeded', answer: true, answered_from: 'prompt', actor: { role: 'lead', person: 'Ana', operator: OPERATOR } });
    expect(stepOf(record, 'qa-ready')).toMatchObject({
      status: 'succeeded',
      answer: ['Test plan prepared', 'Test environment ready', 'Test data available'],
      answered_from: 'prompt',
      actor: { role: 'qa', person: 'Carol' },
    });
    expect(stepOf(record, 'on-call')).toMatchObject({ status: 'succeeded', answer: 'Dana Scully', answered_from: 'prompt' });
    const gate = gateOf(record, 'go-no-go');
    expect(gate).toMatchObject({ decision: 'go', answered_from: 'prompt', decided_by: { role: 'lead', person: 'Ana', operator: OPERATOR } });
    expect(gate.conditions).toEqual([
      expect.objectContaining({ name: 'build_ok', kind: 'expression', value: true, ok: true }),
      expect.objectContaining({ name: 'leadership_approved', kind: 'confirm', value: true, ok: true }),
    ]);
    expect(stepOf(record, 'deploy')).toMatchObject({ status: 'succeeded' });
  });

  it('ignores Ctrl-D at every kind of prompt (it used to leave a dead prompt that nothing but Ctrl-C could leave)', { timeout: TEST_TIMEOUT }, async () => {
    const dir = workdir('happy.yaml');
    const term = await runInTerminal(dir, ['run', 'happy.yaml']);

    // Ctrl-D on the empty line of each prompt, then the answer: each prompt still takes it.
    await term.waitFor(prompt('The team has been briefed (y/N)'), WAIT);
    await term.sendKeys('C-d', 'C-d');
    await term.sendKeys('y', 'Enter');

    await term.waitFor(prompt('Tick every item that is done'), WAIT);
    await term.sendKeys('C-d');
    await term.sendKeys('a', 'Enter');

    await term.waitFor(prompt('Who is on call?'), WAIT);
    await term.sendKeys('C-d');
    await term.type('Dana Scully');
    await term.sendKeys('Enter');

    await term.waitFor(prompt('Leadership approved (y/N)'), WAIT);
    await term.sendKeys('C-d', 'y', 'Enter');

    await term.waitFor(prompt("Go/no-go 'go-no-go': every condition holds. Decide:"), WAIT);
    await term.sendKeys('C-d', 'Enter');

    await term.waitFor(/^Run \S+: SUCCEEDED/m, WAIT);
    expect(await term.exitCode(WAIT.timeoutMs)).toBe(0);
    expect(await term.capture()).not.toMatch(STACK_FRAME);
    await expectTerminalUsable(term);
    const record = onlyRecord(dir);
    expect(record).toMatchObject({ status: 'succeeded', exit_code: 0 });
    expect(stepOf(record, 'briefing')).toMatchObject({ answer: true, answered_from: 'prompt' });
    expect(stepOf(record, 'qa-ready').answer).toHaveLength(3);
    expect(stepOf(record, 'on-call')).toMatchObject({ answer: 'Dana Scully' });
    expect(gateOf(record, 'go-no-go')).toMatchObject({ decision: 'go', answered_from: 'prompt' });
  });

  it('fails the checklist step, and the run with exit 1, when an item is left unticked, and records which one', { timeout: TEST_TIMEOUT }, async () => {
    const dir = workdir('happy.yaml');
    const term = await runInTerminal(dir, ['run', 'happy.yaml']);

    await term.waitFor(prompt('The team has been briefed (y/N)'), WAIT);
    await term.sendKeys('y', 'Enter');
    await term.waitFor(prompt('Tick every item that is done'), WAIT);
    // Tick the first two items, leave the third; asked whether to fail the step, say no, then leave it unticked again and say yes.
    await term.sendKeys('Space', 'Down', 'Space', 'Enter');
    await term.waitFor(prompt('Not ticked: Test data available. Mark this step FAILED'), WAIT);
    await term.sendKeys('n', 'Enter');
    await term.waitFor(prompt('Tick every item that is done'), WAIT);
    await term.sendKeys('Enter');
    await term.waitFor(prompt('Not ticked: Test data available. Mark this step FAILED'), WAIT);
    await term.sendKeys('y', 'Enter');

    expect(await term.exitCode(WAIT.timeoutMs)).toBe(1);
    expect(await term.capture()).not.toMatch(STACK_FRAME);
    await expectTerminalUsable(term);

    const record = onlyRecord(dir);
    expect(record).toMatchObject({ status: 'failed', exit_code: 1 });
    const step = stepOf(record, 'qa-ready');
    expect(step).toMatchObject({ status: 'failed', answered_from: 'prompt', answer: ['Test plan prepared', 'Test environment ready'] });
    expect(step.reason).toContain('not ticked: Test data available');
    expect(stepOf(record, 'on-call').status).toBe('not-run');
    expect(gateOf(record, 'go-no-go').decision).toBeNull();
  });

  it('shows GO but does not let it be chosen when a gate condition does not hold; NO-GO exits 3', { timeout: TEST_TIMEOUT }, async () => {
    const dir = workdir('nogo.yaml');
    const term = await runInTerminal(dir, ['run', 'nogo.yaml']);

    await term.waitFor(prompt('Leadership approved (y/N)'), WAIT);
    await term.sendKeys('y', 'Enter');
    await term.waitFor(prompt("Go/no-go 'go-no-go': smoke_clean does not hold. Decide:"), WAIT);
    // GO is listed, marked as not offered (the reason is ours, not paint).
    await term.waitFor(/GO not offered: smoke_clean does not hold/, WAIT);
    // Try to reach GO: the cursor cannot land on a disabled choice, so Enter still picks NO-GO.
    await term.sendKeys('Up');
    await term.sendKeys('Up', 'Enter');

    expect(await term.exitCode(WAIT.timeoutMs)).toBe(3);
    expect(await term.capture()).not.toMatch(STACK_FRAME);

    const record = onlyRecord(dir);
    expect(record).toMatchObject({ status: 'no-go', exit_code: 3 });
    const gate = gateOf(record, 'go-no-go');
    expect(gate).toMatchObject({ decision: 'no-go', answered_from: 'prompt', decided_by: { role: 'lead', person: 'Ana' } });
    expect(gate.conditions).toEqual([
      expect.objectContaining({ name: 'smoke_clean', kind: 'expression', value: false, ok: false }),
      expect.objectContaining({ name: 'leadership_approved', kind: 'confirm', value: true, ok: true }),
    ]);
    expect(stepOf(record, 'deploy').status).toBe('not-run');
  });

  it('does not let keys typed while a step runs answer the go/no-go that follows', { timeout: TEST_TIMEOUT }, async () => {
    const dir = workdir('typeahead.yaml');
    const term = await runInTerminal(dir, ['run', 'typeahead.yaml']);

    // An impatient operator presses Enter (and y, Enter) while the step is still working; nothing is asking yet.
    await term.waitFor(/checking/, WAIT);
    await term.sendKeys('Enter');
    await term.sendKeys('y', 'Enter');
    // Had the gate read those keys, it would have decided GO before being drawn, and the run would be over.
    await term.waitFor(prompt("Go/no-go 'go-no-go': every condition holds. Decide:"), WAIT);
    await term.sendKeys('Down', 'Enter');
    // NO-GO while every condition holds asks why (issue 11); the answer is kept.
    await term.waitFor(prompt('Why NO-GO?'), WAIT);
    await term.type('not today');
    await term.sendKeys('Enter');

    expect(await term.exitCode(WAIT.timeoutMs)).toBe(3);
    const record = onlyRecord(dir);
    expect(gateOf(record, 'go-no-go')).toMatchObject({ decision: 'no-go', answered_from: 'prompt', reason: 'not today' });
    expect(stepOf(record, 'deploy').status).toBe('not-run');
  });

  it('ends cleanly on Ctrl-C at a prompt (exit 130, record aborted, terminal usable), and the run can be resumed to the end', { timeout: TEST_TIMEOUT }, async () => {
    const dir = workdir('happy.yaml', 'happy.answers.yaml');
    const term = await runInTerminal(dir, ['run', 'happy.yaml']);

    await term.waitFor(prompt('The team has been briefed (y/N)'), WAIT);
    await term.sendKeys('y', 'Enter');
    await term.waitFor(prompt('Tick every item that is done'), WAIT);
    await term.sendKeys('C-c');

    expect(await term.exitCode(WAIT.timeoutMs)).toBe(130);
    const pane = await term.capture();
    expect(pane).not.toMatch(STACK_FRAME);
    expect(pane).not.toMatch(/internal error|ExitPromptError|AbortPromptError/);
    await expectTerminalUsable(term);

    const aborted = onlyRecord(dir);
    expect(aborted).toMatchObject({ status: 'aborted', exit_code: 130 });
    expect(stepOf(aborted, 'briefing')).toMatchObject({ status: 'succeeded', answered_from: 'prompt' });
    expect(stepOf(aborted, 'qa-ready').status).toBe('interrupted');

    // Resume without a terminal: the step aborted at its prompt is simply asked again (of the answers file).
    const resumed = await runPlain(dir, ['run', 'happy.yaml', '--resume', '--non-interactive', '--answers', 'happy.answers.yaml']);
    expect(resumed.stderr).not.toMatch(STACK_FRAME);
    expect(resumed.code).toBe(0);
    const records = readRecords(dir);
    expect(records).toHaveLength(2);
    const finished = records[1]!;
    expect(finished.run_id).toBe(aborted.run_id);
    expect(finished).toMatchObject({ status: 'succeeded', exit_code: 0 });
    expect(finished.resumes).toHaveLength(1);
    expect(stepOf(finished, 'briefing')).toMatchObject({ status: 'succeeded', answer: true, answered_from: 'prompt' });
    expect(stepOf(finished, 'qa-ready')).toMatchObject({ status: 'succeeded', answered_from: 'answers-file' });
    expect(stepOf(finished, 'on-call')).toMatchObject({ status: 'succeeded', answer: 'Fox Mulder', answered_from: 'answers-file' });
    expect(gateOf(finished, 'go-no-go')).toMatchObject({ decision: 'go', answered_from: 'answers-file' });
  });

  it('can also be resumed in the terminal after Ctrl-C at a prompt, asking only what is left', { timeout: TEST_TIMEOUT }, async () => {
    const dir = workdir('happy.yaml');
    const term = await runInTerminal(dir, ['run', 'happy.yaml']);

    await term.waitFor(prompt('The team has been briefed (y/N)'), WAIT);
    await term.sendKeys('y', 'Enter');
    await term.waitFor(prompt('Tick every item that is done'), WAIT);
    await term.sendKeys('a', 'Enter');
    await term.waitFor(prompt('Who is on call?'), WAIT);
    await term.sendKeys('C-c');
    expect(await term.exitCode(WAIT.timeoutMs)).toBe(130);

    // Type the resume into the shell left in the pane: the same terminal, as a person would.
    const resumeLine = `${process.execPath} ${BIN} run happy.yaml --resume; echo "RESUME-EXIT:$?"`;
    await term.type(resumeLine);
    await term.sendKeys('Enter');
    const scope = { ...WAIT, after: resumeLine };
    await term.waitFor(prompt('Who is on call?'), scope);
    await term.type('Walter Skinner');
    await term.sendKeys('Enter');
    await term.waitFor(prompt('Leadership approved (y/N)'), scope);
    await term.sendKeys('y', 'Enter');
    await term.waitFor(prompt('every condition holds. Decide:'), scope);
    await term.sendKeys('Enter');
    const [, code] = await term.waitFor(/^RESUME-EXIT:(\d+)$/m, scope);
    expect(code).toBe('0');
    const pane = await term.capture();
    expect(pane.slice(pane.lastIndexOf(resumeLine))).not.toMatch(/\? .*(The team has been briefed|Tick every item)/);
    expect(pane).not.toMatch(STACK_FRAME);

    const finished = readRecords(dir).at(-1)!;
    expect(finished).toMatchObject({ status: 'succeeded', exit_code: 0 });
    expect(stepOf(finished, 'qa-ready')).toMatchObject({ status: 'succeeded', answered_from: 'prompt' });
    expect(stepOf(finished, 'on-call')).toMatchObject({ status: 'succeeded', answer: 'Walter Skinner', answered_from: 'prompt' });
    expect(gateOf(finished, 'go-no-go')).toMatchObject({ decision: 'go', answered_from: 'prompt' });
  });

  it('stops a sleeping run step on Ctrl-C within seconds: exit 130, the sleep is gone, the record says aborted', { timeout: TEST_TIMEOUT }, async () => {
    const dir = workdir('sleeping.yaml');
    const term = await runInTerminal(dir, ['run', 'sleeping.yaml']);

    const [sleeper] = await until('the step to start sleep 30', () => {
      const found = sleepersIn(dir, '30');
      return found.length > 0 ? found : undefined;
    });
    strayPids.push(sleeper!);
    await term.waitFor(/napping/, WAIT);

    const pressed = Date.now();
    await term.sendKeys('C-c');
    expect(await term.exitCode(WAIT.timeoutMs)).toBe(130);
    const tookMs = Date.now() - pressed;
    // The step gets SIGTERM and dies at once; "a few seconds" leaves room for a loaded machine.
    expect(tookMs).toBeLessThan(8_000);
    expect(isAlive(sleeper!)).toBe(false);
    expect(sleepersIn(dir, '30')).toEqual([]);

    expect(await term.capture()).not.toMatch(STACK_FRAME);
    await expectTerminalUsable(term);

    const record = onlyRecord(dir);
    expect(record).toMatchObject({ status: 'aborted', exit_code: 130 });
    expect(stepOf(record, 'warmup').status).toBe('succeeded');
    expect(stepOf(record, 'nap').status).toBe('interrupted');
    expect(stepOf(record, 'after').status).toBe('not-run');
  });

  it('on resume, says a step it stopped on Ctrl-C did not complete, and offers only rerun or stop (review 1 item 29)', { timeout: TEST_TIMEOUT }, async () => {
    const dir = workdir('sleeping.yaml');
    const term = await runInTerminal(dir, ['run', 'sleeping.yaml']);
    const [sleeper] = await until('the step to start sleep 30', () => {
      const found = sleepersIn(dir, '30');
      return found.length > 0 ? found : undefined;
    });
    strayPids.push(sleeper!);
    await term.waitFor(/napping/, WAIT);
    await term.sendKeys('C-c');
    expect(await term.exitCode(WAIT.timeoutMs)).toBe(130);
    expect(stepOf(onlyRecord(dir), 'nap').status).toBe('interrupted');

    const resumed = await runInTerminal(dir, ['run', 'sleeping.yaml', '--resume']);
    await resumed.waitFor(/did not complete: deployctl stopped it/, WAIT);
    const pane = await resumed.capture();
    expect(pane).not.toContain('Did it complete');
    expect(pane).toContain('Run it again');
    expect(pane).not.toContain('It completed');
    // The first choice (stop here) is the safe one: Enter stops the run at that step, nothing re-run.
    await resumed.sendKeys('Enter');
    expect(await resumed.exitCode(WAIT.timeoutMs)).toBe(1);
    expect(sleepersIn(dir, '30')).toEqual([]);
  });

  it('closes an open prompt on SIGTERM (not only on Ctrl-C typed at it) and ends the run with exit 130', { timeout: TEST_TIMEOUT }, async () => {
    const dir = workdir('happy.yaml');
    const term = await runInTerminal(dir, ['run', 'happy.yaml']);

    await term.waitFor(prompt('The team has been briefed (y/N)'), WAIT);
    const running = deployctlIn(dir);
    expect(running).toHaveLength(1);
    process.kill(running[0]!, 'SIGTERM');

    expect(await term.exitCode(WAIT.timeoutMs)).toBe(130);
    expect(await term.capture()).not.toMatch(STACK_FRAME);
    await expectTerminalUsable(term);
    const record = onlyRecord(dir);
    expect(record).toMatchObject({ status: 'aborted', exit_code: 130 });
    expect(stepOf(record, 'briefing').status).toBe('interrupted');
  });

  it('stops at once on a second Ctrl-C when a step ignores SIGTERM, and leaves the cursor shown', { timeout: TEST_TIMEOUT }, async () => {
    const dir = workdir('stubborn.yaml');
    const term = await runInTerminal(dir, ['run', 'stubborn.yaml']);

    const [sleeper] = await until('the step to start sleep 30', () => {
      const found = sleepersIn(dir, '30');
      return found.length > 0 ? found : undefined;
    });
    strayPids.push(sleeper!);
    await term.waitFor(/napping, deaf to SIGTERM/, WAIT);

    await term.sendKeys('C-c');
    // The task list says at once that the step is being stopped (the step ignores SIGTERM, so it is not, yet).
    await term.waitFor(/SIGINT: stopping this step/, WAIT);
    await term.sendKeys('C-c');

    expect(await term.exitCode(WAIT.timeoutMs)).toBe(130);
    await term.waitFor(/second interrupt: stopped at once/, WAIT);
    await until('the sleep to be killed', () => (isAlive(sleeper!) ? undefined : true), 10_000);
    expect(await term.capture()).not.toMatch(STACK_FRAME);
    await expectTerminalUsable(term);
    // No record (there was no time to write one), but the journal is there to resume from.
    expect(readRecords(dir)).toEqual([]);
    expect(readdirSync(path.join(dir, '.deployctl/runs'))).toHaveLength(1);
  });

  it('stops the running step when the terminal goes away (hangup), leaving a resumable journal', { timeout: TEST_TIMEOUT }, async () => {
    const dir = workdir('sleeping.yaml');
    const term = await runInTerminal(dir, ['run', 'sleeping.yaml']);

    const [sleeper] = await until('the step to start sleep 30', () => {
      const found = sleepersIn(dir, '30');
      return found.length > 0 ? found : undefined;
    });
    strayPids.push(sleeper!);
    await term.waitFor(/napping/, WAIT);
    const running = deployctlIn(dir);
    expect(running).toHaveLength(1);
    const deployctl = running[0]!;

    // Killing the tmux server closes the pseudo-terminal: the kernel sends SIGHUP to deployctl.
    await term.kill();
    await until('the sleep to be stopped', () => (isAlive(sleeper!) ? undefined : true), 15_000);
    // Gone for good, not only dead: until its new parent reaps it, a zombie's pid still holds the run lock.
    await until('deployctl to be gone', () => (existsSync(`/proc/${deployctl}`) ? undefined : true), 15_000);

    // The journal was left with `nap` in flight, so a resume reaches it and, told so, stops there.
    const resumed = await runPlain(dir, ['run', 'sleeping.yaml', '--resume', '--non-interactive', '--in-flight', 'abort']);
    expect(resumed.stderr + resumed.stdout).not.toMatch(STACK_FRAME);
    expect(resumed.stdout).toMatch(/stopped at in-flight step 'nap'/);
    const record = onlyRecord(dir);
    expect(record.resumes).toHaveLength(1);
    expect(stepOf(record, 'warmup').status).toBe('succeeded');
    expect(stepOf(record, 'after').status).toBe('not-run');
  });
});
