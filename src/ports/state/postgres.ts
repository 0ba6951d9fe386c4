// The PostgreSQL adapter of the state port, for a team on several machines: the journal as an append-only hash-chained table, the lock as an advisory lock of the holder's session, claims as unique rows, live updates over LISTEN/NOTIFY, records in a table.
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import type pg from 'pg';
import { currentUser, isRunId, isSealedRecordOf, sortRunIdsNewestFirst, type LockInfo } from '../state-dir.js';
import { checkChain, entriesFromRows, type StoredRow } from './chain.js';
import { parseClaim } from './claims.js';
import { connectClient, errorDescriber } from './postgres-connect.js';
import { PostgresJournal } from './postgres-journal.js';
import { migrate, SCHEMA } from './postgres-schema.js';
import { updateStoredRecord } from './postgres-records.js';
import { subscribeToRun } from './postgres-subscribe.js';
import {
  isPromptId,
  StateStoreError,
  type ClaimResult,
  type JournalRead,
  type JournalWriter,
  type LockHolder,
  type LockRequest,
  type LockResult,
  type PromptClaim,
  type RecordChange,
  type RecordToSave,
  type RecordUpdate,
  type RecordUpdateOptions,
  type RunListing,
  type StateStore,
  type StateUpdate,
  type StoredClaim,
  type StoredRecord,
  type SubscribeOptions,
  type Subscription,
} from './store.js';

export type Query = <R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]) => Promise<pg.QueryResult<R>>;

