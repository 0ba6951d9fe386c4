// Shared by demo.js and server.js: paths, the atomic JSON state file, its lock, faults and process checks.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEMO_DIR = path.dirname(fileURLToPath(import.meta.url));
export const SERVER_PATH = path.join(DEMO_DIR, 'server.js');
export const HOST = '127.0.0.1';
export const DEFAULT_PORT = 8787;
export const INITIAL_VERSION = '1.0.0';
export const VERSION_RE = /^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$/;
const HISTORY_MAX = 200;

/** Faults every version gets from its suffix, so a runbook demo needs no setup. */
export const BUILTIN_FAULTS = [
  { suffix: '-slow', fault: { latency_ms: 700 } },
  { suffix: '-errors', fault: { error_rate: 0.05 } },
  { suffix: '-down', fault: { down: true } },
];

/** An error meant for the user: printed as one line, never with a stack trace. */
export class UserError extends Error {
  constructor(message, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export function stateDir() {
  return path.resolve(process.env.DEMO_STATE_DIR || path.join(DEMO_DIR, '.state'));
}

export function statePath(dir) {
  return path.join(dir, 'state.json');
}

export function initialState() {
  return {
    version: INITIAL_VERSION,
    previous: null,
    history: [{ at: new Date().toISOString(), action: 'initial', version: INITIAL_VERSION }],
    port: null,
    pid: null,
    started_at: null,
    faults: {},
    backups: [],
    prometheus: null,
  };
}

/** Fills in whatever a hand-edited or older state file lacks. */
function normalize(raw) {
  const s = { ...initialState(), ...(raw && typeof raw === 'object' ? raw : {}) };
  if (typeof s.version !== 'string' || !VERSION_RE.test(s.version)) s.version = INITIAL_VERSION;
  if (typeof s.previous !== 'string' || !VERSION_RE.test(s.previous)) s.previous = null;
  if (!Array.isArray(s.history)) s.history = [];
  if (!Array.isArray(s.backups)) s.backups = [];
  if (!s.faults || typeof s.faults !== 'object' || Array.isArray(s.faults)) s.faults = {};
  if (!Number.isInteger(s.pid) || s.pid <= 0) s.pid = null;
  if (!Number.isInteger(s.port) || s.port <= 0 || s.port > 65535) s.port = null;
  const prom = s.prometheus;
  s.prometheus = prom && Number.isInteger(prom.pid) && prom.pid > 0 && Number.isInteger(prom.port) ? { pid: prom.pid, port: prom.port } : null;
  return s;
}

/** The state, or the initial state when no file exists yet. */
export function readState(dir) {
  const file = statePath(dir);
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err.code === 'ENOENT') return initialState();
    throw new UserError(`cannot read state file ${file}: ${err.message}`);
  }
  try {
    return normalize(JSON.parse(text));
  } catch {
    throw new UserError(`state file ${file} is not valid JSON: fix it, or delete it to start over at version ${INITIAL_VERSION}`);
  }
}

/** Writes the state atomically: a temp file in the same directory, then rename. */
export function writeState(dir, state) {
  fs.mkdirSync(dir, { recursive: true });
  if (state.history.length > HISTORY_MAX) state.history = state.history.slice(-HISTORY_MAX);
  const file = statePath(dir);
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

/** Runs fn while holding an exclusive lock file on the state, so concurrent demo.js calls do not lose updates. */
export async function withStateLock(dir, fn, waitMs = 15000) {
  fs.mkdirSync(dir, { recursive: true });
  const lock = statePath(dir) + '.lock';
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = fs.openSync(lock, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw new UserError(`cannot create lock file ${lock}: ${err.message}`);
    }
    // A lock whose holder has died is stale: remove it and retry.
    try {
      const holder = Number(fs.readFileSync(lock, 'utf8'));
      if (holder > 0 && !isAlive(holder)) fs.rmSync(lock, { force: true });
    } catch { /* it went away meanwhile */ }
    if (Date.now() > deadline) {
      throw new UserError(`state is locked by another demo.js (${lock}): wait for it to finish, or delete the lock file if no demo.js is running`);
    }
    await sleep(50);
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** The faults in effect for a version: built-in suffix faults, overridden by those set with `fault set`. */
export function effectiveFaults(state, version) {
  const f = { error_rate: 0, latency_ms: 0, down: false };
  for (const b of BUILTIN_FAULTS) if (version.endsWith(b.suffix)) Object.assign(f, b.fault);
  const own = state.faults[version];
  if (own && typeof own === 'object') {
    if (typeof own.error_rate === 'number') f.error_rate = own.error_rate;
    if (typeof own.latency_ms === 'number') f.latency_ms = own.latency_ms;
    if (typeof own.down === 'boolean') f.down = own.down;
  }
  return f;
}

export function describeFaults(f) {
  const parts = [];
  if (f.down) parts.push('down (503)');
  if (f.error_rate > 0) parts.push(`${+(f.error_rate * 100).toFixed(4)}% of requests answer 500`);
  if (f.latency_ms > 0) parts.push(`+${f.latency_ms} ms latency`);
  return parts.length ? parts.join(', ') : 'none';
}

/** Whether pid is a live process (a zombie counts as dead). */
export function isAlive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return false;
  }
  try {
    // /proc/PID/stat: "pid (comm) S ..." -- state Z means exited but not yet reaped.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): trust kill(0)
  }
}

/** Whether pid runs this demo's server.js; null when it cannot be told (no /proc). */
export function isDemoServerProcess(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(SERVER_PATH);
  } catch {
    return null;
  }
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
