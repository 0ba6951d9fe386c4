// `run`, `status` and `record list` on a shared state (issue 14 item 6): PostgreSQL for several machines (here: several directories, each its own "host"), and the same rules on the local directory; a kill -9 resumed elsewhere, racing runs, damaged journals, passwords never shown.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openStateStore, resolveState } from '../../src/ports/state/location.js';
import type { StateStore, StateUpdate } from '../../src/ports/state/store.js';
import { assertBuilt, killAllClis, killTree, processesIn, reapProcessesIn, readRecord, recordFiles, runCli, spawnCli, stackTraceLines, verifyWithOpenssl, waitFor, type CliResult } from '../helpers/cli.js';
import { createTestDatabase, PASSWORD, PASSWORD_ROLE, type TestDatabase } from '../helpers/postgres.js';

const SLOW = 120_000;
let root: string;
let db: TestDatabase;

beforeAll(() => {
  assertBuilt();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-state-'));
  db = createTestDatabase();
});
afterEach(async () => {
  await killAllClis();
  reapProcessesIn(root);
});
afterAll(() => {
  if (root === undefined) return;
  const left = reapProcessesIn(root);
  fs.rmSync(root, { recursive: true, force: true });
  expect(left, 'processes left running').toEqual([]);
});

let dirs = 0;
/** A new working directory ("a machine") holding `yaml` as `<name>.yaml`. */
function machine(name: string, yaml: string): string {
  const dir = path.join(root, `m${++dirs}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${name}.yaml`), yaml);
  return dir;
}

function clean(result: CliResult, what: string): CliResult {
  expect(result.timedOut, `${what} timed out`).toBe(false);
  expect(stackTraceLines(result.stdout + result.stderr), `${what}:\n${result.stderr}`).toEqual([]);
  return result;
}