/** Connect to `url` (shown as `shown`), create or migrate the schema, and return the store. Errors are StateStoreErrors without the password. */
export async function openPostgresStore(url: string, shown: string): Promise<StateStore> {
  const { describe, clean } = errorDescriber(url, shown);
  const client = await connectClient(url, describe, 'deployctl');
  // The session is the lock's holder: when it ends unasked (the server restarted, the network went), say so.
  let closing = false;
  const lost = new AbortController();
  const onLost = (error?: Error) => {
    if (closing || lost.signal.aborted) return;
    lost.abort(new StateStoreError(`lost the connection to the state database ${shown}${error ? ` (${clean(error.message)})` : ''}`));
  };
  client.on('error', onLost);
  client.on('end', () => onLost());
  const query: Query = async (sql, params) => {
    try {
      return await client.query(sql, params);
    } catch (error) {
      throw describe(error);
    }
  };
  try {
    await migrate(client, shown);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw describe(error);
  }

  const requireRun = async (runId: string) => {
    if (!isRunId(runId) || (await query(`SELECT 1 FROM ${SCHEMA}.runs WHERE run_id = $1`, [runId])).rowCount === 0) throw new StateStoreError(`no run ${runId} in ${shown}`);
  };

  /** The runbooks whose lock this session holds. */
  const held = new Set<string>();

  const store: StateStore = {
    where: shown,

    async listRuns(): Promise<RunListing[]> {
      const rows = (await query<{ run_id: string; runbook: string }>(`SELECT run_id, runbook FROM ${SCHEMA}.runs`)).rows;
      const runbooks = new Map(rows.map((r) => [r.run_id, r.runbook]));
      return sortRunIdsNewestFirst(rows.map((r) => r.run_id)).map((runId) => ({ runId, runbook: runbooks.get(runId)! }));
    },

    async readRun(runId: string): Promise<JournalRead | undefined> {
      if (!isRunId(runId)) return undefined;
      if ((await query(`SELECT 1 FROM ${SCHEMA}.runs WHERE run_id = $1`, [runId])).rowCount === 0) return undefined;
      return readRows(query, runId, shown);
    },

    async openJournal(runId: string, run: { runbook: string }, onFailure: (error: Error) => void): Promise<JournalWriter> {
      if (!isRunId(runId)) throw new StateStoreError(`'${runId}' is not a run id`);
      await query(`INSERT INTO ${SCHEMA}.runs (run_id, runbook) VALUES ($1, $2) ON CONFLICT (run_id) DO NOTHING`, [runId, run.runbook]);
      const existing = await readRows(query, runId, shown);
      return new PostgresJournal(query, runId, `run ${runId} in ${shown}`, existing.chain.head, existing.lastSeq, (error) => {
        onFailure(error);
        onLost(error);
      });
    },

    async lock(name: string, info: LockRequest, now: number): Promise<LockResult> {
      const key = lockKey(name);
      const where = `the advisory lock of ${name} in ${shown}`;
      // Advisory locks are re-entrant within a session: this process holding it already is a refusal too.
      const taken = !held.has(name) && (await query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key])).rows[0]?.ok === true;
      if (!taken) {
        // The holder names itself just after taking the lock: give it a moment to, so the refusal can say who it is.
        for (let attempt = 0; attempt < 20; attempt++) {
          const holder = await store.lockHolder(name);
          if (holder?.live) return { ok: false, holder: holder.info, where };
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return { ok: false, holder: undefined, where };
      }
      let mine: LockInfo = { user: currentUser(), host: os.hostname(), pid: process.pid, since: new Date(now).toISOString(), ...info };
      // A row left by a holder whose session ended (a crash): its advisory lock went with the session; say whose it was.
      const previous = (await query<{ holder: string }>(`SELECT holder FROM ${SCHEMA}.locks WHERE name = $1`, [name])).rows[0];
      await query(
        `INSERT INTO ${SCHEMA}.locks (name, holder, backend_pid) VALUES ($1, $2, pg_backend_pid())
         ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, backend_pid = EXCLUDED.backend_pid, taken_at = now()`,
        [name, JSON.stringify(mine)],
      );
      const replacedStale = previous !== undefined ? parseLockInfo(previous.holder) : undefined;
      held.add(name);
      return {
        ok: true,
        release: async () => {
          if (!held.delete(name) || lost.signal.aborted) return;
          await query(`DELETE FROM ${SCHEMA}.locks WHERE name = $1 AND backend_pid = pg_backend_pid()`, [name]);
          await query('SELECT pg_advisory_unlock($1::bigint)', [key]);
        },
        setRunId: async (runId) => {
          mine = { ...mine, runId };
          await query(`UPDATE ${SCHEMA}.locks SET holder = $2 WHERE name = $1 AND backend_pid = pg_backend_pid()`, [name, JSON.stringify(mine)]);
        },
        ...(replacedStale !== undefined ? { replacedStale } : {}),
        lost: lost.signal,
      };
    },

    async lockHolder(name: string): Promise<LockHolder | undefined> {
      const row = (
        await query<{ holder: string; live: boolean }>(
          `SELECT l.holder, EXISTS (
             SELECT 1 FROM pg_locks p
             WHERE p.locktype = 'advisory' AND p.granted AND p.pid = l.backend_pid AND p.objsubid = 1
               AND ((p.classid::bigint << 32) | p.objid::bigint) = $2::bigint
           ) AS live
           FROM ${SCHEMA}.locks l WHERE l.name = $1`,
          [name, lockKey(name)],
        )
      ).rows[0];
      const info = row === undefined ? undefined : parseLockInfo(row.holder);
      return info === undefined ? undefined : { info, live: row!.live };
    },

    async claim(runId: string, claim: PromptClaim): Promise<ClaimResult> {
      await requireRun(runId);
      if (!isPromptId(claim.promptId)) throw new StateStoreError(`'${claim.promptId}' is not a prompt id`);
      const inserted = await query(`INSERT INTO ${SCHEMA}.claims (run_id, prompt_id, claim) VALUES ($1, $2, $3) ON CONFLICT (run_id, prompt_id) DO NOTHING`, [
        runId,
        claim.promptId,
        JSON.stringify(claim),
      ]);
      if (inserted.rowCount === 1) return { won: true, claim };
      const winner = await store.readClaim(runId, claim.promptId);
      return { won: false, winner: winner ?? { ok: false, promptId: claim.promptId, problem: `the claim on ${claim.promptId} disappeared while being read` } };
    },

    async readClaim(runId: string, promptId: string): Promise<StoredClaim | undefined> {
      const row = (await query<{ claim: string }>(`SELECT claim FROM ${SCHEMA}.claims WHERE run_id = $1 AND prompt_id = $2`, [runId, promptId])).rows[0];
      return row === undefined ? undefined : parseClaim(row.claim, promptId, `the claim on ${promptId} of run ${runId} in ${shown}`);
    },

    async readClaims(runId: string): Promise<StoredClaim[]> {
      const rows = (await query<{ prompt_id: string; claim: string }>(`SELECT prompt_id, claim FROM ${SCHEMA}.claims WHERE run_id = $1 ORDER BY stored_at, prompt_id`, [runId])).rows;
      return rows.map((r) => parseClaim(r.claim, r.prompt_id, `the claim on ${r.prompt_id} of run ${runId} in ${shown}`));
    },

    async subscribe(runId: string, options: SubscribeOptions, listener: (update: StateUpdate) => void): Promise<Subscription> {
      await requireRun(runId);
      // Its own session (LISTEN waits on it), named so that pg_stat_activity tells a subscriber from a run.
      return subscribeToRun({ connect: () => connectClient(url, describe, 'deployctl subscriber'), runId, options, listener, shown, describe });
    },

    async saveRecord(record: RecordToSave): Promise<string> {
      await query(
        `INSERT INTO ${SCHEMA}.records (name, run_id, runbook, status, sealed_at, envelope) VALUES ($1, $2, $3, $4, to_timestamp($5::double precision / 1000), $6)
         ON CONFLICT (name) DO NOTHING`,
        [record.name, record.runId, record.runbook, record.status, record.sealedAt, record.text],
      );
      // Trust what is stored, not what was sent: read it back.
      const stored = (await query<{ envelope: string }>(`SELECT envelope FROM ${SCHEMA}.records WHERE name = $1`, [record.name])).rows[0]?.envelope;
      if (stored !== record.text) throw new StateStoreError(`${shown} already holds a different record named ${record.name}; this run's record stays in ${record.file} only`);
      return `postgres:${record.name} in ${shown}`;
    },

    async listRecords(): Promise<StoredRecord[]> {
      const rows = (await query<{ name: string; envelope: string; ms: number }>(`SELECT name, envelope, (extract(epoch FROM sealed_at) * 1000)::float8 AS ms FROM ${SCHEMA}.records ORDER BY sealed_at DESC, name DESC`)).rows;
      return rows.map((r) => ({ name: r.name, where: `postgres:${r.name}`, time: Number(r.ms), bytes: Buffer.from(r.envelope, 'utf8') }));
    },

    async findSealedRecord(runId: string, status: string): Promise<string | undefined> {
      const rows = (await query<{ name: string; envelope: string }>(`SELECT name, envelope FROM ${SCHEMA}.records WHERE run_id = $1 ORDER BY sealed_at DESC`, [runId])).rows;
      const found = rows.find((r) => isSealedRecordOf(r.envelope, runId, status));
      return found === undefined ? undefined : `postgres:${found.name} in ${shown}`;
    },

    async updateRecord<T>(name: string, change: (current: Uint8Array) => RecordChange<T>, options: RecordUpdateOptions): Promise<RecordUpdate<T>> {
      return updateStoredRecord(client, describe, shown, name, change, options);
    },

    async close() {
      closing = true;
      await client.end().catch(() => undefined);
    },
  };
  return store;
}

