// The test run's PostgreSQL (started by test/setup/postgres.ts): a fresh database per call, its URL, and psql against it. Throws, saying what is missing, when the server could not start: the test fails, it is never skipped.
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { inject } from 'vitest';
import { PASSWORD, PASSWORD_ROLE } from './pg-cluster.mjs';

export { PASSWORD, PASSWORD_ROLE };

export interface TestDatabase {
  name: string;
  /** postgres:///NAME?host=SOCKET&port=N: the test runner's user, over the Unix socket. */
  url: string;
  socketDir: string;
  port: number;
  /** The URL as `user[:password]`. */
  urlAs(user: string, password?: string): string;
  /** Run SQL as the superuser in this database; returns psql's unaligned, tuples-only output. */
  psql(sql: string): string;
}

function server(): { socketDir: string; port: number; bin: string } {
  const provided = inject('postgres');
  if ('error' in provided) throw new Error(`this test needs PostgreSQL, which could not start: ${provided.error}`);
  return provided;
}

function psqlAt(s: { socketDir: string; port: number; bin: string }, database: string, sql: string): string {
  const result = spawnSync(path.join(s.bin, 'psql'), ['-X', '-h', s.socketDir, '-p', String(s.port), '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', '-Atqc', sql], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`psql failed: ${result.stderr}`);
  return result.stdout.trim();
}

/** A new, empty database in the test run's cluster, owned by `owner` (default: the superuser). */
export function createTestDatabase(owner?: string): TestDatabase {
  const s = server();
  const name = `t_${randomBytes(6).toString('hex')}`;
  psqlAt(s, 'postgres', `CREATE DATABASE "${name}"${owner ? ` OWNER "${owner}"` : ''}`);
  const query = `?host=${encodeURIComponent(s.socketDir)}&port=${s.port}`;
  return {
    name,
    url: `postgres:///${name}${query}`,
    socketDir: s.socketDir,
    port: s.port,
    urlAs: (user, password) => `postgres://${encodeURIComponent(user)}${password !== undefined ? `:${encodeURIComponent(password)}` : ''}@/${name}${query}`,
    psql: (sql) => psqlAt(s, name, sql),
  };
}
