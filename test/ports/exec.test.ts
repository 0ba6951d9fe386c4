// The real exec port against real processes: output, environment, spawn errors, and process groups that never outlive a step.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execCommand, killAllRunning, runningGroups, sweepable } from '../../src/ports/exec.js';
import { allGroupMembers, isGroupGone, liveGroupMembers, runCollecting, waitForGroupGone } from '../helpers/exec-process-group.js';

const PATH = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
const env = { PATH };
let dir: string;

beforeAll(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'deployctl-exec-')));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** After a result: nothing of the group runs any more, and once init has reaped the zombies, kill(-pgid, 0) says ESRCH. */
/** Alive and not a zombie (an orphan waits for init to reap it). */
function liveProcess(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return false;
  }
}

/** Whether `pid` is gone within `ms`: a SIGKILLed process on a loaded machine takes a moment to stop being scheduled. */
async function goneWithin(pid: number, ms = 3000): Promise<boolean> {
  for (const until = Date.now() + ms; liveProcess(pid); await new Promise((r) => setTimeout(r, 20))) if (Date.now() > until) return false;
  return true;
}

async function expectGroupGone(pid: number | undefined): Promise<void> {
  expect(pid).toBeTypeOf('number');
  expect(liveGroupMembers(pid!)).toEqual([]);
  expect(await waitForGroupGone(pid!)).toBe(true);
  expect(isGroupGone(pid!)).toBe(true);
  expect(allGroupMembers(pid!)).toEqual([]);
}

describe('running commands', () => {
  it('runs a shell string through /bin/sh -c', async () => {
    const { result, stdout, stderr } = await runCollecting({ command: { shell: 'echo hello; echo oops >&2' }, cwd: dir, env });
    expect(result).toMatchObject({ exitCode: 0, signal: null, timedOut: false, interrupted: false });
    expect(result.spawnError).toBeUndefined();
    expect(stdout).toBe('hello\n');
    expect(stderr).toBe('oops\n');
  });

  it('treats a shell string starting with - as a command, not an option of sh', async () => {
    const { result, stderr } = await runCollecting({ command: { shell: '-definitely-not-an-option' }, cwd: dir, env });
    expect(result.exitCode).toBe(127);
    expect(stderr).toContain('-definitely-not-an-option: not found');
  });

  it('runs an argv list without a shell, each item one argument', async () => {
    const { result, stdout } = await runCollecting({ command: { argv: ['printf', '[%s]\n', 'a b', '*', '$HOME'] }, cwd: dir, env });
    expect(result.exitCode).toBe(0);
    expect(stdout).toBe('[a b]\n[*]\n[$HOME]\n');
  });

  it.each([
    [0, 'exit 0'],
    [1, 'false'],
    [3, 'exit 3'],
    [127, 'no-such-command-in-shell-xyz 2>/dev/null'],
  ])('reports exit code %i', async (code, shell) => {
    const { result } = await runCollecting({ command: { shell }, cwd: dir, env });
    expect(result).toMatchObject({ exitCode: code, signal: null, timedOut: false });
  });

  it('reports the signal that ended the command', async () => {
    const { result } = await runCollecting({ command: { shell: 'kill -USR1 $$' }, cwd: dir, env });
    expect(result).toMatchObject({ exitCode: null, signal: 'SIGUSR1', timedOut: false, interrupted: false });
  });

  it('passes exactly the given environment and nothing of its own', async () => {
    process.env.DEPLOYCTL_EXEC_TEST_LEAK = 'should-not-leak';
    try {
      const { stdout } = await runCollecting({
        command: { argv: ['/usr/bin/env'] },
        cwd: dir,
        env: { FOO: 'bar baz', EMPTY: '', MULTI: 'a\nb' },
      });
      expect(stdout).toBe('FOO=bar baz\nEMPTY=\nMULTI=a\nb\n');
    } finally {
      delete process.env.DEPLOYCTL_EXEC_TEST_LEAK;
    }
  });

  it('runs in the given working directory', async () => {
    const { stdout } = await runCollecting({ command: { argv: ['pwd'] }, cwd: dir, env });
    expect(stdout).toBe(`${dir}\n`);
  });

  it('never lets a step read the terminal: stdin is empty', async () => {
    const { result, stdout } = await runCollecting({ command: { shell: 'cat; read line || echo eof' }, cwd: dir, env, timeoutMs: 5000 });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(stdout).toBe('eof\n');
  });

  it('calls onSpawn once with the pid, which leads its own process group', async () => {
    let seen: { pid: number; pgid: string; groups: number[] } | undefined;
    let calls = 0;
    const result = await execCommand({
      command: { shell: 'ps -o pgid= -p $$; sleep 0.2' },
      cwd: dir,
      env,
      onSpawn: (pid) => {
        calls++;
        seen = { pid, pgid: '', groups: runningGroups() };
      },
      onOutput: (_stream, chunk) => {
        if (seen) seen.pgid += chunk;
      },
    });
    expect(result.exitCode).toBe(0);
    expect(calls).toBe(1);
    expect(seen?.groups).toContain(seen?.pid);
    expect(Number(seen?.pgid.trim())).toBe(seen?.pid);
    expect(runningGroups()).not.toContain(seen?.pid);
  });

  it('measures the duration with a monotonic clock', async () => {
    const { result } = await runCollecting({ command: { argv: ['sleep', '0.3'] }, cwd: dir, env });
    expect(result.durationMs).toBeGreaterThanOrEqual(290);
    expect(result.durationMs).toBeLessThan(5000);
  });
});

