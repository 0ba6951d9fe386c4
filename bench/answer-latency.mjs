#!/usr/bin/env node
// Benchmark (issue 14): an answer given with `deployctl answer` reaches the waiting host, on the local directory and on
// PostgreSQL, against `psql -c "NOTIFY …"` to a LISTENing client in the same run; then N people answering N prompts at
// once (none lost, none answered twice, every answer signed and verified).
//
//   node bench/answer-latency.mjs [--answers N] [--joiners N]      (default 50 answers, 20 joiners)
//
// The host is `deployctl run --wait` without a terminal, on a runbook of N confirm steps owned by one person. For each
// prompt, once the host has opened it, `deployctl answer` is started; timed from the host's journal:
//   given → taken    the signed answer's own time (the command has read its key, signed and is claiming) to the host
//                    journaling it as taken (prompt-answered): the store's claim, the live update, the host's check;
//   command → taken  from starting the `deployctl answer` process (Node's start-up included) to taken.
// The baseline's clock starts as psql is started, like the second line.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startCluster } from '../test/helpers/pg-cluster.mjs';
import { assertBuilt, benchEnv, BIN, describeLoads, formatMs, loadAverage, numberArg, row, writeRows } from './lib.mjs';

assertBuilt();
const argv = process.argv.slice(2);
const answers = numberArg(argv, '--answers', 50);
const joiners = numberArg(argv, '--joiners', 20);
const TARGET_MS = 100;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const cluster = startCluster({ fsync: true });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-answer-'));
process.on('exit', () => {
  cluster.stop();
  fs.rmSync(work, { recursive: true, force: true });
});
const loads = [loadAverage()];
const home = path.join(work, 'home');
const people = ['ana', 'elif', ...Array.from({ length: joiners }, (_, i) => `p${i + 1}`)];

