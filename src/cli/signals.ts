// Ctrl-C and SIGTERM during a run: the first stops the running step's process tree and lets the run end cleanly; a second exits at once.
import { writeSync } from 'node:fs';
import { killAllRunning } from '../ports/exec.js';
import { ExitCode } from '../errors.js';

const SHOW_CURSOR = '\x1b[?25h';

/**
 * Write straight to the file descriptor. While the listr2 task list renders it replaces process.stdout.write and
 * process.stderr.write with a buffer that is only flushed when the list ends, so anything written through them just
 * before process.exit is lost: the goodbye line, and the escape that shows the cursor the renderer hid.
 */
function writeNow(fd: 1 | 2, text: string): void {
  try {
    writeSync(fd, text);
  } catch {
    // A closed or non-blocking descriptor (EAGAIN): nothing better to do on the way out.
  }
}

export interface Interrupts {
  signal: AbortSignal;
  dispose(): void;
}

export function interruptOnSignals(onFirst: (signal: NodeJS.Signals) => void): Interrupts {
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
    writeNow(2, '\ndeployctl: second interrupt: stopped at once. The journal is intact; resume with --resume.\n');
    process.exit(ExitCode.interrupted);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  process.on('SIGHUP', handler);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      process.off('SIGHUP', handler);
    },
  };
}
