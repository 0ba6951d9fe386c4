// Spawn the built CLI (bin/deployctl.js) as a real process: args, env, cwd, stdin closed by default; capture output and exit; never leave a process behind.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/deployctl.js', import.meta.url));
const ENTRY = fileURLToPath(new URL('../../dist/cli/entry.js', import.meta.url));

/** e2e tests run the built CLI: say how to build it instead of failing on a missing module. */
export function assertBuilt(): void {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run \`npm run build\` before the e2e tests (\`npm test\` does it for you)`);
}

export interface CliOptions {
  cwd: string;
  /** Added to the inherited environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Default 'ignore' (stdin closed, like CI); 'pipe' gives `child.stdin`. */
  stdin?: 'ignore' | 'pipe';
  /** SIGKILL the CLI (and every process it started) after this long; the result then has `timedOut: true`. Default 60 s. */
  timeoutMs?: number;
}

export interface CliResult {
  /** Exit code, or null when ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

export interface CliProcess {
  child: ChildProcess;
  pid: number;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Settles when the process has exited and its pipes are closed. */
  result: Promise<CliResult>;
}

/** Variables of the developer's shell that would make a test depend on the machine it runs on. */
const SCRUBBED = ['DEPLOYCTL_KEY', 'DEPLOYCTL_STATE', 'DEPLOYCTL_STATE_DIR', 'DEPLOYCTL_OPERATOR', 'DEPLOYCTL_RUNBOOK', 'FORCE_COLOR', 'DEMO_PORT', 'DEMO_STATE_DIR',
  // Set when the tests run under npm (npx vitest, npm test): deployctl would then say `npx deployctl` in its hints.
  'npm_command', 'npm_execpath', 'npm_lifecycle_event'];

export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', NO_COLOR: '1' };
  for (const name of SCRUBBED) delete env[name];
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

const live = new Set<CliProcess>();

