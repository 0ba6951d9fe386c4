// Test helpers for the exec port: look at a process group from outside (pgrep, kill 0) and run a command collecting its output.
import { execFileSync } from 'node:child_process';
import { execCommand } from '../../src/ports/exec.js';
import type { ExecRequest, ExecResult } from '../../src/ports/types.js';

/** Every state but Z (zombie): a zombie runs nothing and holds no pipe; it only waits for init to reap it. */
const LIVE_STATES = 'D,R,S,T,t,W,I,P';

/** `pgrep -g <pgid>` restricted to live (non-zombie) processes, as `pid command` lines. */
export function liveGroupMembers(pgid: number): string[] {
  try {
    return execFileSync('pgrep', ['-a', '-g', String(pgid), '-r', LIVE_STATES], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch (error) {
    if ((error as { status?: number }).status === 1) return []; // pgrep: nothing matched
    throw error;
  }
}

/** `pgrep -g <pgid>`, zombies included. */
export function allGroupMembers(pgid: number): string[] {
  try {
    return execFileSync('pgrep', ['-a', '-g', String(pgid)], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch (error) {
    if ((error as { status?: number }).status === 1) return [];
    throw error;
  }
}

/** Whether `kill(-pgid, 0)` says the group is gone (ESRCH). */
export function isGroupGone(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Wait until `kill(-pgid, 0)` throws ESRCH. Killed grandchildren are re-parented to init and stay
 * zombies until it reaps them; this machine's init reaps only every second or two.
 */
export async function waitForGroupGone(pgid: number, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!isGroupGone(pgid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

export interface Collected {
  result: ExecResult;
  stdout: string;
  stderr: string;
  chunks: { stream: 'stdout' | 'stderr'; chunk: string }[];
  pid: number | undefined;
  spawnCalls: number;
}

/** Run through the real port, collecting output and the pid. */
export async function runCollecting(request: Omit<ExecRequest, 'onOutput' | 'onSpawn'>): Promise<Collected> {
  const chunks: Collected['chunks'] = [];
  let pid: number | undefined;
  let spawnCalls = 0;
  const result = await execCommand({
    ...request,
    onOutput: (stream, chunk) => chunks.push({ stream, chunk }),
    onSpawn: (p) => {
      pid = p;
      spawnCalls++;
    },
  });
  const join = (stream: 'stdout' | 'stderr') => chunks.filter((c) => c.stream === stream).map((c) => c.chunk).join('');
  return { result, stdout: join('stdout'), stderr: join('stderr'), chunks, pid, spawnCalls };
}
