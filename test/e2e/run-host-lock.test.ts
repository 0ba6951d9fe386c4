// One deployment of a runbook per host, whatever directory it is started from; `status` finds it from anywhere.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killAllClis, reapProcessesIn, runCli, spawnCli, waitFor } from '../helpers/cli.js';

const RUNBOOK = `
version: 1
name: host-locked
roles: { ops: { title: Ops } }
notify: { status_every: 5m }
phases:
  - id: deploy
    title: Deployment
    steps:
      - { id: ship, owner: ops, run: "touch started; while [ ! -f stop ]; do sleep 0.05; done" }
`;

describe('the host-wide lock', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-host-lock-'));
  const a = path.join(root, 'checkout-a');
  const b = path.join(root, 'checkout-b');
  const env = { DEPLOYCTL_LOCK_DIR: path.join(root, 'host-locks') };
  afterEach(async () => {
    fs.writeFileSync(path.join(a, 'stop'), '');
    await killAllClis();
    reapProcessesIn(root);
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('refuses a second run of the same runbook from another directory, and status there shows the first', async () => {
    for (const dir of [a, b]) {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'host-locked.yaml'), RUNBOOK);
    }
    const first = spawnCli(['run', 'host-locked.yaml'], { cwd: a, env, timeoutMs: 60_000 });
    await waitFor('the first run to be deploying', () => fs.existsSync(path.join(a, 'started')));

    const second = await runCli(['run', 'host-locked.yaml'], { cwd: b, env, timeoutMs: 30_000 });
    expect(second.code).toBe(2);
    expect(second.stderr).toContain('another run of host-locked is in progress');
    expect(second.stderr).toContain(`from ${a}`);
    expect(fs.existsSync(path.join(b, 'started'))).toBe(false);

    const status = await runCli(['status'], { cwd: b, env, timeoutMs: 30_000 });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`(started from ${a}`);
    expect(status.stdout).toContain('🟡 Deployment: IN PROGRESS');
    expect(status.stdout).toMatch(/⏳ Waiting on: \[Ops\] ship \(step 'ship'\), for \d/);

    fs.writeFileSync(path.join(a, 'stop'), '');
    expect((await first.result).code).toBe(0);
    fs.writeFileSync(path.join(b, 'stop'), '');
    const after = await runCli(['run', 'host-locked.yaml'], { cwd: b, env, timeoutMs: 30_000 });
    expect(after.code).toBe(0);
  });
});
