#!/usr/bin/env node
// Benchmark: start-up. `deployctl --version` and `deployctl validate runbooks/phase65.yaml` against `node -e 0`, the
// least any Node program costs, timed in the same run, interleaved.
//
//   node bench/startup.mjs [--rounds N] [--runs N]      (needs a build: npm run build)
//
// Prints a Markdown table; targets (issue 7): --version ≤ 1.5×, validate ≤ 2.5× `node -e 0`. Misses are printed, not
// failed on: bench/run.js --strict decides that.
import path from 'node:path';
import { assertBuilt, BIN, describeLoads, describeSampling, formatMs, numberArg, ROOT, row, timeInterleaved, writeRows } from './lib.mjs';

const argv = process.argv.slice(2);
const rounds = numberArg(argv, '--rounds', 21);
const runs = numberArg(argv, '--runs', 1);
assertBuilt();

const RUNBOOK = path.join('runbooks', 'phase65.yaml');
const contenders = [
  { key: 'node', argv: [process.execPath, '-e', '0'] },
  { key: 'version', argv: [process.execPath, BIN, '--version'] },
  { key: 'validate', argv: [process.execPath, BIN, 'validate', RUNBOOK] },
];
const { results, loads, timer } = timeInterleaved(contenders, { rounds, runs });
const node = results['node'].ms;

const lines = [
  `${describeSampling(rounds, runs, timer)}; cwd ${ROOT}`,
  '',
  '| command | median | min | max | ÷ node -e 0 |',
  '|---|---:|---:|---:|---:|',
  ...contenders.map((c) => {
    const r = results[c.key];
    const shown = c.argv.slice(1).map((a) => (a === BIN ? 'bin/deployctl.js' : a)).join(' ');
    return `| node ${shown} | ${formatMs(r.ms)} | ${formatMs(r.min)} | ${formatMs(r.max)} | ${(r.ms / node).toFixed(2)}× |`;
  }),
  '',
  describeLoads(loads),
];
console.log(lines.join('\n'));

const load = describeLoads(loads);
writeRows(argv, [
  row({
    name: 'CLI start: `deployctl --version`',
    deployctl: formatMs(results['version'].ms),
    baseline: `\`node -e 0\` ${formatMs(node)}`,
    ratio: results['version'].ms / node,
    target: '≤ 1.5×',
    limit: 1.5,
    load,
  }),
  row({
    name: '`deployctl validate runbooks/phase65.yaml`',
    deployctl: formatMs(results['validate'].ms),
    baseline: `\`node -e 0\` ${formatMs(node)}`,
    ratio: results['validate'].ms / node,
    target: '≤ 2.5×',
    limit: 2.5,
    load,
  }),
]);
