// updateRecord, the state port's replacement of a stored record's bytes, on both adapters (the local directory and a real PostgreSQL): the change runs on the bytes stored now, under the record's lock; updates at once never lose one; a lock held for the whole wait is a value naming its holder, and nothing is written.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { acquireFileLock } from '../../../src/ports/file-lock.js';
import { newRunId, type StateDir } from '../../../src/ports/state-dir.js';
import { connectClient, errorDescriber } from '../../../src/ports/state/postgres-connect.js';
import { openStateStore, resolveState } from '../../../src/ports/state/location.js';
import type { RecordChange, StateStore } from '../../../src/ports/state/store.js';
import { recordFileName } from '../../../src/record/seal.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/postgres.js';

const temps: string[] = [];
const opened: StateStore[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});
afterAll(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

interface Backend {
  name: string;
  inDatabase: boolean;
  /** A new, empty state; `open` gives another session on it (as another process has). */
  create(): Promise<{ open: () => Promise<StateStore>; localDir: StateDir; db?: TestDatabase }>;
}

const backends: Backend[] = [
  {
    name: 'the local directory',
    inDatabase: false,
    async create() {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-record-update-'));
      temps.push(root);
      const { location, localDir } = resolveState(undefined, { DEPLOYCTL_STATE_DIR: '.deployctl' }, root);
      return { open: () => openStateStore(location), localDir };
    },
  },
  {
    name: 'PostgreSQL',
    inDatabase: true,
    async create() {
      const db = createTestDatabase();
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-record-update-'));
      temps.push(root);
      const { location, localDir } = resolveState(db.url, {}, root);
      return { open: () => openStateStore(location), localDir, db };
    },
  },
];

const T0 = Date.UTC(2026, 11, 6, 9, 0, 0);
const text = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');

/** Seal a record named as deployctl names them into the store (and its local file, as `deployctl run` does). */
async function seed(store: StateStore, localDir: StateDir, body: string): Promise<string> {
  const runId = newRunId(T0);
  const name = recordFileName('demo', runId, T0 + 1000);
  const file = path.join(localDir.recordsDir, name);
  fs.mkdirSync(localDir.recordsDir, { recursive: true });
  fs.writeFileSync(file, body);
  await store.saveRecord({ name, runId, runbook: 'demo', status: 'succeeded', sealedAt: T0 + 1000, text: body, file });
  return name;
}

/** A change that adds `line` to what is there, and returns what it saw. */
const append = (line: string) => (current: Uint8Array): RecordChange<string> => ({ result: text(current), write: Buffer.from(`${text(current)}${line}\n`) });

describe.each(backends)('updateRecord on $name', (backend) => {
  it('runs the change on the stored bytes, writes what it returns, reads it back; the record is listed once, with the new bytes', async () => {
    const { open, localDir } = await backend.create();
    const store = await open();
    opened.push(store);
    const name = await seed(store, localDir, 'v1\n');
    const done = await store.updateRecord(name, append('v2'), { waitMs: 1000, what: 'test' });
    expect(done).toMatchObject({ kind: 'done', result: 'v1\n' });
    expect(done.kind === 'done' && text(done.stored)).toBe('v1\nv2\n');
    const listed = (await store.listRecords()).filter((r) => r.name === name);
    expect(listed).toHaveLength(1);
    expect(text(listed[0]!.bytes ?? fs.readFileSync(listed[0]!.file!))).toBe('v1\nv2\n');
    // No lock is left behind: the next update goes at once.
    const again = await store.updateRecord(name, append('v3'), { waitMs: 0, what: 'test' });
    expect(again.kind === 'done' && text(again.stored)).toBe('v1\nv2\nv3\n');
  });

  it('leaves the record as it is when the change writes nothing', async () => {
    const { open, localDir } = await backend.create();
    const store = await open();
    opened.push(store);
    const name = await seed(store, localDir, 'kept\n');
    const done = await store.updateRecord(name, (current) => ({ result: text(current) }), { waitMs: 1000, what: 'test' });
    expect(done).toEqual(expect.objectContaining({ kind: 'done', result: 'kept\n' }));
    expect(done.kind === 'done' && done.stored).toBeUndefined();
    expect(text((await store.listRecords())[0]!.bytes ?? fs.readFileSync((await store.listRecords())[0]!.file!))).toBe('kept\n');
  });

  it('says a record it does not hold is missing, and never reads a path outside its records', async () => {
    const { open, localDir } = await backend.create();
    const store = await open();
    opened.push(store);
    await seed(store, localDir, 'x\n');
    let called = false;
    const change = (current: Uint8Array) => {
      called = true;
      return { result: text(current) };
    };
    const missing = await store.updateRecord('demo-nosuch.json', change, { waitMs: 100, what: 'test' });
    expect(missing.kind === 'missing' && missing.where.startsWith(store.where)).toBe(true);
    fs.writeFileSync(path.join(localDir.root, 'outside.json'), 'not a record\n');
    expect((await store.updateRecord('../outside.json', change, { waitMs: 100, what: 'test' })).kind).toBe('missing');
    expect(called).toBe(false);
  });

  it('runs updates at once one after the other: each sees the bytes the one before wrote, and none is lost', async () => {
    const { open, localDir } = await backend.create();
    const first = await open();
    opened.push(first);
    const name = await seed(first, localDir, 'start\n');
    const sessions = await Promise.all(Array.from({ length: 6 }, () => open()));
    opened.push(...sessions);
    const results = await Promise.all(sessions.map((s, i) => s.updateRecord(name, append(`signer ${i}`), { waitMs: 20_000, what: `signer ${i}` })));
    for (const r of results) expect(r.kind).toBe('done');
    const final = text((await first.listRecords())[0]!.bytes ?? fs.readFileSync(path.join(localDir.recordsDir, name)));
    const lines = final.trim().split('\n');
    expect(lines[0]).toBe('start');
    expect([...lines.slice(1)].sort()).toEqual(Array.from({ length: 6 }, (_, i) => `signer ${i}`));
    // Each saw everything written before it: the one that saw the most saw all the others.
    const seen = results.map((r) => (r.kind === 'done' ? (r.result as string).trim().split('\n').length : 0)).sort((a, b) => a - b);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
  }, 60_000);

  it('gives up after the wait when another holds the record, names the holder, and writes nothing', async () => {
    const { open, localDir, db } = await backend.create();
    const store = await open();
    opened.push(store);
    const name = await seed(store, localDir, 'held\n');
    let release: () => Promise<void>;
    let holderPid: number;
    if (db !== undefined) {
      const client = await connectClient(db.url, errorDescriber(db.url, 'test').describe, 'the test holding the row');
      await client.query('BEGIN');
      await client.query('SELECT 1 FROM deployctl.records WHERE name = $1 FOR UPDATE', [name]);
      holderPid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      release = async () => {
        await client.query('COMMIT');
        await client.end();
      };
    } else {
      const lock = acquireFileLock(path.join(localDir.recordsDir, `.${name}.lock`), { what: 'the test holding the file', waitMs: 0 });
      if (!lock.ok) throw new Error('could not take the lock');
      holderPid = process.pid;
      release = async () => lock.release();
    }
    let called = false;
    const started = Date.now();
    const result = await store.updateRecord(
      name,
      (current) => {
        called = true;
        return { result: '', write: current };
      },
      { waitMs: 400, what: 'test' },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect(result).toMatchObject({ kind: 'locked', inDatabase: backend.inDatabase, holder: { what: backend.inDatabase ? 'the test holding the row' : 'the test holding the file', pid: holderPid } });
    expect(result.kind === 'locked' && result.waitedMs).toBeGreaterThanOrEqual(390);
    expect(called).toBe(false);
    await release();
    expect(text((await store.listRecords())[0]!.bytes ?? fs.readFileSync(path.join(localDir.recordsDir, name)))).toBe('held\n');
    // Released: the next update goes through.
    expect((await store.updateRecord(name, append('after'), { waitMs: 1000, what: 'test' })).kind).toBe('done');
  });
});

describe('updateRecord on PostgreSQL, when the session holding the row dies', () => {
  it('rolls back what it had not committed, and the waiter goes on with the bytes as they were', async () => {
    const db = createTestDatabase();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-record-update-'));
    temps.push(root);
    const { location, localDir } = resolveState(db.url, {}, root);
    const store = await openStateStore(location);
    opened.push(store);
    const name = await seed(store, localDir, 'before\n');
    const client = await connectClient(db.url, errorDescriber(db.url, 'test').describe, 'the dying holder');
    await client.query('BEGIN');
    await client.query('SELECT 1 FROM deployctl.records WHERE name = $1 FOR UPDATE', [name]);
    await client.query("UPDATE deployctl.records SET envelope = 'never committed' WHERE name = $1", [name]);
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const waiting = store.updateRecord(name, append('after'), { waitMs: 20_000, what: 'test' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    db.psql(`SELECT pg_terminate_backend(${pid})`);
    const result = await waiting;
    expect(result).toMatchObject({ kind: 'done', result: 'before\n' });
    expect(result.kind === 'done' && text(result.stored)).toBe('before\nafter\n');
    await client.end().catch(() => undefined);
  });
});
