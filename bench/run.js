#!/usr/bin/env node
// `npm run bench`: build, then run every benchmark in BENCHMARKS (or those named on the command line), one process each.
//
//   npm run bench                      all of them
//   npm run bench -- preflight-probes  only these
//   npm run bench -- --no-build        skip `npm run build` (dist/ is up to date)
//
// To add a benchmark: put bench/<name>.mjs beside this file (it prints its own table and exits non-zero when it
// misses its target) and add it to BENCHMARKS.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** name → script in bench/, with the arguments it gets. */
const BENCHMARKS = [{ name: 'preflight-probes', script: 'preflight-probes.mjs', args: [] }];

const argv = process.argv.slice(2);
const build = !argv.includes('--no-build');
const names = argv.filter((a) => !a.startsWith('--'));
const unknown = names.filter((n) => !BENCHMARKS.some((b) => b.name === n));
if (unknown.length > 0) {
  console.error(`bench: no benchmark ${unknown.join(', ')}; there are: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
const selected = names.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => names.includes(b.name));

if (build) {
  const built = spawnSync('npm', ['run', 'build'], { cwd: path.join(HERE, '..'), stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

let failed = 0;
for (const bench of selected) {
  console.log(`\n## ${bench.name}\n`);
  const result = spawnSync(process.execPath, [path.join(HERE, bench.script), ...bench.args], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    failed++;
    console.error(`bench: ${bench.name} ${result.status === 1 ? 'missed its target' : `failed (exit ${result.status ?? result.signal})`}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
