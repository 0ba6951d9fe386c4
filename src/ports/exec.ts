// The real Exec port: spawns a step's command in its own process group with execa, streams its output, and never leaves the group behind.
import { statSync, accessSync, constants as fsConstants } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import type { Exec, ExecRequest, ExecResult } from './types.js';
import { faultPoint } from '../faults.js';
import { ancestorsOf, findProcessesWithEnv, isSameLiveProcess, isZombieState, listProcessIds, readProcStat, type MarkedProcess, type ProcStat } from './proc.js';

const DEFAULT_KILL_GRACE_MS = 5000;
/** How often a dying group is checked while we wait for it to go. */
const GROUP_POLL_MS = 25;
/** After SIGKILL, how long to wait for the kernel to actually remove the group before we report. */
const AFTER_SIGKILL_MS = 2000;
/**
 * Once the whole group is gone, the pipes can only be held open by a process that left the group
 * (setsid, or a new process group): read what is left for this long, then stop listening.
 */
const DRAIN_AFTER_EXIT_MS = 2000;
/** setTimeout fires at once for delays over 2^31 − 1 ms; a longer timeout is as good as none. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The sentences a step shows when its command cannot be started, each naming the fix. */
const spawnMessages = {
  notFound: (cmd: string) => `command not found: ${cmd}`,
  interpreterNotFound: (cmd: string) => `cannot run ${cmd}: the interpreter on its #! line was not found`,
  permissionDenied: (cmd: string) => `permission denied: ${cmd} (is it executable? chmod +x)`,
  cwdMissing: (dir: string) => `working directory does not exist: ${dir}`,
  cwdNotDirectory: (dir: string) => `working directory is not a directory: ${dir}`,
  cwdDenied: (dir: string) => `permission denied: working directory ${dir}`,
  emptyCommand: () => 'empty command: argv has no program to run',
  tooLong: (cmd: string) =>
    `could not start ${cmd}: argument list too long (E2BIG): an argument or environment value is over the system's limit (128 KiB each on Linux); pass large values in a file instead`,
  other: (cmd: string, detail: string) => `could not start ${cmd}: ${detail}`,
};

// ---------------------------------------------------------------------------------------------
// Live process groups, so the CLI can stop them all from its signal handler.

/** Each running step's process group, with the marks its processes carry (see `ExecRequest.marks`). */
const liveGroups = new Map<number, readonly string[]>();
let exitHookInstalled = false;

/**
 * Send `signal` to every step's process group that is still running, and to the processes those steps moved out of
 * their groups (found by their marks, as `terminateMarked` chooses them); returns the ids signalled (groups, then
 * escaped processes), so an empty list means nothing was left to stop. For the
 * CLI's signal handler: the graceful path is aborting the step's `signal` (SIGTERM, grace, SIGKILL); this is the blunt
 * one (a second Ctrl-C, a hangup, or just before exiting).
 */
export function killAllRunning(signal: NodeJS.Signals = 'SIGTERM'): number[] {
  const signalled: number[] = [];
  const self = liveGroups.size > 0 ? { stat: readProcStat(process.pid), ancestors: ancestorsOf(process.pid) } : undefined;
  for (const [pgid, marks] of liveGroups) {
    if (signalGroup(pgid, signal)) signalled.push(pgid);
    if (marks.length === 0 || self === undefined) continue;
    for (const { pid, pgid: group } of sweepable(findProcessesWithEnv(marks), self)) {
      if (group === pgid) continue;
      if (group === pid ? signalGroup(group, signal) : signalProcess(pid, signal)) signalled.push(pid);
    }
  }
  return signalled;
}

/** The process group ids of the steps running now (diagnostics and tests). */
export function runningGroups(): number[] {
  return [...liveGroups.keys()];
}

