// The process boundary: argv in, exit code out. bin/deployctl.js imports this and nothing else.
import { readFileSync } from 'node:fs';

/** `deployctl plan … | head`: a closed pipe is the reader saying it has enough, not an error. */
function exitQuietlyOnEpipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  // Answered here, before commander and the command table load (issue 7: start-up within 1.5× of `node -e 0`), and
  // without ./version.js: shared with the commands, it would be a chunk of its own, one more module to load. The same
  // package.json (../../ from dist/cli/ and from src/cli/) and the same output as commander's `.version()`, which
  // answers every other spelling (`deployctl -V extra`, …).
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  exitQuietlyOnEpipe(process.stdout);
  process.stdout.write(`${version}\n`);
} else {
  exitQuietlyOnEpipe(process.stdout);
  exitQuietlyOnEpipe(process.stderr);
  const { main } = await import('./main.js');
  process.exitCode = await main(argv);
}
