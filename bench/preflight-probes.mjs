#!/usr/bin/env node
// Benchmark: 40 probes of a local endpoint that answers in 250 ms, as `deployctl preflight` (40 http checks, default concurrency)
// against a sequential curl loop, an ansible `uri` playbook (when installed) and the ideal (1 + ⌈40/concurrency⌉) × 250 ms:
// one round of warm-up requests (src/ports/warmup-ledger.ts: the first `concurrency` checks each open a connection, the
// others reuse them), then ⌈40/concurrency⌉ rounds of samples.
//
//   node bench/preflight-probes.mjs [--runs N] [--strict]      (needs a build: npm run build)
//
// Prints a Markdown table and a MET/MISSED line per target (≤ 0.35× the curl loop, ≤ 1.3× the ideal). A miss on a
// loaded machine is not a failure: the exit code is 0 unless --strict is given (then 1 on a miss), as in bench/run.js.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { row, writeRows } from './lib.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'deployctl.js');
const PROBES = 40;
const LATENCY_MS = 250;
/** deployctl preflight's default (src/preflight/runner.ts DEFAULT_CONCURRENCY). */
const CONCURRENCY = 8;
const TARGETS = { vsCurl: 0.35, vsIdeal: 1.3 };

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 3) || 3;
const strict = args.includes('--strict');

if (!fs.existsSync(path.join(ROOT, 'dist', 'cli', 'entry.js'))) {
  console.error('bench: dist/ is missing: run npm run build first');
  process.exit(2);
}

// ---- the endpoint ---------------------------------------------------------------------------------------------

