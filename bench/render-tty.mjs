#!/usr/bin/env node
// Benchmark: what the terminal task list costs (review 1 item 5). The same runs with stdout a pseudo-terminal (80×24,
// `script`, the task list redrawn in place) and piped (plain lines), interleaved, CPU time (user + sys) of deployctl:
//   - phase65 --dry-run                                    the whole runbook drawn, nothing executed
//   - a probe-heavy runbook (3 probes of 200 samples, a   every sample moves a progress line; the probes' p95 shows
//     local endpoint answering in 5 ms)                    what the drawing costs the measurements on the same event loop
//
//   node bench/render-tty.mjs [--runs N] [--bin PATH]      (needs a build: npm run build; --bin: another build's bin/deployctl.js)
//
// Target: terminal CPU ≤ 1.5× piped for each runbook (the terminal may redraw, never burn). Exit 0 unless --strict.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { BIN as BUILT, ROOT, assertBuilt, benchEnv, describeLoads, loadAverage, median, numberArg, row, writeRows } from './lib.mjs';

const LIMIT = 1.5;
const argv = process.argv.slice(2);
const runs = numberArg(argv, '--runs', 5);
const strict = argv.includes('--strict');
const binAt = argv.indexOf('--bin');
const BIN = binAt >= 0 ? path.resolve(argv[binAt + 1]) : BUILT;
if (binAt < 0) assertBuilt();
if (spawnSync('script', ['--version'], { stdio: 'ignore' }).status !== 0 || !fs.existsSync('/usr/bin/time')) {
  console.error('bench: render-tty needs `script` (util-linux) and /usr/bin/time (GNU time): apt-get install util-linux time');
  process.exit(2);
}

const server = http.createServer((_req, res) =>
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  }, 5),
);
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/health`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-render-tty-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
// The runbooks of the build measured: another build's phase65 may use keys this one does not know, and back.
fs.cpSync(path.join(binAt >= 0 ? path.dirname(path.dirname(BIN)) : ROOT, 'runbooks'), path.join(dir, 'runbooks'), { recursive: true, filter: (src) => !src.includes(`${path.sep}.state`) });
const probe = (id) => `      - { id: ${id}, owner: ops, http: { url: "${url}", samples: 200, concurrency: 1 } }\n`;
fs.writeFileSync(
  path.join(dir, 'probes.yaml'),
  `version: 1\nname: probes\nroles: { ops: { title: Ops } }\nphases:\n  - id: p\n    steps:\n${probe('a')}${probe('b')}${probe('c')}`,
);

// No CI, no NO_COLOR: a person's terminal, on both sides alike.
const { CI: _ci, NO_COLOR: _nc, ...env } = benchEnv({ TERM: 'xterm-256color', LANG: 'C.UTF-8', DEPLOYCTL_OPERATOR: 'bench' });
const quote = (word) => `'${word.replace(/'/g, `'\\''`)}'`;

/** Run `args` to its end with stdout a terminal or a pipe; deployctl's CPU seconds (GNU time) and its record, if any. */
function runOnce(args, tty, cwd) {
  const times = path.join(cwd, `time-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const command = ['/usr/bin/time', '-f', '%U %S', '-o', times, process.execPath, BIN, ...args];
  const [file, fileArgs] = tty
    ? ['script', ['-qec', `stty rows 24 cols 80; exec ${command.map(quote).join(' ')}`, '/dev/null']]
    : [command[0], command.slice(1)];
  return new Promise((resolve, reject) => {
    const child = spawn(file, fileArgs, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stdout.resume();
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${tty ? 'terminal' : 'piped'} run of ${args.join(' ')} exited ${code}:\n${err}`));
      const [user, sys] = fs.readFileSync(times, 'utf8').trim().split(/\s+/).map(Number);
      resolve(user + sys);
    });
  });
}

function p95Of(record) {
  const predicate = JSON.parse(Buffer.from(JSON.parse(fs.readFileSync(record, 'utf8')).payload, 'base64').toString('utf8')).predicate;
  return Math.max(...predicate.phases[0].steps.map((s) => s.metrics.p95_ms));
}

const cases = [
  { key: 'phase65', name: 'phase65 `run --dry-run`', args: () => ['run', 'runbooks/phase65.yaml', '--dry-run'] },
  { key: 'probes', name: '3 probes × 200 samples (5 ms endpoint)', args: (record) => ['run', 'probes.yaml', '--out', record] },
];
const cpu = Object.fromEntries(cases.flatMap((c) => [[`${c.key}-tty`, []], [`${c.key}-pipe`, []]]));
const p95 = { tty: [], pipe: [] };
const loads = [loadAverage()];
for (let i = 0; i <= runs; i++) {
  for (const c of cases) {
    for (const tty of [true, false]) {
      const cwd = fs.mkdtempSync(path.join(dir, 'run-'));
      fs.symlinkSync(path.join(dir, 'runbooks'), path.join(cwd, 'runbooks'));
      fs.copyFileSync(path.join(dir, 'probes.yaml'), path.join(cwd, 'probes.yaml'));
      const record = path.join(cwd, 'record.json');
      const seconds = await runOnce(c.args(record), tty, cwd);
      if (i === 0) continue; // warm-up: the first start reads dist/ and node_modules from a cold page cache
      cpu[`${c.key}-${tty ? 'tty' : 'pipe'}`].push(seconds);
      if (c.key === 'probes') p95[tty ? 'tty' : 'pipe'].push(p95Of(record));
    }
  }
}
loads.push(loadAverage());
server.close();

const s = (v) => `${v.toFixed(2)} s`;
const rows = [];
const lines = [`CPU time (user + sys) of deployctl, stdout an 80×24 pseudo-terminal vs piped; ${runs} runs each, interleaved, medians; Node ${process.version}, ${describeLoads(loads)}`, ''];
lines.push('| runbook | terminal | piped | ratio |', '|---|---:|---:|---:|');
for (const c of cases) {
  const tty = median(cpu[`${c.key}-tty`]);
  const pipe = median(cpu[`${c.key}-pipe`]);
  lines.push(`| ${c.name} | ${s(tty)} | ${s(pipe)} | ${(tty / pipe).toFixed(2)}× |`);
  rows.push(row({ name: `CPU of ${c.name} in a terminal`, deployctl: s(tty), baseline: `piped ${s(pipe)}`, ratio: tty / pipe, target: `≤ ${LIMIT}×`, limit: LIMIT, load: describeLoads(loads) }));
}
lines.push('', `probe p95 (worst of the 3 probes), median of runs: terminal ${median(p95.tty).toFixed(1)} ms, piped ${median(p95.pipe).toFixed(1)} ms`);
lines.push(`terminal: ${cases.map((c) => `${c.key} ${cpu[`${c.key}-tty`].map((v) => v.toFixed(2)).join(', ')}`).join('; ')}`);
lines.push(`piped: ${cases.map((c) => `${c.key} ${cpu[`${c.key}-pipe`].map((v) => v.toFixed(2)).join(', ')}`).join('; ')}`);
console.log(lines.join('\n'));
writeRows(argv, rows);
if (strict && rows.some((r) => r.met === false)) process.exit(1);