function registerGroup(pgid: number, marks: readonly string[]): void {
  liveGroups.set(pgid, marks);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Safety net: steps are detached (their own session and group), so neither the terminal's Ctrl-C nor
    // execa's `cleanup` reaches them. If deployctl exits while a step still runs (process.exit on some
    // error path), nothing could wait out a grace period any more: kill what is left outright.
    process.on('exit', () => {
      killAllRunning('SIGKILL');
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Process groups.

/** Signal a whole process group; false when it no longer exists (or is not ours to signal). */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether any process of the group is still alive. `kill(-pgid, 0)` also succeeds for zombies that
 * wait to be reaped by init (some container inits reap only every second or two), and a zombie holds
 * no pipe and runs no code: on Linux we look in /proc for a member that is not a zombie.
 */
/** Whether any live (non-zombie) process is left in the group: a resume uses it to find a step still running from a crashed session. */
export function isGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    // EPERM: a member changed its user id; it is alive, we just cannot signal it.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return hasLiveMemberInProc(pgid) ?? true;
}

/** true/false from /proc; undefined where /proc cannot tell (macOS, or no member found there at all). */
function hasLiveMemberInProc(pgid: number): boolean | undefined {
  const pids = listProcessIds();
  if (pids === undefined) return undefined;
  let zombies = 0;
  for (const pid of pids) {
    const stat = readProcStat(pid);
    if (stat === undefined || stat.pgrp !== pgid) continue; // exited while we looked, or another group's
    if (!isZombieState(stat.state)) return true;
    zombies++;
  }
  return zombies > 0 ? false : undefined;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Wait until the group is gone, checking every GROUP_POLL_MS; true if it went within `ms`. */
async function waitForGroupGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (!isGroupAlive(pgid)) return true;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    await delay(Math.min(GROUP_POLL_MS, left));
  }
}

/** SIGTERM the whole group; SIGKILL it after `graceMs` if anything is still alive; resolve once it is gone. */
async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  if (!isGroupAlive(pgid)) return;
  signalGroup(pgid, 'SIGTERM');
  // A stopped process (SIGTSTP) cannot act on SIGTERM until it is continued.
  signalGroup(pgid, 'SIGCONT');
  if (await waitForGroupGone(pgid, graceMs)) return;
  signalGroup(pgid, 'SIGKILL');
  await waitForGroupGone(pgid, AFTER_SIGKILL_MS);
}

/** Signal one process; false when it no longer exists (or is not ours to signal). */
function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** A process that left the step's group and was stopped by `terminateMarked`. */
export interface SweptProcess {
  pid: number;
  /** Its executable's name (`comm`), never its arguments: those may hold anything. */
  name: string;
}

/**
 * The marked processes the sweep may stop: none of deployctl's ancestors (itself included), nothing in its process
 * group or session, no group led by an ancestor. Where /proc said nothing about deployctl, nothing at all.
 */
export function sweepable(found: readonly MarkedProcess[], self: { stat: ProcStat | undefined; ancestors: ReadonlySet<number> }): MarkedProcess[] {
  const { stat: own, ancestors } = self;
  if (own === undefined) return [];
  return found.filter(({ pid, stat }) => !ancestors.has(pid) && !ancestors.has(stat.pgrp) && stat.pgrp !== own.pgrp && stat.session !== own.session);
}

/**
 * After a timeout or an abort: what the command started outside its group (a `setsid` child, a daemon's double
 * fork), found by `marks` in its environment, gets the same SIGTERM → grace → SIGKILL. A session leader's whole group
 * goes; any other marked process alone. Never deployctl's own group or session (the operator's terminal and shell),
 * nor any of its ancestors (a terminal multiplexer started by an earlier step, now hosting this deployctl). A pid is
 * signalled only while it is still the process that was found (same start time), never one the system has since
 * given the pid to. Looked for again after each round, since a dying process may have started another; three rounds
 * at the most. Returns what it stopped, for the step's record.
 */
async function terminateMarked(marks: readonly string[], graceMs: number, stepGroup: number): Promise<SweptProcess[]> {
  if (marks.length === 0) return [];
  const self = { stat: readProcStat(process.pid), ancestors: ancestorsOf(process.pid) };
  const swept: SweptProcess[] = [];
  for (let round = 0; round < 3; round++) {
    // The step's own group has terminateGroup of its own.
    const found = sweepable(findProcessesWithEnv(marks), self).filter((p) => p.pgid !== stepGroup && !swept.some((s) => s.pid === p.pid));
    if (found.length === 0) break;
    swept.push(...found.map(({ pid, stat }) => ({ pid, name: stat.comm })));
    await Promise.all(
      found.map(async ({ pid, pgid, stat }) => {
        if (!isSameLiveProcess(pid, stat.startTime)) return;
        if (pgid === pid) return terminateGroup(pgid, graceMs);
        const signal = (name: NodeJS.Signals) => isSameLiveProcess(pid, stat.startTime) && signalProcess(pid, name);
        signal('SIGTERM');
        signal('SIGCONT');
        const deadline = performance.now() + graceMs;
        while (isSameLiveProcess(pid, stat.startTime) && performance.now() < deadline) await delay(GROUP_POLL_MS);
        signal('SIGKILL');
      }),
    );
  }
  return swept;
}

// ---------------------------------------------------------------------------------------------
// Spawn errors.

function commandName(request: ExecRequest): string {
  return 'argv' in request.command ? (request.command.argv[0] ?? '') : '/bin/sh';
}

