// A local Prometheus for the demo (`demo.js start --prometheus`): scrapes the demo's /metrics every second, lives in the state directory.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { HOST, UserError, isAlive, sleep } from './state.js';

export const DEFAULT_PROMETHEUS_PORT = 9090;
export const INSTALL_HINT = 'prometheus is not installed: apt-get install -y prometheus (Debian/Ubuntu; or download it from prometheus.io), then run start --prometheus again';
const READY_WAIT_MS = 20000;

/** The prometheus binary: $DEMO_PROMETHEUS_BIN, else the first `prometheus` on PATH; null when there is none. */
export function findPrometheus(env = process.env) {
  if (env.DEMO_PROMETHEUS_BIN) return fs.existsSync(env.DEMO_PROMETHEUS_BIN) ? env.DEMO_PROMETHEUS_BIN : null;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, 'prometheus');
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch { /* not here */ }
  }
  return null;
}

/** A free TCP port on 127.0.0.1 (for DEMO_PROMETHEUS_PORT=0). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** prometheus.yml: one job, `demo`, scraping the demo target every second. */
export function prometheusConfig(targetPort, scrapeSeconds = 1) {
  return [
    '# Written by runbooks/demo/demo.js start --prometheus: the demo target, scraped every second.',
    'global:',
    `  scrape_interval: ${scrapeSeconds}s`,
    `  evaluation_interval: ${scrapeSeconds}s`,
    'scrape_configs:',
    '  - job_name: demo',
    '    static_configs:',
    `      - targets: ['${HOST}:${targetPort}']`,
    '',
  ].join('\n');
}

/** GET /-/ready: true once Prometheus serves queries. */
async function isReady(port) {
  try {
    const res = await fetch(`http://${HOST}:${port}/-/ready`, { signal: AbortSignal.timeout(1000) });
    await res.text();
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * Start Prometheus in the background (own process group), its config, data and log under `<stateDir>/prometheus/`,
 * and wait until it is ready. Returns `{ pid, port, url, log }`.
 */
export async function startPrometheus({ binary, stateDir, targetPort, port }) {
  const dir = path.join(stateDir, 'prometheus');
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  const config = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(config, prometheusConfig(targetPort));
  const listen = port === 0 ? await freePort() : port;
  const log = path.join(dir, 'prometheus.log');
  const logFd = fs.openSync(log, 'a');
  const child = spawn(binary, [
    `--config.file=${config}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=${HOST}:${listen}`,
    '--storage.tsdb.retention.time=2d',
  ], { cwd: dir, detached: true, stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  child.on('error', (error) => (exited = { error }));
  child.unref();
  const deadline = Date.now() + READY_WAIT_MS;
  while (!(await isReady(listen))) {
    if (exited !== null || Date.now() > deadline) {
      if (exited === null) stopProcessGroup(child.pid);
      const tail = readTail(log);
      const inUse = /address already in use/.test(tail) ? ` (port ${listen} is in use: set DEMO_PROMETHEUS_PORT to a free port, 0 picks one)` : '';
      throw new UserError(`prometheus did not become ready on ${HOST}:${listen}${inUse}; see ${log}${tail ? `:\n${tail}` : ''}`);
    }
    await sleep(100);
  }
  return { pid: child.pid, port: listen, url: `http://${HOST}:${listen}`, log };
}

/** Whether pid is a prometheus this demo started (its command line names our config); null without /proc. */
export function isOurPrometheus(pid, stateDir) {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes(`--config.file=${path.join(stateDir, 'prometheus', 'prometheus.yml')}`);
  } catch {
    return null;
  }
}

/** SIGTERM to the group, SIGKILL after 5 s (Prometheus flushes its head block on SIGTERM). */
export async function stopPrometheus(pid) {
  stopProcessGroup(pid, 'SIGTERM');
  for (const [deadline, signal] of [[Date.now() + 5000, 'SIGKILL'], [Date.now() + 7000, null]]) {
    while (isAlive(pid)) {
      if (Date.now() > deadline) break;
      await sleep(50);
    }
    if (!isAlive(pid)) return;
    if (signal) stopProcessGroup(pid, signal);
  }
  if (isAlive(pid)) throw new UserError(`prometheus (pid ${pid}) did not exit after SIGKILL: check it with "ps -p ${pid}"`);
}

function stopProcessGroup(pid, signal = 'SIGTERM') {
  try {
    process.kill(-pid, signal);
  } catch {
    try { process.kill(pid, signal); } catch { /* gone */ }
  }
}

function readTail(file, lines = 5) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).map((l) => `  ${l}`).join('\n');
  } catch {
    return '';
  }
}
