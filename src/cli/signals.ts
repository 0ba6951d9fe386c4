// Ctrl-C and SIGTERM during a run: the first stops the running step's process tree and lets the run end cleanly; a second exits at once.
import { killAllRunning } from '../ports/exec.js';
import { ExitCode } from '../errors.js';

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
    process.stderr.write('\x1b[?25h\ndeployctl: second interrupt: stopped at once. The journal is intact; resume with --resume.\n');
    process.exit(ExitCode.interrupted);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
