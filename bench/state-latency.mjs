#!/usr/bin/env node
// Benchmark: how soon an event appended by one process reaches a subscriber in another (issue 14: an answer reaches the
// waiting host in p95 ≤ 100 ms), on the local directory and on PostgreSQL, against a baseline measured in the same run:
// `psql -c "NOTIFY …"` to a client LISTENing on the same server.
//
//   node bench/state-latency.mjs [--events N] [--gap MS]      (N events, MS apart; default 50 and 20)
//
// What is timed is the store's part of an answer's trip (the answer command comes later): in one process, append an
// event and wait until it is stored (journal policy `fsync`); in another, receive it from subscribe(). PostgreSQL: the
// INSERT and its synchronous commit (a throwaway cluster with fsync on), the trigger's NOTIFY, the subscriber's read
// of the new row. Locally: write and fsync, inotify, read. Both processes are the state client of the tests
// (test/helpers/state-client.ts, bundled with esbuild), timing with performance.timeOrigin + now(), which is
// comparable between processes on one machine. The baseline's clock starts as psql is started (what a script or a
// person runs); a second line, for context, NOTIFYs from a client that is already connected.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startCluster } from '../test/helpers/pg-cluster.mjs';
import { buildStateClient } from '../test/helpers/state-client-build.mjs';
import { describeLoads, formatMs, loadAverage, numberArg, row, writeRows } from './lib.mjs';

const argv = process.argv.slice(2);
const events = numberArg(argv, '--events', 50);
const gapMs = numberArg(argv, '--gap', 20);
const TARGET_MS = 100;
const now = () => performance.timeOrigin + performance.now();

const cluster = startCluster({ fsync: true });
const clientFile = await buildStateClient();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-state-'));
process.on('exit', () => {
  cluster.stop();
  fs.rmSync(path.dirname(clientFile), { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});
cluster.createDatabase('bench');
const url = cluster.url('bench');
const loads = [loadAverage()];

function runId() {
  return `${new Date().toISOString().replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}`;
}

/** Start the state client; resolves its stdout lines when it exits, or rejects saying why. `onLine` sees each line as it comes. */
function client(command, onLine = () => undefined) {
  const child = spawn(process.execPath, [clientFile, JSON.stringify(command)], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  let buffer = '';
  let stderr = '';
  const lines = [];
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
      const line = JSON.parse(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      onLine(line);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve, reject) =>
    child.once('close', (code) => {
      clearTimeout(guard);
      if (code === 0) resolve(lines);
      else reject(new Error(`bench: state client ${command.op} failed (exit ${code}): ${stderr}`));
    }),
  );
}

/** Append `events` events in one process, receive them in another; the latency of each, in ms. */
async function storeLatencies(state) {
  const id = runId();
  await client({ op: 'append', state, runId: id, count: 1, gapMs: 0 });
  let ready;
  const listening = new Promise((resolve) => (ready = resolve));
  const received = client({ op: 'subscribe', state, runId: id, count: events + 1 }, (line) => line.ready && ready());
  await listening;
  await client({ op: 'append', state, runId: id, count: events, gapMs });
  const lines = await received;
  return lines.filter((l) => l.seq > 1).map((l) => l.receivedAt - l.sentAt);
}

/** NOTIFY → a LISTENing client, `events` times; `send(payload)` does the NOTIFY. */
async function notifyLatencies(send) {
  const listener = new pg.Client({ host: cluster.socketDir, port: cluster.port, database: 'bench', user: os.userInfo().username });
  await listener.connect();
  const waiting = new Map();
  listener.on('notification', (m) => waiting.get(m.payload)?.(now()));
  await listener.query('LISTEN bench_baseline');
  const out = [];
  try {
    for (let i = 0; i < events; i++) {
      await new Promise((resolve) => setTimeout(resolve, gapMs));
      const payload = String(i);
      const arrived = new Promise((resolve) => waiting.set(payload, resolve));
      const sent = now();
      await send(payload);
      out.push((await arrived) - sent);
      waiting.delete(payload);
    }
  } finally {
    await listener.end();
  }
  return out;
}

function psqlNotify(payload) {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(cluster.bin, 'psql'), ['-X', '-h', cluster.socketDir, '-p', String(cluster.port), '-d', 'bench', '-Atqc', `NOTIFY bench_baseline, '${payload}'`], { stdio: 'ignore' });
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`psql NOTIFY failed (exit ${code})`))));
  });
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const summary = (values) => ({ p50: percentile(values, 50), p95: percentile(values, 95), max: Math.max(...values) });
const show = (s) => `p50 ${formatMs(s.p50)} / p95 ${formatMs(s.p95)}`;

const baseline = summary(await notifyLatencies(psqlNotify));
loads.push(loadAverage());
const sender = new pg.Client({ host: cluster.socketDir, port: cluster.port, database: 'bench', user: os.userInfo().username });
await sender.connect();
const connected = summary(await notifyLatencies((payload) => sender.query(`NOTIFY bench_baseline, '${payload}'`)));
await sender.end();
loads.push(loadAverage());
const local = summary(await storeLatencies(path.join(work, '.deployctl')));
loads.push(loadAverage());
const postgres = summary(await storeLatencies(url));
loads.push(loadAverage());

console.log(`${events} events, ${gapMs} ms apart; PostgreSQL ${cluster.bin.split('/').at(-2)} on a Unix socket, fsync on; ${describeLoads(loads)}\n`);
console.log(`  baseline: psql -c "NOTIFY …" → LISTEN client   ${show(baseline)}, max ${formatMs(baseline.max)}  (psql's start included)`);
console.log(`  context:  NOTIFY from a connected client        ${show(connected)}, max ${formatMs(connected.max)}`);
console.log(`  local directory: append → subscriber            ${show(local)}, max ${formatMs(local.max)}`);
console.log(`  PostgreSQL: append → subscriber                 ${show(postgres)}, max ${formatMs(postgres.max)}`);

const load = describeLoads(loads);
writeRows(argv, [
  row({ name: 'state: append → subscriber, local directory', deployctl: show(local), baseline: `psql NOTIFY ${show(baseline)}`, ratio: local.p95 / baseline.p95, target: `p95 ≤ ${TARGET_MS} ms`, limit: TARGET_MS, value: local.p95, load }),
  row({ name: 'state: append → subscriber, PostgreSQL', deployctl: show(postgres), baseline: `psql NOTIFY ${show(baseline)}`, ratio: postgres.p95 / baseline.p95, target: `p95 ≤ ${TARGET_MS} ms`, limit: TARGET_MS, value: postgres.p95, load }),
]);
