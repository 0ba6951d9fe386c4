// An unfinished run is not forgotten: a new run of the same runbook stops (exit 2, both ways named), `--new` starts one anyway,
// `status` lists it, and every hint is a command that works where the user is (`npx deployctl` under npm).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertBuilt, killAllClis, runCli, spawnCli, waitFor } from '../helpers/cli.js';

const RUNBOOK = `version: 1
name: unfinished
roles: { ops: { title: Operations } }
phases:
  - id: deploy
    steps:
      - { id: ship, owner: ops, run: "test -f go || sleep 30" }
`;

let dir: string;
let runId: string;
const NPM = { npm_command: 'exec', npm_execpath: '/usr/lib/node_modules/npm/bin/npm-cli.js' };

beforeAll(async () => {
  assertBuilt();
  dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'deployctl-unfinished-')));
  writeFileSync(path.join(dir, 'unfinished.yaml'), RUNBOOK);
  // A run stopped by SIGTERM in its step, under npm: aborted, resumable.
  const run = spawnCli(['run', 'unfinished.yaml'], { cwd: dir, env: NPM });
  await waitFor('the step to start', () => {
    const runs = path.join(dir, '.deployctl/runs');
    return existsSync(runs) && readdirSync(runs).length === 1 && /ship/.test(run.stdout());
  }, 30_000);
  run.child.kill('SIGTERM');
  const stopped = await run.result;
  expect(stopped.code).toBe(130);
  expect(stopped.stdout).toMatch(/the run can be continued with: npx deployctl run unfinished\.yaml --resume \S+/);
  runId = readdirSync(path.join(dir, '.deployctl/runs'))[0]!;
}, 60_000);
afterEach(() => killAllClis());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a new run while the last one did not finish', () => {
  it('stops at once without a terminal, exit 2, naming --resume <id> and --new', async () => {
    const result = await runCli(['run', 'unfinished.yaml'], { cwd: dir, timeoutMs: 20_000 });
    expect(result.timedOut).toBe(false);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`run ${runId} of unfinished did not finish`);
    expect(result.stderr).toContain(`deployctl run unfinished.yaml --resume ${runId}`);
    expect(result.stderr).toContain('deployctl run unfinished.yaml --new');
    expect(result.stderr).not.toContain('npx deployctl');
    expect(readdirSync(path.join(dir, '.deployctl/runs'))).toEqual([runId]);
  });

  it('names the commands as npx deployctl when run through npm', async () => {
    const result = await runCli(['run', 'unfinished.yaml'], { cwd: dir, env: NPM, timeoutMs: 20_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`npx deployctl run unfinished.yaml --resume ${runId}`);
    expect(result.stderr).toContain('npx deployctl run unfinished.yaml --new');
  });

  it('starts another with --new; status still lists the one left unfinished, but offers no command to resume it over the newer run', async () => {
    // Until review 1 (item 12) status printed a paste-ready --resume for it: that would deploy the old run over the new one.
    writeFileSync(path.join(dir, 'go'), '');
    const fresh = await runCli(['run', 'unfinished.yaml', '--new'], { cwd: dir, timeoutMs: 30_000 });
    expect(fresh.code).toBe(0);
    expect(readdirSync(path.join(dir, '.deployctl/runs'))).toHaveLength(2);
    const status = await runCli(['status'], { cwd: dir, timeoutMs: 20_000 });
    expect(status.stdout).toContain(`Not finished: run ${runId} of unfinished`);
    expect(status.stdout).toContain('superseded by run');
    expect(status.stdout).toContain('refuses it without --force-old');
    expect(status.stdout).not.toContain('Continue it with');
    expect(status.stdout).not.toContain(`--resume ${runId}`);
  });
});
