// The state port's contract, run against both adapters (the local directory and a real PostgreSQL): journal with hash chain, runs newest first, lock, claims, live updates, records, and damaged data reported, never thrown.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../src/engine/events.js';
import { newRunId, stateDirAt, type StateDir } from '../../../src/ports/state-dir.js';
import { hashLine } from '../../../src/ports/state/chain.js';
import { recordFileName } from '../../../src/record/seal.js';
import { openStateStore, resolveState } from '../../../src/ports/state/location.js';
import type { PromptClaim, StateStore, StateUpdate } from '../../../src/ports/state/store.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/postgres.js';

interface Backend {
  name: string;
  /** A new, empty store, and the local directory beside it (keys, the local copy of each record). */
  open(): Promise<{ store: StateStore; localDir: StateDir }>;
  /** A second store on the same state (another session, as another process has). */
  reopen(): Promise<StateStore>;
  /** Replace the stored text of event `seq` of a run, as someone with write access to the state could. */
  tamper(runId: string, seq: number, line: string): void;
  /** Remove event `seq` of a run. */
  remove(runId: string, seq: number): void;
  /** The stored text of event `seq`. */
  line(runId: string, seq: number): string;
}

const temps: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-state-'));
  temps.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

const journalLines = (dir: StateDir, runId: string) => fs.readFileSync(path.join(dir.runsDir, runId, 'journal.jsonl'), 'utf8').split('\n').filter((l) => l !== '');

let lastLocal: StateDir | undefined;
const local: Backend = {
  name: 'the local directory',
  async open() {
    const root = tempDir();
    const { location, localDir } = resolveState(undefined, { DEPLOYCTL_STATE_DIR: '.deployctl' }, root);
    lastLocal = localDir;
    return { store: await openStateStore(location), localDir };
  },
  reopen: () => openStateStore({ kind: 'directory', dir: lastLocal!, shown: '.deployctl' }),
  tamper(runId, seq, line) {
    const lines = journalLines(lastLocal!, runId);
    lines[seq - 1] = line;
    fs.writeFileSync(path.join(lastLocal!.runsDir, runId, 'journal.jsonl'), `${lines.join('\n')}\n`);
  },
  remove(runId, seq) {
    const lines = journalLines(lastLocal!, runId);
    lines.splice(seq - 1, 1);
    fs.writeFileSync(path.join(lastLocal!.runsDir, runId, 'journal.jsonl'), `${lines.join('\n')}\n`);
  },
  line: (runId, seq) => journalLines(lastLocal!, runId)[seq - 1]!,
};

let db: TestDatabase | undefined;
const postgres: Backend = {
  name: 'PostgreSQL',
  async open() {
    db = createTestDatabase();
    const { location, localDir } = resolveState(db.url, {}, tempDir());
    return { store: await openStateStore(location), localDir };
  },
  reopen: () => openStateStore(resolveState(db!.url, {}, tempDir()).location),
  // The table refuses UPDATE and DELETE (a trigger): a hostile superuser switches the triggers off first.
  tamper(runId, seq, line) {
    db!.psql(`SET session_replication_role = replica; UPDATE deployctl.events SET line = '${line.replace(/'/g, "''")}' WHERE run_id = '${runId}' AND seq = ${seq}`);
  },
  remove(runId, seq) {
    db!.psql(`SET session_replication_role = replica; DELETE FROM deployctl.events WHERE run_id = '${runId}' AND seq = ${seq}`);
  },
  line: (runId, seq) => db!.psql(`SELECT line FROM deployctl.events WHERE run_id = '${runId}' AND seq = ${seq}`),
};

const T0 = Date.UTC(2026, 11, 6, 9, 0, 0);

function started(runId: string, at = T0): RunEvent {
  return {
    kind: 'run-started',
    at,
    runId,
    runbook: { name: 'demo', path: 'demo.yaml', sha256: 'a'.repeat(64) },
    tool: { name: 'deployctl', version: '0.1.0' },
    operator: 'ana',
    host: os.hostname(),
    vars: {},
    dryRun: false,
  };
}
const phase = (phaseId: string, at: number): RunEvent => ({ kind: 'phase-started', at, phaseId });
const step = (stepId: string, at: number): RunEvent => ({ kind: 'step-started', at, stepId, phaseId: 'p', stepKind: 'run', attempt: 1, rollback: false });

