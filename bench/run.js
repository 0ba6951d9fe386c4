#!/usr/bin/env node
// `npm run bench`: build, run every benchmark in BENCHMARKS (or those named), one process each, then print one table
// of them all: name, deployctl, baseline, ratio, target, met? (issue 7).
//
//   npm run bench                          all of them (a few minutes: output-memory streams 1 GiB)
//   npm run bench -- startup run-steps     only these
//   npm run bench -- --no-build            skip `npm run build` (dist/ is up to date)
//   npm run bench -- --strict              exit 1 when a target is missed (default: print MISSED, exit 0)
//
// Exit codes: 0 done (targets missed or not, unless --strict), 1 a target missed under --strict, 2 a benchmark could
// not run. A shared 2-core machine under load misses start-up ratios for reasons that are not the code's: each
// benchmark prints the load average with its numbers, and the table says which were measured under what load.
//
// To add a benchmark: put bench/<name>.mjs beside this file; it prints its own details and, given `--rows FILE`,
// writes its summary rows there (see row() in bench/lib.mjs). Then add it to BENCHMARKS.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderTable } from './lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** name → script in bench/, with the arguments it gets. */
const BENCHMARKS = [
  { name: 'startup', script: 'startup.mjs', args: [] },
  { name: 'run-steps', script: 'run-steps.mjs', args: [] },
  { name: 'preflight-probes', script: 'preflight-probes.mjs', args: [] },
  { name: 'probe-accuracy', script: 'probe-accuracy.mjs', args: [] },
  { name: 'output-memory', script: 'output-memory.mjs', args: [] },
  { name: 'record-verify', script: 'record-verify.mjs', args: [] },
  { name: 'hostile-files', script: 'hostile-files.mjs', args: [] },
  { name: 'state-latency', script: 'state-latency.mjs', args: [] },
  { name: 'answer-latency', script: 'answer-latency.mjs', args: [] },
  { name: 'watch-ticks', script: 'watch-ticks.mjs', args: [] },
  { name: 'rehearsal', script: 'rehearsal.mjs', args: [] },
  { name: 'render-tty', script: 'render-tty.mjs', args: [] },
];

const argv = process.argv.slice(2);
const build = !argv.includes('--no-build');
const strict = argv.includes('--strict');
const names = argv.filter((a) => !a.startsWith('--'));
const unknown = names.filter((n) => !BENCHMARKS.some((b) => b.name === n));
if (unknown.length > 0) {
  console.error(`bench: no benchmark ${unknown.join(', ')}; there are: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
const selected = names.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => names.includes(b.name));

if (build) {
  const built = spawnSync('npm', ['run', 'build'], { cwd: path.join(HERE, '..'), stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) process.exit(2);
}

const rowsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-rows-'));
const rows = [];
const broken = [];
for (const bench of selected) {
  console.log(`\n## ${bench.name}\n`);
  const rowsFile = path.join(rowsDir, `${bench.name}.json`);
  const result = spawnSync(process.execPath, [path.join(HERE, bench.script), ...bench.args, '--rows', rowsFile], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0 || !fs.existsSync(rowsFile)) {
    broken.push(bench.name);
    console.error(`bench: ${bench.name} failed (exit ${result.status ?? result.signal})`);
    continue;
  }
  rows.push(...JSON.parse(fs.readFileSync(rowsFile, 'utf8')));
}
fs.rmSync(rowsDir, { recursive: true, force: true });

const missed = rows.filter((r) => r.met === false);
console.log(`\n## summary\n\n${new Date().toISOString()}, Node ${process.version}, ${os.cpus().length} CPUs\n`);
console.log(renderTable(rows));
console.log('');
for (const r of rows) console.log(`- ${r.name}: ${r.load}`);
if (missed.length > 0) console.log(`\nMISSED: ${missed.map((r) => r.name).join('; ')}${strict ? '' : ' (exit 0 all the same: pass --strict to fail on a miss)'}`);
if (broken.length > 0) console.log(`\nFAILED TO RUN: ${broken.join(', ')}`);
process.exit(broken.length > 0 ? 2 : strict && missed.length > 0 ? 1 : 0);
