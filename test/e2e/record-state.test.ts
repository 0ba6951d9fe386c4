// `record show|verify|export|sign --state` against a real PostgreSQL (review 1 item 10): the `postgres:<name>` that
// `record list --state` prints opens the record kept there; and a state URL's password never reaches a hint (item 13b).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, BIN, cliEnv, killAllClis, reapProcessesIn, runCli, spawnCli, stackTraceLines, waitFor, type CliResult } from '../helpers/cli.js';
import { createTestDatabase, PASSWORD, PASSWORD_ROLE, type TestDatabase } from '../helpers/postgres.js';

const SLOW = 180_000;
let root: string;
let db: TestDatabase;

beforeAll(() => {
  assertBuilt();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-record-state-'));
  db = createTestDatabase();
});
afterEach(async () => {
  await killAllClis();
  reapProcessesIn(root);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function machine(name: string, yaml: string): string {
  const dir = fs.mkdtempSync(path.join(root, 'm'));
  fs.writeFileSync(path.join(dir, `${name}.yaml`), yaml);
  return dir;
}

function clean(result: CliResult, what: string): CliResult {
  expect(result.timedOut, `${what} timed out`).toBe(false);
  expect(stackTraceLines(result.stdout + result.stderr), `${what}:\n${result.stderr}`).toEqual([]);
  return result;
}

const YAML = `
version: 1
name: kept
roles: { ops: { title: Ops } }
phases:
  - id: deploy
    steps:
      - { id: ship, owner: ops, run: "if [ -f slow ]; then sleep 30; fi; echo shipped >> log", idempotent: true }
`;

describe('records kept in PostgreSQL, opened by the name record list prints', { timeout: SLOW }, () => {
  it('show, verify, export and sign read postgres:<name> from --state; an unknown name is exit 2', async () => {
    const a = machine('kept', YAML);
    const ran = clean(await runCli(['run', 'kept.yaml'], { cwd: a, env: { DEPLOYCTL_STATE: db.url } }), 'run');
    expect(ran.code, ran.stderr).toBe(0);
    const runId = /Run (\S+): SUCCEEDED/.exec(ran.stdout)![1]!;

    // Another machine, with the runbook and A's public key (as the team hands it out), nothing local.
    const b = machine('kept', YAML);
    fs.copyFileSync(path.join(a, '.deployctl/keys/deployctl.pub'), path.join(b, 'a-run.pub'));
    const trust = ['--pubkey', 'a-run.pub', '--state', db.url];
    const list = clean(await runCli(['record', 'list', ...trust], { cwd: b }), 'record list');
    const name = new RegExp(`(postgres:kept-\\S+-${runId}\\.json)`).exec(list.stdout)![1]!;

    const verify = clean(await runCli(['record', 'verify', name, ...trust], { cwd: b }), 'record verify');
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout.trim().split('\n').at(-1)).toBe(`VALID: signed by 1 run key; run ${runId} of kept, succeeded`);
    const show = clean(await runCli(['record', 'show', name, ...trust], { cwd: b }), 'record show');
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('VERIFIED record');
    expect(show.stdout).toContain(runId);
    // With no RECORD: the newest the state holds.
    const newest = clean(await runCli(['record', 'show', ...trust], { cwd: b }), 'record show (newest)');
    expect(newest.code, newest.stderr).toBe(0);
    expect(newest.stdout).toContain(runId);
    const exported = clean(await runCli(['record', 'export', name, '--format', 'json', ...trust], { cwd: b }), 'record export');
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain(runId);

    // Without A's key it is opened all the same, and does not verify (exit 1, not "no such file").
    const untrusted = clean(await runCli(['record', 'verify', name, '--state', db.url], { cwd: b }), 'record verify, untrusted');
    expect(untrusted.code).toBe(1);
    expect(untrusted.stdout).toMatch(/^INVALID/m);

    const unknown = clean(await runCli(['record', 'verify', 'postgres:kept-nosuch.json', ...trust], { cwd: b }), 'record verify, unknown');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no record kept-nosuch.json in');
    const noState = clean(await runCli(['record', 'show', name], { cwd: b }), 'record show without --state');
    expect(noState.code).toBe(2);
    expect(noState.stderr).toContain('--state postgres://');

    // record sign opens it too (test/e2e/record-sign-state.test.ts signs off stored records): the run's own key has
    // signed it already, and is refused as it is for a file.
    const sign = clean(await runCli(['record', 'sign', name, '--role', 'ops', '--key', path.join(a, '.deployctl/keys/deployctl.key'), ...trust], { cwd: b }), 'record sign');
    expect(sign.code).toBe(2);
    expect(sign.stderr).toContain(`already signed ${name} (signature #1, which signs off for no role (the run's own signature is one)); a key signs a record once`);
  });
});

describe('a state URL with a password, in the hints (review 1 item 13b)', { timeout: SLOW }, () => {
  it('prints the URL without its password and says where it comes from; pasted with PGPASSWORD set, it resumes the run', async () => {
    const own = createTestDatabase(PASSWORD_ROLE);
    const url = own.urlAs(PASSWORD_ROLE, PASSWORD);
    const dir = machine('kept', YAML);
    fs.writeFileSync(path.join(dir, 'slow'), '');
    const run = spawnCli(['run', 'kept.yaml', '--state', url], { cwd: dir, timeoutMs: 60_000 });
    await waitFor('the step to start', () => /ship/.test(run.stdout()), 30_000);
    await new Promise((r) => setTimeout(r, 500));
    process.kill(run.pid, 'SIGINT');
    const stopped = await run.result;
    expect(stopped.code, stopped.stderr).toBe(130);
    const everything = stopped.stdout + stopped.stderr;
    for (const secret of [PASSWORD, encodeURIComponent(PASSWORD)]) expect(everything).not.toContain(secret);
    // No `***` in a command to paste: it would be sent as the password.
    const at = stopped.stdout.indexOf('the run can be continued with: ');
    const lines = stopped.stdout.slice(at).split('\n');
    const command = lines[0]!.slice('the run can be continued with: '.length).trim();
    expect(command).not.toContain('***');
    expect(command).toContain(`--state '${own.urlAs(PASSWORD_ROLE)}'`);
    expect(lines[1]).toContain('password is left out of this command: it is read from $PGPASSWORD or ~/.pgpass');

    fs.rmSync(path.join(dir, 'slow'));
    const shims = path.join(dir, 'shims');
    fs.mkdirSync(shims);
    fs.writeFileSync(path.join(shims, 'deployctl'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`, { mode: 0o755 });
    const pasted = spawnSync('bash', ['-c', command], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
      env: cliEnv({ PATH: `${shims}:${process.env['PATH'] ?? ''}`, PGPASSWORD: PASSWORD, DEPLOYCTL_LOCK_DIR: path.join(dir, '.deployctl-host-locks') }),
    });
    expect(pasted.status, pasted.stderr).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'log'), 'utf8')).toBe('shipped\n');
  });
});
