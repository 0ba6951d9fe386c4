// The PostgreSQL schema of the state store, created and migrated by deployctl itself: numbered migrations, each applied once, under an advisory lock so that several hosts starting at once migrate it once.
import type { ClientBase } from 'pg';
import { StateStoreError } from './store.js';

/** Every table lives in this schema; nothing of deployctl's touches `public`. */
export const SCHEMA = 'deployctl';

/** The advisory lock key migrations run under (an arbitrary constant: "deployctl" in ASCII, then 1). */
const MIGRATION_LOCK = '7234298120587068417';

interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Append-only: a new version adds a migration at the end; a released one never changes. Run ids are checked here too
 * (the notify channel is named after the run, and a channel name is at most 63 bytes).
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, the hash-chained journal, prompt claims, locks, records; NOTIFY on new events and claims',
    sql: `
      CREATE TABLE ${SCHEMA}.runs (
        run_id text PRIMARY KEY CHECK (run_id ~ '^[0-9]{8}T[0-9]{6}([0-9]{3})?Z-[0-9a-f]{6}$'),
        runbook text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE ${SCHEMA}.events (
        run_id text NOT NULL REFERENCES ${SCHEMA}.runs (run_id),
        seq bigint NOT NULL CHECK (seq > 0),
        line text NOT NULL,
        hash text NOT NULL,
        stored_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, seq)
      );
      CREATE FUNCTION ${SCHEMA}.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'deployctl.events is append-only: % refused', TG_OP;
      END $$;
      CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON ${SCHEMA}.events
        FOR EACH ROW EXECUTE FUNCTION ${SCHEMA}.refuse_change();
      CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON ${SCHEMA}.events
        FOR EACH STATEMENT EXECUTE FUNCTION ${SCHEMA}.refuse_change();
      CREATE TABLE ${SCHEMA}.claims (
        run_id text NOT NULL REFERENCES ${SCHEMA}.runs (run_id),
        prompt_id text NOT NULL,
        claim text NOT NULL,
        stored_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, prompt_id)
      );
      CREATE TABLE ${SCHEMA}.locks (
        name text PRIMARY KEY,
        holder text NOT NULL,
        backend_pid integer NOT NULL,
        taken_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE ${SCHEMA}.records (
        name text PRIMARY KEY,
        run_id text NOT NULL,
        runbook text NOT NULL,
        status text NOT NULL,
        sealed_at timestamptz NOT NULL,
        envelope text NOT NULL,
        stored_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX records_run ON ${SCHEMA}.records (run_id);
      -- Subscribers LISTEN on "deployctl.run.<run id>"; the payload says what to read: e:<seq> or c:<prompt id>.
      CREATE FUNCTION ${SCHEMA}.notify_event() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('deployctl.run.' || NEW.run_id, 'e:' || NEW.seq);
        RETURN NULL;
      END $$;
      CREATE TRIGGER events_notify AFTER INSERT ON ${SCHEMA}.events
        FOR EACH ROW EXECUTE FUNCTION ${SCHEMA}.notify_event();
      CREATE FUNCTION ${SCHEMA}.notify_claim() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('deployctl.run.' || NEW.run_id, 'c:' || NEW.prompt_id);
        RETURN NULL;
      END $$;
      CREATE TRIGGER claims_notify AFTER INSERT ON ${SCHEMA}.claims
        FOR EACH ROW EXECUTE FUNCTION ${SCHEMA}.notify_claim();
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The channel a run's events and claims are announced on. */
export function runChannel(runId: string): string {
  return `deployctl.run.${runId}`;
}

/**
 * Bring the schema to SCHEMA_VERSION. Cheap when it is there already (one query, no lock); otherwise every missing
 * migration runs in one transaction under an advisory lock, so two processes migrating at once apply each once.
 * Refuses a schema newer than this deployctl knows.
 */
export async function migrate(client: ClientBase, shown: string): Promise<void> {
  const current = await appliedVersion(client);
  if (current !== undefined) {
    refuseNewer(current, shown);
    if (current === SCHEMA_VERSION) return;
  }
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${SCHEMA}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    // Read again under the lock: another process may have migrated while this one waited.
    const applied = new Set((await client.query<{ version: number }>(`SELECT version FROM ${SCHEMA}.migrations`)).rows.map((r) => r.version));
    refuseNewer(Math.max(0, ...applied), shown);
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query(`INSERT INTO ${SCHEMA}.migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The newest migration applied, or undefined when the schema is not there yet. */
async function appliedVersion(client: ClientBase): Promise<number | undefined> {
  const exists = await client.query<{ present: boolean }>(`SELECT to_regclass('${SCHEMA}.migrations') IS NOT NULL AS present`);
  if (exists.rows[0]?.present !== true) return undefined;
  const result = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${SCHEMA}.migrations`);
  return result.rows[0]?.version ?? undefined;
}

function refuseNewer(version: number, shown: string): void {
  if (version > SCHEMA_VERSION) {
    throw new StateStoreError(
      `the state database ${shown} was set up by a newer deployctl (schema version ${version}; this deployctl knows up to ${SCHEMA_VERSION})`,
      'upgrade deployctl on this machine to the version the rest of the team uses',
    );
  }
}
