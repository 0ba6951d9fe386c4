#!/usr/bin/env node
// Benchmark (issue 13): a watch of 10,000 ticks, one every 10 ms, each a trivial check (one HTTP request to a server
// on 127.0.0.1 run by this process). Memory: deployctl's RSS (/proc VmRSS) after tick 1,000 and after tick 10,000 —
// the window's state is a tally, its ticks go to the journal, so RSS must stay flat. The journal bytes per tick. And
// CPU while idle between ticks: a watch ticking every 4 s (real time), deployctl's CPU time (/proc stat utime+stime)
// over 2 s after its second tick, against an idle `node` process over the same 2 s: between ticks deployctl sleeps on a
// timer, no polling.
//
//   node bench/watch-ticks.mjs [--ticks N]      (needs a build: npm run build)
//
// Targets: RSS after tick 10,000 within 10 MiB of RSS after tick 1,000; idle CPU ≈ 0 (at most 20 ms over the 2 s).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { assertBuilt, BIN, benchEnv, formatMs, loadAverage, numberArg, row, writeRows } from './lib.mjs';

const argv = process.argv.slice(2);
const TICKS = numberArg(argv, '--ticks', 10_000);
const FIRST = Math.min(1000, Math.floor(TICKS / 10));
const RSS_GROWTH_LIMIT_MIB = 10;
const IDLE_CPU_LIMIT_MS = 20;
assertBuilt();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-watch-'));
const server = http.createServer((_req, res) => res.end('ok'));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/health`;
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

function runbook(name, watch, after) {
  fs.writeFileSync(
    path.join(dir, `${name}.yaml`),
    [
      'version: 1',
      `name: ${name}`,
      'roles: { ops: { title: Operations } }',
      'phases:',
      '  - id: watching',
      '    steps:',
      '      - id: w',
      '        owner: ops',
      '        watch:',
      ...watch.map((l) => `          ${l}`),
      `          checks: [{ id: health, http: { url: "${url}" } }]`,
      ...(after ? ['  - id: after', '    steps:', `      - { id: rest, owner: ops, run: "${after}" }`] : []),
      '',
    ].join('\n'),
  );
}

const kib = (pid, field) => {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
};
/** utime + stime of a process, in ms. */
const cpuMs = (pid) => {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticksPerSecond = 100; // USER_HZ on Linux
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
};

function start(file) {
  const child = spawn(process.execPath, [BIN, 'run', file], { cwd: dir, env: benchEnv({ DEPLOYCTL_STATE_DIR: path.join(dir, '.deployctl'), DEPLOYCTL_LOCK_DIR: path.join(dir, '.locks') }), stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stdout.resume();
  child.stderr.on('data', (c) => (err = (err + c).slice(-4000)));
  const done = new Promise((resolve) => child.on('close', (code) => resolve({ code, err })));
  return { child, done };
}

/** The watch-tick lines of the run's journal so far, read incrementally. */
function journalReader() {
  let file;
  let offset = 0;
  let partial = '';
  let ticks = 0;
  let tickBytes = 0;
  let slot = 0;
  let missed = 0;
  return () => {
    if (file === undefined) {
      const runs = path.join(dir, '.deployctl', 'runs');
      const run = fs.existsSync(runs) ? fs.readdirSync(runs)[0] : undefined;
      if (run === undefined) return { ticks, tickBytes, slot, missed };
      file = path.join(runs, run, 'journal.jsonl');
    }
    if (!fs.existsSync(file)) return { ticks, tickBytes, slot, missed };
    const size = fs.statSync(file).size;
    if (size > offset) {
      const fd = fs.openSync(file, 'r');
      const buf = Buffer.alloc(size - offset);
      fs.readSync(fd, buf, 0, buf.length, offset);
      fs.closeSync(fd);
      offset = size;
      const lines = (partial + buf.toString('utf8')).split('\n');
      partial = lines.pop();
      for (const line of lines) {
        if (line.includes('"kind":"watch-tick"')) {
          ticks++;
          tickBytes += Buffer.byteLength(line) + 1;
          const { tick } = JSON.parse(line);
          slot = Math.max(slot, tick.through ?? tick.n);
          if (tick.status === 'missed') missed += (tick.through ?? tick.n) - tick.n + 1;
        }
      }
    }
    return { ticks, tickBytes, slot, missed };
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- memory and journal: 10,000 ticks every 10 ms --------------------------------------------------------------
fs.rmSync(path.join(dir, '.deployctl'), { recursive: true, force: true });
// Missed ticks (a loaded machine) do not stop the window: only memory is measured here. The step after it keeps the
// process alive while RSS is read after the last tick.
runbook('ticks', ['every: 10ms', `count: ${TICKS}`, `inconclusive_limit: ${TICKS}`, `failure_limit: ${TICKS}`], 'sleep 3');
const loadBefore = loadAverage();
const started = performance.now();
const { child, done } = start('ticks.yaml');
const read = journalReader();
let rssFirst;
let rssLast;
let peak = 0;
let exited = false;
void done.then(() => (exited = true));
while (!exited) {
  const { slot } = read();
  const rss = kib(child.pid, 'VmRSS');
  if (rss !== undefined) peak = Math.max(peak, rss);
  if (rssFirst === undefined && slot >= FIRST) rssFirst = rss;
  if (rssLast === undefined && slot >= TICKS) {
    rssLast = rss;
    break;
  }
  await sleep(20);
}
const result = await done;
const wall = performance.now() - started;
const { ticks, tickBytes, missed } = read();
if (result.code !== 0 || rssFirst === undefined || rssLast === undefined) {
  console.error(`bench: the ${TICKS}-tick watch did not run to its end (exit ${result.code}, ${ticks} ticks read):\n${result.err}`);
  process.exit(2);
}
const growthMiB = (rssLast - rssFirst) / 1024;
console.log(`watch of ${TICKS} ticks every 10 ms (one HTTP request each): ${formatMs(wall)}`);
console.log(`  RSS after tick ${FIRST}: ${(rssFirst / 1024).toFixed(1)} MiB; after tick ${TICKS}: ${(rssLast / 1024).toFixed(1)} MiB; growth ${growthMiB.toFixed(1)} MiB (peak ${(peak / 1024).toFixed(1)} MiB)`);
console.log(`  journal: ${tickBytes} bytes of watch-tick events for ${ticks} tick events, ${(tickBytes / ticks).toFixed(0)} bytes per tick (${missed} of ${TICKS} slots missed: a tick is a spawn-free HTTP request, but a loaded machine is late now and then)`);

// ---- idle CPU between ticks --------------------------------------------------------------------------------------
fs.rmSync(path.join(dir, '.deployctl'), { recursive: true, force: true });
// Measured after the second tick: the first comes at once, while the process still settles from its start-up (module
// loading, the first compilations), which is not what idling between ticks costs.
runbook('idle', ['every: 4s', 'count: 3'], undefined);
const idle = start('idle.yaml');
const idleRead = journalReader();
const waitTick = async () => {
  for (let i = 0; i < 1000 && idleRead().ticks < 2; i++) await sleep(10);
};
await waitTick();
await sleep(300);
const baseline = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 3000)'], { stdio: 'ignore', env: benchEnv() });
await sleep(300);
const d0 = cpuMs(idle.child.pid);
const b0 = cpuMs(baseline.pid);
await sleep(2000);
const d1 = cpuMs(idle.child.pid);
const b1 = cpuMs(baseline.pid);
const idleResult = await idle.done;
baseline.kill();
server.close();
if (idleResult.code !== 0) {
  console.error(`bench: the idle watch failed (exit ${idleResult.code}):\n${idleResult.err}`);
  process.exit(2);
}
const idleMs = d1 - d0;
const baselineMs = b1 - b0;
console.log(`CPU over 2 s idle between two ticks (4 s apart, after the second): deployctl ${idleMs} ms, an idle node process ${baselineMs} ms (clock ticks of 10 ms)`);
const load = `load average (1 min) ${loadBefore.toFixed(2)}–${loadAverage().toFixed(2)} on ${os.cpus().length} CPUs`;
console.log(load);

writeRows(argv, [
  row({
    name: `RSS growth, watch of ${TICKS} ticks every 10 ms (tick ${FIRST} → ${TICKS})`,
    deployctl: `${growthMiB.toFixed(1)} MiB (${(rssFirst / 1024).toFixed(0)} → ${(rssLast / 1024).toFixed(0)} MiB)`,
    baseline: '– (absolute target)',
    target: `≤ ${RSS_GROWTH_LIMIT_MIB} MiB`,
    limit: RSS_GROWTH_LIMIT_MIB,
    value: growthMiB,
    load,
  }),
  row({ name: 'journal bytes per watch tick (one http check)', deployctl: `${(tickBytes / ticks).toFixed(0)} B`, baseline: '–', target: 'none set', load }),
  row({
    name: 'CPU while idle between ticks (2 s)',
    deployctl: `${idleMs} ms`,
    baseline: `idle \`node\` ${baselineMs} ms`,
    target: `≈ 0 (≤ ${IDLE_CPU_LIMIT_MS} ms)`,
    limit: IDLE_CPU_LIMIT_MS,
    value: idleMs,
    load,
  }),
]);
