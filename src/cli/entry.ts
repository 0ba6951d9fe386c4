// The process boundary: argv in, exit code out. bin/deployctl.js imports this and nothing else.
import { main } from './main.js';

// `deployctl plan … | head`: a closed pipe is the reader saying it has enough, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await main(process.argv.slice(2));
