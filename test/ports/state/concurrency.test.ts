// The state store under real concurrency, on both backends: separate processes racing to claim one prompt (exactly one wins), a subscriber process fed by an appending process, and (PostgreSQL) several processes creating the schema at once.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newRunId } from '../../../src/ports/state-dir.js';
import { openStateStore, resolveState } from '../../../src/ports/state/location.js';
import { createTestDatabase } from '../../helpers/postgres.js';
// @ts-expect-error a plain .mjs helper without types
import { buildStateClient } from '../../helpers/state-client-build.mjs';

let client: string;
let root: string;
beforeAll(async () => {
  client = (await buildStateClient()) as string;
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-state-race-'));
}, 60_000);
afterAll(() => {
  if (client !== undefined) fs.rmSync(path.dirname(client), { recursive: true, force: true });
  if (root !== undefined) fs.rmSync(root, { recursive: true, force: true });
});

interface Proc {
  lines: () => Record<string, unknown>[];
  done: Promise<{ code: number | null; stderr: string }>;
}

/** Start the state client with `command`; its stdout is JSON lines. Killed by the hang guard if it runs too long. */
function start(command: Record<string, unknown>, hangGuardMs = 60_000): Proc {
  const child = spawn(process.execPath, [client, JSON.stringify(command)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const guard = setTimeout(() => child.kill('SIGKILL'), hangGuardMs);
  return {
    lines: () =>
      out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    done: new Promise((resolve) =>
      child.once('close', (code) => {
        clearTimeout(guard);
        resolve({ code, stderr });
      }),
    ),
  };
}

/** Wait until each process has printed {"ready": true} (a hang guard, not a timing assertion). */
async function untilEvery(procs: Proc[], what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!procs.every((p) => p.lines().some((l) => l['ready'] === true))) {
    if (Date.now() > deadline) throw new Error(`not every process got ${what} within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const BACKENDS = [
  { name: 'the local directory', state: () => path.join(fs.mkdtempSync(path.join(root, 'dir-')), '.deployctl') },
  { name: 'PostgreSQL', state: () => createTestDatabase().url },
];

/** A run with one event, so that claims and subscriptions have something to attach to. */
async function newRun(state: string): Promise<string> {
  const store = await openStateStore(resolveState(state, {}, root).location);
  try {
    const runId = newRunId(Date.now());
    const journal = await store.openJournal(runId, { runbook: 'race' }, () => undefined);
    journal.append({ kind: 'run-resumed', at: Date.now(), runId, by: 'test', pid: process.pid }, true);
    await journal.close();
    return runId;
  } finally {
    await store.close();
  }
}

describe.each(BACKENDS)('on $name', { timeout: 120_000 }, (backend) => {
  it('of 12 processes claiming one prompt at once (each connected, then released together), exactly one wins, and every other names it', async () => {
    const state = backend.state();
    const runId = await newRun(state);
    const goFile = path.join(fs.mkdtempSync(path.join(root, 'go-')), 'go');
    const claimers = Array.from({ length: 12 }, (_, i) => start({ op: 'claim', state, runId, promptId: 'go-no-go', by: `person-${i}`, goFile }));
    await untilEvery(claimers, 'connected');
    fs.writeFileSync(goFile, '');
    const ends = await Promise.all(claimers.map((c) => c.done));
    for (const end of ends) expect(end.code, end.stderr).toBe(0);
    const results = claimers.map((c) => c.lines().find((l) => l['won'] !== undefined)!);
    const winners = results.filter((r) => r['won'] === true);
    expect(winners).toHaveLength(1);
    const winner = winners[0]!['by'];
    for (const r of results.filter((x) => x['won'] === false)) expect(r['winner']).toBe(winner);
    // What the store keeps is the winner's claim.
    const store = await openStateStore(resolveState(state, {}, root).location);
    try {
      expect(await store.readClaim(runId, 'go-no-go')).toMatchObject({ ok: true, claim: { by: winner } });
    } finally {
      await store.close();
    }
  });

  it('a subscriber in one process receives, in order, every event another process appends', async () => {
    const state = backend.state();
    const runId = await newRun(state);
    const subscriber = start({ op: 'subscribe', state, runId, count: 31 });
    // Only once it listens: then every event is live, none read from what was already there but the first.
    await untilEvery([subscriber], 'listening');
    const appender = start({ op: 'append', state, runId, count: 30, gapMs: 10 });
    const [appended, subscribed] = await Promise.all([appender.done, subscriber.done]);
    expect(appended.code, appended.stderr).toBe(0);
    expect(subscribed.code, subscribed.stderr).toBe(0);
    const events = subscriber.lines().filter((l) => l['seq'] !== undefined);
    expect(events.map((e) => e['seq'])).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    expect(events.slice(1).every((e) => e['kind'] === 'step-started')).toBe(true);
    // The latency is the benchmark's business (bench/state-latency.mjs); here each event merely arrived after it was sent.
    for (const e of events.slice(1)) expect(e['receivedAt'] as number).toBeGreaterThanOrEqual(e['sentAt'] as number);
  });
});

describe('the PostgreSQL schema', { timeout: 120_000 }, () => {
  it('is created once when 8 processes open a new database at the same time', async () => {
    const db = createTestDatabase();
    const goFile = path.join(fs.mkdtempSync(path.join(root, 'go-')), 'go');
    const openers = Array.from({ length: 8 }, () => start({ op: 'open', state: db.url, goFile }));
    await untilEvery(openers, 'started');
    fs.writeFileSync(goFile, '');
    const ends = await Promise.all(openers.map((o) => o.done));
    for (const end of ends) expect(end.code, end.stderr).toBe(0);
    expect(db.psql('SELECT count(*), count(DISTINCT version), min(version) FROM deployctl.migrations')).toBe('1|1|1');
    // And opening it again changes nothing.
    const again = start({ op: 'open', state: db.url });
    expect((await again.done).code).toBe(0);
    expect(db.psql('SELECT count(*) FROM deployctl.migrations')).toBe('1');
  });

  it('refuses, saying so, a schema newer than this deployctl knows', async () => {
    const db = createTestDatabase();
    await (await openStateStore(resolveState(db.url, {}, root).location)).close();
    db.psql("INSERT INTO deployctl.migrations (version, name) VALUES (99, 'from the future')");
    await expect(openStateStore(resolveState(db.url, {}, root).location)).rejects.toThrow(/set up by a newer deployctl \(schema version 99; this deployctl knows up to 1\)/);
  });
});
