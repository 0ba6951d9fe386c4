// The process boundary: argv in, exit code out. bin/deployctl.js imports this and nothing else.
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
