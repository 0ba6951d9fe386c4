#!/usr/bin/env node
// The demo target's adapter CLI: start/stop/status the local service, back it up, deploy, roll back, inject faults.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import {
  HOST, DEFAULT_PORT, SERVER_PATH, VERSION_RE, BUILTIN_FAULTS, UserError,
  stateDir, statePath, readState, writeState, withStateLock, effectiveFaults, describeFaults,
  isAlive, isDemoServerProcess, sleep,
} from './state.js';
import { DEFAULT_PROMETHEUS_PORT, INSTALL_HINT, findPrometheus, isOurPrometheus, startPrometheus, stopPrometheus } from './prometheus.js';

// `demo.js status | head`: the reader has enough; that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const ME = './demo/demo.js';
const START_HINT = `run ${ME} start`;
const START_WAIT_MS = 5000;
const FAST = process.env.DEMO_FAST === '1';

const HELP = {
  main: `Usage: ${ME} <command> [options]

A local stand-in for the chat assistant web app, for deployment runbooks:
an HTTP service on 127.0.0.1 plus deploy, backup and rollback commands.

Commands:
  start [--port N] [--prometheus] [--traffic RPS]
                        start the service in the background (idempotent);
                        --prometheus also starts a local Prometheus scraping it
  stop                  stop the service (idempotent)
  status                show version, previous version, pid, URL, health (exit 1 if down)
  backup [--check]      write a timestamped backup of the current state
                        (--check: only verify one can be written; writes nothing)
  deploy <version>      deploy a version, e.g. 1.1.0 (the service must be running)
  rollback              go back to the previous version
  fault set <version> [--error-rate R] [--latency-ms N] [--down]
  fault clear [<version>]
  fault list            show configured and built-in faults

Built-in faults by version suffix: -slow (+700 ms), -errors (5% of requests
answer 500), -down (503 everywhere), e.g. "deploy 1.1.0-errors".

Environment:
  DEMO_STATE_DIR   state directory (default: the .state/ directory next to demo.js)
  DEMO_PORT        port on 127.0.0.1 (default ${DEFAULT_PORT}; 0 picks a free one)
  DEMO_FAST=1      skip the simulated deploy delays
  DEMO_PROMETHEUS_PORT  port of the local Prometheus (default ${DEFAULT_PROMETHEUS_PORT}; 0 picks a free one)

Exit codes: 0 ok, 1 failure, 2 usage error. "${ME} <command> --help" for details.`,
  start: `Usage: ${ME} start [--port N] [--prometheus] [--traffic RPS]

Starts the service in the background (own process group, log in the state
directory) and waits until /api/health answers. --port overrides DEMO_PORT
(default ${DEFAULT_PORT}); 0 picks a free port. Already running: says so, exit 0.
GET /metrics serves its metrics in the Prometheus text format.

--prometheus also starts a local Prometheus (the \`prometheus\` binary on PATH)
scraping /metrics every second, on DEMO_PROMETHEUS_PORT (default ${DEFAULT_PROMETHEUS_PORT}),
with its data in the state directory, and simulated shoppers (--traffic, default
20 requests/s) so that rates are never empty. Without the binary it says how to
install it, and the demo runs without it. --traffic RPS alone sends the traffic.`,
  stop: `Usage: ${ME} stop

Stops the service (SIGTERM, then SIGKILL after 2 s). Not running: says so, exit 0.`,
  status: `Usage: ${ME} status

Prints version, previous version, pid, URL and health. Exit 0 when the service
is up and healthy, 1 otherwise.`,
  backup: `Usage: ${ME} backup [--check]

Writes a copy of the current state (version, previous version, history,
faults) to backups/backup-<timestamp>.json in the state directory.
--check only verifies that a backup can be taken now (the state is readable,
the backups directory can be written) and writes nothing: for pre-flight
checks that run on every CI build, where a real backup does not belong.`,
  deploy: `Usage: ${ME} deploy <version>

Deploys <version> (letters, digits, '.', '+', '-'; at most 64 characters) to
the running service; the current version becomes the previous one, for
rollback. DEMO_FAST=1 skips the simulated build/upload delays.`,
  rollback: `Usage: ${ME} rollback

Restores the previous version. Fails (exit 1) when there is none.`,
  fault: `Usage: ${ME} fault set <version> [--error-rate R] [--latency-ms N] [--down]
       ${ME} fault clear [<version>]
       ${ME} fault list

Configures misbehaviour per version; it takes effect at once whenever that
version is deployed. --error-rate R (0..1) fails exactly that share of requests
with 500 (deterministically: 0.05 = every 20th); --latency-ms N delays every
answer; --down answers 503 everywhere. "set" replaces what was set for that
version before; options left out fall back to the built-in suffix faults
(-slow, -errors, -down). "clear" without a version clears all versions.`,
};

