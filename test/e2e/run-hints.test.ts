// The commands deployctl prints for a person to paste (resume, --new, status), pasted as printed into a real shell:
// they must run the same deployment (its --var, its --answers), never the runbook's defaults (review 1, item 1).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BIN, cliEnv, killAllClis, reapProcessesIn, runCli, runDirs, spawnCli, waitFor } from '../helpers/cli.js';

const RUNBOOK = `
version: 1
name: hints
roles: { ops: { title: Ops } }
vars: { version: "1.0.0" }
phases:
  - id: p
    steps:
      - { id: first, owner: ops, run: "echo first \${{ vars.version }} >> log" }
      - { id: slow, owner: ops, run: "if [ -f slow ]; then sleep 30; fi; echo slow \${{ vars.version }} >> log", idempotent: true }
      - { id: ready, owner: ops, confirm: "Ready?" }
`;

/** Run `command` as a person pasting it would: bash, with `deployctl` on the PATH (a shim for the built CLI). */
function paste(command: string, dir: string): { code: number | null; stdout: string; stderr: string } {
  const shims = path.join(dir, 'shims');
  fs.mkdirSync(shims, { recursive: true });
  fs.writeFileSync(path.join(shims, 'deployctl'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`, { mode: 0o755 });
  const env = cliEnv({ PATH: `${shims}:${process.env['PATH'] ?? ''}`, DEPLOYCTL_LOCK_DIR: path.join(dir, '.deployctl-host-locks') });
  const r = spawnSync('bash', ['-c', command], { cwd: dir, env, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The one line of `text` after `label`, up to the end of its line. */
function commandAfter(text: string, label: string): string {
  const at = text.indexOf(label);
  expect(at, `"${label}" in:\n${text}`).toBeGreaterThanOrEqual(0);
  return text.slice(at + label.length).split('\n')[0]!.trim();
}

const log = (dir: string) => fs.readFileSync(path.join(dir, 'log'), 'utf8').split('\n').filter(Boolean);

describe('hints, pasted as printed', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-hints-'));
  afterEach(async () => {
    await killAllClis();
    reapProcessesIn(dir);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('status and the refused new run print the run’s own --var and --answers; pasting them deploys that version', async () => {
    fs.writeFileSync(path.join(dir, 'hints.yaml'), RUNBOOK);
    fs.writeFileSync(path.join(dir, 'my answers.yaml'), 'ready: true\n');
    const args = ['run', 'hints.yaml', '--var', "version=2.0 it's", '--answers', 'my answers.yaml'];

    // A run interrupted in its slow step.
    fs.writeFileSync(path.join(dir, 'slow'), '');
    const first = spawnCli(args, { cwd: dir, timeoutMs: 60_000 });
    await waitFor('the first step', () => fs.existsSync(path.join(dir, 'log')) && log(dir).includes("first 2.0 it's"));
    await new Promise((r) => setTimeout(r, 300));
    process.kill(first.pid, 'SIGINT');
    const interrupted = await first.result;
    expect(interrupted.code).toBe(130);
    const [runA] = runDirs(dir);
    // The summary's command and status's are the run's own command line.
    const fromSummary = commandAfter(interrupted.stdout, 'the run can be continued with: ');
    expect(fromSummary).toBe(`deployctl run hints.yaml --var 'version=2.0 it'\\''s' --answers 'my answers.yaml' --resume ${runA}`);
    const status = await runCli(['status'], { cwd: dir });
    expect(status.code, status.stderr).toBe(0);
    expect(commandAfter(status.stdout, 'Continue it with: ')).toBe(fromSummary);

    // The same command again is refused, with both ways on as commands to paste.
    const again = await runCli(args, { cwd: dir });
    expect(again.code).toBe(2);
    expect(commandAfter(again.stderr, 'continue it with: ')).toBe(fromSummary);
    const startNew = commandAfter(again.stderr, 'start another with: ');
    expect(startNew).toBe(`deployctl run hints.yaml --var 'version=2.0 it'\\''s' --answers 'my answers.yaml' --new`);

    // Pasted: the status hint continues run A with its version and answers (without --answers it could not confirm).
    fs.rmSync(path.join(dir, 'slow'));
    const resumed = paste(fromSummary, dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(log(dir)).toEqual(["first 2.0 it's", "slow 2.0 it's"]);

    // Another interrupted run, then the --new hint pasted: the new run deploys the same version, not the default 1.0.0.
    fs.writeFileSync(path.join(dir, 'slow'), '');
    const second = spawnCli(args, { cwd: dir, timeoutMs: 60_000 });
    await waitFor('the second run', () => log(dir).length === 3);
    await new Promise((r) => setTimeout(r, 300));
    process.kill(second.pid, 'SIGINT');
    expect((await second.result).code).toBe(130);
    fs.rmSync(path.join(dir, 'slow'));
    const refused = await runCli(args, { cwd: dir });
    expect(refused.code).toBe(2);
    const pasted = paste(commandAfter(refused.stderr, 'start another with: '), dir);
    expect(pasted.code, pasted.stderr).toBe(0);
    expect(log(dir)).toEqual(["first 2.0 it's", "slow 2.0 it's", "first 2.0 it's", "first 2.0 it's", "slow 2.0 it's"]);
    expect(runDirs(dir)).toHaveLength(3);
    expect(runA).toBeDefined();
  }, 180_000);

  it('says npx deployctl when started through npm', async () => {
    const sub = fs.mkdtempSync(path.join(dir, 'npx-'));
    fs.writeFileSync(path.join(sub, 'hints.yaml'), RUNBOOK);
    fs.writeFileSync(path.join(sub, 'slow'), '');
    fs.writeFileSync(path.join(sub, 'a.yaml'), 'ready: true\n');
    const run = spawnCli(['run', 'hints.yaml', '--var', 'version=3', '--non-interactive', '--answers', 'a.yaml'], { cwd: sub, env: { npm_command: 'exec' }, timeoutMs: 60_000 });
    await waitFor('the first step', () => fs.existsSync(path.join(sub, 'log')));
    await new Promise((r) => setTimeout(r, 300));
    process.kill(run.pid, 'SIGINT');
    const result = await run.result;
    expect(result.code, result.stderr).toBe(130);
    expect(commandAfter(result.stdout, 'the run can be continued with: ')).toMatch(/^npx deployctl run hints\.yaml --var version=3 --answers a\.yaml --non-interactive --resume \S+$/);
  });
});