describe('commands that cannot start', () => {
  it('says command not found for a missing program, without spawning', async () => {
    const { result, spawnCalls } = await runCollecting({ command: { argv: ['no-such-command-xyz', '--flag'] }, cwd: dir, env });
    expect(result).toMatchObject({ exitCode: null, signal: null, timedOut: false, interrupted: false, spawnError: 'command not found: no-such-command-xyz' });
    expect(spawnCalls).toBe(0);
  });

  it('says permission denied for a file that is not executable', async () => {
    const script = join(dir, 'not-executable.sh');
    writeFileSync(script, '#!/bin/sh\necho hi\n');
    chmodSync(script, 0o644);
    const { result } = await runCollecting({ command: { argv: [script] }, cwd: dir, env });
    expect(result.spawnError).toBe(`permission denied: ${script} (is it executable? chmod +x)`);
    expect(result.exitCode).toBeNull();
  });

  it('names a missing #! interpreter rather than the script', async () => {
    const script = join(dir, 'bad-shebang.sh');
    writeFileSync(script, '#!/no/such/interpreter\necho hi\n');
    chmodSync(script, 0o755);
    const { result } = await runCollecting({ command: { argv: [script] }, cwd: dir, env });
    expect(result.spawnError).toBe(`cannot run ${script}: the interpreter on its #! line was not found`);
  });

  it.each([
    ['shell', { shell: 'echo hi' }],
    ['argv', { argv: ['echo', 'hi'] }],
  ] as const)('says the working directory does not exist (%s)', async (_mode, command) => {
    const missing = join(dir, 'no', 'such', 'dir');
    const { result } = await runCollecting({ command, cwd: missing, env });
    expect(result.spawnError).toBe(`working directory does not exist: ${missing}`);
  });

  it('says the working directory is not a directory', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const { result } = await runCollecting({ command: { shell: 'true' }, cwd: file, env });
    expect(result.spawnError).toBe(`working directory is not a directory: ${file}`);
  });

  it('refuses an empty argv', async () => {
    const { result } = await runCollecting({ command: { argv: [] }, cwd: dir, env });
    expect(result.spawnError).toMatch(/^empty command/);
  });
});

