#!/usr/bin/env node
// Benchmark: how close a probe's p95 is to the server's latency (issue 11 item 3). A local endpoint answers in 200 ms;
// fresh processes, interleaved run by run, probe it with 10 samples, 5 at a time:
//   - deployctl run (warm-up on, the default)        what deployctl reports
//   - deployctl run with `warmup: false`             the same step without the warm-up: the client's cold start shows
//   - test/helpers/probe-baseline.mjs                a bare fetch client warmed the same way: what this machine allows now
//
//   node bench/probe-accuracy.mjs [--runs N] [--samples N] [--strict]      (needs a build: npm run build)
//
// Target: deployctl's median p95 at most 10 ms above the bare client's (its warm-up removes the client's start-up, so
// what is left is the server and the machine). Exit 0 unless --strict and the target is missed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { BIN, ROOT, assertBuilt, benchEnv, describeLoads, loadAverage, median, numberArg, row, writeRows } from './lib.mjs';

const DELAY_MS = 200;
const MARGIN_MS = 10;
const argv = process.argv.slice(2);
const runs = numberArg(argv, '--runs', 10);
const samples = numberArg(argv, '--samples', 10);
const strict = argv.includes('--strict');
assertBuilt();

const server = http.createServer((_req, res) =>
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  }, DELAY_MS),
);
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/slow`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-probe-accuracy-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

function runbook(name, warmup) {
  const file = path.join(dir, `${name}.yaml`);
  const http = `{ url: "${url}", samples: ${samples}, concurrency: 5${warmup ? '' : ', warmup: false'} }`;
  fs.writeFileSync(file, `version: 1\nname: ${name}\nroles: { ops: { title: Ops } }\nphases:\n  - id: p\n    steps:\n      - { id: probe, owner: ops, http: ${http} }\n`);
  return file;
}

/** Run a command to its end (asynchronously: the endpoint lives in this process); its stdout. */
function output(file, args, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env: benchEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${path.basename(args[0])} exited ${code}:\n${err}`))));
  });
}

/** p95 of a fresh `deployctl run` of `file`, from its record. */
async function deployctlP95(file) {
  const cwd = fs.mkdtempSync(path.join(dir, 'run-'));
  const record = path.join(cwd, 'record.json');
  await output(process.execPath, [BIN, 'run', file, '--non-interactive', '--out', record], cwd);
  const envelope = JSON.parse(fs.readFileSync(record, 'utf8'));
  return JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')).predicate.phases[0].steps[0].metrics.p95_ms;
}

async function bareP95() {
  const out = await output(process.execPath, [path.join(ROOT, 'test', 'helpers', 'probe-baseline.mjs'), url, String(samples), '5'], dir);
  return JSON.parse(out).p95_ms;
}

const warm = runbook('warm', true);
const cold = runbook('cold', false);
const loads = [loadAverage()];
const p95 = { warm: [], cold: [], bare: [] };
await deployctlP95(warm); // the first start reads dist/ and node_modules from a cold page cache
for (let i = 0; i < runs; i++) {
  p95.bare.push(await bareP95());
  p95.warm.push(await deployctlP95(warm));
  p95.cold.push(await deployctlP95(cold));
}
loads.push(loadAverage());
server.close();

const ms = (value) => `${Math.round(value * 10) / 10} ms`;
const line = (name, values) => `| ${name} | ${ms(Math.min(...values))} | ${ms(median(values))} | ${ms(Math.max(...values))} |`;
const excess = median(p95.warm) - median(p95.bare);
console.log(
  [
    `p95 of ${samples} samples (5 at a time) of a local endpoint answering in ${DELAY_MS} ms; fresh processes, ${runs} runs each, interleaved; Node ${process.version}, ${describeLoads(loads)}`,
    '',
    '| client | p95 min | p95 median | p95 max |',
    '|---|---:|---:|---:|',
    line('deployctl run (warm-up, the default)', p95.warm),
    line('deployctl run, `warmup: false`', p95.cold),
    line('bare fetch, warmed the same way', p95.bare),
    '',
    `deployctl: ${p95.warm.join(', ')} ms; warmup: false: ${p95.cold.join(', ')} ms; bare fetch: ${p95.bare.join(', ')} ms`,
    `target: deployctl's median p95 ≤ the bare client's + ${MARGIN_MS} ms: ${excess.toFixed(1)} ms above ${excess <= MARGIN_MS ? 'MET' : 'MISSED'}`,
  ].join('\n'),
);
writeRows(argv, [
  row({
    name: `probe p95 of a ${DELAY_MS} ms endpoint (${samples} samples, fresh process)`,
    deployctl: `${ms(median(p95.warm))} (without warm-up ${ms(median(p95.cold))})`,
    baseline: `bare fetch client, warmed: ${ms(median(p95.bare))}`,
    value: excess,
    target: `≤ bare + ${MARGIN_MS} ms`,
    limit: MARGIN_MS,
    load: describeLoads(loads),
  }),
]);
if (strict && excess > MARGIN_MS) process.exit(1);