async function withStore<T>(state: string, fn: (store: StateStore) => Promise<T>): Promise<T> {
  const store = await openStateStore(resolveState(state, {}, root).location);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

describe('a run kept in PostgreSQL', { timeout: SLOW }, () => {
  it('keeps journal, lock and record in the database; status and record list read them from another machine', async () => {
    const yaml = `
version: 1
name: shared
roles: { ops: { title: Ops } }
phases:
  - id: deploy
    steps:
      - { id: ship, owner: ops, run: "echo shipped" }
`;
    const a = machine('shared', yaml);
    const b = machine('shared', yaml);
    const env = { DEPLOYCTL_STATE: db.url };
    const ran = clean(await runCli(['run', 'shared.yaml'], { cwd: a, env }), 'run');
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stderr).toMatch(/the record is stored in the state too: postgres:shared-\S+\.json in postgres:\/\/\/t_/);
    const runId = /Run (\S+): SUCCEEDED/.exec(ran.stdout)![1]!;
    // Nothing of the run's state in A's directory but the key and the local copy of the record.
    expect(fs.readdirSync(path.join(a, '.deployctl')).sort()).toEqual(['keys', 'records']);
    expect(Number(db.psql(`SELECT count(*) FROM deployctl.events WHERE run_id = '${runId}'`))).toBeGreaterThan(4);

    // B has no local state at all: what it knows comes from the database.
    const status = clean(await runCli(['status', runId], { cwd: b, env }), 'status');
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`Run ${runId} of shared, operator ${os.userInfo().username}, ended succeeded`);
    const untrusted = clean(await runCli(['record', 'list', '--state', db.url.replace('postgres://', 'postgresql://')], { cwd: b }), 'record list');
    expect(untrusted.code).toBe(0);
    expect(untrusted.stdout).toMatch(new RegExp(`postgres:shared-\\S+-${runId}\\.json\\s+shared\\s+succeeded\\s+\\S+\\s+INVALID`));
    // With A's public key (as the team would hand it out) the same record verifies.
    const trusted = clean(await runCli(['record', 'list', '--pubkey', path.join(a, '.deployctl/keys/deployctl.pub')], { cwd: b, env }), 'record list --pubkey');
    expect(trusted.stdout).toMatch(new RegExp(`postgres:shared-\\S+-${runId}\\.json\\s+shared\\s+succeeded\\s+\\S+\\s+valid$`, 'm'));
    // The stored record is the very file A sealed.
    const [file] = recordFiles(a);
    expect(db.psql(`SELECT envelope FROM deployctl.records WHERE run_id = '${runId}'`)).toBe(fs.readFileSync(file!, 'utf8').trimEnd());
  });

  it('after a kill -9 mid-step, another machine resumes the run and finishes it; nothing finished runs twice', async () => {
    const ran = path.join(root, 'ran-resume');
    const yaml = `
version: 1
name: crashy
roles: { ops: { title: Ops } }
phases:
  - id: deploy
    steps:
      - { id: s1, owner: ops, run: "echo s1 >> ${ran}" }
      - { id: s2, owner: ops, run: "echo s2 >> ${ran}; touch ${ran}.s2; if [ ! -f ${ran}.go ]; then sleep 60; fi" }
      - { id: s3, owner: ops, run: "echo s3 >> ${ran}" }
`;
    const a = machine('crashy', yaml);
    const b = machine('crashy', yaml);
    const env = { DEPLOYCTL_STATE: db.url };
    const first = spawnCli(['run', 'crashy.yaml'], { cwd: a, env });
    await waitFor('s2 to be running', () => fs.existsSync(`${ran}.s2`));
    // The host dies: deployctl and the step it ran, at once.
    killTree(first.pid, 'SIGKILL');
    expect((await first.result).signal).toBe('SIGKILL');
    fs.writeFileSync(`${ran}.go`, '');

    const resumed = clean(await runCli(['run', 'crashy.yaml', '--resume', '--in-flight', 'rerun'], { cwd: b, env }), 'resume');
    expect(resumed.code, resumed.stderr).toBe(0);
    // The dead session's advisory lock went with its connection; its row is reported as taken over.
    expect(resumed.stderr).toMatch(/took over a stale lock left by pid \d+/);
    expect(fs.readFileSync(ran, 'utf8').split('\n').filter(Boolean)).toEqual(['s1', 's2', 's2', 's3']);
    const [record] = recordFiles(b);
    const predicate = readRecord(record!).statement.predicate;
    expect(predicate).toMatchObject({ status: 'succeeded' });
    for (const v of verifyWithOpenssl(record!, path.join(b, '.deployctl/keys/deployctl.pub'), b)) expect(v, v.output).toMatchObject({ ok: true });
    const read = await withStore(db.url, (store) => store.readRun(predicate['run_id'] as string));
    expect(read!.chain).toMatchObject({ status: 'intact', problems: [] });
    expect(read!.events.map((e) => e.kind)).toContain('run-resumed');
    expect(read!.events.at(-1)).toMatchObject({ kind: 'run-finished', status: 'succeeded' });
  });

  it('starts no step before the journal entries ahead of it are stored (write-ahead), however slow the database', async () => {
    const yaml = `
version: 1
name: ahead
roles: { ops: { title: Ops } }
phases:
  - id: p
    steps:
      - { id: s1, owner: ops, run: "touch s1-ran" }
`;
    const dir = machine('ahead', yaml);
    // Another session holds the events table: every insert waits, as on a slow or overloaded server.
    const blocker = new pg.Client({ host: db.socketDir, port: db.port, database: db.name, user: os.userInfo().username });
    await blocker.connect();
    try {
      await withStore(db.url, async () => undefined); // the schema exists before the table is locked
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE deployctl.events IN SHARE ROW EXCLUSIVE MODE');
      const run = spawnCli(['run', 'ahead.yaml'], { cwd: dir, env: { DEPLOYCTL_STATE: db.url } });
      await waitFor('the run to be waiting on its first insert', async () => Number((await blocker.query("SELECT count(*) AS n FROM pg_locks WHERE relation = 'deployctl.events'::regclass AND NOT granted")).rows[0].n) > 0);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(fs.existsSync(path.join(dir, 's1-ran')), 'the step ran before its start was in the journal').toBe(false);
      await blocker.query('COMMIT');
      const result = clean(await run.result, 'run');
      expect(result.code, result.stderr).toBe(0);
      expect(fs.existsSync(path.join(dir, 's1-ran'))).toBe(true);
    } finally {
      await blocker.end();
    }
  });

  it('stops the run, exit 1, when the database connection holding its lock is lost; another machine resumes it', async () => {
    const yaml = `
version: 1
name: cutoff
roles: { ops: { title: Ops } }
phases:
  - id: p
    steps:
      - { id: s1, owner: ops, run: "touch started; if [ ! -f ${root}/cutoff-go ]; then sleep 30; fi" }
      - { id: s2, owner: ops, run: "true" }
`;
    const a = machine('cutoff', yaml);
    const b = machine('cutoff', yaml);
    const env = { DEPLOYCTL_STATE: db.url };
    const run = spawnCli(['run', 'cutoff.yaml'], { cwd: a, env });
    await waitFor('the step to be running', () => fs.existsSync(path.join(a, 'started')));
    // The server ends the session (a restart, a failover, a network cut look the same to deployctl).
    expect(db.psql(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'deployctl'`)).toBe('1');
    const stopped = clean(await run.result, 'the cut-off run');
    expect(stopped.code, stopped.stderr).toBe(1);
    expect(stopped.stderr).toContain('lost the connection to the state database');
    expect(stopped.stderr).toContain('stopping the run');
    expect(stopped.stdout).toContain('ABORTED');
    // The summary's reason is the lost database, then where the run was (review 1 item 33).
    expect(stopped.stdout).toMatch(/lost the connection to the state database.*: the run stopped \(interrupted during step 's1'\); resume it once the state is back/);
    // Its step went with it: nothing of it runs on.
    await waitFor('the step to be gone', () => processesIn(a).length === 0, 10_000);
    fs.writeFileSync(path.join(root, 'cutoff-go'), '');
    const resumed = clean(await runCli(['run', 'cutoff.yaml', '--resume', '--in-flight', 'rerun'], { cwd: b, env }), 'resume');
    expect(resumed.code, resumed.stderr).toBe(0);
  });

  it("masks the database password in what steps print: a step sees DEPLOYCTL_STATE (it may run deployctl itself)", async () => {
    const yaml = `
version: 1
name: leaky
roles: { ops: { title: Ops } }
phases:
  - id: p
    steps:
      - { id: show, owner: ops, run: 'echo "state is $DEPLOYCTL_STATE"' }
`;
    const dir = machine('leaky', yaml);
    const own = createTestDatabase(PASSWORD_ROLE);
    const ran = clean(await runCli(['run', 'leaky.yaml'], { cwd: dir, env: { DEPLOYCTL_STATE: own.urlAs(PASSWORD_ROLE, PASSWORD) } }), 'run');
    expect(ran.code, ran.stderr).toBe(0);
    const journal = own.psql("SELECT string_agg(line, E'\\n') FROM deployctl.events");
    expect(journal).toContain('state is postgres://');
    const everything = [ran.stdout, ran.stderr, journal, own.psql("SELECT string_agg(envelope, E'\\n') FROM deployctl.records"), ...recordFiles(dir).map((f) => readRecord(f).text)].join('\n');
    for (const secret of [PASSWORD, encodeURIComponent(PASSWORD)]) expect(everything).not.toContain(secret);
    const record = readRecord(recordFiles(dir)[0]!).statement.predicate;
    expect(JSON.stringify(record)).toContain('state is postgres://');
  });

  it('never prints the password of the URL, whatever goes wrong', async () => {
    const yaml = `
version: 1
name: secretive
roles: { ops: { title: Ops } }
phases:
  - id: p
    steps:
      - { id: s, owner: ops, run: "true" }
`;
    const dir = machine('secretive', yaml);
    const own = createTestDatabase(PASSWORD_ROLE);
    const wrong = 'Wr0ng-pa55word';
    const cases: [string, string, number, RegExp][] = [
      ['a wrong password', own.urlAs(PASSWORD_ROLE, wrong), 1, /refused the login/],
      ['an unreachable server', `postgres://${PASSWORD_ROLE}:${encodeURIComponent(wrong)}@/x?host=${encodeURIComponent(path.join(root, 'no-such-socket'))}&port=1`, 1, /cannot connect/],
      ['a database that does not exist', `postgres://${PASSWORD_ROLE}:${encodeURIComponent(PASSWORD)}@/no_such_db?host=${encodeURIComponent(own.socketDir)}&port=${own.port}`, 1, /does not exist/],
      ['another scheme', `mysql://${PASSWORD_ROLE}:${wrong}@db.example/x`, 2, /not in mysql:\/\//],
    ];
    for (const [what, url, code, message] of cases) {
      for (const args of [['run', 'secretive.yaml', '--state', url], ['status', '--state', url], ['record', 'list', '--state', url]]) {
        const result = clean(await runCli(args, { cwd: dir }), `${args[0]} with ${what}`);
        expect(result.code, `${args[0]} with ${what}: ${result.stderr}`).toBe(code);
        expect(result.stderr).toMatch(message);
        for (const secret of [wrong, encodeURIComponent(wrong), PASSWORD, encodeURIComponent(PASSWORD)]) expect(result.stdout + result.stderr, `${args[0]} with ${what}`).not.toContain(secret);
        expect(result.stderr).toContain(`${PASSWORD_ROLE}:***@`);
      }
    }
    // And with the right one, through the environment: it runs, and the password is nowhere in what it leaves.
    const ok = clean(await runCli(['run', 'secretive.yaml'], { cwd: dir, env: { DEPLOYCTL_STATE: own.urlAs(PASSWORD_ROLE, PASSWORD) } }), 'run with the password');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain(`${PASSWORD_ROLE}:***@`);
    const everything = [ok.stdout, ok.stderr, own.psql('SELECT string_agg(line, E\'\\n\') FROM deployctl.events'), own.psql('SELECT string_agg(envelope, E\'\\n\') FROM deployctl.records'), ...recordFiles(dir).map((f) => readRecord(f).text)].join('\n');
    for (const secret of [PASSWORD, encodeURIComponent(PASSWORD)]) expect(everything).not.toContain(secret);
  });
});

describe('a journal written by an earlier deployctl (no hash links)', { timeout: SLOW }, () => {
  it('still resumes, and is chained from the first event the resume adds', async () => {
    const yaml = `
version: 1
name: legacy
roles: { ops: { title: Ops } }
phases:
  - id: p
    steps:
      - { id: s1, owner: ops, run: "echo s1 >> ran" }
      - { id: s2, owner: ops, run: "echo s2 >> ran" }
`;
    const dir = machine('legacy', yaml);
    const killed = await runCli(['run', 'legacy.yaml'], { cwd: dir, env: { DEPLOYCTL_FAULT: 'after-step-finished:1' } });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const [runId] = fs.readdirSync(path.join(dir, '.deployctl/runs'));
    const file = path.join(dir, '.deployctl/runs', runId!, 'journal.jsonl');
    // As the previous version wrote it: the same events, without `prev`.
    const old = fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => {
      const { prev: _link, ...event } = JSON.parse(line) as Record<string, unknown>;
      return JSON.stringify(event);
    });
    fs.writeFileSync(file, `${old.join('\n')}\n`);
    const resumed = clean(await runCli(['run', 'legacy.yaml', '--resume'], { cwd: dir }), 'resume');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'ran'), 'utf8')).toBe('s1\ns2\n');
    const read = await withStore(path.join(dir, '.deployctl'), (store) => store.readRun(runId!));
    expect(read!.chain).toMatchObject({ status: 'intact', unchainedPrefix: old.length, problems: [] });
    expect(read!.events.at(-1)).toMatchObject({ kind: 'run-finished', status: 'succeeded' });
  });
});