describe('timeouts, aborts and the process group', () => {
  it('kills the whole tree on timeout: no grandchild survives, and the result comes close to the timeout', async () => {
    const started = performance.now();
    const { result, pid } = await runCollecting({ command: { shell: 'sleep 30 & sleep 30; ' }, cwd: dir, env, timeoutMs: 500, killGraceMs: 2000 });
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ timedOut: true, interrupted: false, exitCode: null, signal: 'SIGTERM' });
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(4000);
    await expectGroupGone(pid);
  });

  it('SIGKILLs a group that ignores SIGTERM once the grace period is over', async () => {
    const started = performance.now();
    const { result, pid } = await runCollecting({
      // An ignored signal stays ignored across fork and exec: both sleeps ignore SIGTERM too.
      command: { shell: 'trap "" TERM; sleep 30 & sleep 30; echo never' },
      cwd: dir,
      env,
      timeoutMs: 200,
      killGraceMs: 300,
    });
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
    expect(elapsed).toBeGreaterThanOrEqual(480);
    expect(elapsed).toBeLessThan(4000);
    await expectGroupGone(pid);
  });

  it('stops the tree when the signal is aborted, and reports interrupted', async () => {
    const controller = new AbortController();
    let pid: number | undefined;
    const pending = execCommand({
      command: { shell: 'sleep 30 & sleep 30' },
      cwd: dir,
      env,
      signal: controller.signal,
      killGraceMs: 1000,
      onSpawn: (p) => {
        pid = p;
        setTimeout(() => controller.abort(), 200);
      },
    });
    const result = await pending;
    expect(result).toMatchObject({ interrupted: true, timedOut: false, exitCode: null, signal: 'SIGTERM' });
    expect(result.durationMs).toBeLessThan(4000);
    await expectGroupGone(pid);
  });

  it('does not spawn when the signal is already aborted', async () => {
    const marker = join(dir, 'spawned-anyway');
    const { result, spawnCalls } = await runCollecting({ command: { shell: `touch '${marker}'` }, cwd: dir, env, signal: AbortSignal.abort() });
    expect(result).toMatchObject({ interrupted: true, exitCode: null, timedOut: false });
    expect(spawnCalls).toBe(0);
    expect(existsSync(marker)).toBe(false);
  });

  it.each([
    ['holding the pipes', 'sleep 30 & echo started'],
    ['with its output closed', 'sleep 30 >/dev/null 2>&1 & echo started'],
  ])('cleans up a background grandchild left by a command that exits normally (%s)', async (_what, shell) => {
    const { result, stdout, pid } = await runCollecting({ command: { shell }, cwd: dir, env, killGraceMs: 2000 });
    expect(result).toMatchObject({ exitCode: 0, signal: null, timedOut: false, interrupted: false });
    expect(stdout).toBe('started\n');
    expect(result.durationMs).toBeLessThan(3000);
    await expectGroupGone(pid);
  });

  it('after a timeout, also stops a process that left the group (setsid) when it carries the marks, and only then', async () => {
    const mark = `DEPLOYCTL_EXEC_TEST_MARK=${process.pid}-${Date.now()}`;
    const [name, value] = mark.split('=') as [string, string];
    const shell = `setsid sleep 30 > /dev/null 2>&1 & echo $!; sleep 30`;
    // Without marks the escaped sleep outlives the step (what `marks` exists for); with them it is stopped.
    const unmarked = await runCollecting({ command: { shell }, cwd: dir, env: { ...env, [name]: value }, timeoutMs: 300, killGraceMs: 1000 });
    const escaped = Number(unmarked.stdout.trim());
    try {
      expect(unmarked.result.timedOut).toBe(true);
      expect(liveProcess(escaped)).toBe(true);
    } finally {
      process.kill(escaped, 'SIGKILL');
    }
    const marked = await runCollecting({ command: { shell }, cwd: dir, env: { ...env, [name]: value }, timeoutMs: 300, killGraceMs: 1000, marks: [mark] });
    expect(marked.result.timedOut).toBe(true);
    expect(await goneWithin(Number(marked.stdout.trim()))).toBe(true);
    await expectGroupGone(marked.pid);
  });

  it('never sweeps deployctl itself, its ancestors, its group or session, or a group an ancestor leads', () => {
    const stat = (pid: number, pgrp: number, session: number) => ({ comm: 'x', state: 'S', ppid: 1, pgrp, session, startTime: 1 });
    const marked = (pid: number, pgrp: number, session: number) => ({ pid, pgid: pgrp, stat: stat(pid, pgrp, session), mark: undefined });
    // deployctl is pid 100 (group 100, session 50); its parent shell 50 leads session 50; a tmux server 10 (its own session) is further up.
    const self = { stat: stat(100, 100, 50), ancestors: new Set([100, 50, 10, 1]) };
    const found = [
      marked(100, 100, 50), // deployctl
      marked(50, 50, 50), // its shell
      marked(10, 10, 10), // the tmux server hosting it
      marked(11, 10, 10), // another window of that server
      marked(101, 100, 50), // a sibling in deployctl's group
      marked(60, 60, 50), // a job of the operator's shell, same session
      marked(300, 300, 300), // a step's setsid daemon: the one to stop
      marked(301, 300, 300), // its child
    ];
    expect(sweepable(found, self).map((p) => p.pid)).toEqual([300, 301]);
    expect(sweepable(found, { stat: undefined, ancestors: new Set() })).toEqual([]);
  });

  it('killAllRunning signals every live group', async () => {
    let pid: number | undefined;
    let signalled: number[] = [];
    const result = await execCommand({
      command: { shell: 'sleep 30 & sleep 30' },
      cwd: dir,
      env,
      onSpawn: (p) => {
        pid = p;
        setTimeout(() => {
          signalled = killAllRunning('SIGKILL');
        }, 100);
      },
    });
    expect(signalled).toContain(pid);
    expect(result).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
    await expectGroupGone(pid);
    expect(runningGroups()).not.toContain(pid);
  });

  it('killAllRunning also reaches what a step moved out of its group, when the step carries marks (a second Ctrl-C)', async () => {
    const mark = `DEPLOYCTL_EXEC_TEST_MARK=${process.pid}-kill-${Date.now()}`;
    const [name, value] = mark.split('=') as [string, string];
    let escaped = 0;
    const result = await execCommand({
      command: { shell: 'setsid sleep 30 > /dev/null 2>&1 & echo $!; sleep 30' },
      cwd: dir,
      env: { ...env, [name]: value },
      marks: [mark],
      onOutput: (_stream, chunk) => {
        escaped = Number(chunk.trim());
        killAllRunning('SIGKILL');
      },
    });
    expect(result).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
    expect(escaped).toBeGreaterThan(1);
    expect(await goneWithin(escaped)).toBe(true);
  });

  it('waits out one grace period, not two, for a stubborn group and a stubborn process that left it', async () => {
    const mark = `DEPLOYCTL_EXEC_TEST_MARK=${process.pid}-grace-${Date.now()}`;
    const [name, value] = mark.split('=') as [string, string];
    const started = performance.now();
    const { result, stdout } = await runCollecting({
      command: { shell: `trap '' TERM; setsid sh -c "trap '' TERM; echo \\$\\$; sleep 30" & sleep 30` },
      cwd: dir,
      env: { ...env, [name]: value },
      timeoutMs: 200,
      killGraceMs: 4000,
      marks: [mark],
    });
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
    expect(result.swept?.map((p) => p.pid)).toContain(Number(stdout.trim()));
    // One at a time this would be 0.2 + 4 + 4 s at the least.
    expect(elapsed).toBeGreaterThanOrEqual(4000);
    expect(elapsed).toBeLessThan(7000);
  });

  it('stops the group and rethrows when onOutput throws (a bug in the caller)', async () => {
    let pid: number | undefined;
    const pending = execCommand({
      command: { shell: 'echo boom; sleep 30 & sleep 30' },
      cwd: dir,
      env,
      killGraceMs: 1000,
      onSpawn: (p) => {
        pid = p;
      },
      onOutput: () => {
        throw new Error('reporter bug');
      },
    });
    await expect(pending).rejects.toThrow('reporter bug');
    await expectGroupGone(pid);
  });
});

