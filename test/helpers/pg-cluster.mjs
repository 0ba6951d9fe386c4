// A throwaway PostgreSQL cluster for tests and benchmarks: initdb and pg_ctl as the non-root `postgres` user, everything in one temp dir, a Unix socket only (no TCP), a random port number.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The role with a password (scram-sha-256): what tests of password handling log in as. */
export const PASSWORD_ROLE = 'deployctl_secret';
export const PASSWORD = 'pa55-w0rd:with@odd/chars';

const INSTALL = 'apt-get install -y postgresql';

/** The directory holding initdb, pg_ctl and psql: `pg_config --bindir`, else the newest /usr/lib/postgresql/<n>/bin (or the first of `only` that has them). */
export function findPostgresBin(only) {
  if (only !== undefined) return only.find((dir) => ['initdb', 'pg_ctl', 'postgres'].every((b) => fs.existsSync(path.join(dir, b))));
  const candidates = [];
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // No pg_config (it comes with libpq-dev or postgresql-common): look where Debian puts the servers.
  }
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  candidates.push(...versions.map((v) => path.join(root, v, 'bin')));
  return candidates.find((dir) => ['initdb', 'pg_ctl', 'postgres'].every((b) => fs.existsSync(path.join(dir, b))));
}

/** Stop and remove the clusters of test runs that died without stopping theirs; startCluster does this first. */
export function stopOrphanClusters() {
  const bin = findPostgresBin();
  if (bin === undefined) return;
  stopOrphans(bin, (argv) => (process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', ...argv] : argv));
}

/** Stop and remove the clusters of test runs that died without stopping theirs (their owner pid is gone). */
function stopOrphans(bin, as) {
  for (const name of fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('deployctl-pg-'))) {
    const root = path.join(os.tmpdir(), name);
    let owner;
    try {
      owner = Number(fs.readFileSync(path.join(root, 'owner.pid'), 'utf8').trim());
    } catch {
      continue;
    }
    try {
      process.kill(owner, 0);
      continue;
    } catch (error) {
      if (error.code !== 'ESRCH') continue;
    }
    const argv = as([path.join(bin, 'pg_ctl'), '-D', path.join(root, 'data'), '-m', 'immediate', '-w', 'stop']);
    spawnSync(argv[0], argv.slice(1), { stdio: 'ignore' });
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** Stop the cluster in `root` (started by startCluster, maybe in another process) and remove its files. */
export function stopCluster({ bin, root }) {
  const dataDir = path.join(root, 'data');
  if (fs.existsSync(path.join(dataDir, 'postmaster.pid'))) {
    const pgCtl = [path.join(bin, 'pg_ctl'), '-D', dataDir, '-m', 'immediate', '-w', 'stop'];
    const argv = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', ...pgCtl] : pgCtl;
    spawnSync(argv[0], argv.slice(1), { stdio: 'ignore' });
  }
  fs.rmSync(root, { recursive: true, force: true });
}

function run(argv, what) {
  const result = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) {
    throw new Error(`PostgreSQL test cluster: ${what} failed (${argv.join(' ')}): exit ${result.status ?? result.signal}\n${result.stdout}${result.stderr}`.trim());
  }
  return result.stdout;
}

/**
 * Start a cluster. Throws, saying what is missing, when it cannot. `fsync: false` (the default, for tests) trades
 * durability for speed; benchmarks pass `fsync: true` to measure what a real server does. `ownerPid` (default this
 * process): whose cluster it is; once that process is gone, the next startCluster stops it as an orphan.
 */
export function startCluster({ fsync = false, binDirs, ownerPid = process.pid } = {}) {
  const bin = findPostgresBin(binDirs);
  if (bin === undefined) {
    throw new Error(`PostgreSQL server binaries not found (no initdb and pg_ctl in \`pg_config --bindir\` or /usr/lib/postgresql/*/bin): ${INSTALL}`);
  }
  const asRoot = process.getuid?.() === 0;
  let uid;
  let gid;
  if (asRoot) {
    // initdb refuses to run as root: the server runs as the `postgres` user the Debian package creates.
    try {
      uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    } catch {
      throw new Error(`no 'postgres' user to run the PostgreSQL test server as (initdb refuses root): ${INSTALL} creates it`);
    }
  }
  const as = (argv) => (asRoot ? ['runuser', '-u', 'postgres', '--', ...argv] : argv);
  stopOrphans(bin, as);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-pg-'));
  // Whose cluster it is: one whose owner died without stopping it (a test run killed with SIGKILL) is stopped by the next.
  fs.writeFileSync(path.join(root, 'owner.pid'), `${ownerPid}\n`);
  const dataDir = path.join(root, 'data');
  const socketDir = path.join(root, 'socket');
  const log = path.join(root, 'server.log');
  fs.mkdirSync(socketDir, { mode: 0o777 });
  fs.chmodSync(socketDir, 0o777);
  fs.chmodSync(root, 0o755);
  if (asRoot) {
    fs.chownSync(root, uid, gid);
    fs.chownSync(socketDir, uid, gid);
  }
  const stop = () => stopCluster({ bin, root });
  try {
    run(as([path.join(bin, 'initdb'), '-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']), 'initdb');
    // The password role logs in with its password; everyone else (the test runner's user, postgres) is trusted on the socket.
    fs.writeFileSync(path.join(dataDir, 'pg_hba.conf'), `local all ${PASSWORD_ROLE} scram-sha-256\nlocal all all trust\n`);
    if (asRoot) fs.chownSync(path.join(dataDir, 'pg_hba.conf'), uid, gid);
    let port;
    for (let attempt = 0; ; attempt++) {
      port = 20_000 + Math.floor(Math.random() * 40_000);
      const options = [
        `-c listen_addresses=''`,
        `-k ${socketDir}`,
        `-p ${port}`,
        '-c unix_socket_permissions=0777',
        '-c max_connections=300',
        ...(fsync ? [] : ['-c fsync=off', '-c full_page_writes=off']),
      ].join(' ');
      const argv = as([path.join(bin, 'pg_ctl'), '-D', dataDir, '-l', log, '-w', '-t', '60', '-o', options, 'start']);
      const started = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
      if (started.status === 0) break;
      if (attempt === 2) {
        const serverLog = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
        throw new Error(`PostgreSQL test cluster: pg_ctl start failed: ${started.stdout}${started.stderr}\n${serverLog}`.trim());
      }
    }
    const cluster = {
      bin,
      root,
      socketDir,
      port,
      /** Run SQL as the superuser `postgres` in `database`; returns psql's unaligned output. */
      psql(sql, database = 'postgres') {
        return run([path.join(bin, 'psql'), '-X', '-h', socketDir, '-p', String(port), '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', '-Atqc', sql], 'psql').trim();
      },
      /** The URL of `database` over the socket, as the test runner's own user (a superuser here), or as `user[:password]`. */
      url(database, user) {
        const auth = user === undefined ? '' : `${user}@`;
        return `postgres://${auth}/${database}?host=${encodeURIComponent(socketDir)}&port=${port}`;
      },
      createDatabase(name, owner) {
        cluster.psql(`CREATE DATABASE "${name}"${owner ? ` OWNER "${owner}"` : ''}`);
        return name;
      },
      stop,
    };
    const me = os.userInfo().username;
    if (me !== 'postgres') cluster.psql(`CREATE ROLE "${me}" SUPERUSER LOGIN`);
    cluster.psql(`CREATE ROLE ${PASSWORD_ROLE} LOGIN PASSWORD '${PASSWORD.replace(/'/g, "''")}'`);
    return cluster;
  } catch (error) {
    stop();
    throw error;
  }
}
