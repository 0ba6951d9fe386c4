// Ctrl-C and SIGTERM during a run: the first stops the running step's process tree and lets the run end cleanly; a second exits at once, as does a hangup.
import { killAllRunning } from '../ports/exec.js';
import { inert } from '../inert.js';
import { writeAll } from '../ports/fs.js';
import { ExitCode } from '../errors.js';

const SHOW_CURSOR = '\x1b[?25h';
/** How long a step may take to stop after a hangup before its tree is killed. */
const HANGUP_GRACE_MS = 1000;

/** Block the thread: after a hangup, nothing else may run (see `hangup`). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Write straight to the file descriptor. While the listr2 task list renders it replaces process.stdout.write and
 * process.stderr.write with a buffer that is only flushed when the list ends, so anything written through them just
 * before process.exit is lost: the goodbye line, and the escape that shows the cursor the renderer hid.
 */
function writeNow(fd: 1 | 2, text: string): void {
  try {
    writeAll(fd, Buffer.from(text, 'utf8'));
  } catch {
    // A closed or non-blocking descriptor (EAGAIN): nothing better to do on the way out.
  }
}

/** How to stop at once after the first interrupt: Ctrl-C again at a terminal, the same signal again otherwise. */
export function againToExit(signal: NodeJS.Signals): string {
  return signal === 'SIGINT' ? 'Press Ctrl-C again to exit at once.' : `A second ${signal} (or Ctrl-C) exits at once.`;
}

export interface Interrupts {
  signal: AbortSignal;
  dispose(): void;
}

/**
 * `afterStop`: a sentence for the messages of a second interrupt and of a hangup, after "stopped at once." (for run:
 * the journal is intact, and the command that resumes).
 */
export function interruptOnSignals(onFirst: (signal: NodeJS.Signals) => void, afterStop = ''): Interrupts {
  // The resume command quotes the runbook path from the command line: inert, as everything written to a terminal.
  const tail = afterStop === '' ? '' : ` ${inert(afterStop)}`;
  const controller = new AbortController();
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      onFirst(signal);
      controller.abort(signal);
      return;
    }
    killAllRunning('SIGKILL');
    const terminalFd = process.stdout.isTTY ? 1 : process.stderr.isTTY ? 2 : undefined;
    if (terminalFd !== undefined) writeNow(terminalFd, SHOW_CURSOR);
    writeNow(2, `\ndeployctl: second interrupt: stopped at once.${tail}\n`);
    process.exit(ExitCode.interrupted);
  };
  // The terminal closed (ssh dropped, window closed). Steps run in their own process group and session, so the
  // hangup never reaches them, and Node's default action would end deployctl without its exit hook: the step would
  // run on, orphaned. The run cannot end gracefully either: every write to a hung-up terminal fails (EIO) and the
  // event loop must not run again. So stop the step's tree (TERM, a short grace, KILL) and die of the hangup itself;
  // process.exit would first restore the terminal's modes, which aborts Node when the terminal is gone
  // (https://github.com/nodejs/node/issues/51519). The journal shows the step in flight; --resume asks what became of it.
  const hangup = () => {
    writeNow(2, `\ndeployctl: SIGHUP: the terminal went away; stopping the running step.${tail}\n`);
    if (killAllRunning('SIGTERM').length > 0) {
      sleepSync(HANGUP_GRACE_MS);
      killAllRunning('SIGKILL');
    }
    process.off('SIGHUP', hangup);
    process.kill(process.pid, 'SIGHUP');
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  process.on('SIGHUP', hangup);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      process.off('SIGHUP', hangup);
    },
  };
}
