// The test run's PostgreSQL: started by the first test that needs it (one cluster for the whole run, shared by the workers through the run directory test/setup/postgres.ts provides, and stopped there), then a fresh database per call. Throws, saying what is missing, when the server could not start: the test fails, it is never skipped.
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inject } from 'vitest';
import { PASSWORD, PASSWORD_ROLE, startCluster } from './pg-cluster.mjs';

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

interface Server {
  socketDir: string;
  port: number;
  bin: string;
  root: string;
}

let known: Server | undefined;

/** The run's cluster: started here by the first worker that asks (the others wait for it), then read from the run directory. */
function server(): Server {
  if (known !== undefined) return known;
  const provided = inject('postgres');
  if (provided === undefined) throw new Error('this test needs PostgreSQL, and vitest.config.ts runs no test/setup/postgres.ts globalSetup to share one');
  const started = path.join(provided.runDir, 'cluster.json');
  const failed = path.join(provided.runDir, 'error.txt');
  const starting = path.join(provided.runDir, 'starting');
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (fs.existsSync(started)) return (known = JSON.parse(fs.readFileSync(started, 'utf8')) as Server);
    if (fs.existsSync(failed)) throw new Error(`this test needs PostgreSQL, which could not start: ${fs.readFileSync(failed, 'utf8')}`);
    let mine = false;
    try {
      fs.mkdirSync(starting);
      mine = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (mine) {
      fs.writeFileSync(path.join(starting, 'pid'), `${process.pid}\n`);
      try {
        const cluster = startCluster({ ownerPid: provided.ownerPid });
        const info: Server = { socketDir: cluster.socketDir, port: cluster.port, bin: cluster.bin, root: cluster.root };
        fs.writeFileSync(`${started}.tmp`, JSON.stringify(info));
        fs.renameSync(`${started}.tmp`, started);
      } catch (error) {
        fs.writeFileSync(failed, (error as Error).message);
      } finally {
        fs.rmSync(starting, { recursive: true, force: true });
      }
      continue;
    }
    // Another worker is starting it: wait, unless that worker died while at it.
    if (Date.now() > deadline) throw new Error(`this test needs PostgreSQL: another test worker has been starting it for 120 s (${starting})`);
    let starter = 0;
    try {
      starter = Number(fs.readFileSync(path.join(starting, 'pid'), 'utf8').trim());
    } catch {
      // Not written yet, or done already: look again.
    }
    if (starter > 0 && !isRunning(starter)) fs.rmSync(starting, { recursive: true, force: true });
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function psqlAt(s: Server, database: string, sql: string): string {
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