function out(line = '') {
  process.stdout.write(line + '\n');
}

function usage(message, command) {
  return new UserError(`${message}\n${HELP[command] ? HELP[command].split('\n\n')[0] : `run ${ME} --help`}`, 2);
}

/** util.parseArgs with our usage errors. */
function parse(command, args, options = {}, maxPositionals = 0) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw usage(err.message.split('\n')[0], command);
  }
  if (parsed.positionals.length > maxPositionals) {
    throw usage(`unexpected argument "${parsed.positionals[maxPositionals]}"`, command);
  }
  return parsed;
}

function parsePort(text, source) {
  const port = Number(text);
  if (!/^\d+$/.test(String(text).trim()) || port > 65535) {
    throw new UserError(`invalid port "${text}" in ${source}: use 0..65535 (0 picks a free port)`, 2);
  }
  return port;
}

function checkVersion(version, command) {
  if (version === undefined) throw usage('missing <version>', command);
  if (!VERSION_RE.test(version)) {
    throw new UserError(`invalid version "${version}": use 1-64 letters, digits, '.', '+' or '-', starting with a letter or digit (e.g. 1.2.0)`, 2);
  }
  return version;
}

const urlOf = (port) => `http://${HOST}:${port}`;

/** GET /api/health without keep-alive (so nothing holds this process open). Null when nothing answers. */
function probe(port, timeoutMs = 3000) {
  if (!port) return Promise.resolve(null);
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = http.request({ host: HOST, port, path: '/api/health', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(body); } catch { /* not ours */ }
        resolve({
          status: res.statusCode,
          pid: Number(res.headers['x-demo-pid']) || null,
          version: res.headers['x-demo-version'] ?? json?.version ?? null,
          uptime_s: json?.uptime_s,
          ms: Math.round(performance.now() - t0),
        });
      });
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(null));
    req.end();
  });
}

/**
 * What the recorded pid is: 'stopped' (none), 'stale' (gone, or some other process now),
 * 'running' (our server answers on the recorded port) or 'unresponsive' (our server, not answering).
 */
async function inspect(state) {
  const { pid, port } = state;
  if (!pid) return { kind: 'stopped' };
  if (!isAlive(pid)) return { kind: 'stale', pid };
  const health = await probe(port);
  if (health && health.pid === pid) return { kind: 'running', pid, port, health };
  if (isDemoServerProcess(pid)) return { kind: 'unresponsive', pid, port };
  return { kind: 'stale', pid };
}

async function waitUntilDead(pid, ms) {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

function signal(pid, sig) {
  try {
    process.kill(-pid, sig); // the server leads its own process group
  } catch {
    try { process.kill(pid, sig); } catch { /* already gone */ }
  }
}

/** SIGTERM, then SIGKILL after 2 s. Returns 'SIGTERM' or 'SIGKILL' (what it took). */
async function terminate(pid) {
  signal(pid, 'SIGTERM');
  if (await waitUntilDead(pid, 2000)) return 'SIGTERM';
  signal(pid, 'SIGKILL');
  if (await waitUntilDead(pid, 2000)) return 'SIGKILL';
  throw new UserError(`process ${pid} did not exit after SIGKILL: check it with "ps -p ${pid}"`);
}

function logTail(file, lines = 5) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).map((l) => `  ${l}`).join('\n');
  } catch {
    return '';
  }
}

/** Spawns server.js detached; resolves with its first IPC message ({type:'listening'|'error'}) or an exit. */
function spawnServer(dir, port, logFile, traffic = 0) {
  const logFd = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [SERVER_PATH, '--port', String(port), ...(traffic > 0 ? ['--traffic', String(traffic)] : [])], {
    cwd: path.dirname(SERVER_PATH),
    detached: true,
    stdio: ['ignore', logFd, logFd, 'ipc'],
    env: { ...process.env, DEMO_STATE_DIR: dir },
  });
  fs.closeSync(logFd);
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish({ type: 'timeout' }), START_WAIT_MS);
    function finish(result) {
      clearTimeout(timer);
      child.removeAllListeners();
      if (child.connected) child.disconnect();
      child.unref();
      resolve({ child, ...result });
    }
    child.on('message', (msg) => finish(msg && typeof msg === 'object' ? msg : { type: 'unknown' }));
    child.on('exit', (code, sig) => finish({ type: 'exit', code, signal: sig }));
    child.on('error', (err) => finish({ type: 'error', code: err.code, message: err.message }));
  });
}

