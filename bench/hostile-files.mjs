#!/usr/bin/env node
// Benchmark: hostile runbooks and answers files (issue 12). Each is refused with exit 2; this measures how fast and in
// how much memory, against `deployctl validate runbooks/phase65.yaml` (a real 1,000-line runbook) and `node -e 0`,
// timed in the same run, interleaved. The files are the test corpus (test/fixtures/robust/hostile-files.ts), including
// shell commands built to be costly to parse (deep `$( )` nesting, long templated scripts: review 1, item 15).
//
//   node bench/hostile-files.mjs [--rounds N]      (needs a build: npm run build)
//
// Targets: every hostile file ≤ 2.5× the time of validating phase65, and a peak RSS ≤ 2× phase65's.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { assertBuilt, benchEnv, BIN, describeLoads, describeSampling, formatMs, numberArg, ROOT, row, timeInterleaved, writeRows } from './lib.mjs';

const argv = process.argv.slice(2);
const rounds = numberArg(argv, '--rounds', 7);
assertBuilt();

/** The worst of the corpus: at the value and line limits, and just under them (where every later check runs). */
const CHOSEN = [
  'block-list-200k.yaml',
  'flow-list-1mib.yaml',
  'flow-list-unclosed.yaml',
  'unknown-keys-87k.yaml',
  'unknown-keys-6k.yaml',
  'steps-unknown-if.yaml',
  'steps-two-kinds.yaml',
  'many-anchors.yaml',
  'blank-lines.yaml',
  'deep-command-substitution.yaml',
  'long-templated-commands.yaml',
  'answers-keys-30k.yaml',
  'answers-keys-6k.yaml',
];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-hostile-'));
try {
  // The corpus is TypeScript, shared with the tests: bundle it to a module this script can import.
  const corpusModule = path.join(dir, 'corpus.mjs');
  buildSync({ entryPoints: [path.join(ROOT, 'test/fixtures/robust/hostile-files.ts')], bundle: true, format: 'esm', platform: 'node', outfile: corpusModule, logLevel: 'error' });
  const { HOSTILE_FILES, ANSWERS_RUNBOOK } = await import(corpusModule);
  fs.writeFileSync(path.join(dir, 'answers-runbook.yaml'), ANSWERS_RUNBOOK);
  const files = CHOSEN.map((name) => HOSTILE_FILES.find((f) => f.name === name));
  for (const f of files) fs.writeFileSync(path.join(dir, f.name), f.make());

  const argsOf = (f) => (f.kind === 'answers' ? ['run', 'answers-runbook.yaml', '--answers', f.name] : ['validate', f.name]);
  const PHASE65 = path.join(ROOT, 'runbooks', 'phase65.yaml');
  const contenders = [
    { key: 'node', argv: [process.execPath, '-e', '0'], cwd: dir },
    { key: 'phase65', argv: [process.execPath, BIN, 'validate', PHASE65], cwd: dir },
    ...files.map((f) => ({ key: f.name, argv: [process.execPath, BIN, ...argsOf(f)], cwd: dir })),
  ];

  // Exit codes first (timeInterleaved wants exit 0): each hostile file must be refused with 2.
  for (const c of contenders.slice(2)) {
    const result = spawnSync(c.argv[0], c.argv.slice(1), { cwd: dir, env: benchEnv(), stdio: 'ignore' });
    if (result.status !== 2) throw new Error(`bench: ${c.key} exited ${result.status ?? result.signal}, not 2`);
  }
  // hyperfine --ignore-failure for them: the exit codes were checked just above.
  const { results, loads, timer } = timeInterleaved(contenders.map((c, i) => (i >= 2 ? { ...c, exitCode: 2 } : c)), { rounds, dir });
  const rss = Object.fromEntries(contenders.map((c) => [c.key, peakRss(c)]));

  const base = results['phase65'].ms;
  const node = results['node'].ms;
  const lines = [
    `${describeSampling(rounds, 1, timer)}; every hostile file exits 2, checked before timing`,
    '',
    '| command | median | ÷ validate phase65 | ÷ node -e 0 | peak RSS | ÷ phase65 RSS |',
    '|---|---:|---:|---:|---:|---:|',
    ...contenders.map((c) => {
      const r = results[c.key];
      const shown = c.key === 'node' ? 'node -e 0' : c.key === 'phase65' ? 'validate runbooks/phase65.yaml' : argsOf(files.find((f) => f.name === c.key)).join(' ');
      const memory = rss[c.key] === undefined ? '–' : `${(rss[c.key] / 1024).toFixed(0)} MiB`;
      const memoryRatio = rss[c.key] === undefined || rss['phase65'] === undefined ? '–' : `${(rss[c.key] / rss['phase65']).toFixed(2)}×`;
      return `| ${shown} | ${formatMs(r.ms)} | ${(r.ms / base).toFixed(2)}× | ${(r.ms / node).toFixed(2)}× | ${memory} | ${memoryRatio} |`;
    }),
    '',
    describeLoads(loads),
  ];
  console.log(lines.join('\n'));

  const hostile = contenders.slice(2);
  const worst = hostile.reduce((a, b) => (results[b.key].ms > results[a.key].ms ? b : a));
  const worstRss = hostile.reduce((a, b) => ((rss[b.key] ?? 0) > (rss[a.key] ?? 0) ? b : a));
  const load = describeLoads(loads);
  writeRows(argv, [
    row({
      name: `slowest hostile file (of ${hostile.length}): ${worst.key}`,
      deployctl: formatMs(results[worst.key].ms),
      baseline: `\`validate phase65\` ${formatMs(base)} (\`node -e 0\` ${formatMs(node)})`,
      ratio: results[worst.key].ms / base,
      target: '≤ 2.5×',
      limit: 2.5,
      load,
    }),
    ...(rss[worstRss.key] !== undefined && rss['phase65'] !== undefined
      ? [
          row({
            name: `largest peak RSS of a hostile file: ${worstRss.key}`,
            deployctl: `${(rss[worstRss.key] / 1024).toFixed(0)} MiB`,
            baseline: `\`validate phase65\` ${(rss['phase65'] / 1024).toFixed(0)} MiB`,
            ratio: rss[worstRss.key] / rss['phase65'],
            target: '≤ 2×',
            limit: 2,
            load,
          }),
        ]
      : []),
  ]);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Peak resident memory in KiB, from GNU time, of one run; undefined where /usr/bin/time is missing. */
function peakRss(c) {
  const result = spawnSync('/usr/bin/time', ['-f', '%M', ...c.argv], { cwd: c.cwd, env: benchEnv(), encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (result.error !== undefined) return undefined;
  const kib = Number(result.stderr.trim().split('\n').pop());
  return Number.isFinite(kib) ? kib : undefined;
}