/** A sentence for a command that could not be started, looking at the working directory first. */
function describeSpawnError(code: string | undefined, request: ExecRequest, detail: string): string {
  const cmd = commandName(request);
  const cwdProblem = describeCwdProblem(request.cwd);
  if (cwdProblem !== undefined) return cwdProblem;
  switch (code) {
    case 'ENOENT':
      // execve says ENOENT for a missing #! interpreter too; the file itself is there.
      return cmd.includes('/') && isFile(cmd, request.cwd) ? spawnMessages.interpreterNotFound(cmd) : spawnMessages.notFound(cmd);
    case 'EACCES':
    case 'EPERM':
      return spawnMessages.permissionDenied(cmd);
    case 'E2BIG':
      return spawnMessages.tooLong(cmd);
    default:
      return spawnMessages.other(cmd, detail);
  }
}

function describeCwdProblem(dir: string): string | undefined {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'EACCES' ? spawnMessages.cwdDenied(dir) : spawnMessages.cwdMissing(dir);
  }
  if (!isDirectory) return spawnMessages.cwdNotDirectory(dir);
  try {
    accessSync(dir, fsConstants.X_OK);
  } catch {
    return spawnMessages.cwdDenied(dir);
  }
  return undefined;
}

function isFile(file: string, cwd: string): boolean {
  try {
    return statSync(file.startsWith('/') ? file : `${cwd}/${file}`).isFile();
  } catch {
    return false;
  }
}

