// Which run `--resume` picks: only the newest run of the runbook. An older interrupted run is never resumed on top of a
// newer one that ended (its vars would put an old version back); naming it with --force-old is still possible.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { assertBuilt, killAllClis, reapProcessesIn, runCli, runDirs, spawnCli, waitFor } from '../helpers/cli.js';

const RUNBOOK = `
version: 1
name: choice
roles: { ops: { title: Ops } }
vars: { version: "1.0.0" }
phases:
  - id: p
    steps:
      - { id: first, owner: ops, run: "echo first \${{ vars.version }} >> log" }
      - { id: slow, owner: ops, run: "if [ -f slow ]; then sleep 30; fi; echo slow >> log", idempotent: true }
`;

describe('--resume without a run id', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-resume-choice-'));
  afterEach(async () => {
    await killAllClis();
    reapProcessesIn(dir);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses when the newest run ended, even though an older run was interrupted; the older one can still be named with --force-old', async () => {
    assertBuilt();
    fs.writeFileSync(path.join(dir, 'choice.yaml'), RUNBOOK);
    const env = { CI: 'true' };

    // An older run, interrupted during its slow step.
    fs.writeFileSync(path.join(dir, 'slow'), '');
    const old = spawnCli(['run', 'choice.yaml', '--var', 'version=0.9.0'], { cwd: dir, env, timeoutMs: 60_000 });
    await waitFor('the first step of the old run', () => fs.existsSync(path.join(dir, 'log')) && fs.readFileSync(path.join(dir, 'log'), 'utf8').includes('first 0.9.0'));
    await new Promise((r) => setTimeout(r, 300));
    process.kill(old.pid, 'SIGINT');
    expect((await old.result).code).toBe(130);
    const [oldRun] = runDirs(dir);

    // A newer run that ends: started on purpose with --new, since the older one did not finish (issue 11).
    fs.rmSync(path.join(dir, 'slow'));
    const newer = await runCli(['run', 'choice.yaml', '--var', 'version=1.0.0', '--new'], { cwd: dir, env, timeoutMs: 60_000 });
    expect(newer.code, newer.stderr).toBe(0);
    const newerRun = runDirs(dir).find((r) => r !== oldRun)!;

    const refused = await runCli(['run', 'choice.yaml', '--resume'], { cwd: dir, env, timeoutMs: 60_000 });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`the newest run of choice, ${newerRun}, already ended (succeeded)`);
    expect(refused.stderr).toContain('--resume <run-id>');

    // status does not advertise the superseded run: no command to paste, and why (review 1, item 12).
    const status = await runCli(['status'], { cwd: dir, env });
    expect(status.code, status.stderr).toBe(0);
    const line = status.stdout.split('\n').find((l) => l.includes(oldRun!))!;
    expect(line).toContain(`superseded by run ${newerRun} (version=1.0.0 there, version=0.9.0 here)`);
    expect(line).not.toContain('Continue it with');
    expect(line).not.toContain(`--resume ${oldRun}`);

    // Naming it is refused without --force-old, naming both runs' versions; nothing runs.
    const unforced = await runCli(['run', 'choice.yaml', '--resume', oldRun!], { cwd: dir, env, timeoutMs: 60_000 });
    expect(unforced.code).toBe(2);
    expect(unforced.stderr).toContain(`run ${oldRun} (version=0.9.0) is older than run ${newerRun} of choice (version=1.0.0)`);
    expect(unforced.stderr).toContain('--force-old');
    expect(fs.readFileSync(path.join(dir, 'log'), 'utf8').split('\n').filter(Boolean)).toEqual(['first 0.9.0', 'first 1.0.0', 'slow']);

    const named = await runCli(['run', 'choice.yaml', '--resume', oldRun!, '--force-old'], { cwd: dir, env, timeoutMs: 60_000 });
    expect(named.code, named.stderr).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'log'), 'utf8').split('\n').filter(Boolean)).toEqual(['first 0.9.0', 'first 1.0.0', 'slow', 'slow']);

    const bogus = await runCli(['run', 'choice.yaml', '--resume', '../../etc'], { cwd: dir, env, timeoutMs: 60_000 });
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("'../../etc' is not a run id");
  }, 180_000);
});