async function cmdStart(args) {
  const { values } = parse('start', args, { port: { type: 'string' }, prometheus: { type: 'boolean' }, traffic: { type: 'string' } });
  let traffic = values.prometheus ? 20 : 0;
  if (values.traffic !== undefined) {
    traffic = Number(values.traffic);
    if (!/^\d+$/.test(values.traffic) || traffic > 200) throw new UserError(`invalid --traffic "${values.traffic}": whole requests per second, 0 to 200`, 2);
  }
  const code = await startTarget(values, traffic);
  if (code !== 0 || !values.prometheus) return code;
  return startLocalPrometheus();
}

/** Start Prometheus beside a running demo target, unless it runs already; without the binary, say how to install it. */
async function startLocalPrometheus() {
  const dir = stateDir();
  return withStateLock(dir, async () => {
    const state = readState(dir);
    const running = state.prometheus;
    if (running && isAlive(running.pid) && isOurPrometheus(running.pid, dir) !== false) {
      out(`prometheus already running at http://${HOST}:${running.port} (pid ${running.pid}): --var prometheus_url=http://${HOST}:${running.port}`);
      return 0;
    }
    const binary = findPrometheus();
    if (binary === null) {
      process.stderr.write(`note: ${INSTALL_HINT}; the demo target runs without it\n`);
      return 0;
    }
    const port = process.env.DEMO_PROMETHEUS_PORT !== undefined && process.env.DEMO_PROMETHEUS_PORT !== ''
      ? parsePort(process.env.DEMO_PROMETHEUS_PORT, 'DEMO_PROMETHEUS_PORT')
      : DEFAULT_PROMETHEUS_PORT;
    const started = await startPrometheus({ binary, stateDir: dir, targetPort: state.port, port });
    state.prometheus = { pid: started.pid, port: started.port };
    writeState(dir, state);
    out(`prometheus running at ${started.url} (pid ${started.pid}), scraping ${urlOf(state.port)}/metrics every second`);
    out(`gate a runbook on it: --var prometheus_url=${started.url}`);
    return 0;
  });
}

async function startTarget(values, traffic) {
  const port = values.port !== undefined
    ? parsePort(values.port, '--port')
    : process.env.DEMO_PORT !== undefined && process.env.DEMO_PORT !== ''
      ? parsePort(process.env.DEMO_PORT, 'DEMO_PORT')
      : DEFAULT_PORT;
  const dir = stateDir();
  return withStateLock(dir, async () => {
    const state = readState(dir);
    const seen = await inspect(state);
    let restartPort;
    if (seen.kind === 'running') {
      // Traffic is sent by the server itself: a target started without it (the Quick start's) is restarted with it,
      // on the same port and version, so `start --prometheus` after the Quick start has rates to read (review 1 #9).
      if (traffic === 0 || (state.traffic ?? 0) === traffic) {
        out(`demo target already running at ${urlOf(seen.port)} (version ${state.version}, pid ${seen.pid})${(state.traffic ?? 0) > 0 ? `, with ${state.traffic} simulated requests/s` : ''}`);
        return 0;
      }
      out(`demo target running at ${urlOf(seen.port)} (pid ${seen.pid}) with ${state.traffic ?? 0} simulated requests/s: restarting it with ${traffic} (same port, version ${state.version})`);
      await terminate(seen.pid);
      restartPort = seen.port;
    }
    if (seen.kind === 'unresponsive') {
      throw new UserError(`demo target process ${seen.pid} exists but does not answer on port ${seen.port}: run ${ME} stop, then ${ME} start`);
    }
    if (seen.kind === 'stale') out(`(cleared stale pid ${seen.pid}: that server is gone)`);
    state.pid = null;
    writeState(dir, state); // the server reads its version from here

    const logFile = path.join(dir, 'server.log');
    const t0 = Date.now();
    const r = await spawnServer(dir, restartPort ?? port, logFile, traffic);
    if (r.type === 'error' && r.code === 'EADDRINUSE') {
      throw new UserError(`port ${port} on ${HOST} is already in use by another process: stop that process, or set DEMO_PORT to a free port (DEMO_PORT=0 picks one)`);
    }
    if (r.type !== 'listening') {
      if (r.child.pid && isAlive(r.child.pid)) await terminate(r.child.pid);
      const why = r.type === 'timeout' ? `did not start listening within ${START_WAIT_MS / 1000} s`
        : r.type === 'exit' ? `exited (code ${r.code ?? r.signal})` : `failed: ${r.message || r.code}`;
      throw new UserError(`demo server ${why}; see ${logFile}${logTail(logFile) ? `:\n${logTail(logFile)}` : ''}`);
    }

    state.pid = r.child.pid;
    state.port = r.port;
    state.traffic = traffic;
    state.started_at = new Date().toISOString();
    writeState(dir, state);

    // Wait until /api/health answers (any status: a "-down" version answers 503, and that is still up).
    let health = null;
    while (!(health = await probe(r.port, 1000)) || health.pid !== state.pid) {
      if (Date.now() - t0 > START_WAIT_MS) {
        await terminate(state.pid);
        state.pid = null;
        writeState(dir, state);
        throw new UserError(`demo server did not answer ${urlOf(r.port)}/api/health within ${START_WAIT_MS / 1000} s; see ${logFile}`);
      }
      await sleep(100);
    }
    out(`demo target running at ${urlOf(r.port)} (version ${state.version}, pid ${state.pid})${traffic > 0 ? `, with ${traffic} simulated requests/s` : ''}`);
    if (health.status !== 200) out(`note: /api/health answers ${health.status} (faults of ${state.version}: ${describeFaults(effectiveFaults(state, state.version))})`);
    return 0;
  });
}

