#!/usr/bin/env node
// `prepare`: build the checkout. npm also runs it when `npx deployctl` first links this checkout into npx's cache
// (npm exec installs a project's own bin that way): the checkout is built already then (`npm ci` did it), and
// building again would hold that first command for 15-20 s behind a spinner; a Ctrl-C in that time also leaves
// npx a broken cache entry. So under npm exec an existing build is kept; everywhere else, and when there is no
// build yet, the build runs.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (process.env.npm_command === 'exec' && existsSync(join(root, 'dist', 'cli', 'entry.js'))) process.exit(0);
const npm = process.env.npm_execpath;
const result = npm !== undefined && npm.endsWith('.js')
  ? spawnSync(process.execPath, [npm, 'run', 'build'], { cwd: root, stdio: 'inherit' })
  : spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
if (result.error !== undefined) console.error(`prepare: could not run npm run build: ${result.error.message}`);
process.exit(result.status ?? 1);
