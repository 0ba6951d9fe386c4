// `run --resume` with --var: the values the run started with are accepted (adding --resume to the command line that
// crashed is the first thing a person tries); a different value is refused, by name, before anything runs (issue 12).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assertBuilt, killAllClis, reapProcessesIn, runCli, runDirs, stackTraceLines } from '../helpers/cli.js';

const RUNBOOK = `
version: 1
name: resumable
roles: { ops: { title: Ops } }
vars: { version: "1.0.0", build: 1 }
phases:
  - id: p
    steps:
      - { id: one, owner: ops, run: "echo one \${{ vars.version }} \${{ vars.build }} >> log" }
      - { id: two, owner: ops, run: "echo two \${{ vars.version }} \${{ vars.build }} >> log" }
      - { id: three, owner: ops, run: "echo three \${{ vars.version }} \${{ vars.build }} >> log" }
`;

let dir = '';
const run = (args: string[], env: Record<string, string> = {}) => runCli(['run', 'resumable.yaml', ...args], { cwd: dir, env: { CI: 'true', ...env }, timeoutMs: 60_000 });
const log = () => fs.readFileSync(path.join(dir, 'log'), 'utf8');

beforeAll(assertBuilt);
beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-resume-vars-'));
  fs.writeFileSync(path.join(dir, 'resumable.yaml'), RUNBOOK);
  // Killed (SIGKILL) right after the first step's result was journaled.
  const killed = await run(['--var', 'version=2.0.0', '--var', 'build=7'], { DEPLOYCTL_FAULT: 'after-step-finished:1' });
  expect(killed.signal).toBe('SIGKILL');
  expect(log()).toBe('one 2.0.0 7\n');
});
afterEach(async () => {
  await killAllClis();
  reapProcessesIn(dir);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('run --resume with --var', () => {
  it('accepts the values the run started with, given again, and finishes the run with them', async () => {
    const resumed = await run(['--resume', '--var', 'version=2.0.0', '--var', 'build=7']);

    expect(resumed.stderr).not.toContain('cannot change');
    expect(resumed.code).toBe(0);
    expect(log()).toBe('one 2.0.0 7\ntwo 2.0.0 7\nthree 2.0.0 7\n');
    expect(runDirs(dir)).toHaveLength(1);
  });

  it('accepts some of them, and the run keeps the others as it started', async () => {
    const [runId] = runDirs(dir);
    const resumed = await run(['--resume', runId!, '--var', 'build=7']);

    expect(resumed.code).toBe(0);
    expect(log()).toBe('one 2.0.0 7\ntwo 2.0.0 7\nthree 2.0.0 7\n');
  });

  it.each([
    ['a different text', ['--var', 'version=3.0.0'], "--var version=3.0.0 differs from the value run RUN started with (version=2.0.0)"],
    ['the default, when the run started with another value', ['--var', 'version=1.0.0'], '--var version=1.0.0 differs from the value run RUN started with (version=2.0.0)'],
    ['a different number', ['--var', 'version=2.0.0', '--var', 'build=8'], '--var build=8 differs from the value run RUN started with (build=7)'],
  ])('refuses %s, naming the var, and runs nothing', async (_what, args, message) => {
    const [runId] = runDirs(dir);
    const resumed = await run(['--resume', ...args]);

    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toContain(message.replace('RUN', runId!));
    expect(resumed.stderr).toContain('a resumed run keeps the vars it started with');
    expect(stackTraceLines(resumed.stdout + resumed.stderr)).toEqual([]);
    expect(log()).toBe('one 2.0.0 7\n');
  });
});
