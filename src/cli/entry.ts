// The process boundary: argv in, exit code out. bin/deployctl.js imports this and nothing else.
import { packageVersion } from '../ports/version.js';

/**
 * `deployctl plan … | head`: a closed pipe is the reader saying it has enough, not an error. Never a reason to stop,
 * though: `deployctl run … | head` must not kill a deployment half-way. Output to a closed pipe is dropped; the run
 * goes on, and its journal, record and exit code tell how it ended.
 */
function ignoreClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') return;
    throw error;
  });
}

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V' || argv[0] === '-v')) {
  // Answered here, before commander and the command table load (issue 7: start-up within 1.5× of `node -e 0`). The
  // version port is shared with the commands, so the bundle makes it a small chunk of its own: one file more, which
  // does not show against Node's own start-up. The same output as commander's `.version()`, which answers every other
  // spelling (`deployctl -V extra`, …).
  ignoreClosedPipe(process.stdout);
  process.stdout.write(`${packageVersion()}\n`);
} else {
  ignoreClosedPipe(process.stdout);
  ignoreClosedPipe(process.stderr);
  const { main } = await import('./main.js');
  process.exitCode = await main(argv);
}