// The same rules on both backends: a lock race, a damaged journal, a live subscriber.
const BACKENDS = [
  { name: 'the local directory', shared: false },
  { name: 'PostgreSQL', shared: true },
];

describe.each(BACKENDS)('on $name', { timeout: SLOW }, ({ shared }) => {
  /** Two "machines" on one state: separate directories on PostgreSQL; one directory (one .deployctl/) locally. */
  function twoMachines(name: string, yaml: string): { dirs: [string, string]; env: Record<string, string>; state: (dir: string) => string } {
    if (shared) return { dirs: [machine(name, yaml), machine(name, yaml)], env: { DEPLOYCTL_STATE: db.url }, state: () => db.url };
    const dir = machine(name, yaml);
    return { dirs: [dir, dir], env: {}, state: (d) => path.join(d, '.deployctl') };
  }

  it('two runs started at once: one deploys, the other exits 2 naming it', async () => {
    const name = `race${shared ? 'pg' : 'dir'}`;
    const yaml = `
version: 1
name: ${name}
roles: { ops: { title: Ops } }
phases:
  - id: p
    steps:
      - { id: wait, owner: ops, timeout: 60s, run: "touch waiting; while [ ! -f release ]; do sleep 0.05; done" }
`;
    const { dirs, env, state } = twoMachines(name, yaml);
    const runs = dirs.map((cwd) => spawnCli(['run', `${name}.yaml`], { cwd, env }));
    const loser = await Promise.race(runs.map((r, i) => r.result.then(() => i)));
    const winner = 1 - loser;
    const refused = clean(await runs[loser]!.result, 'the refused run');
    expect(refused.code, refused.stderr).toBe(2);
    await waitFor('the winner to be inside its step', () => fs.existsSync(path.join(dirs[winner]!, 'waiting')));
    const runId = await withStore(state(dirs[0]), async (store) => (await store.listRuns()).find((r) => r.runbook === undefined || r.runbook === name)!.runId);
    expect(refused.stderr).toContain(`another run of ${name} is in progress: run ${runId} by ${os.userInfo().username} on ${os.hostname()} (pid ${runs[winner]!.pid})`);
    fs.writeFileSync(path.join(dirs[winner]!, 'release'), '');
    const done = clean(await runs[winner]!.result, 'the winning run');
    expect(done.code, done.stderr).toBe(0);
  });

  it('a journal changed after it was written: status shows it under a warning, resume refuses it', async () => {
    const name = `tamper${shared ? 'pg' : 'dir'}`;
    const yaml = `
version: 1
name: ${name}
roles: { ops: { title: Ops } }
phases:
  - id: p
    steps:
      - { id: s1, owner: ops, run: "true" }
      - { id: s2, owner: ops, run: "true" }
`;
    const { dirs, env, state } = twoMachines(name, yaml);
    const killed = await runCli(['run', `${name}.yaml`], { cwd: dirs[0], env: { ...env, DEPLOYCTL_FAULT: 'after-spawn:2' } });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const runId = await withStore(state(dirs[0]), async (store) => (await store.listRuns()).find((r) => r.runbook === undefined || r.runbook === name)!.runId);
    // s1 "failed" instead: an edit someone could make to change what a resume does.
    if (shared) {
      db.psql(
        `SET session_replication_role = replica; UPDATE deployctl.events SET line = replace(line, '"status":"succeeded"', '"status":"failed"') WHERE run_id = '${runId}' AND line LIKE '%"kind":"step-finished"%'`,
      );
    } else {
      const file = path.join(dirs[0], '.deployctl/runs', runId, 'journal.jsonl');
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/("kind":"step-finished".*?)"status":"succeeded"/, '$1"status":"failed"'));
    }
    const status = clean(await runCli(['status', runId], { cwd: dirs[1], env }), 'status');
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).toContain(`the journal of run ${runId} does not verify`);
    expect(status.stderr).toMatch(/(line|row) 6\b.* does not link to the event before it/);
    const resume = clean(await runCli(['run', `${name}.yaml`, '--resume', '--in-flight', 'rerun'], { cwd: dirs[1], env }), 'resume');
    expect(resume.code, resume.stderr).toBe(2);
    expect(resume.stderr).toContain(`the journal of run ${runId} does not verify: it was changed after it was written; nothing was run`);
    // A row that is not an event at all is reported too, never thrown.
    if (shared) db.psql(`SET session_replication_role = replica; INSERT INTO deployctl.events (run_id, seq, line, hash) VALUES ('${runId}', 1000, '{"kind":', 'x')`);
    else fs.appendFileSync(path.join(dirs[0], '.deployctl/runs', runId, 'journal.jsonl'), '\u0000garbage\n');
    const again = clean(await runCli(['status', runId], { cwd: dirs[1], env }), 'status after garbage');
    expect(again.code, again.stderr).toBe(0);
  });

  it('a subscriber sees the events of a run another process appends, in order, each with its hash', async () => {
    const name = `live${shared ? 'pg' : 'dir'}`;
    const yaml = `
version: 1
name: ${name}
roles: { ops: { title: Ops } }
phases:
  - id: p
    steps:
      - { id: s1, owner: ops, run: "touch started; while [ ! -f go ]; do sleep 0.05; done" }
      - { id: s2, owner: ops, run: "true" }
`;
    const { dirs, env, state } = twoMachines(name, yaml);
    const run = spawnCli(['run', `${name}.yaml`], { cwd: dirs[0], env });
    await waitFor('the run to be in s1', () => fs.existsSync(path.join(dirs[0], 'started')));
    await withStore(state(dirs[0]), async (store) => {
      const runId = (await store.listRuns()).find((r) => r.runbook === undefined || r.runbook === name)!.runId;
      const updates: StateUpdate[] = [];
      const subscription = await store.subscribe(runId, {}, (u) => updates.push(u));
      try {
        fs.writeFileSync(path.join(dirs[0], 'go'), '');
        // Live from here on: the step's end, s2, the run's end, pushed as they are stored.
        await waitFor('run-finished to arrive', () => updates.some((u) => u.kind === 'event' && u.event.kind === 'run-finished'), 30_000);
        const events = updates.flatMap((u) => (u.kind === 'event' ? [u] : []));
        expect(events.map((u) => u.seq)).toEqual(events.map((_, i) => i + 1));
        expect(events[0]!.event.kind).toBe('run-started');
        expect(events.filter((u) => u.event.kind === 'step-finished').map((u) => (u.event.kind === 'step-finished' ? u.event.stepId : ''))).toEqual(['s1', 's2']);
        expect(updates.filter((u) => u.kind === 'problem')).toEqual([]);
        const read = await store.readRun(runId);
        expect(events.at(-1)!.hash).toBe(read!.chain.head);
      } finally {
        await subscription.close();
      }
    });
    expect(clean(await run.result, 'run').code).toBe(0);
  });
});
