// Fuzzing the answers file (issue 7 item 3): mutated answers for phase65 load or give positioned problems; never a throw, never over 2 s.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { answerKeys, loadAnswers, type AnswerKey, type LoadAnswersResult } from '../../src/engine/answers.js';
import { loadRunbook } from '../../src/runbook/load.js';
import type { RunbookDoc } from '../../src/runbook/types.js';
import {
  applyByteOps,
  applyLineOps,
  applyTreeOps,
  byteOps,
  fuzzParams,
  interestingKey,
  jsonishValue,
  lenientText,
  lineOps,
  maxLine,
  objectFromEntries,
  parseSeed,
  toYaml,
  treeOps,
  yamlStyle,
} from './mutators.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FILE = 'fuzz.answers.yaml';
const LIMIT_MS = 2000;

let doc: RunbookDoc;
let keys: AnswerKey[];
const SEEDS: Record<string, string> = {
  'phase65.answers.yaml': readFileSync(path.join(ROOT, 'runbooks/phase65.answers.yaml'), 'utf8'),
  'phase65.bad-version.answers.yaml': readFileSync(path.join(ROOT, 'runbooks/phase65.bad-version.answers.yaml'), 'utf8'),
  'inline-few.yaml': "training: true\nqa-before: [ ]\n'go-no-go.leadership_approved': false\ngo-no-go: no-go\nuser-issues: 0\n",
  'inline-empty.yaml': '# nothing answered yet\n',
};
const SEED_NAMES = Object.keys(SEEDS);
const SEED_BYTES = Object.fromEntries(SEED_NAMES.map((n) => [n, new TextEncoder().encode(SEEDS[n]!)]));
const SEED_VALUES = Object.fromEntries(SEED_NAMES.map((n) => [n, parseSeed(SEEDS[n]!) ?? {}]));
const seedName = fc.constantFrom(...SEED_NAMES);

beforeAll(() => {
  const loaded = loadRunbook(path.join(ROOT, 'runbooks/phase65.yaml'));
  if (!loaded.ok) throw new Error(`runbooks/phase65.yaml does not load: ${loaded.problems.map((p) => p.message).join('; ')}`);
  doc = loaded.runbook.doc;
  keys = answerKeys(doc);
});

function saveFailure(kind: string, content: string | Uint8Array): string {
  const dir = path.join(os.tmpdir(), 'deployctl-fuzz-failures');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `answers-${kind}-${createHash('sha256').update(content).digest('hex').slice(0, 12)}.yaml`);
  writeFileSync(file, content);
  return file;
}

function checkMutant(kind: string, bytes: Uint8Array): void {
  let saved: string | undefined;
  const where = () => (saved ??= saveFailure(kind, bytes));
  const started = performance.now();
  let result: LoadAnswersResult;
  try {
    result = loadAnswers(FILE, doc, () => ({ ok: true, bytes }));
  } catch (error) {
    throw new Error(`loadAnswers threw (${where()}): ${(error as Error).stack ?? String(error)}`);
  }
  const ms = performance.now() - started;
  if (ms >= LIMIT_MS) expect.fail(`loadAnswers took ${ms.toFixed(0)} ms (${where()})`);
  if (!result.ok) {
    const lastLine = maxLine(lenientText(bytes));
    const bad = result.problems.filter((p) => !(p.file === FILE && Number.isInteger(p.line) && p.line >= 1 && p.line <= lastLine && Number.isInteger(p.col) && p.col >= 1 && p.message.trim() !== ''));
    expect(result.problems.length, `a refusal names a problem (${where()})`).toBeGreaterThan(0);
    expect(bad, `every problem is positioned within 1..${lastLine} and says something (${where()})`).toEqual([]);
    return;
  }
  // Accepted answers answer real keys with values of the right shape.
  const known = new Map(keys.map((k) => [k.key, k]));
  for (const [key, value] of result.answers) {
    const spec = known.get(key);
    expect(spec, `accepted an answer for '${key}', which the runbook does not ask (${where()})`).toBeDefined();
    switch (spec!.kind) {
      case 'confirm':
      case 'attestation':
        expect(typeof value, `${key} (${where()})`).toBe('boolean');
        break;
      case 'checklist':
        expect(Array.isArray(value) && value.every((item) => spec!.items!.includes(item)), `${key} ticks only listed items (${where()})`).toBe(true);
        break;
      case 'ask':
        expect(typeof value === 'string' && value.trim() !== '', `${key} (${where()})`).toBe(true);
        break;
      case 'gate':
        expect(['go', 'no-go'], `${key} (${where()})`).toContain(value);
        break;
    }
  }
}

