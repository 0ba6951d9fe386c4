// updateRecord on PostgreSQL: a stored record's row, locked (SELECT … FOR UPDATE) for the read, the change and the write in one transaction, so two sign-offs at once run one after the other; a wait that runs out names the session holding the row.
import * as os from 'node:os';
import type pg from 'pg';
import { SCHEMA } from './postgres-schema.js';
import type { RecordChange, RecordLockHolder, RecordUpdate, RecordUpdateOptions, StateStoreError } from './store.js';

/** PostgreSQL's lock_not_available: lock_timeout ran out. */
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Run `change` on the row of record `name` while this session holds the row's lock, and write what it says, in one
 * transaction. A session that dies while holding the lock (the process killed, the connection lost) has its transaction
 * rolled back by the server: the record stays as it was, and the next waiter goes on. The store's session is used for
 * nothing else meanwhile (one command, one store).
 */
export async function updateStoredRecord<T>(
  client: pg.ClientBase,
  describe: (error: unknown) => StateStoreError,
  shown: string,
  name: string,
  change: (current: Uint8Array) => RecordChange<T>,
  options: RecordUpdateOptions,
): Promise<RecordUpdate<T>> {
  const lock = `the row of ${name} in ${shown}`;
  const started = Date.now();
  const waitMs = Math.max(1, Math.ceil(options.waitMs));
  let result: T;
  let written = false;
  try {
    await client.query('BEGIN');
    // Settings for this transaction only: how long to wait for the row, and a name for whoever waits on it.
    await client.query(
      "SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true), set_config('application_name', $3, true)",
      [`${waitMs}ms`, `${waitMs + 60_000}ms`, sessionName(options.what)],
    );
    let row: { envelope: string } | undefined;
    try {
      row = (await client.query<{ envelope: string }>(`SELECT envelope FROM ${SCHEMA}.records WHERE name = $1 FOR UPDATE`, [name])).rows[0];
    } catch (error) {
      if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw error;
      await client.query('ROLLBACK');
      const holder = await rowHolder(client, name);
      return { kind: 'locked', lock, waitedMs: Date.now() - started, inDatabase: true, ...(holder !== undefined ? { holder } : {}) };
    }
    if (row === undefined) {
      await client.query('ROLLBACK');
      return { kind: 'missing', where: shown };
    }
    const decided = change(Buffer.from(row.envelope, 'utf8'));
    result = decided.result;
    if (decided.write === undefined) {
      await client.query('ROLLBACK');
      return { kind: 'done', result, lock };
    }
    await client.query(`UPDATE ${SCHEMA}.records SET envelope = $2 WHERE name = $1`, [name, Buffer.from(decided.write).toString('utf8')]);
    await client.query('COMMIT');
    written = true;
  } catch (error) {
    if (!written) await client.query('ROLLBACK').catch(() => undefined);
    throw describe(error);
  }
  // Trust what is stored, not what was sent: read it back.
  const back = (await client.query<{ envelope: string }>(`SELECT envelope FROM ${SCHEMA}.records WHERE name = $1`, [name]).catch((error: unknown) => {
    throw describe(error);
  })).rows[0];
  return { kind: 'done', result, lock, stored: back === undefined ? new Uint8Array() : Buffer.from(back.envelope, 'utf8') };
}

/** What pg_stat_activity shows for a session updating a record (at most 63 bytes are kept). */
function sessionName(what: string): string {
  return `${what} (pid ${process.pid} on ${os.hostname()})`.slice(0, 63);
}

/**
 * The session holding the row's lock, if one still does: the row's xmax is the locking transaction's id, and that
 * transaction's session holds an exclusive lock on its own id. Best effort: a holder gone meanwhile, or several sharing
 * the row, is undefined.
 */
async function rowHolder(client: pg.ClientBase, name: string): Promise<RecordLockHolder | undefined> {
  try {
    const row = (
      await client.query<{ pid: number; application_name: string | null; addr: string | null; since: Date | null }>(
        `SELECT a.pid, a.application_name, a.client_addr::text AS addr, a.xact_start AS since
         FROM ${SCHEMA}.records r
         JOIN pg_locks l ON l.locktype = 'transactionid' AND l.transactionid = r.xmax AND l.granted AND l.mode = 'ExclusiveLock'
         JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE r.name = $1 AND a.pid <> pg_backend_pid()`,
        [name],
      )
    ).rows[0];
    if (row === undefined) return undefined;
    return {
      what: row.application_name !== null && row.application_name !== '' ? row.application_name : 'another database session',
      pid: row.pid,
      host: row.addr ?? 'a local socket',
      ...(row.since !== null ? { since: row.since.toISOString() } : {}),
    };
  } catch {
    return undefined;
  }
}