function errorCode(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const code = (value as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function errorDetail(value: unknown): string {
  const cause = typeof value === 'object' && value !== null ? (value as { cause?: unknown }).cause : undefined;
  if (cause instanceof Error) return cause.message;
  if (value instanceof Error) return (value as Error & { shortMessage?: string }).shortMessage ?? value.message;
  return String(value);
}

// ---------------------------------------------------------------------------------------------
// The port.

type StreamName = 'stdout' | 'stderr';

/** Resolves when the stream has ended, closed or errored (never rejects). */
function streamDone(stream: Readable | null | undefined): Promise<void> {
  if (stream === null || stream === undefined || stream.destroyed || stream.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => resolve();
    stream.once('end', done);
    stream.once('close', done);
    stream.once('error', done);
  });
}

export const execCommand: Exec = async (request) => {
  const started = performance.now();
  const finish = (partial: Partial<ExecResult>): ExecResult => ({
    exitCode: null,
    signal: null,
    timedOut: false,
    interrupted: false,
    durationMs: performance.now() - started,
    ...partial,
  });

  if (request.signal?.aborted) return finish({ interrupted: true });

  let file: string;
  let args: string[];
  if ('argv' in request.command) {
    const [program, ...rest] = request.command.argv;
    if (program === undefined || program === '') return finish({ spawnError: spawnMessages.emptyCommand() });
    file = program;
    args = rest;
  } else {
    file = '/bin/sh';
    // `--`: a command string starting with `-` is a command, not an option of sh.
    args = ['-c', '--', request.command.shell];
  }

  // execa costs ~100 ms to import: load it with the first step, not with every deployctl start
  // (the CLI imports this module for killAllRunning).
  const { execa } = await import('execa');
  if (request.signal?.aborted) return finish({ interrupted: true });

  const subprocess = execa(file, args, {
    cwd: request.cwd,
    env: request.env,
    extendEnv: false,
    // No shell of execa's own: `{shell}` is passed to /bin/sh -c as one argument, argv items as themselves.
    shell: false,
    // A step never reads the terminal: stdin is /dev/null-like, and the new session has no controlling tty.
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    // execa keeps nothing; we hand each chunk on and forget it.
    buffer: false,
    // Its own session and process group (pgid = pid), so signals can reach every descendant at once.
    detached: true,
    // execa's timeout, cancelSignal and forceKillAfterDelay signal only the direct child: we do it per group.
    forceKillAfterDelay: false,
    cleanup: false,
    reject: false,
  });

  const pid = subprocess.pid;
  if (pid === undefined) {
    // The spawn failed synchronously inside libuv; execa resolves with the error (reject: false).
    const result: unknown = await subprocess;
    return finish({ spawnError: describeSpawnError(errorCode(result), request, errorDetail(result)) });
  }

  registerGroup(pid, request.marks ?? []);
  // A throwing callback is a bug in the caller: stop the group like an abort, then rethrow it once
  // nothing is left running (a stream listener must not throw, or it would crash the process).
  let callbackError: { error: unknown } | undefined;
  const guard = (fn: () => void) => {
    if (callbackError !== undefined) return;
    try {
      fn();
    } catch (error) {
      callbackError = { error };
      stop('error');
    }
  };

  const graceMs = request.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  let stopping: Promise<SweptProcess[]> | undefined;
  let timedOut = false;
  let interrupted = false;
  let hasExited = false;
  function stop(reason: 'timeout' | 'abort' | 'error'): void {
    if (stopping !== undefined || hasExited) return;
    if (reason === 'timeout') timedOut = true;
    if (reason === 'abort') interrupted = true;
    // The group and what left it at the same time, so a stubborn escapee costs one grace period, not a second one.
    stopping = Promise.all([terminateGroup(pid!, graceMs), terminateMarked(request.marks ?? [], graceMs, pid!)]).then(([, swept]) => swept);
  }

  try {
    faultPoint('after-spawn');
    guard(() => request.onSpawn?.(pid));

    // Output: a StringDecoder per stream joins multi-byte characters split between chunks. The handler
    // runs synchronously, so each chunk (at most 64 KiB, one libuv read) is passed on before the next
    // is read: nothing queues up in Node, and a fast producer blocks on the full pipe (the kernel's
    // backpressure) instead of filling our memory. onOutput must therefore be quick and keep little.
    const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
    const emit = (stream: StreamName, text: string) => {
      if (text.length > 0 && request.onOutput !== undefined) guard(() => request.onOutput?.(stream, text));
    };
    const listen = (stream: StreamName, readable: Readable | null) => {
      readable?.on('data', (chunk: Buffer | string) => {
        emit(stream, typeof chunk === 'string' ? chunk : decoders[stream].write(chunk));
      });
    };
    listen('stdout', subprocess.stdout);
    listen('stderr', subprocess.stderr);
    const outputDone = Promise.all([streamDone(subprocess.stdout), streamDone(subprocess.stderr)]);

    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      subprocess.once('exit', (code, signal) => resolve({ code, signal }));
    });

    // Timeout and abort: signal the whole group, never just the child (a `sh -c` grandchild would
    // otherwise keep the pipes, and the step, open past its timeout).
    const timer =
      request.timeoutMs === undefined ? undefined : setTimeout(() => stop('timeout'), Math.min(Math.max(0, request.timeoutMs), MAX_TIMER_MS));
    const onAbort = () => stop('abort');
    request.signal?.addEventListener('abort', onAbort, { once: true });
    if (request.signal?.aborted) stop('abort'); // aborted by onSpawn itself

    const exit = await exited;
    hasExited = true;
    if (timer !== undefined) clearTimeout(timer);
    request.signal?.removeEventListener('abort', onAbort);

    // After the command itself exits, whatever it started in the background is still in its group:
    // a step must not leave processes behind (nor hold the pipes open), so the group gets the same
    // SIGTERM → grace → SIGKILL. Services meant to outlive a step must be started through something
    // that owns them (systemctl, docker, a process manager), not with `&`.
    // A command that ended by itself may leave a daemon it started on purpose (setsid): only a stopped one's go too,
    // and once more after the group is gone, for what was started while it was being stopped.
    let swept: SweptProcess[] = [];
    if (stopping === undefined) await terminateGroup(pid, graceMs);
    else {
      const found = [...(await stopping), ...(await terminateMarked(request.marks ?? [], graceMs, pid))];
      swept = found.filter((p, i) => found.findIndex((q) => q.pid === p.pid) === i);
    }

    // The group is gone, so the pipes close as soon as their last bytes are read, unless a process
    // that left the group holds them; then stop listening after a bound so the step still ends.
    let drainTimer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      outputDone.then(() => true),
      new Promise<boolean>((resolve) => {
        drainTimer = setTimeout(() => resolve(false), DRAIN_AFTER_EXIT_MS);
      }),
    ]);
    clearTimeout(drainTimer);
    if (!drained) {
      subprocess.stdout?.destroy();
      subprocess.stderr?.destroy();
    }
    await subprocess; // settles at once now; reject: false, so this never throws for a failing command
    emit('stdout', decoders.stdout.end());
    emit('stderr', decoders.stderr.end());

    if (callbackError !== undefined) throw callbackError.error;
    return finish({ exitCode: exit.code, signal: exit.signal, timedOut, interrupted, ...(swept.length > 0 ? { swept } : {}) });
  } catch (error) {
    // Only a bug gets here (a throwing callback, or execa itself): still leave nothing running.
    await terminateGroup(pid, graceMs);
    await terminateMarked(request.marks ?? [], graceMs, pid);
    throw error;
  } finally {
    liveGroups.delete(pid);
  }
};