describe('output', () => {
  it('decodes a multi-byte character split between two chunks', async () => {
    // € is E2 82 AC: the first two bytes, a pause, then the last one.
    const { stdout, chunks } = await runCollecting({ command: { shell: "printf 'a\\342\\202'; sleep 0.3; printf '\\254b\\n'" }, cwd: dir, env });
    expect(stdout).toBe('a€b\n');
    expect(chunks.map((c) => c.chunk)).toEqual(['a', '€b\n']);
    expect(stdout).not.toContain('\uFFFD');
  });

  it('keeps stdout and stderr apart', async () => {
    const { stdout, stderr } = await runCollecting({ command: { shell: 'echo out; echo err >&2; echo out2' }, cwd: dir, env });
    expect(stdout).toBe('out\nout2\n');
    expect(stderr).toBe('err\n');
  });

  it('streams 300 MB without keeping it: memory stays flat', async () => {
    const total = 300_000_000;
    let chars = 0;
    let allA = true;
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const result = await execCommand({
      command: { shell: `head -c ${total} /dev/zero | tr '\\0' a` },
      cwd: dir,
      env,
      onOutput: (_stream, chunk) => {
        chars += chunk.length;
        if (allA && chunk.charCodeAt(0) !== 97) allA = false;
        if ((chars & 0xfffff) < chunk.length) peak = Math.max(peak, process.memoryUsage().rss);
      },
    });
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(result.exitCode).toBe(0);
    expect(chars).toBe(total);
    expect(allA).toBe(true);
    expect(peak - before).toBeLessThan(100 * 1024 * 1024);
  }, 120_000);

  describe('hostile strings are never executed', () => {
    const hostile = ['$(touch marker)', '`touch marker`', '; touch marker', '&& touch marker', '| touch marker', "'; touch marker; '", '"; touch marker; "', '\ntouch marker\n'];

    it('as argv items', async () => {
      const { result, stdout } = await runCollecting({ command: { argv: ['printf', '%s|', ...hostile] }, cwd: dir, env });
      expect(result.exitCode).toBe(0);
      expect(stdout).toBe(hostile.map((h) => `${h}|`).join(''));
      expect(existsSync(join(dir, 'marker'))).toBe(false);
    });

    it.each(hostile)('as a value reaching a shell string through the environment: %j', async (value) => {
      const { result, stdout } = await runCollecting({ command: { shell: 'printf "%s" "$VALUE"' }, cwd: dir, env: { ...env, VALUE: value } });
      expect(result.exitCode).toBe(0);
      expect(stdout).toBe(value);
      expect(existsSync(join(dir, 'marker'))).toBe(false);
    });

    it.each(hostile)('as a single-quoted word in a shell string: %j', async (value) => {
      const quoted = `'${value.replace(/'/g, `'\\''`)}'`;
      const { result, stdout } = await runCollecting({ command: { shell: `printf '%s' ${quoted}` }, cwd: dir, env });
      expect(result.exitCode).toBe(0);
      expect(stdout).toBe(value);
      expect(existsSync(join(dir, 'marker'))).toBe(false);
    });
  });
});

describe('when deployctl itself exits', () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  // A Node 20 child cannot run TypeScript: transpile the port next to node_modules so it resolves execa.
  const cacheDir = join(root, 'node_modules', '.deployctl-exec-test');
  const portModule = join(cacheDir, 'exec.mjs');

  beforeAll(() => {
    const transpile = (file: string) =>
      ts.transpileModule(readFileSync(join(root, 'src', file), 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      }).outputText;
    mkdirSync(cacheDir, { recursive: true });
    // The port's relative imports are the fault-point module and the /proc reader: put them beside the copy.
    writeFileSync(join(cacheDir, 'faults.mjs'), transpile('faults.ts'));
    writeFileSync(join(cacheDir, 'proc.mjs'), transpile(join('ports', 'proc.ts')));
    writeFileSync(portModule, transpile(join('ports', 'exec.ts')).replace("'../faults.js'", "'./faults.mjs'").replace("'./proc.js'", "'./proc.mjs'"));
  });
  afterAll(() => {
    rmSync(cacheDir, { recursive: true, force: true });
  });

  /** Start the stand-in, wait for the step's pid (and `ready` if asked), let it leave, return the pid and its exit. */
  async function runChild(mode: 'exit' | 'sigterm' | 'throw'): Promise<{ pid: number; code: number | null; signal: NodeJS.Signals | null }> {
    const child = spawn(process.execPath, [join(root, 'test', 'helpers', 'exec-exit-child.mjs'), portModule, mode], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let pid: number | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      pid ??= Number(/^pid (\d+)$/m.exec(out)?.[1]) || undefined;
      if (mode === 'sigterm' && out.includes('ready')) child.kill('SIGTERM');
    });
    child.stderr.resume();
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    expect(pid).toBeTypeOf('number');
    return { pid: pid!, code, signal };
  }

  it.each([
    ['calls process.exit', 'exit', 0],
    ['handles SIGTERM with killAllRunning and exits', 'sigterm', 143],
    ['crashes on an uncaught exception', 'throw', 1],
  ] as const)('leaves no step group behind when it %s', async (_how, mode, exitCode) => {
    const { pid, code } = await runChild(mode);
    expect(code).toBe(exitCode);
    // The step ignores SIGTERM: only the exit hook's SIGKILL ends it.
    await expectGroupGone(pid);
  });
});
