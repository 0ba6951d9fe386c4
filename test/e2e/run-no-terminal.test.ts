// `deployctl run` without a terminal: the options' own mistakes are named before the list of missing answers, and a
// resumed run asks --answers only for what is left.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, killAllClis, reapProcessesIn, runCli, runDirs, stackTraceLines } from '../helpers/cli.js';

const RUNBOOK = `
version: 1
name: quiet
roles: { ops: { title: Ops } }
vars: { version: "1.0.0" }
phases:
  - id: p
    steps:
      - { id: ready, owner: ops, confirm: "Ready?" }
      - { id: build, owner: ops, run: "echo build \${{ vars.version }} >> log" }
      - { id: note, owner: ops, ask: "Anything to note?" }
      - { id: ship, owner: ops, run: "echo ship >> log" }
`;

const env = { CI: 'true' };
let dir: string;

beforeAll(() => {
  assertBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-no-terminal-'));
  fs.writeFileSync(path.join(dir, 'quiet.yaml'), RUNBOOK);
});
afterEach(async () => {
  await killAllClis();
  reapProcessesIn(dir);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const run = (args: string[], extraEnv: Record<string, string> = {}) => runCli(['run', 'quiet.yaml', ...args], { cwd: dir, env: { ...env, ...extraEnv }, timeoutMs: 60_000 });

describe('deployctl run without a terminal', () => {
  it.each([
    [['--var', 'version'], "--var 'version' is not name=value"],
    [['--resume', 'nosuchrun'], "'nosuchrun' is not a run id"],
    [['--resume'], 'no run of quiet to resume'],
    // Not '--var cannot change a run that is being resumed': the same values are accepted on resume (run-resume-vars.test.ts).
    [['--resume', '--var', 'version=2'], 'no run of quiet to resume'],
  ])('names the mistake in %j, not the answers the run would need', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toContain("need a person's answer");
    expect(stackTraceLines(result.stdout + result.stderr)).toEqual([]);
    expect(fs.existsSync(path.join(dir, 'log'))).toBe(false);
  });

  it('leaves no signing key behind when it refuses to run for want of answers', async () => {
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-no-key-'));
    try {
      fs.writeFileSync(path.join(fresh, 'quiet.yaml'), RUNBOOK);
      const result = await runCli(['run', 'quiet.yaml'], { cwd: fresh, env, timeoutMs: 60_000 });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("need a person's answer");
      expect(result.stderr).not.toContain('created a signing key');
      expect(fs.existsSync(path.join(fresh, '.deployctl', 'keys'))).toBe(false);
    } finally {
      fs.rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('resumes an interrupted run with answers for what is left only', async () => {
    fs.writeFileSync(path.join(dir, 'all.yaml'), 'ready: true\nnote: "nothing"\n');
    fs.writeFileSync(path.join(dir, 'rest.yaml'), 'note: "nothing"\n');
    // Killed (SIGKILL) right after the second step's result was journaled: ready and build are done.
    const killed = await run(['--answers', 'all.yaml'], { DEPLOYCTL_FAULT: 'after-step-finished:2' });
    expect(killed.signal).toBe('SIGKILL');
    const [runId] = runDirs(dir);

    // Nothing is running, but status says what is left to resume, and how.
    const status = await runCli(['status'], { cwd: dir, env, timeoutMs: 30_000 });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('No deployment is running.');
    expect(status.stdout).toContain(`Not finished: run ${runId} of quiet, stopped without finishing`);
    // The run's own command line (its --answers), which a paste resumes as it was started.
    expect(status.stdout).toContain(`Continue it with: deployctl run quiet.yaml --answers all.yaml --resume ${runId}`);

    // `ready` was answered in the first session: the resume does not ask for it again.
    const resumed = await run(['--resume', '--answers', 'rest.yaml']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).not.toContain('does not answer');
    expect(runDirs(dir)).toEqual([runId]);
    expect(fs.readFileSync(path.join(dir, 'log'), 'utf8')).toBe('build 1.0.0\nship\n');
    expect((await runCli(['status'], { cwd: dir, env, timeoutMs: 30_000 })).stdout).not.toContain('Not finished');
  });

  it('resumes a run interrupted during its rollback with answers for the rollback only', async () => {
    const rb = path.join(dir, 'rolling.yaml');
    fs.writeFileSync(
      rb,
      `
version: 1
name: rolling
roles: { ops: { title: Ops } }
phases:
  - id: deploy
    steps:
      - { id: ship, owner: ops, run: "echo ship >> rolling.log" }
      - { id: check, owner: ops, run: "exit 1" }
    rollback:
      - { id: undo, owner: ops, run: "echo undo >> rolling.log", idempotent: true }
      - { id: undone, owner: ops, confirm: "Rolled back?" }
  - id: after
    steps:
      - { id: celebrate, owner: ops, confirm: "Party?" }
`,
    );
    fs.writeFileSync(path.join(dir, 'rolling-all.yaml'), 'undone: true\ncelebrate: true\n');
    fs.writeFileSync(path.join(dir, 'rolling-rest.yaml'), 'undone: true\n');
    // Killed as the rollback's first step starts (the third step started in all).
    const killed = await runCli(['run', 'rolling.yaml', '--answers', 'rolling-all.yaml'], { cwd: dir, env: { ...env, DEPLOYCTL_FAULT: 'after-step-started:3' }, timeoutMs: 60_000 });
    expect(killed.signal).toBe('SIGKILL');
    // 'celebrate' belongs to a phase the rollback will never reach: not asked for.
    const resumed = await runCli(['run', 'rolling.yaml', '--resume', '--answers', 'rolling-rest.yaml'], { cwd: dir, env, timeoutMs: 60_000 });
    expect(resumed.stderr).not.toContain('does not answer');
    expect(resumed.code, resumed.stderr).toBe(4);
    expect(fs.readFileSync(path.join(dir, 'rolling.log'), 'utf8')).toBe('ship\nundo\n');
  });
});