let inFlight = 0;
let maxInFlight = 0;
let requests = 0;
const server = http.createServer((req, res) => {
  requests++;
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  res.once('close', () => inFlight--);
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  }, LATENCY_MS);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
const urls = Array.from({ length: PROBES }, (_, i) => `${base}/probe/${i + 1}`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-preflight-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

// ---- the contenders -------------------------------------------------------------------------------------------

/** GNU time, when installed, reports a child's CPU time (user + sys) in a file; wall time is measured here either way. */
const GNU_TIME = spawnSync('/usr/bin/time', ['-f', '%U', 'true'], { stdio: 'ignore' }).status === 0 ? '/usr/bin/time' : undefined;

/** Run a command to its end (asynchronously: the endpoint lives in this process); wall time and CPU time in ms. */
function timed(file, argv, env = process.env) {
  return new Promise((resolve, reject) => {
    const cpuFile = path.join(dir, 'cpu.txt');
    const [cmd, cmdArgs] = GNU_TIME ? [GNU_TIME, ['-f', '%U %S', '-o', cpuFile, file, ...argv]] : [file, argv];
    const started = performance.now();
    const child = spawn(cmd, cmdArgs, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => {
      const cpu = GNU_TIME && fs.existsSync(cpuFile) ? fs.readFileSync(cpuFile, 'utf8') : '';
      const [user, sys] = cpu.trim().split(/\s+/).map(Number);
      resolve({ ms: performance.now() - started, code, stdout: out, stderr: err, cpuMs: Number.isFinite(user + sys) ? (user + sys) * 1000 : undefined });
    });
  });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function measure(name, runOnce, times, { warmups = 0 } = {}) {
  const samples = [];
  const cpu = [];
  const inner = [];
  for (let i = 0; i < times; i++) {
    requests = 0;
    maxInFlight = 0;
    const result = await runOnce();
    if (result.code !== 0) throw new Error(`${name} failed (exit ${result.code}):\n${result.stderr}`);
    if (requests !== PROBES + warmups) throw new Error(`${name} sent ${requests} requests, not ${PROBES}${warmups ? ` samples + ${warmups} warm-up` : ''}`);
    samples.push(result.ms);
    if (result.cpuMs !== undefined) cpu.push(result.cpuMs);
    if (result.stdout.startsWith('{')) inner.push(JSON.parse(result.stdout).duration_ms);
  }
  return { name, ms: median(samples), samples, maxInFlight, cpuMs: cpu.length > 0 ? median(cpu) : undefined, innerMs: inner.length > 0 ? median(inner) : undefined };
}

const runbook = path.join(dir, 'probes.yaml');
fs.writeFileSync(
  runbook,
  [
    'version: 1',
    'name: bench-probes',
    'roles: { ops: { title: Operations } }',
    `vars: { base_url: "${base}" }`,
    'phases:',
    '  - id: preflight',
    '    preflight: true',
    '    steps:',
    ...urls.map((_, i) => `      - { id: probe-${i + 1}, owner: ops, http: { url: "\${{ vars.base_url }}/probe/${i + 1}", expect: { status: 200 } } }`),
    '',
  ].join('\n'),
);
// NODE_EXTRA_CA_CERTS costs every Node start ~60 ms on these machines (STACK.md): not deployctl's time.
const { NODE_EXTRA_CA_CERTS: _ca, ...nodeEnv } = process.env;
const deployctlEnv = { ...nodeEnv, CI: 'true', NO_COLOR: '1' };

const loadBefore = os.loadavg()[0];
const results = [];
// One warm-up run: the first start reads dist/ and node_modules from a cold page cache.
const deployctlArgs = [BIN, 'preflight', runbook, '--json'];
await timed(process.execPath, deployctlArgs, deployctlEnv);
// One warm-up request per connection the first CONCURRENCY checks open; the other checks find them warm.
results.push(await measure(`deployctl preflight (${PROBES} http checks, concurrency ${CONCURRENCY})`, () => timed(process.execPath, deployctlArgs, deployctlEnv), runs, { warmups: CONCURRENCY }));
const deployctl = results[0];

const curlScript = 'for u in "$@"; do curl -s -o /dev/null "$u" || exit 1; done';
results.push(await measure(`sequential curl loop (curl -s -o /dev/null, ${PROBES}×)`, () => timed('bash', ['-c', curlScript, 'curl-loop', ...urls]), 1));
const curl = results[1];

let ansibleNote = '';
if (spawnSync('ansible-playbook', ['--version'], { stdio: 'ignore' }).status === 0) {
  const playbook = path.join(dir, 'probes.yml');
  fs.writeFileSync(
    playbook,
    [
      '- hosts: localhost',
      '  connection: local',
      '  gather_facts: false',
      '  tasks:',
      '    - name: probe',
      '      ansible.builtin.uri: { url: "{{ item }}", status_code: 200 }',
      '      loop:',
      ...urls.map((u) => `        - ${u}`),
      '',
    ].join('\n'),
  );
  results.push(await measure(`ansible-playbook, uri module (${PROBES} loop items)`, () => timed('ansible-playbook', ['-i', 'localhost,', playbook], { ...process.env, ANSIBLE_NOCOWS: '1' }), 1));
} else {
  ansibleNote = 'ansible-playbook is not installed: the ansible comparison was skipped (Debian: apt-get install ansible-core).';
}

const idealMs = (1 + Math.ceil(PROBES / CONCURRENCY)) * LATENCY_MS;
const loadAfter = os.loadavg()[0];
server.close();

// ---- the table ------------------------------------------------------------------------------------------------

const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
const lines = [
  `${PROBES} probes of a local endpoint answering in ${LATENCY_MS} ms (${os.cpus().length} CPUs, Node ${process.version}; deployctl: median of ${runs} runs after a warm-up, wall time of the whole process)`,
  '',
  '| contender | wall time | CPU (user+sys) | deployctl ÷ this | this ÷ ideal |',
  '|---|---:|---:|---:|---:|',
  ...results.map((r) => `| ${r.name} | ${fmt(r.ms)} | ${r.cpuMs === undefined ? '–' : fmt(r.cpuMs)} | ${ratio(deployctl.ms, r.ms)} | ${ratio(r.ms, idealMs)} |`),
  `| ideal: (1 warm-up + ⌈${PROBES}/${CONCURRENCY}⌉) × ${LATENCY_MS} ms | ${fmt(idealMs)} | – | ${ratio(deployctl.ms, idealMs)} | 1.00× |`,
  '',
  `deployctl runs: ${deployctl.samples.map(fmt).join(', ')}; most requests in flight at once: ${deployctl.maxInFlight}; requests per run: ${PROBES} samples + ${CONCURRENCY} warm-up`,
  `of which the checks themselves (duration_ms in --json, from the first check to the last): ${fmt(deployctl.innerMs)} = ${ratio(deployctl.innerMs, idealMs)} the ideal; the rest is Node start-up, imports and loading the runbook`,
  `machine load average (1 min) before/after: ${loadBefore.toFixed(2)} / ${loadAfter.toFixed(2)} on ${os.cpus().length} CPUs: above the CPU count, wall times include waiting for a CPU`,
];
if (ansibleNote) lines.push(ansibleNote);
const vsCurl = deployctl.ms / curl.ms;
const vsIdeal = deployctl.ms / idealMs;
const verdicts = [
  `target ≤ ${TARGETS.vsCurl}× the curl loop: ${vsCurl.toFixed(3)}× ${vsCurl <= TARGETS.vsCurl ? 'MET' : 'MISSED'}`,
  `target ≤ ${TARGETS.vsIdeal}× the ideal: ${vsIdeal.toFixed(3)}× ${vsIdeal <= TARGETS.vsIdeal ? 'MET' : 'MISSED'}`,
];
console.log([...lines, '', ...verdicts].join('\n'));

const load = `load average (1 min) ${Math.min(loadBefore, loadAfter).toFixed(2)}–${Math.max(loadBefore, loadAfter).toFixed(2)}`;
writeRows(args, [
  row({
    name: `${PROBES} HTTP probes (250 ms endpoint, \`deployctl preflight\`)`,
    deployctl: fmt(deployctl.ms),
    baseline: `ideal (1 + ⌈${PROBES}/${CONCURRENCY}⌉) × ${LATENCY_MS} ms = ${fmt(idealMs)} (curl loop ${fmt(curl.ms)}: ${vsCurl.toFixed(2)}×, target ≤ ${TARGETS.vsCurl}× ${vsCurl <= TARGETS.vsCurl ? 'met' : 'MISSED'})`,
    ratio: vsIdeal,
    target: `≤ ${TARGETS.vsIdeal}× ideal`,
    limit: TARGETS.vsIdeal,
    load,
  }),
]);
if (strict && (vsCurl > TARGETS.vsCurl || vsIdeal > TARGETS.vsIdeal)) process.exit(1);