async function cmdStop(args) {
  parse('stop', args);
  const dir = stateDir();
  return withStateLock(dir, async () => {
    const state = readState(dir);
    if (state.prometheus) {
      const { pid } = state.prometheus;
      if (isAlive(pid) && isOurPrometheus(pid, dir) !== false) {
        await stopPrometheus(pid);
        out(`prometheus stopped (pid ${pid})`);
      }
      state.prometheus = null;
      writeState(dir, state);
    }
    const seen = await inspect(state);
    if (seen.kind === 'stopped' || seen.kind === 'stale') {
      if (seen.kind === 'stale') {
        state.pid = null;
        writeState(dir, state);
      }
      out(`demo target is not running${seen.kind === 'stale' ? ` (cleared stale pid ${seen.pid})` : ''}`);
      return 0;
    }
    const how = await terminate(seen.pid);
    state.pid = null;
    state.started_at = null;
    writeState(dir, state);
    out(`demo target stopped (pid ${seen.pid}${how === 'SIGKILL' ? ', killed after not exiting on SIGTERM' : ''})`);
    return 0;
  });
}

async function cmdStatus(args) {
  parse('status', args);
  const dir = stateDir();
  const state = readState(dir);
  const seen = await inspect(state);
  const faults = effectiveFaults(state, state.version);
  out(`version:          ${state.version}`);
  out(`previous version: ${state.previous ?? '(none)'}`);
  out(`faults:           ${describeFaults(faults)}`);
  out(`pid:              ${seen.kind === 'running' || seen.kind === 'unresponsive' ? seen.pid : '(not running)'}`);
  out(`url:              ${state.port ? urlOf(state.port) : '(not started yet)'}`);
  out(`state:            ${statePath(dir)}`);
  const prom = state.prometheus;
  out(`prometheus:       ${prom && isAlive(prom.pid) ? `http://${HOST}:${prom.port} (pid ${prom.pid})` : '(not running; start --prometheus starts one)'}`);
  if (seen.kind === 'running') {
    const h = seen.health;
    const healthy = h.status === 200;
    out(`health:           ${healthy ? 'ok' : 'UNHEALTHY'} (HTTP ${h.status} in ${h.ms} ms, uptime ${h.uptime_s ?? '?'} s)`);
    if (!healthy) {
      process.stderr.write(`demo target is up but unhealthy (HTTP ${h.status}): deploy another version or run ${ME} rollback\n`);
      return 1;
    }
    return 0;
  }
  out('health:           down');
  process.stderr.write(seen.kind === 'unresponsive'
    ? `demo target process ${seen.pid} does not answer: run ${ME} stop, then ${ME} start\n`
    : `demo target is not running: ${START_HINT}\n`);
  return 1;
}

/** The directory itself, or its nearest ancestor that exists: where creating it would start. */
function nearestExisting(dir) {
  let at = dir;
  while (!fs.existsSync(at)) {
    const up = path.dirname(at);
    if (up === at) break;
    at = up;
  }
  return at;
}

/** `backup --check`: everything a backup needs, without writing one (nor a lock, nor the state). */
function checkBackup(dir) {
  const state = readState(dir);
  const backupDir = path.join(dir, 'backups');
  const existing = nearestExisting(backupDir);
  let stat;
  try {
    stat = fs.statSync(existing);
  } catch (err) {
    throw new UserError(`backup not possible: cannot inspect ${existing}: ${err.message}`);
  }
  if (!stat.isDirectory()) throw new UserError(`backup not possible: ${existing} is not a directory, so ${backupDir} cannot be created`);
  try {
    fs.accessSync(existing, fs.constants.W_OK);
  } catch (err) {
    throw new UserError(`backup not possible: ${existing} is not writable (${err.code}): fix its permissions or set DEMO_STATE_DIR`);
  }
  out(`backup possible: would write ${path.join(backupDir, 'backup-<timestamp>.json')} holding version ${state.version}`);
  out('nothing written (--check)');
  return 0;
}

async function cmdBackup(args) {
  const { values } = parse('backup', args, { check: { type: 'boolean' } });
  const dir = stateDir();
  if (values.check) return checkBackup(dir);
  return withStateLock(dir, async () => {
    const state = readState(dir);
    const createdAt = new Date().toISOString();
    const backupDir = path.join(dir, 'backups');
    fs.mkdirSync(backupDir, { recursive: true });
    const { backups, pid, port, started_at, prometheus, ...copy } = state; // the deployment, not the process
    const content = JSON.stringify({ created_at: createdAt, ...copy }, null, 2) + '\n';
    const stamp = createdAt.replace(/[:.]/g, '-');
    let file;
    for (let i = 0; ; i++) {
      file = path.join(backupDir, `backup-${stamp}${i ? `-${i}` : ''}.json`);
      try {
        fs.writeFileSync(file, content, { flag: 'wx' });
        break;
      } catch (err) {
        if (err.code !== 'EEXIST') throw new UserError(`cannot write backup ${file}: ${err.message}`);
      }
    }
    state.backups.push({ at: createdAt, version: state.version, file });
    writeState(dir, state);
    out(`backup written: ${file}`);
    out(`backup holds version ${state.version}${state.previous ? ` (previous: ${state.previous})` : ''}`);
    return 0;
  });
}

async function step(line, ms) {
  out(line);
  if (!FAST) await sleep(ms);
}

async function cmdDeploy(args) {
  const { positionals } = parse('deploy', args, {}, 1);
  const version = checkVersion(positionals[0], 'deploy');
  const dir = stateDir();
  return withStateLock(dir, async () => {
    const state = readState(dir);
    const seen = await inspect(state);
    if (seen.kind !== 'running') {
      throw new UserError(seen.kind === 'unresponsive'
        ? `demo target process ${seen.pid} does not answer: run ${ME} stop, then ${ME} start`
        : `demo target is not running: ${START_HINT}`);
    }
    if (version === state.version) {
      out(`version ${version} is already deployed (previous: ${state.previous ?? 'none'}); nothing to do`);
      return 0;
    }
    const from = state.version;
    out(`deploying ${version} to ${urlOf(seen.port)} (current: ${from})`);
    await step(`  building ${version} ...`, 500);
    await step('  uploading build artifacts ...', 500);
    await step(`  switching traffic to ${version} ...`, 400);
    state.previous = from;
    state.version = version;
    state.history.push({ at: new Date().toISOString(), action: 'deploy', version, from });
    writeState(dir, state);
    const check = await probe(seen.port);
    if (check && check.version !== version) {
      process.stderr.write(`warning: the service still reports version ${check.version}\n`);
    }
    out(`deployed ${version} (previous: ${from})`);
    const faults = effectiveFaults(state, version);
    if (describeFaults(faults) !== 'none') out(`note: ${version} has faults: ${describeFaults(faults)}`);
    return 0;
  });
}

async function cmdRollback(args) {
  parse('rollback', args);
  const dir = stateDir();
  return withStateLock(dir, async () => {
    const state = readState(dir);
    if (!state.previous) {
      throw new UserError(`no previous version to roll back to (current: ${state.version}): rollback restores the version before the last deploy`);
    }
    const seen = await inspect(state);
    const from = state.version;
    const to = state.previous;
    await step(`  switching traffic back to ${to} ...`, 300);
    state.version = to;
    state.previous = null; // one step back only: a repeated rollback must not re-deploy the bad version
    state.history.push({ at: new Date().toISOString(), action: 'rollback', version: to, from });
    writeState(dir, state);
    out(`rolled back to ${to} (from ${from})`);
    if (seen.kind !== 'running') out(`note: the demo target is not running; ${to} is served at the next start`);
    return 0;
  });
}

async function cmdFault(args) {
  const [sub, ...rest] = args;
  const dir = stateDir();
  if (sub === 'set') {
    const { values, positionals } = parse('fault', rest, {
      'error-rate': { type: 'string' }, 'latency-ms': { type: 'string' }, down: { type: 'boolean' },
    }, 1);
    const version = checkVersion(positionals[0], 'fault');
    const fault = {};
    if (values['error-rate'] !== undefined) {
      const r = Number(values['error-rate']);
      if (values['error-rate'].trim() === '' || !(r >= 0 && r <= 1)) throw new UserError(`invalid --error-rate "${values['error-rate']}": use a number from 0 to 1 (0.05 = 5%)`, 2);
      fault.error_rate = r;
    }
    if (values['latency-ms'] !== undefined) {
      const ms = Number(values['latency-ms']);
      if (!/^\d+$/.test(values['latency-ms']) || ms > 60000) throw new UserError(`invalid --latency-ms "${values['latency-ms']}": use whole milliseconds from 0 to 60000`, 2);
      fault.latency_ms = ms;
    }
    if (values.down) fault.down = true;
    if (!Object.keys(fault).length) throw usage('nothing to set: give --error-rate, --latency-ms and/or --down', 'fault');
    return withStateLock(dir, async () => {
      const state = readState(dir);
      state.faults[version] = fault;
      writeState(dir, state);
      out(`faults for ${version}: ${describeFaults(effectiveFaults(state, version))}${version === state.version ? ' (in effect now)' : ''}`);
      return 0;
    });
  }
  if (sub === 'clear') {
    const { positionals } = parse('fault', rest, {}, 1);
    const version = positionals[0] === undefined ? undefined : checkVersion(positionals[0], 'fault');
    return withStateLock(dir, async () => {
      const state = readState(dir);
      if (version === undefined) {
        const n = Object.keys(state.faults).length;
        state.faults = {};
        writeState(dir, state);
        out(`cleared faults of ${n} version${n === 1 ? '' : 's'} (built-in suffix faults still apply)`);
      } else if (!state.faults[version]) {
        out(`no faults set for ${version}`);
      } else {
        delete state.faults[version];
        writeState(dir, state);
        out(`cleared faults for ${version}; now: ${describeFaults(effectiveFaults(state, version))}`);
      }
      return 0;
    });
  }
  if (sub === 'list') {
    parse('fault', rest);
    const state = readState(dir);
    const versions = Object.keys(state.faults).sort();
    out('configured faults:');
    if (!versions.length) out('  (none)');
    for (const v of versions) out(`  ${v}: ${describeFaults(effectiveFaults(state, v))}`);
    out('built-in faults by version suffix:');
    for (const b of BUILTIN_FAULTS) out(`  *${b.suffix}: ${describeFaults({ error_rate: 0, latency_ms: 0, down: false, ...b.fault })}`);
    out(`current version ${state.version}: ${describeFaults(effectiveFaults(state, state.version))}`);
    return 0;
  }
  throw usage(sub === undefined ? 'missing fault command (set, clear or list)' : `unknown fault command "${sub}"`, 'fault');
}

const COMMANDS = {
  start: cmdStart, stop: cmdStop, status: cmdStatus, backup: cmdBackup,
  deploy: cmdDeploy, rollback: cmdRollback, fault: cmdFault,
};

async function main(argv) {
  const [command, ...args] = argv;
  if (command === undefined) {
    process.stderr.write(HELP.main + '\n');
    return 2;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    out(HELP[args[0]] ?? HELP.main);
    return 0;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : null;
  if (!run) throw new UserError(`unknown command "${command}": run ${ME} --help`, 2);
  if (args.includes('--help') || args.includes('-h')) {
    out(HELP[command]);
    return 0;
  }
  return run(args);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    if (err instanceof UserError) {
      process.stderr.write(`demo.js: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`demo.js: internal error: ${err?.stack || err}\n`);
      process.exitCode = 1;
    }
  },
);