/** Edits that keep the file a mapping of answer keys: a known key with any value, or a near-miss key. */
const answerEdit = fc.oneof(
  fc.record({ key: fc.nat(), value: jsonishValue }),
  fc.record({ key: fc.nat(), value: fc.oneof(fc.constantFrom<unknown>(true, false, 'go', 'no-go', 'GO', 'yes', '', ' ', 'Dana', 0, 1.5, null, []), fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 })) }),
  fc.record({ key: interestingKey, value: jsonishValue }),
);

describe('fuzzing the answers file', () => {
  // Regression (found while fuzzing): the comments-only check was one regex that backtracked exponentially.
  it.each([
    ['a comment line of many " #" before an answer', `${' #'.repeat(40)}\ntraining: true\n`, true],
    ['a comment line of many "##" before an answer', `${'#'.repeat(60)}\n${'#a'.repeat(60)}\ntraining: true\n`, true],
    ['indented comments only', `${'  # #\n'.repeat(50)}\r\n \t# end`, true],
    ['comments then a broken line', `${' #'.repeat(40)}\n{`, false],
  ])('answers %s in well under 2 s', (_name, text, ok) => {
    const started = performance.now();
    const result = loadAnswers(FILE, doc, () => ({ ok: true, bytes: new TextEncoder().encode(text) }));
    expect(performance.now() - started).toBeLessThan(1000); // linear: a few ms; a backtracking regex took minutes
    expect(result.ok).toBe(ok);
  });

  it('reads an answers file with only comments as no answers, whatever its line ends', () => {
    for (const text of ['', '\n', '# a\n# b', '# a\r# b\r', '  # a\r\n\t# b\r\n']) {
      const result = loadAnswers(FILE, doc, () => ({ ok: true, bytes: new TextEncoder().encode(text) }));
      expect(result.ok && result.answers.size, JSON.stringify(text)).toBe(0);
    }
    const result = loadAnswers(FILE, doc, () => ({ ok: true, bytes: new TextEncoder().encode('# a\r\n  # b\r\ntraining: true\r\n') }));
    expect(result.ok && [...result.answers.keys()]).toEqual(['training']);
  });

  it('loads the seeds', () => {
    for (const name of SEED_NAMES) {
      const result = loadAnswers(FILE, doc, () => ({ ok: true, bytes: SEED_BYTES[name]! }));
      expect(result.ok ? [] : result.problems.map((p) => p.message), name).toEqual([]);
    }
  });

  it('refuses byte-mutated answers with positioned problems, or accepts only well-formed answers', () => {
    fc.assert(
      fc.property(seedName, byteOps, (seed, ops) => checkMutant('bytes', applyByteOps(SEED_BYTES[seed]!, ops))),
      fuzzParams(300),
    );
  });

  it('refuses line-mutated answers with positioned problems, or accepts only well-formed answers', () => {
    fc.assert(
      fc.property(seedName, lineOps, (seed, ops) => checkMutant('lines', new TextEncoder().encode(applyLineOps(SEEDS[seed]!, ops)))),
      fuzzParams(200),
    );
  });

  it('refuses structurally mutated answers with positioned problems, or accepts only well-formed answers', () => {
    fc.assert(
      fc.property(seedName, treeOps, fc.array(answerEdit, { maxLength: 4 }), yamlStyle, (seed, ops, edits, style) => {
        let value = applyTreeOps(SEED_VALUES[seed], ops);
        if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
          const entries = Object.entries(value);
          for (const edit of edits) {
            const key = typeof edit.key === 'number' ? keys[edit.key % keys.length]!.key : edit.key;
            entries.push([key, edit.value]);
          }
          // A key set twice keeps the later value: the text has each key once.
          value = objectFromEntries(entries);
        }
        let text: string;
        try {
          text = toYaml(value, style);
        } catch {
          fc.pre(false);
          return;
        }
        checkMutant('tree', new TextEncoder().encode(text));
      }),
      fuzzParams(300),
    );
  });
});