/** Run deployctl to its end; resolves { code, stdout, stderr }. */
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
function deployctl(args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: work, env: benchEnv({ HOME: home, ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
    children.add(child);
    child.once('close', (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

// The team: a key pair each (private in $HOME's key directory, public beside the runbooks).
fs.mkdirSync(path.join(work, 'keys'), { recursive: true });
for (const id of people) {
  const made = await deployctl(['keygen', '--name', id]);
  if (made.code !== 0) throw new Error(`bench: keygen ${id}: ${made.stderr}`);
  fs.renameSync(path.join(home, '.config', 'deployctl', 'keys', `${id}.pub`), path.join(work, 'keys', `${id}.pub`));
}
const peopleYaml = `people:\n${people.map((id) => `  ${id}: { name: Person ${id}, keys: [keys/${id}.pub] }`).join('\n')}\n`;
fs.writeFileSync(
  path.join(work, 'latency.yaml'),
  `version: 1\nname: latency\n${peopleYaml}roles:\n  lead: { title: Lead, primary: ana }\n  qa: { title: QA, primary: elif }\nphases:\n  - id: p\n    steps:\n${Array.from({ length: answers }, (_, i) => `      - { id: s${i + 1}, owner: qa, confirm: Step ${i + 1} done }`).join('\n')}\n`,
);
fs.writeFileSync(
  path.join(work, 'crowd.yaml'),
  `version: 1\nname: crowd\n${peopleYaml}roles:\n  lead: { title: Lead, primary: ana }\n${Array.from({ length: joiners }, (_, i) => `  r${i + 1}: { title: Role ${i + 1}, primary: p${i + 1} }`).join('\n')}\nphases:\n  - id: p\n    steps:\n${Array.from({ length: joiners }, (_, i) => `      - { id: c${i + 1}, owner: r${i + 1}, confirm: Ready ${i + 1} }`).join('\n')}\n`,
);

/** The run's journal events, from the local directory or the database. */
async function journal(state, runId) {
  if (!state.startsWith('postgres')) {
    const file = path.join(state, 'runs', runId, 'journal.jsonl');
    if (!fs.existsSync(file)) return [];
    // The last line may be half written while the host appends: only whole lines.
    return fs.readFileSync(file, 'utf8').split('\n').slice(0, -1).map((l) => JSON.parse(l));
  }
  const client = new pg.Client({ host: cluster.socketDir, port: cluster.port, database: 'bench', user: os.userInfo().username });
  await client.connect();
  try {
    return (await client.query('SELECT line FROM deployctl.events WHERE run_id = $1 ORDER BY seq', [runId])).rows.map((r) => JSON.parse(r.line));
  } finally {
    await client.end();
  }
}

/** Every run id in the state. */
async function runIds(state) {
  if (!state.startsWith('postgres')) return fs.existsSync(path.join(state, 'runs')) ? fs.readdirSync(path.join(state, 'runs')) : [];
  const client = new pg.Client({ host: cluster.socketDir, port: cluster.port, database: 'bench', user: os.userInfo().username });
  await client.connect();
  try {
    return (await client.query("SELECT run_id FROM deployctl.runs WHERE to_regclass('deployctl.runs') IS NOT NULL")).rows.map((r) => r.run_id);
  } catch {
    return [];
  } finally {
    await client.end();
  }
}

/** Start the host; resolves its result and the id of the run it started (the one new run in the state). */
async function startHost(state, args) {
  const before = new Set(await runIds(state));
  let ended;
  const result = deployctl(args, { DEPLOYCTL_STATE: state }).then((r) => (ended = r));
  for (let i = 0; i < 3000; i++) {
    if (ended !== undefined) throw new Error(`bench: the host ended at once (exit ${ended.code}): ${ended.stderr}`);
    const fresh = (await runIds(state)).filter((id) => !before.has(id));
    if (fresh.length > 0) return { result, runId: fresh[0] };
    await sleep(20);
  }
  throw new Error('bench: the host never started');
}

/** N answers, one prompt at a time, each given once the host has opened it. */
async function answerLatencies(state) {
  const { result: host, runId } = await startHost(state, ['run', 'latency.yaml', '--as', 'ana', '--wait', '120s']);
  const started = new Map();
  for (let i = 1; i <= answers; i++) {
    // Opened: the host journals prompt-opened before it waits.
    for (let tries = 0; ; tries++) {
      const events = await journal(state, runId);
      if (events.some((e) => e.kind === 'prompt-opened' && e.promptId === `s${i}`)) break;
      if (tries > 2000) throw new Error(`bench: prompt s${i} never opened (run ${runId}: ${events.map((e) => e.kind).join(', ')})`);
      await sleep(5);
    }
    started.set(`s${i}`, now());
    const given = await deployctl(['answer', `s${i}`, '--as', 'elif', '--yes', '--run', runId], { DEPLOYCTL_STATE: state });
    if (given.code !== 0) throw new Error(`bench: answer s${i}: ${given.stderr}`);
  }
  const done = await host;
  if (done.code !== 0) throw new Error(`bench: the host ended ${done.code}: ${done.stderr}`);
  const taken = (await journal(state, runId)).filter((e) => e.kind === 'prompt-answered');
  if (taken.length !== answers) throw new Error(`bench: ${taken.length} answers taken, not ${answers}`);
  return {
    given: taken.map((e) => e.at - e.answeredAt),
    command: taken.map((e) => e.at - started.get(e.promptId)),
  };
}

/** `joiners` people answer `joiners` prompts at once; checks the record. */
async function crowd(state) {
  const t0 = now();
  const { result: host, runId } = await startHost(state, ['run', 'crowd.yaml', '--as', 'ana', '--wait', '120s']);
  const results = await Promise.all(Array.from({ length: joiners }, (_, i) => deployctl(['answer', `c${i + 1}`, '--as', `p${i + 1}`, '--yes', '--run', runId], { DEPLOYCTL_STATE: state })));
  const failed = results.filter((r) => r.code !== 0);
  const done = await host;
  const wall = now() - t0;
  const record = /record: (\S+\.json)/.exec(done.stdout + done.stderr)?.[1];
  const verify = record !== undefined ? await deployctl(['record', 'verify', record, '--json'], { DEPLOYCTL_STATE: state }) : { code: -1, stdout: '{}' };
  const checked = JSON.parse(verify.stdout || '{}').answers ?? [];
  const ids = checked.map((a) => a.prompt_id);
  return {
    ok: done.code === 0 && failed.length === 0 && verify.code === 0 && checked.length === joiners && new Set(ids).size === joiners && checked.every((a) => a.state === 'verified' && a.person === `p${a.prompt_id.slice(1)}`),
    answered: checked.length,
    distinct: new Set(ids).size,
    verified: checked.filter((a) => a.state === 'verified').length,
    wall,
  };
}

/** NOTIFY → a LISTENing client, `answers` times, psql started for each. */
async function notifyBaseline() {
  const listener = new pg.Client({ host: cluster.socketDir, port: cluster.port, database: 'bench', user: os.userInfo().username });
  await listener.connect();
  const waiting = new Map();
  listener.on('notification', (m) => waiting.get(m.payload)?.(now()));
  await listener.query('LISTEN bench_answer');
  const out = [];
  try {
    for (let i = 0; i < answers; i++) {
      const payload = String(i);
      const arrived = new Promise((resolve) => waiting.set(payload, resolve));
      const sent = now();
      await new Promise((resolve, reject) => {
        const child = spawn(path.join(cluster.bin, 'psql'), ['-X', '-h', cluster.socketDir, '-p', String(cluster.port), '-d', 'bench', '-Atqc', `NOTIFY bench_answer, '${payload}'`], { stdio: 'ignore' });
        child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`psql NOTIFY failed (exit ${code})`))));
      });
      out.push((await arrived) - sent);
    }
  } finally {
    await listener.end();
  }
  return out;
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const summary = (values) => ({ p50: percentile(values, 50), p95: percentile(values, 95), max: Math.max(...values) });
const show = (s) => `p50 ${formatMs(s.p50)} / p95 ${formatMs(s.p95)}`;

cluster.createDatabase('bench');
const url = cluster.url('bench');
const baseline = summary(await notifyBaseline());
loads.push(loadAverage());
const local = await answerLatencies(path.join(work, '.deployctl'));
loads.push(loadAverage());
const postgres = await answerLatencies(url);
loads.push(loadAverage());
const crowdLocal = await crowd(path.join(work, '.deployctl'));
const crowdPg = await crowd(url);
loads.push(loadAverage());

const L = { given: summary(local.given), command: summary(local.command) };
const P = { given: summary(postgres.given), command: summary(postgres.command) };
console.log(`${answers} answers, one prompt at a time; PostgreSQL ${cluster.bin.split('/').at(-2)} on a Unix socket, fsync on; ${describeLoads(loads)}\n`);
console.log(`  baseline: psql -c "NOTIFY …" → LISTEN client        ${show(baseline)}, max ${formatMs(baseline.max)}  (psql's start included)`);
console.log(`  local directory: answer given → host took it        ${show(L.given)}, max ${formatMs(L.given.max)}`);
console.log(`  local directory: deployctl answer started → took it ${show(L.command)}, max ${formatMs(L.command.max)}  (Node's start included)`);
console.log(`  PostgreSQL: answer given → host took it             ${show(P.given)}, max ${formatMs(P.given.max)}`);
console.log(`  PostgreSQL: deployctl answer started → took it      ${show(P.command)}, max ${formatMs(P.command.max)}  (Node's start included)`);
for (const [name, c] of [['local directory', crowdLocal], ['PostgreSQL', crowdPg]]) {
  console.log(`  ${joiners} people answering ${joiners} prompts at once, ${name}: ${c.ok ? 'OK' : 'FAILED'}: ${c.answered} answers recorded, ${c.distinct} distinct prompts, ${c.verified} verified; ${formatMs(c.wall)} from the host's start to its end`);
}

const load = describeLoads(loads);
writeRows(argv, [
  row({ name: 'answer: given → host took it, local directory', deployctl: show(L.given), baseline: `psql NOTIFY ${show(baseline)}`, ratio: L.given.p95 / baseline.p95, target: `p95 ≤ ${TARGET_MS} ms`, limit: TARGET_MS, value: L.given.p95, load }),
  row({ name: 'answer: given → host took it, PostgreSQL', deployctl: show(P.given), baseline: `psql NOTIFY ${show(baseline)}`, ratio: P.given.p95 / baseline.p95, target: `p95 ≤ ${TARGET_MS} ms`, limit: TARGET_MS, value: P.given.p95, load }),
  row({ name: 'answer: command started → host took it, local directory', deployctl: show(L.command), baseline: `psql NOTIFY ${show(baseline)}`, ratio: L.command.p95 / baseline.p95, target: '–', load }),
  row({ name: 'answer: command started → host took it, PostgreSQL', deployctl: show(P.command), baseline: `psql NOTIFY ${show(baseline)}`, ratio: P.command.p95 / baseline.p95, target: '–', load }),
  row({ name: `answer: ${joiners} people, ${joiners} prompts at once (local, PostgreSQL)`, deployctl: `${crowdLocal.ok ? 'OK' : 'FAILED'}, ${crowdPg.ok ? 'OK' : 'FAILED'}`, baseline: '–', target: 'none lost, none twice, all verified', limit: 0, value: crowdLocal.ok && crowdPg.ok ? 0 : 1, load }),
]);
if (!crowdLocal.ok || !crowdPg.ok) process.exitCode = 1;
