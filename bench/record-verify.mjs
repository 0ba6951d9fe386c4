#!/usr/bin/env node
// Benchmark: `deployctl record verify` of a 5,000-step record, against bench/baselines/verify-minimal.mjs, the least a
// Node program does to verify the same file (read, decode, PAE, Ed25519, parse). Context rows: `node -e 0` and
// `openssl pkeyutl -verify` of the same PAE, both of which skip most of the work.
//
//   node bench/record-verify.mjs [--steps N] [--rounds N] [--runs N]      (needs a build: npm run build)
//
// The record is real: one `deployctl run` of a 100-step runbook gives a predicate; its steps are repeated to N (in
// phases of 1000, the schema's limit) and the statement is sealed with src/record/seal.ts, bundled here with esbuild,
// and the key that run created. The runbook the record names is not there (as when an auditor has only the record),
// so verify checks the signature, the statement and its schema, not a runbook digest.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { assertBuilt, benchEnv, BIN, describeLoads, describeSampling, formatMs, numberArg, ROOT, row, timeInterleaved, writeRows } from './lib.mjs';
import { stepsRunbookText } from './runbooks.mjs';

const argv = process.argv.slice(2);
const steps = numberArg(argv, '--steps', 5000);
const rounds = numberArg(argv, '--rounds', 11);
const runs = numberArg(argv, '--runs', 1);
assertBuilt();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-verify-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
const env = benchEnv({ DEPLOYCTL_STATE_DIR: path.join(dir, '.deployctl') });

// ---- a real predicate, from a real run ------------------------------------------------------------------------

fs.writeFileSync(path.join(dir, 'seed.yaml'), stepsRunbookText('bench-verify', 100));
const seeded = spawnSync(process.execPath, [BIN, 'run', 'seed.yaml'], { cwd: dir, env, encoding: 'utf8' });
if (seeded.status !== 0) throw new Error(`bench: the seed run failed (exit ${seeded.status}):\n${seeded.stderr}`);
const recordsDir = path.join(dir, '.deployctl', 'records');
const seedRecord = JSON.parse(fs.readFileSync(path.join(recordsDir, fs.readdirSync(recordsDir)[0]), 'utf8'));
const { predicate } = JSON.parse(Buffer.from(seedRecord.payload, 'base64').toString('utf8'));

// ---- the library, bundled from src/ ---------------------------------------------------------------------------

const libFile = path.join(dir, 'record-lib.mjs');
await build({
  stdin: {
    contents: "export { sealRecord } from './src/record/seal.ts'; export { loadPrivateKey } from './src/record/keys.ts'; export { pae } from './src/record/dsse.ts';",
    resolveDir: ROOT,
    loader: 'ts',
  },
  outfile: libFile,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  logLevel: 'warning',
});
const { sealRecord, loadPrivateKey, pae } = await import(pathToFileURL(libFile).href);

// ---- N steps, sealed --------------------------------------------------------------------------------------------

const template = predicate.phases[0].steps[0];
const phaseTemplate = predicate.phases[0];
const phases = [];
for (let i = 0; i < steps; i++) {
  if (i % 1000 === 0) phases.push({ ...phaseTemplate, id: `phase-${i / 1000 + 1}`, steps: [] });
  phases.at(-1).steps.push({ ...template, id: `s${i + 1}`, title: `s${i + 1}` });
}
const runbookName = `bench-${steps}-steps.yaml`;
const bigPredicate = { ...predicate, phases, runbook: { ...predicate.runbook, path: runbookName } };
const key = loadPrivateKey(path.join(dir, '.deployctl', 'keys', 'deployctl.key'));
if (!key.ok) throw new Error(`bench: cannot load the run's key: ${key.error.message}`);
const recordFile = path.join(dir, 'record.json');
const sealed = sealRecord({
  predicate: bigPredicate,
  subject: { name: runbookName, sha256: predicate.runbook.sha256 },
  privateKey: key.key,
  outPath: recordFile,
  signer: 'bench',
  now: Date.now(),
});
const pubFile = path.join(dir, '.deployctl', 'keys', 'deployctl.pub');
const recordBytes = fs.statSync(recordFile).size;

// openssl verifies the same PAE and signature, prepared here (STACK.md: Ed25519 from node:crypto verifies with it).
const paeFile = path.join(dir, 'pae.bin');
const sigFile = path.join(dir, 'sig.bin');
fs.writeFileSync(paeFile, pae(sealed.envelope.payloadType, Buffer.from(sealed.envelope.payload, 'base64')));
fs.writeFileSync(sigFile, Buffer.from(sealed.envelope.signatures[0].sig, 'base64'));
const openssl = spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pubFile, '-rawin', '-in', paeFile, '-sigfile', sigFile], { encoding: 'utf8' });
const hasOpenssl = openssl.status === 0;

// ---- timing -------------------------------------------------------------------------------------------------------

const contenders = [
  { key: 'minimal', argv: [process.execPath, path.join(ROOT, 'bench', 'baselines', 'verify-minimal.mjs'), recordFile, pubFile], env, cwd: dir },
  { key: 'deployctl', argv: [process.execPath, BIN, 'record', 'verify', 'record.json'], env, cwd: dir },
  { key: 'node', argv: [process.execPath, '-e', '0'], env, cwd: dir },
  ...(hasOpenssl ? [{ key: 'openssl', argv: ['openssl', 'pkeyutl', '-verify', '-pubin', '-inkey', pubFile, '-rawin', '-in', paeFile, '-sigfile', sigFile], env, cwd: dir }] : []),
];
const { results, loads, timer } = timeInterleaved(contenders, { rounds, runs, dir });
const base = results['minimal'].ms;
const mine = results['deployctl'].ms;
const line = (label, r) => `| ${label} | ${formatMs(r.ms)} | ${formatMs(r.min)} | ${formatMs(r.max)} | ${(mine / r.ms).toFixed(2)}× |`;

console.log(
  [
    `a ${steps}-step record (${(recordBytes / 1024 / 1024).toFixed(1)} MiB); ${describeSampling(rounds, runs, timer)}`,
    '',
    '| contender | median | min | max | deployctl ÷ this |',
    '|---|---:|---:|---:|---:|',
    line('deployctl record verify (signature, statement schema, sign-off table, report)', results['deployctl']),
    line('baseline: minimal Node verifier (read, PAE, Ed25519, JSON.parse; bench/baselines/verify-minimal.mjs)', results['minimal']),
    line('context: `node -e 0`', results['node']),
    hasOpenssl ? line('context: `openssl pkeyutl -verify` of the same PAE (prepared in advance)', results['openssl']) : '(openssl is not installed: its row is skipped)',
    '',
    describeLoads(loads),
  ].join('\n'),
);

writeRows(argv, [
  row({
    name: `\`deployctl record verify\`, ${steps}-step record (${(recordBytes / 1024 / 1024).toFixed(1)} MiB)`,
    deployctl: formatMs(mine),
    baseline: `minimal Node verifier ${formatMs(base)} (\`node -e 0\` ${formatMs(results['node'].ms)}${hasOpenssl ? `, openssl ${formatMs(results['openssl'].ms)}` : ''})`,
    ratio: mine / base,
    target: 'none set',
    load: describeLoads(loads),
  }),
]);
