#!/usr/bin/env node
// Benchmark: peak memory of `deployctl run` when its one step prints 1 GiB: 100-byte log lines from
// `yes … | head -c 1073741824`, CI=true, deployctl's own stdout and stderr read by this process as a CI runner reads
// them (a pipe, drained as fast as it fills). Peak RSS comes from GNU time (%M) when installed, else from VmHWM polled
// in /proc. Past --cap MiB (default 2048) the run is stopped, so a leak cannot take the machine with it.
//
//   node bench/output-memory.mjs [--mib N] [--cap MiB] [--secret]      (needs a build: npm run build)
//
// --secret declares a secret (set in the environment, not printed) so that every chunk of output goes through the
// streaming masker (src/engine/secrets.ts): its memory must stay flat too.
//
// Target (issue 7): ≤ 150 MiB, whatever the output's size. A miss is printed, not failed on: bench/run.js --strict decides.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assertBuilt, BIN, benchEnv, formatMs, loadAverage, numberArg, row, writeRows } from './lib.mjs';

const argv = process.argv.slice(2);
const mib = numberArg(argv, '--mib', 1024);
const capMiB = numberArg(argv, '--cap', 2048);
const withSecret = argv.includes('--secret');
const TARGET_MIB = 150;
assertBuilt();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-output-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

const bytes = mib * 1024 * 1024;
// 99 characters and a newline: a long-ish log line.
const text = `deployctl bench: a step printing log lines, ${'.'.repeat(99 - 44 - 6)} line`;
fs.writeFileSync(
  path.join(dir, 'big.yaml'),
  [
    'version: 1',
    'name: bench-output',
    'roles: { ops: { title: Operations } }',
    ...(withSecret ? ['secrets: [BENCH_TOKEN]'] : []),
    'phases:',
    '  - id: output',
    '    steps:',
    '      - id: print',
    '        owner: ops',
    '        run: >-',
    `          yes '${text}' | head -c ${bytes}`,
    '',
  ].join('\n'),
);
const env = benchEnv({ DEPLOYCTL_STATE_DIR: path.join(dir, '.deployctl'), ...(withSecret ? { BENCH_TOKEN: 'bench-Secret-tok3n/with+base64=chars' } : {}) });

const GNU_TIME = spawnSync('/usr/bin/time', ['-f', '%M', 'true'], { stdio: 'ignore' }).status === 0 ? '/usr/bin/time' : undefined;
const rssFile = path.join(dir, 'rss.txt');
const [cmd, args] = GNU_TIME ? [GNU_TIME, ['-f', '%M', '-o', rssFile, process.execPath, BIN, 'run', 'big.yaml']] : [process.execPath, [BIN, 'run', 'big.yaml']];

const loadBefore = loadAverage();
const started = performance.now();
const child = spawn(cmd, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
let outBytes = 0;
let errTail = '';
child.stdout.on('data', (chunk) => (outBytes += chunk.length));
child.stderr.on('data', (chunk) => (errTail = (errTail + chunk).slice(-2000)));

/** deployctl's pid: the child itself, or GNU time's child. */
function deployctlPid() {
  if (!GNU_TIME) return child.pid;
  try {
    const children = fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/);
    return children[0] ? Number(children[0]) : undefined;
  } catch {
    return undefined;
  }
}

function statusKiB(pid, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

let polledPeakKiB = 0;
let stopped = false;
const poll = setInterval(() => {
  const pid = deployctlPid();
  if (pid === undefined) return;
  polledPeakKiB = Math.max(polledPeakKiB, statusKiB(pid, 'VmHWM') ?? 0);
  if ((statusKiB(pid, 'VmRSS') ?? 0) > capMiB * 1024 && !stopped) {
    stopped = true;
    process.kill(pid, 'SIGKILL');
  }
}, 50);

const code = await new Promise((resolve) => child.on('close', (c) => resolve(c)));
clearInterval(poll);
const ms = performance.now() - started;
const timedKiB = GNU_TIME && fs.existsSync(rssFile) ? Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)) : NaN;
const peakKiB = Number.isFinite(timedKiB) && timedKiB > 0 ? timedKiB : polledPeakKiB;
const peakMiB = peakKiB / 1024;

let journalBytes = 0;
try {
  const runsDir = path.join(dir, '.deployctl', 'runs');
  for (const run of fs.readdirSync(runsDir)) journalBytes += fs.statSync(path.join(runsDir, run, 'journal.jsonl')).size;
} catch {
  // No journal: the run did not start.
}

if (!stopped && code !== 0) {
  console.error(`bench: deployctl run failed (exit ${code}):\n${errTail}`);
  process.exit(1);
}
// The record says how much the step printed: its kept tail plus what was cut before it. Anything but all of it
// would mean the run did not stream what this benchmark is about.
let recordedBytes;
if (!stopped) {
  const recordsDir = path.join(dir, '.deployctl', 'records');
  const envelope = JSON.parse(fs.readFileSync(path.join(recordsDir, fs.readdirSync(recordsDir)[0]), 'utf8'));
  const { predicate } = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
  const step = predicate.phases.flatMap((p) => p.steps).find((s) => s.id === 'print');
  recordedBytes = (step?.stdout?.truncated_bytes ?? 0) + Buffer.byteLength(step?.stdout?.text ?? '');
  if (step?.status !== 'succeeded' || recordedBytes !== bytes) {
    console.error(`bench: the step did not print ${bytes} bytes (status ${step?.status}, recorded ${recordedBytes} bytes)`);
    process.exit(1);
  }
}
const fmtMiB = (n) => `${n.toFixed(0)} MiB`;
const shown = stopped ? `> ${fmtMiB(capMiB)} (stopped)` : fmtMiB(peakMiB);
console.log(
  [
    `one \`run\` step printing ${mib} MiB as 100-byte lines${withSecret ? ', masked (a secret is declared)' : ''}; deployctl's stdout and stderr drained through a pipe; peak RSS from ${GNU_TIME ? 'GNU time (%M)' : '/proc VmHWM, polled'}`,
    '',
    '| what | value |',
    '|---|---:|',
    `| peak RSS of deployctl run | ${shown} |`,
    `| wall time | ${formatMs(ms)}${stopped ? ' (until stopped)' : ` (${(bytes / 1024 / 1024 / (ms / 1000)).toFixed(1)} MiB/s of step output)`} |`,
    `| bytes the step printed, by the record (tail + truncated_bytes) | ${recordedBytes === undefined ? '–' : recordedBytes} |`,
    `| deployctl's own output read from its stdout | ${(outBytes / 1024 / 1024).toFixed(1)} MiB |`,
    `| the run's journal on disk | ${(journalBytes / 1024 / 1024).toFixed(1)} MiB |`,
    '',
    `load average (1 min) ${loadBefore.toFixed(2)}–${loadAverage().toFixed(2)} on ${os.cpus().length} CPUs`,
  ].join('\n'),
);

writeRows(argv, [
  row({
    name: `peak RSS, \`deployctl run\` of a step printing ${mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`}${withSecret ? ', masked' : ''}`,
    deployctl: shown,
    baseline: '– (absolute target)',
    target: `≤ ${TARGET_MIB} MiB`,
    limit: TARGET_MIB,
    value: stopped ? Infinity : peakMiB,
    load: `load average (1 min) ${loadBefore.toFixed(2)}–${loadAverage().toFixed(2)}`,
  }),
]);