async function readRows(query: Query, runId: string, shown: string): Promise<JournalRead> {
  const rows = (await query<{ seq: string; line: string; hash: string }>(`SELECT seq, line, hash FROM ${SCHEMA}.events WHERE run_id = $1 ORDER BY seq`, [runId])).rows;
  const stored: StoredRow[] = rows.map((r) => ({ seq: Number(r.seq), line: r.line, hash: r.hash }));
  const { entries, skipped, problems } = entriesFromRows(stored);
  const chain = checkChain(runId, entries, (e) => `row ${e.position} of run ${runId} in ${shown}`);
  const all = [...problems.map((p) => `${p} (run ${runId} in ${shown})`), ...chain.problems];
  return {
    runId,
    events: entries.map((e) => e.event),
    lastSeq: stored.length === 0 ? 0 : stored[stored.length - 1]!.seq,
    skipped: skipped.length,
    tornTail: false,
    chain: { ...chain, problems: all, status: all.length > 0 ? 'broken' : chain.status },
  };
}

/** The advisory lock key of a runbook: 63 bits of a hash of its name (pg_locks shows it as classid:objid). */
export function lockKey(name: string): string {
  const digest = createHash('sha256').update(`deployctl lock ${name}`, 'utf8').digest();
  return (digest.readBigUInt64BE(0) & 0x7fffffffffffffffn).toString();
}

function parseLockInfo(text: string): LockInfo | undefined {
  try {
    const value = JSON.parse(text) as LockInfo;
    return typeof value === 'object' && value !== null && typeof value.pid === 'number' && typeof value.runId === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
