// The bad-input corpus through the library: every file is refused with one positioned, readable problem, never a throw.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckedRunbook } from '../../src/runbook/load.js';
import { YAML_LIMITS } from '../../src/runbook/yaml.js';
import { fixturePath, HOSTILE_BOUND_MS, INVALID_CASES, writeGeneratedCases } from '../fixtures/invalid/cases.js';

let tempDir = '';

beforeAll(() => {
  tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-invalid-'));
  writeGeneratedCases(tempDir);
});

afterAll(() => {
  fs.rmSync(tempDir, { recursive: true, force: true });
});

describe('loadRunbook on the bad-input corpus', () => {
  it('has a fixture file for every committed case, and a case for every fixture file', () => {
    const committed = INVALID_CASES.filter((c) => !c.generate).map((c) => c.file);
    const onDisk = fs.readdirSync(path.dirname(fixturePath(INVALID_CASES[0]!, tempDir))).filter((f) => f !== 'cases.ts');
    expect(onDisk.sort()).toEqual([...committed].sort());
  });

  it.each(INVALID_CASES.map((c) => [c.what, c] as const))('refuses %s', async (_what, c) => {
    const file = fixturePath(c, tempDir);
    const started = performance.now();
    const result = await loadCheckedRunbook(file);
    const elapsed = performance.now() - started;

    expect(result.ok).toBe(false);
    if (result.ok) return;
    for (const problem of result.problems) {
      expect(problem.file).toBe(file);
      expect(problem.line).toBeGreaterThanOrEqual(1);
      expect(problem.col).toBeGreaterThanOrEqual(1);
      expect(problem.message).not.toMatch(/^\s+at |internal error|\bat .+\.[jt]s:\d+/m);
      // Messages quote the file, cut short: never a megabyte of it.
      expect(problem.message.length).toBeLessThan(400);
    }
    if (c.expect) {
      expect(result.problems).toHaveLength(1);
      const [problem] = result.problems;
      expect({ line: problem!.line, col: problem!.col, code: problem!.code }).toEqual({ line: c.expect.line, col: c.expect.col, code: c.expect.code });
      expect(problem!.message).toContain(c.expect.message);
    } else {
      // Random input: a handful of problems, not one per token.
      expect(result.problems.length).toBeGreaterThanOrEqual(1);
      expect(result.problems.length).toBeLessThanOrEqual(YAML_LIMITS.maxErrors + 1);
    }
    if (c.hostile) expect(elapsed).toBeLessThan(HOSTILE_BOUND_MS);
  });
});
