// The answers file: a typed answer keeps the exact text written, even when YAML would read it as a number (issue 12, low).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAnswers } from '../../src/engine/answers.js';
import { parseRunbookText } from '../../src/runbook/load.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-answers-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const runbook = parseRunbookText('version: 1\nname: demo\nroles: { ops: { title: Ops } }\nphases:\n  - id: p\n    steps:\n      - { id: build, owner: ops, ask: Which build? }\n', 'r.yaml');

function answerOf(text: string): unknown {
  if (!runbook.ok) throw new Error('invalid runbook');
  const file = path.join(dir, 'answers.yaml');
  fs.writeFileSync(file, text);
  const loaded = loadAnswers(file, runbook.doc);
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
  return loaded.answers.get('build');
}

describe('an ask answer written as a number', () => {
  it.each([
    ['an integer past 2^53', '12345678901234567890'],
    ['2^53 + 1', '9007199254740993'],
    ['hexadecimal', '0x10'],
    ['octal', '0o17'],
    ['leading zeros', '007'],
    ['a trailing zero', '1.10'],
    ['an exponent', '1e3'],
    ['a plain integer', '42'],
  ])('keeps %s exactly as written', (_what, written) => {
    expect(answerOf(`build: ${written}\n`)).toBe(written);
  });
});
