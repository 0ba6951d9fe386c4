// Shared by the benchmarks: fair timing of contenders on a shared, noisy machine, and the rows of the summary table.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const BIN = path.join(ROOT, 'bin', 'deployctl.js');

export function assertBuilt() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cli', 'entry.js'))) {
    console.error('bench: dist/ is missing: run npm run build first');
    process.exit(2);
  }
}

/**
 * The environment every contender runs in: NODE_EXTRA_CA_CERTS costs each Node start ~60 ms on these machines
 * (shared/STACK.md), on both sides of a ratio alike, so it is removed; CI=true and NO_COLOR as a CI job has them.
 */
export function benchEnv(extra = {}) {
  const { NODE_EXTRA_CA_CERTS: _ca, ...env } = process.env;
  return { ...env, CI: 'true', NO_COLOR: '1', ...extra };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function loadAverage() {
  return os.loadavg()[0];
}

export const HYPERFINE = spawnSync('hyperfine', ['--version'], { stdio: 'ignore' }).status === 0;

/** hyperfine -N splits its command line into words itself: quote what needs it. */
function shellWord(word) {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Time the contenders interleaved run by run (A B C, A B C, …: `rounds` rounds of `runs` runs each, default one), so
 * that a burst of load from elsewhere hits all of them alike; one warm-up run each first. With hyperfine (installed
 * here) each run is timed without a shell in between (-N); otherwise by spawning from this process, which adds the same
 * fork cost to every contender. Returns, per contender key, every wall time in ms, their median, min and max.
 *
 * contenders: [{ key, argv: [file, ...args], env?, cwd?, exitCode? }] (exitCode: the one expected, default 0)
 */
export function timeInterleaved(contenders, { rounds = 15, runs = 1, warmup = 1, dir = os.tmpdir() } = {}) {
  const samples = Object.fromEntries(contenders.map((c) => [c.key, []]));
  const loads = [loadAverage()];
  for (let round = 0; round < rounds; round++) {
    for (const c of contenders) {
      const env = c.env ?? benchEnv();
      if (HYPERFINE) {
        const json = path.join(dir, `hyperfine-${process.pid}.json`);
        const command = c.argv.map(shellWord).join(' ');
        const result = spawnSync(
          'hyperfine',
          ['-N', '--style', 'none', ...((c.exitCode ?? 0) !== 0 ? ['--ignore-failure'] : []), '--runs', String(runs), '--warmup', String(round === 0 ? warmup : 0), '--export-json', json, command],
          { env, cwd: c.cwd ?? ROOT, encoding: 'utf8' },
        );
        if (result.status !== 0) throw new Error(`bench: ${c.key} failed under hyperfine:\n${result.stderr}${result.stdout}`);
        const times = JSON.parse(fs.readFileSync(json, 'utf8')).results[0].times;
        fs.rmSync(json, { force: true });
        samples[c.key].push(...times.map((s) => s * 1000));
      } else {
        for (let i = 0; i < runs + (round === 0 ? warmup : 0); i++) {
          const started = performance.now();
          const result = spawnSync(c.argv[0], c.argv.slice(1), { env, cwd: c.cwd ?? ROOT, stdio: 'ignore' });
          const ms = performance.now() - started;
          if (result.status !== (c.exitCode ?? 0)) throw new Error(`bench: ${c.key} failed (exit ${result.status ?? result.signal}): ${c.argv.join(' ')}`);
          if (round > 0 || i >= warmup) samples[c.key].push(ms);
        }
      }
    }
    loads.push(loadAverage());
  }
  const out = {};
  for (const [key, values] of Object.entries(samples)) out[key] = { samples: values, ms: median(values), min: Math.min(...values), max: Math.max(...values) };
  return { results: out, loads, timer: HYPERFINE ? 'hyperfine -N' : 'spawnSync' };
}

export function describeSampling(rounds, runs, timer) {
  const order = runs === 1 ? 'interleaved run by run' : `interleaved in rounds of ${runs}`;
  return `${rounds * runs} runs of each, ${order}, after a warm-up; median wall time (${timer})`;
}

export function formatMs(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 100 ? 1 : 0)} ms`;
}

export function formatMiB(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

export function describeLoads(loads) {
  const lo = Math.min(...loads);
  const hi = Math.max(...loads);
  return `load average (1 min) ${lo.toFixed(2)}–${hi.toFixed(2)} on ${os.cpus().length} CPUs`;
}

/**
 * One row of the summary table (bench/run.js prints them all as one table). `ratio` and `limit` are numbers
 * (limit: the most the ratio, or for an absolute target the value, may be); `met` is null when there is no target.
 */
export function row({ name, deployctl, baseline, ratio, target, limit, value, load }) {
  const measured = value ?? ratio;
  const met = limit === undefined || measured === undefined ? null : measured <= limit;
  return { name, deployctl, baseline, ratio: ratio === undefined ? null : ratio, target, limit: limit ?? null, met, load };
}

/** A benchmark run by bench/run.js gets `--rows FILE` and writes its rows there as JSON. */
export function writeRows(argv, rows) {
  const at = argv.indexOf('--rows');
  if (at >= 0 && argv[at + 1]) fs.writeFileSync(argv[at + 1], JSON.stringify(rows));
}

export function numberArg(argv, name, fallback) {
  const at = argv.indexOf(name);
  const value = at >= 0 ? Number(argv[at + 1]) : NaN;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** The summary as a Markdown table. */
export function renderTable(rows) {
  // A miss by less than the rounding shows a third decimal: 1.304× is not "1.30×, missed ≤ 1.3×".
  const ratio = (r) => (r.ratio === null ? '–' : `${r.ratio.toFixed(r.met === false && Number(r.ratio.toFixed(2)) <= r.limit ? 3 : 2)}×`);
  const met = (r) => (r.met === null ? '–' : r.met ? 'met' : '**MISSED**');
  return [
    '| benchmark | deployctl | baseline | ratio | target | met? |',
    '|---|---:|---|---:|---|---|',
    ...rows.map((r) => `| ${r.name} | ${r.deployctl} | ${r.baseline} | ${ratio(r)} | ${r.target} | ${met(r)} |`),
  ].join('\n');
}
