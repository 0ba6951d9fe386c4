#!/usr/bin/env node
// Benchmark: 100 trivial `run` steps. `deployctl run` of a generated runbook of 100 `run: "true"` steps (CI=true, so
// non-interactive; journal, task list, signed record and all) against bench/baselines/steps-loop.mjs, which spawns
// `sh -c true` and appends + fsyncs one journal line per step; both are whole processes, start-up included.
//
//   node bench/run-steps.mjs [--steps N] [--rounds N] [--runs N]      (needs a build: npm run build)
//
// Target (issue 7): ≤ 2× the baseline. Misses are printed, not failed on: bench/run.js --strict decides that.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assertBuilt, benchEnv, BIN, describeLoads, describeSampling, formatMs, numberArg, ROOT, row, timeInterleaved, writeRows } from './lib.mjs';
import { stepsRunbookText } from './runbooks.mjs';

const argv = process.argv.slice(2);
const steps = numberArg(argv, '--steps', 100);
const rounds = numberArg(argv, '--rounds', 9);
const runs = numberArg(argv, '--runs', 1);
assertBuilt();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-steps-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

const runbook = path.join(dir, 'steps.yaml');
fs.writeFileSync(runbook, stepsRunbookText('bench-steps', steps));
// The state directory (journals, records, the signing key deployctl creates on its first run) lives in the temp dir.
const env = benchEnv({ DEPLOYCTL_STATE_DIR: path.join(dir, '.deployctl') });
const contenders = [
  { key: 'baseline', argv: [process.execPath, path.join(ROOT, 'bench', 'baselines', 'steps-loop.mjs'), path.join(dir, 'baseline.jsonl'), String(steps)], env, cwd: dir },
  { key: 'deployctl', argv: [process.execPath, BIN, 'run', 'steps.yaml'], env, cwd: dir },
];
const { results, loads, timer } = timeInterleaved(contenders, { rounds, runs, dir });
const base = results['baseline'].ms;
const mine = results['deployctl'].ms;

// What one deployctl run wrote: its journal's lines say how many fsynced events each step costs.
const runsDir = path.join(dir, '.deployctl', 'runs');
const oneRun = fs.readdirSync(runsDir).sort().at(-1);
const journalLines = fs.readFileSync(path.join(runsDir, oneRun, 'journal.jsonl'), 'utf8').trim().split('\n').length;

console.log(
  [
    `${steps} steps of \`run: "true"\`; ${describeSampling(rounds, runs, timer)}`,
    '',
    '| contender | median | min | max | ÷ baseline |',
    '|---|---:|---:|---:|---:|',
    `| baseline: spawn \`sh -c true\` + append and fsync a journal line, per step (bench/baselines/steps-loop.mjs) | ${formatMs(base)} | ${formatMs(results['baseline'].min)} | ${formatMs(results['baseline'].max)} | 1.00× |`,
    `| deployctl run (CI=true; journal, task list, signed record) | ${formatMs(mine)} | ${formatMs(results['deployctl'].min)} | ${formatMs(results['deployctl'].max)} | ${(mine / base).toFixed(2)}× |`,
    '',
    `deployctl's journal of one run: ${journalLines} lines for ${steps} steps (the baseline writes ${steps}); deployctl fsyncs the start and end of each step and the run`,
    describeLoads(loads),
  ].join('\n'),
);

writeRows(argv, [
  row({
    name: `${steps} trivial \`run\` steps (CI=true, journal + record)`,
    deployctl: formatMs(mine),
    baseline: `spawn \`sh -c true\` + fsynced journal line per step ${formatMs(base)}`,
    ratio: mine / base,
    target: '≤ 2×',
    limit: 2,
    load: describeLoads(loads),
  }),
]);