/** Start the CLI and return at once; `result` settles when it ends. */
export function spawnCli(args: readonly string[], options: CliOptions): CliProcess {
  assertBuilt();
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    // Host-wide locks per working directory: tests that run side by side in separate directories are separate hosts.
    env: cliEnv({ DEPLOYCTL_LOCK_DIR: path.join(options.cwd, '.deployctl-host-locks'), ...options.env }),
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not spawn ${BIN}`);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killTree(child.pid!, 'SIGKILL');
  }, options.timeoutMs ?? 60_000);
  const proc: CliProcess = {
    child,
    pid: child.pid,
    stdout: () => stdout,
    stderr: () => stderr,
    result: new Promise<CliResult>((resolve, reject) => {
      child.once('error', reject);
      // 'close': the process exited and both pipes are drained.
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        live.delete(proc);
        resolve({ code, signal, stdout, stderr, durationMs: performance.now() - started, timedOut });
      });
    }),
  };
  live.add(proc);
  return proc;
}

/** Run the CLI to its end. */
export function runCli(args: readonly string[], options: CliOptions): Promise<CliResult> {
  return spawnCli(args, options).result;
}

/** For afterEach: SIGKILL every CLI this module started that is still running, with everything it started. */
export async function killAllClis(): Promise<void> {
  const procs = [...live];
  for (const proc of procs) killTree(proc.pid, 'SIGKILL');
  await Promise.all(procs.map((p) => p.result.catch(() => undefined)));
}

// ---------------------------------------------------------------------------------------------
// Processes seen from /proc (Linux): steps run in their own session and process group, so signals
// to the CLI never reach them; find them by parentage instead.

interface ProcInfo {
  pid: number;
  ppid: number;
  pgrp: number;
  state: string;
}

function readProc(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, state: fields[0]!, ppid: Number(fields[1]), pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

function allProcs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = readProc(Number(entry));
    if (info) out.push(info);
  }
  return out;
}

/** Every live descendant of `pid` (children, grandchildren…), zombies left out. */
export function descendants(pid: number): number[] {
  const procs = allProcs();
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const p of procs) {
      if (p.ppid === parent && !found.includes(p.pid)) {
        if (p.state !== 'Z' && p.state !== 'X') found.push(p.pid);
        queue.push(p.pid);
      }
    }
  }
  return found;
}

/** Whether a process exists and is not a zombie (a zombie runs nothing; init reaps it eventually). */
export function isLive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const info = readProc(pid);
  return info === undefined ? false : info.state !== 'Z' && info.state !== 'X';
}

/** Members of a process group that are alive (not zombies). */
export function liveInGroup(pgid: number): number[] {
  return allProcs()
    .filter((p) => p.pgrp === pgid && p.state !== 'Z' && p.state !== 'X')
    .map((p) => p.pid);
}

/**
 * Live processes working in `dir` or naming it on their command line (zombies left out): what a test that ran
 * everything inside a temp dir must not leave behind. Linux /proc; an empty list where it cannot look.
 */
export function processesIn(dir: string): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  for (const p of allProcs()) {
    if (p.pid === process.pid || p.state === 'Z' || p.state === 'X') continue;
    let cwd = '';
    let cmdline = '';
    try {
      cwd = readlinkSync(`/proc/${p.pid}/cwd`);
    } catch {
      // Gone, or not ours to look at.
    }
    try {
      cmdline = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    } catch {
      // Gone.
    }
    if (cwd === dir || cwd.startsWith(`${dir}${path.sep}`) || cmdline.includes(dir)) found.push({ pid: p.pid, cmdline });
  }
  return found;
}

/** For afterEach: kill whatever still runs in `dir` (so nothing survives the test), and return what that was (so the test can fail on it). */
export function reapProcessesIn(dir: string): { pid: number; cmdline: string }[] {
  const left = processesIn(dir);
  for (const p of left) killTree(p.pid, 'SIGKILL');
  return left;
}

/** Signal `pid`, every descendant and every process group among them. Never throws. */
export function killTree(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  const pids = [pid, ...descendants(pid)];
  const groups = new Set(pids.map((p) => readProc(p)?.pgrp).filter((g): g is number => g !== undefined && g > 1 && g !== process.pid));
  // Never our own group: the test runner lives there.
  const ownGroup = readProc(process.pid)?.pgrp;
  for (const g of groups) if (g !== ownGroup) tryKill(-g, signal);
  for (const p of pids) tryKill(p, signal);
}

export function killGroup(pgid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  tryKill(-pgid, signal);
}

function tryKill(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal);
  } catch {
    // Gone already.
  }
}

// ---------------------------------------------------------------------------------------------
// Waiting without fixed sleeps.

/** Poll `check` until it returns a truthy value or `ms` pass; returns that value, or throws naming `what`. */
export async function waitFor<T>(what: string, check: () => T | undefined | null | false | Promise<T | undefined | null | false>, ms = 15_000, every = 25): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

// ---------------------------------------------------------------------------------------------
// Output checks shared by the e2e tests.

/** Lines that look like a stack trace, or the internal-error banner: none may appear in front of a user. */
export function stackTraceLines(text: string): string[] {
  return text.split('\n').filter((line) => /^\s+at\s/.test(line) || /internal error/i.test(line));
}

/** A free TCP port on 127.0.0.1 (listen on 0, close). */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// What a run leaves behind: the signed record, the journal.

export interface Envelope {
  payloadType: string;
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

export interface Statement {
  _type: string;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: string;
  // The record is checked field by field in the tests; its full type lives in src/record/types.ts.
  predicate: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Record files under `<cwd>/.deployctl/records/`, oldest first (names sort by sealing time). */
export function recordFiles(cwd: string): string[] {
  const dir = path.join(cwd, '.deployctl', 'records');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
    .sort()
    .map((f) => path.join(dir, f));
}

export function readRecord(file: string): { envelope: Envelope; statement: Statement; text: string } {
  const text = readFileSync(file, 'utf8');
  const envelope = JSON.parse(text) as Envelope;
  const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as Statement;
  return { envelope, statement, text };
}

/** DSSE pre-authentication encoding, built here from the spec, not with deployctl's code: `DSSEv1 <len> <type> <len> <payload>`. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** Verify every signature of a record with openssl (the auditor's tool), against `pubKeyFile`. Returns openssl's verdict per signature. */
export function verifyWithOpenssl(recordFile: string, pubKeyFile: string, workDir: string): { ok: boolean; output: string }[] {
  const { envelope } = readRecord(recordFile);
  const paeFile = path.join(workDir, 'pae.bin');
  writeFileSync(paeFile, pae(envelope.payloadType, Buffer.from(envelope.payload, 'base64')));
  return envelope.signatures.map((signature, i) => {
    const sigFile = path.join(workDir, `sig-${i}.bin`);
    writeFileSync(sigFile, Buffer.from(signature.sig, 'base64'));
    const run = spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pubKeyFile, '-rawin', '-in', paeFile, '-sigfile', sigFile], { encoding: 'utf8' });
    return { ok: run.status === 0, output: `${run.stdout}${run.stderr}`.trim() };
  });
}

/** Run ids under `<cwd>/.deployctl/runs/`. */
export function runDirs(cwd: string): string[] {
  const dir = path.join(cwd, '.deployctl', 'runs');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

export function journalFile(cwd: string, runId: string): string {
  return path.join(cwd, '.deployctl', 'runs', runId, 'journal.jsonl');
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function readJournal(cwd: string, runId: string): Record<string, any>[] {
  return readFileSync(journalFile(cwd, runId), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
