// Spot-checking the built CLI with fuzzed files (issue 7 item 3): `validate` in one batch, `run --dry-run` and `record verify` per file answer with an exit code, never a stack trace.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckedRunbook } from '../../src/runbook/load.js';
import { assertBuilt, killAllClis, runCli, stackTraceLines, type CliResult } from '../helpers/cli.js';
import { chosenSeed } from '../helpers/fc-seed.js';
import { applyByteOps, applyLineOps, applyTreeOps, byteOps, lineOps, parseSeed, toYaml, treeOps, yamlStyle } from './mutators.js';
import { intact, recordMutant, trusted } from './record-mutants.js';
import { SEEDS } from './seeds.js';

const SEED = chosenSeed();
const BATCH = 20;
const DRY_RUNS = 10;
const RECORDS = 10;
const SEED_NAMES = Object.keys(SEEDS);
const SEED_VALUES = Object.fromEntries(SEED_NAMES.map((n) => [n, parseSeed(SEEDS[n]!)]));

/** One mutant of any kind, as the bytes of a file. */
const mutant: fc.Arbitrary<{ how: string; bytes: Uint8Array }> = fc.oneof(
  fc.tuple(fc.constantFrom(...SEED_NAMES), byteOps).map(([seed, ops]) => ({ how: `bytes of ${seed}`, bytes: applyByteOps(new TextEncoder().encode(SEEDS[seed]!), ops) })),
  fc.tuple(fc.constantFrom(...SEED_NAMES), lineOps).map(([seed, ops]) => ({ how: `lines of ${seed}`, bytes: new TextEncoder().encode(applyLineOps(SEEDS[seed]!, ops)) })),
  fc.tuple(fc.constantFrom(...SEED_NAMES), treeOps, yamlStyle).map(([seed, ops, style]) => {
    let text: string;
    try {
      text = toYaml(applyTreeOps(SEED_VALUES[seed], ops), style);
    } catch {
      text = SEEDS[seed]!;
    }
    return { how: `structure of ${seed}`, bytes: new TextEncoder().encode(text) };
  }),
);

interface Case {
  file: string;
  how: string;
  loads: boolean;
}

let dir = '';
let cases: Case[] = [];

beforeAll(async () => {
  assertBuilt();
  dir = mkdtempSync(path.join(os.tmpdir(), 'deployctl-cli-fuzz-'));
  // Plenty of candidates, then a batch with both kinds: files that load (so the engine runs) and files that do not.
  const loading: { how: string; bytes: Uint8Array; loads: boolean }[] = [];
  const refused: typeof loading = [];
  for (const m of fc.sample(mutant, { numRuns: 200, seed: SEED })) {
    // As `run` loads it: the shell check of run: commands included.
    const loads = (await loadCheckedRunbook('candidate.yaml', () => ({ ok: true, bytes: m.bytes }))).ok;
    const into = loads ? loading : refused;
    if (into.length < BATCH / 2) into.push({ ...m, loads });
    if (loading.length + refused.length === BATCH) break;
  }
  cases = [...loading, ...refused].map((c, i) => {
    const file = `m${String(i + 1).padStart(2, '0')}.yaml`;
    writeFileSync(path.join(dir, file), c.bytes);
    return { file, how: c.how, loads: c.loads };
  });
});

afterEach(async () => {
  await killAllClis();
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

function expectClean(result: CliResult, what: string): void {
  const context = `${what} (FC_SEED=${SEED}, files in ${dir})\n--- stdout\n${result.stdout.slice(0, 3000)}\n--- stderr\n${result.stderr.slice(0, 3000)}`;
  expect(result.timedOut, `${what} timed out: ${context}`).toBe(false);
  expect(stackTraceLines(result.stdout + result.stderr), `no stack trace: ${context}`).toEqual([]);
}

describe('the CLI on fuzzed runbooks and records', () => {
  it('validates a batch of mutants in one call: exit 2 naming each refused file, never a stack trace', async () => {
    expect(cases.length).toBe(BATCH);
    const result = await runCli(['validate', ...cases.map((c) => c.file)], { cwd: dir, timeoutMs: 30_000 });
    expectClean(result, `validate ${cases.length} files`);
    const refused = cases.filter((c) => !c.loads);
    expect(result.code, `exit code (FC_SEED=${SEED})`).toBe(refused.length > 0 ? 2 : 0);
    const output = result.stdout + result.stderr;
    for (const c of refused) expect(output, `${c.file} (${c.how}) is named with a position (FC_SEED=${SEED})`).toMatch(new RegExp(`^${c.file}:\\d+:\\d+: .+`, 'm'));
    for (const c of cases.filter((x) => x.loads)) expect(output, `${c.file} (${c.how}) is valid (FC_SEED=${SEED})`).toContain(`${c.file}: valid`);
  });

  it('verifies damaged records: exit 1 (does not verify) or 2 (unreadable), 0 only when the signed bytes are untouched, never a stack trace', async () => {
    const records = path.join(dir, 'records');
    mkdirSync(records);
    writeFileSync(path.join(records, 'trusted.pub'), trusted.publicKey.export({ type: 'spki', format: 'pem' }));
    const mutants = fc.sample(recordMutant, { numRuns: RECORDS, seed: SEED }).map((m, i) => {
      const file = `r${String(i + 1).padStart(2, '0')}.json`;
      writeFileSync(path.join(records, file), m.bytes);
      return { ...m, file, facts: intact(Buffer.from(m.bytes).toString('utf8')) };
    });
    for (let i = 0; i < mutants.length; i += 2) {
      await Promise.all(
        mutants.slice(i, i + 2).map(async (m) => {
          const result = await runCli(['record', 'verify', m.file, '--pubkey', 'trusted.pub'], { cwd: records, timeoutMs: 10_000 });
          const what = `record verify ${m.file} (${m.how})`;
          expectClean(result, what);
          expect([0, 1, 2], `${what}: exit ${result.code} (FC_SEED=${SEED})\n${result.stderr.slice(0, 2000)}`).toContain(result.code);
          if (result.code === 0) expect(m.facts, `${what} verified a changed record (FC_SEED=${SEED})`).toMatchObject({ signedBytes: true, originalSig: true });
        }),
      );
    }
  });

  it('dry-runs mutants without a terminal: exit 0 when the runbook loads, 2 when refused, never a stack trace', async () => {
    const picked = [...cases.filter((c) => c.loads).slice(0, DRY_RUNS - 3), ...cases.filter((c) => !c.loads)].slice(0, DRY_RUNS);
    const results: { c: Case; result: CliResult }[] = [];
    // Two at a time: the CI machines have two cores.
    for (let i = 0; i < picked.length; i += 2) {
      const pair = picked.slice(i, i + 2);
      results.push(...(await Promise.all(pair.map(async (c) => ({ c, result: await runCli(['run', c.file, '--dry-run'], { cwd: dir, timeoutMs: 10_000 }) })))));
    }
    for (const { c, result } of results) {
      const what = `run ${c.file} --dry-run (${c.how})`;
      expectClean(result, what);
      if (c.loads) {
        expect(result.code, `${what}: exit ${result.code} (FC_SEED=${SEED})\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-2000)}`).toBe(0);
        expect(result.stdout, `${what}: the dry-run summary (FC_SEED=${SEED})`).toContain('Dry run of');
      } else {
        expect(result.code, `${what} (FC_SEED=${SEED})\n${result.stderr.slice(0, 2000)}`).toBe(2);
      }
    }
  });
});