/** Collect a subscription's updates; `until` resolves once `n` of a kind arrived (a hang guard fails the test instead of waiting forever). */
function collector() {
  const updates: StateUpdate[] = [];
  let wake: (() => void) | undefined;
  return {
    updates,
    listener: (u: StateUpdate) => {
      updates.push(u);
      wake?.();
    },
    async until(kind: StateUpdate['kind'], n: number, ms = 10_000): Promise<StateUpdate[]> {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = updates.filter((u) => u.kind === kind);
        if (found.length >= n) return found;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`waited ${ms} ms for ${n} ${kind} update(s), got ${found.length}: ${JSON.stringify(updates)}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, left);
        });
      }
    },
  };
}

describe.each([local, postgres])('the state store on $name', (backend) => {
  let store: StateStore;
  let localDir: StateDir;

  beforeAll(async () => {
    ({ store, localDir } = await backend.open());
  });
  afterAll(async () => store?.close());

  it('appends events in order and reads them back, each linked to the one before', async () => {
    const runId = newRunId(T0);
    const journal = await store.openJournal(runId, { runbook: 'demo' }, (e) => {
      throw e;
    });
    const events = [started(runId), phase('p', T0 + 1), step('s1', T0 + 2)];
    journal.append(events[0]!, true);
    journal.append(events[1]!, false);
    journal.append(events[2]!, true);
    expect(await journal.flushed()).toBe(true);
    await journal.close();
    const read = await store.readRun(runId);
    expect(read).toMatchObject({ runId, lastSeq: 3, skipped: 0, tornTail: false, chain: { status: 'intact', problems: [] } });
    expect(read!.events).toEqual(events);
    expect(read!.chain.head).toBe(hashLine(backend.line(runId, 3)));
    // The link is in the stored text: the second event names the hash of the first, exactly as stored.
    expect(JSON.parse(backend.line(runId, 2)).prev).toBe(hashLine(backend.line(runId, 1)));
  });

  it('continues the chain when a run is resumed by a second writer', async () => {
    const runId = newRunId(T0 + 10);
    const first = await store.openJournal(runId, { runbook: 'demo' }, () => undefined);
    first.append(started(runId), true);
    await first.close();
    const second = await store.openJournal(runId, { runbook: 'demo' }, () => undefined);
    second.append({ kind: 'run-resumed', at: T0 + 20, runId, by: 'ben', pid: 1 }, true);
    await second.close();
    const read = await store.readRun(runId);
    expect(read!.events.map((e) => e.kind)).toEqual(['run-started', 'run-resumed']);
    expect(read!.chain).toMatchObject({ status: 'intact', problems: [] });
  });

  it('lists runs newest first, and has no journal for a run that does not exist', async () => {
    const ids = [newRunId(T0 - 3000), newRunId(T0 - 1000), newRunId(T0 - 2000)];
    for (const id of ids) {
      const j = await store.openJournal(id, { runbook: 'demo' }, () => undefined);
      j.append(started(id), true);
      await j.close();
    }
    const listed = (await store.listRuns()).map((r) => r.runId);
    const mine = listed.filter((id) => ids.includes(id));
    expect(mine).toEqual([ids[1], ids[2], ids[0]]);
    expect(await store.readRun(newRunId(T0 + 99_000))).toBeUndefined();
    expect(await store.readRun('not-a-run')).toBeUndefined();
  });

  it('gives the lock to one holder at a time, names it to the next, and frees it on release', async () => {
    const first = await store.lock('contract', { runId: 'r1', runbook: 'contract.yaml' }, T0);
    expect(first.ok).toBe(true);
    // From this store (one process), and from another (a second session, as another process or host has).
    const second = await store.lock('contract', { runId: 'r2', runbook: 'contract.yaml' }, T0);
    expect(second).toMatchObject({ ok: false, holder: { runId: 'r1', pid: process.pid, host: os.hostname(), runbook: 'contract.yaml' } });
    const other = await backend.reopen();
    try {
      expect(await other.lock('contract', { runId: 'r2', runbook: 'contract.yaml' }, T0)).toMatchObject({ ok: false, holder: { runId: 'r1' } });
    } finally {
      await other.close();
    }
    if (!first.ok) throw new Error('unreachable');
    await first.setRunId('r1-named');
    expect(await store.lockHolder('contract')).toMatchObject({ live: true, info: { runId: 'r1-named' } });
    expect(first.lost.aborted).toBe(false);
    await first.release();
    const third = await store.lock('contract', { runId: 'r3', runbook: 'contract.yaml' }, T0);
    expect(third.ok).toBe(true);
    if (third.ok) await third.release();
  });

  it('lets the first claim on a prompt win and tells every later claimer who won', async () => {
    const runId = newRunId(T0 + 30);
    const j = await store.openJournal(runId, { runbook: 'demo' }, () => undefined);
    j.append(started(runId), true);
    await j.close();
    const elif: PromptClaim = { promptId: 'qa-ready', by: 'elif', answer: true, at: T0 + 31, host: 'qa-laptop', proof: { sig: 'opaque' } };
    const femi: PromptClaim = { promptId: 'qa-ready', by: 'femi', answer: false, at: T0 + 32 };
    expect(await store.claim(runId, elif)).toEqual({ won: true, claim: elif });
    expect(await store.claim(runId, femi)).toEqual({ won: false, winner: { ok: true, claim: elif } });
    expect(await store.readClaim(runId, 'qa-ready')).toEqual({ ok: true, claim: elif });
    expect(await store.readClaim(runId, 'go-no-go')).toBeUndefined();
    const gate: PromptClaim = { promptId: 'go-no-go.leadership_approved', by: 'ana', answer: true, at: T0 + 33 };
    await store.claim(runId, gate);
    expect((await store.readClaims(runId)).map((c) => (c.ok ? c.claim.by : c.problem)).sort()).toEqual(['ana', 'elif']);
    await expect(store.claim(runId, { ...elif, promptId: '../escape' })).rejects.toThrow(/not a prompt id/);
    await expect(store.claim(newRunId(T0 + 77_000), elif)).rejects.toThrow(/no run/);
  });

  it('delivers the events after a seq, then each new event and claim as it is stored', async () => {
    const runId = newRunId(T0 + 40);
    const journal = await store.openJournal(runId, { runbook: 'demo' }, () => undefined);
    journal.append(started(runId), true);
    journal.append(phase('p', T0 + 41), true);
    await journal.flushed();
    await store.claim(runId, { promptId: 'early', by: 'ben', answer: 'before the prompt opened', at: T0 + 42 });
    const seen = collector();
    const subscription = await store.subscribe(runId, { afterSeq: 1 }, seen.listener);
    try {
      // Already there: the second event (not the first), and the early claim.
      expect((await seen.until('event', 1)).map((u) => (u.kind === 'event' ? [u.seq, u.event.kind] : []))).toEqual([[2, 'phase-started']]);
      expect((await seen.until('claim', 1)).map((u) => (u.kind === 'claim' && u.claim.ok ? u.claim.claim.promptId : ''))).toEqual(['early']);
      journal.append(step('s1', T0 + 43), true);
      journal.append(step('s2', T0 + 44), false);
      await journal.flushed();
      const events = await seen.until('event', 3);
      expect(events.map((u) => (u.kind === 'event' ? u.seq : 0))).toEqual([2, 3, 4]);
      expect(events.map((u) => (u.kind === 'event' && u.event.kind === 'step-started' ? u.event.stepId : ''))).toEqual(['', 's1', 's2']);
      const last = events[2]!;
      expect(last.kind === 'event' && last.hash).toBe(hashLine(backend.line(runId, 4)));
      await store.claim(runId, { promptId: 'late', by: 'elif', answer: true, at: T0 + 45 });
      expect((await seen.until('claim', 2)).map((u) => (u.kind === 'claim' && u.claim.ok ? u.claim.claim.by : ''))).toEqual(['ben', 'elif']);
      expect(seen.updates.filter((u) => u.kind === 'problem')).toEqual([]);
    } finally {
      await subscription.close();
      await journal.close();
    }
    // Closed: nothing more arrives.
    const before = seen.updates.length;
    await store.claim(runId, { promptId: 'after-close', by: 'ana', answer: true, at: T0 + 46 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seen.updates.length).toBe(before);
  });

  it('keeps sealed records and lists them newest first; finds the one of a run that ended a given way', async () => {
    const records = [
      { runId: newRunId(T0 + 50), sealedAt: T0 + 60_000, status: 'succeeded' },
      { runId: newRunId(T0 + 51), sealedAt: T0 + 120_000, status: 'rolled-back' },
    ];
    for (const r of records) {
      const name = recordFileName('demo', r.runId, r.sealedAt);
      const payload = Buffer.from(JSON.stringify({ predicate: { run_id: r.runId, status: r.status } })).toString('base64');
      const text = `${JSON.stringify({ payloadType: 'application/vnd.in-toto+json', payload, signatures: [] }, null, 2)}\n`;
      const file = path.join(localDir.recordsDir, name);
      fs.mkdirSync(localDir.recordsDir, { recursive: true });
      fs.writeFileSync(file, text);
      await store.saveRecord({ name, runId: r.runId, runbook: 'demo', status: r.status, sealedAt: r.sealedAt, text, file });
    }
    const listed = await store.listRecords();
    expect(listed.map((r) => r.name.endsWith(`${records[1]!.runId}.json`))).toEqual([true, false]);
    const newest = listed[0]!;
    const bytes = newest.bytes ?? fs.readFileSync(newest.file!);
    expect(JSON.parse(Buffer.from(bytes).toString('utf8')).payloadType).toBe('application/vnd.in-toto+json');
    expect(await store.findSealedRecord(records[1]!.runId, 'rolled-back')).toContain(records[1]!.runId);
    expect(await store.findSealedRecord(records[1]!.runId, 'succeeded')).toBeUndefined();
  });

  describe('damaged state is reported, never thrown', () => {
    async function runOfThree(offset: number): Promise<string> {
      const runId = newRunId(T0 + offset);
      const j = await store.openJournal(runId, { runbook: 'demo' }, () => undefined);
      j.append(started(runId), true);
      j.append(phase('p', T0 + offset + 1), true);
      j.append(step('s1', T0 + offset + 2), true);
      await j.close();
      return runId;
    }

    it('names the event after one edited by hand', async () => {
      const runId = await runOfThree(100);
      const edited = JSON.parse(backend.line(runId, 2)) as Record<string, unknown>;
      backend.tamper(runId, 2, JSON.stringify({ ...edited, phaseId: 'forged' }));
      const read = await store.readRun(runId);
      expect(read!.chain.status).toBe('broken');
      expect(read!.chain.problems.join('\n')).toMatch(/(line|row) 3\b.*does not link to the event before it/);
      // Still read: the run can be shown, only not trusted.
      expect(read!.events).toHaveLength(3);
    });

    it('names a gap where an event was removed', async () => {
      const runId = await runOfThree(200);
      backend.remove(runId, 2);
      const read = await store.readRun(runId);
      expect(read!.chain.status).toBe('broken');
      expect(read!.chain.problems.join('\n')).toMatch(/does not link to the event before it/);
    });

    it('counts a stored line that is not an event, and says where', async () => {
      const runId = await runOfThree(300);
      backend.tamper(runId, 2, '{"kind": "step-started", "garbage');
      const read = await store.readRun(runId);
      expect(read!.skipped).toBe(1);
      expect(read!.events.map((e) => e.kind)).toEqual(['run-started', 'step-started']);
      expect(read!.chain.status).toBe('broken');
    });

    it('reports a broken link to a live subscriber too', async () => {
      const runId = await runOfThree(400);
      backend.tamper(runId, 2, JSON.stringify({ ...(JSON.parse(backend.line(runId, 2)) as object), at: 1 }));
      const seen = collector();
      const subscription = await store.subscribe(runId, {}, seen.listener);
      try {
        expect((await seen.until('event', 3)).length).toBe(3);
        const problems = (await seen.until('problem', 1)).map((u) => (u.kind === 'problem' ? u.message : ''));
        expect(problems.some((m) => /(line|row|event) 3\b.*does not link to the event before it/.test(m)), problems.join('\n')).toBe(true);
      } finally {
        await subscription.close();
      }
    });
  });
});

describe('journals written before the hash chain (local directory)', () => {
  let dir: StateDir;
  let store: StateStore;
  beforeAll(async () => {
    dir = stateDirAt(path.join(tempDir(), '.deployctl'));
    store = await openStateStore({ kind: 'directory', dir, shown: '.deployctl' });
  });
  afterEach(() => undefined);

  it('load as unchained, and are chained from the first event a resumed run adds', async () => {
    const runId = newRunId(T0 + 500);
    const file = path.join(dir.runsDir, runId, 'journal.jsonl');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Exactly what earlier versions wrote: one JSON event per line, no `prev`.
    fs.writeFileSync(file, [started(runId), phase('p', T0 + 501)].map((e) => `${JSON.stringify(e)}\n`).join(''));
    const before = await store.readRun(runId);
    expect(before).toMatchObject({ lastSeq: 2, chain: { status: 'unchained', problems: [] } });
    const journal = await store.openJournal(runId, { runbook: 'demo' }, () => undefined);
    journal.append({ kind: 'run-resumed', at: T0 + 502, runId, by: 'ana', pid: 2 }, true);
    await journal.close();
    const after = await store.readRun(runId);
    expect(after!.chain).toMatchObject({ status: 'intact', unchainedPrefix: 2, problems: [] });
    expect(after!.events.map((e) => e.kind)).toEqual(['run-started', 'phase-started', 'run-resumed']);
    // The resumed event links to the last event of the old journal.
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(JSON.parse(lines[2]!).prev).toBe(hashLine(lines[1]!));
  });

  it('a line without a link after chained ones is reported (an event inserted by hand)', async () => {
    const runId = newRunId(T0 + 600);
    const journal = await store.openJournal(runId, { runbook: 'demo' }, () => undefined);
    journal.append(started(runId), true);
    await journal.close();
    fs.appendFileSync(path.join(dir.runsDir, runId, 'journal.jsonl'), `${JSON.stringify(phase('p', T0 + 601))}\n`);
    const read = await store.readRun(runId);
    expect(read!.chain.status).toBe('broken');
    expect(read!.chain.problems[0]).toMatch(/line 2 .*carries no hash link/);
  });

  it('a torn last line (a crash while writing) is skipped, and the next writer links past it', async () => {
    const runId = newRunId(T0 + 700);
    const journal = await store.openJournal(runId, { runbook: 'demo' }, () => undefined);
    journal.append(started(runId), true);
    await journal.close();
    fs.appendFileSync(path.join(dir.runsDir, runId, 'journal.jsonl'), '{"kind":"phase-sta');
    const resumed = await store.openJournal(runId, { runbook: 'demo' }, () => undefined);
    resumed.append({ kind: 'run-resumed', at: T0 + 702, runId, by: 'ana', pid: 3 }, true);
    await resumed.close();
    const read = await store.readRun(runId);
    expect(read).toMatchObject({ skipped: 1, chain: { status: 'intact', problems: [] } });
    expect(read!.events.map((e) => e.kind)).toEqual(['run-started', 'run-resumed']);
  });
});

describe('a PostgreSQL subscriber whose connection is lost', () => {
  it('says so, reconnects, and delivers what was appended meanwhile and after, in order', async () => {
    const database = createTestDatabase();
    const store = await openStateStore(resolveState(database.url, {}, tempDir()).location);
    try {
      const runId = newRunId(T0 + 800);
      const journal = await store.openJournal(runId, { runbook: 'demo' }, () => undefined);
      journal.append(started(runId), true);
      await journal.flushed();
      const seen = collector();
      const subscription = await store.subscribe(runId, {}, seen.listener);
      try {
        await seen.until('event', 1);
        // The server ends the listening session (a restart or a failover looks the same).
        expect(database.psql(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'deployctl subscriber'`)).toBe('1');
        const [problem] = await seen.until('problem', 1);
        expect(problem).toMatchObject({ message: expect.stringContaining('lost the connection') });
        journal.append(step('while-away', T0 + 801), true);
        await journal.flushed();
        await seen.until('event', 2);
        journal.append(step('after', T0 + 802), true);
        await journal.flushed();
        const events = await seen.until('event', 3);
        expect(events.map((u) => (u.kind === 'event' ? u.seq : 0))).toEqual([1, 2, 3]);
      } finally {
        await subscription.close();
        await journal.close();
      }
    } finally {
      await store.close();
    }
  });
});
