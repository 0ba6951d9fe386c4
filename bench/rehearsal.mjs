#!/usr/bin/env node
// Benchmark (issue 13): phase65 rehearsed at --time-scale 720 against the demo target, unattended
// (runbooks/phase65.answers.yaml), every watch window included. Its plan runs from T-30m to the T+24h sign-off: 24.5
// planned hours, 122.5 s at 720x. A rehearsal divides the plan's waits by 720 and runs the work at its real pace, so its
// wall time is the scaled plan give or take the real work and how far ahead of the plan the run gets.
//
//   node bench/rehearsal.mjs [--scale N]      (needs a build: npm run build)
//
// Target: wall time within 10% of the scaled plan.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assertBuilt, BIN, benchEnv, formatMs, loadAverage, numberArg, ROOT, row, writeRows } from './lib.mjs';

const argv = process.argv.slice(2);
const SCALE = numberArg(argv, '--scale', 720);
const PLAN_MS = 24.5 * 3_600_000;
assertBuilt();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-rehearsal-'));
fs.cpSync(path.join(ROOT, 'runbooks'), path.join(dir, 'runbooks'), { recursive: true });
const port = 20000 + Math.floor(Math.random() * 20000);
const env = benchEnv({ DEMO_PORT: String(port), DEMO_STATE_DIR: path.join(dir, 'demo-state'), DEPLOYCTL_LOCK_DIR: path.join(dir, '.locks') });
const stopDemo = () => spawnSync(process.execPath, [path.join(dir, 'runbooks/demo/demo.js'), 'stop'], { env, stdio: 'ignore' });
process.on('exit', () => {
  stopDemo();
  fs.rmSync(dir, { recursive: true, force: true });
});

const loadBefore = loadAverage();
const started = performance.now();
const child = spawn(
  process.execPath,
  [BIN, 'run', 'runbooks/phase65.yaml', '--answers', 'runbooks/phase65.answers.yaml', '--var', `base_url=http://127.0.0.1:${port}`, '--time-scale', String(SCALE)],
  { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
);
let out = '';
let err = '';
child.stdout.on('data', (c) => (out += c));
child.stderr.on('data', (c) => (err = (err + c).slice(-4000)));
const code = await new Promise((resolve) => child.on('close', resolve));
const wall = performance.now() - started;
if (code !== 0) {
  console.error(`bench: the rehearsal failed (exit ${code}):\n${out.slice(-3000)}\n${err}`);
  process.exit(2);
}
const scaled = PLAN_MS / SCALE;
const ratio = wall / scaled;
const summary = out.split('\n').filter((l) => /^Run |REHEARSAL/.test(l));
console.log(`phase65 at --time-scale ${SCALE}: ${formatMs(wall)} of wall time; the scaled plan is ${formatMs(scaled)} (24.5 planned hours); ${ratio.toFixed(3)}x`);
for (const line of summary) console.log(`  ${line.trim()}`);
const ticks = (out.match(/› tick \d+\/\d+/g) ?? []).length;
console.log(`  ticks shown live: ${ticks}`);
const load = `load average (1 min) ${loadBefore.toFixed(2)}–${loadAverage().toFixed(2)} on ${os.cpus().length} CPUs`;
console.log(load);

const r = row({
  name: `phase65 rehearsal at --time-scale ${SCALE} (every watch window)`,
  deployctl: formatMs(wall),
  baseline: `scaled plan 24.5 h / ${SCALE} = ${formatMs(scaled)}`,
  ratio,
  target: 'within 10% (0.9–1.1×)',
  limit: 1.1,
  load,
});
// Within 10% either way: too fast would mean waits were skipped.
if (ratio < 0.9) r.met = false;
writeRows(argv, [r]);
