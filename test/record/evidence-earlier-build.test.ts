// A journal and a signed record written by the build before the evidence tree (explained + evidence) stay readable:
// replayed, rendered as that build did, put in a record that validates, and shown/exported by `record show`/`export`.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJournal } from '../../src/engine/journal.js';
import { foldEvents } from '../../src/engine/state.js';
import { whyNotHeld } from '../../src/expr/explain.js';
import { buildRecordPredicate } from '../../src/record/build.js';
import { formatCondition } from '../../src/reporters/evidence.js';
import { loadRunbook } from '../../src/runbook/load.js';
import { recordSchemaValidator } from '../fixtures/records/workspace.js';
import { assertBuilt, runCli } from '../helpers/cli.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/evidence-v1', import.meta.url));
const RECORD = '.deployctl/records/evidence-fixture-20261206T130327250Z-20261206T130327002Z-215ddb.json';

describe('a journal of the build before the evidence tree', () => {
  const events = parseJournal(readFileSync(path.join(FIXTURE, 'journal.jsonl'), 'utf8')).events;
  const state = foldEvents(events);
  const conditions = state.gates.get('db')!.conditions!;

  it('is the old shape (the fixture is what it says)', () => {
    expect(conditions.find((c) => c.name === 'lag_ok')).toMatchObject({ explained: '42 ≥ 5', evidence: { operator: '<' } });
    expect(conditions.some((c) => c.tree !== undefined || c.notes !== undefined)).toBe(false);
  });

  it('renders its conditions on the task list with the numbers that build recorded (a false chain now reads "false because …")', () => {
    const lines = conditions.map(formatCondition);
    expect(lines).toContain('✖ lag_ok: 42 < 5 → false   [double(steps.lag.stdout.trim()) < double(vars.max_lag_s)]');
    expect(lines).toContain('✖ smoke_ok: false because steps.smoke.ok is false; 3 ≠ 0; smoke failed: exit code 3');
    expect(lines).toContain('✖ either: false because steps.smoke.ok is false and 42 ≥ 1.0; smoke failed: exit code 3');
    expect(lines).toContain('✖ picked: false because 42 > 10.0');
    expect(lines).toContain('✖ not_failed: !(steps.lag.ok: true) → false');
    expect(lines).toContain('✖ broken: error: int() type error: cannot convert to int == 42 → error   [int(steps.lag.stdout.trim()) == 42] (int() type error: cannot convert to int)');
  });

  it('gives the NO-GO reasons that build gave', () => {
    const why = Object.fromEntries(conditions.filter((c) => !c.ok).map((c) => [c.name, whyNotHeld(c)]));
    expect(why).toMatchObject({ lag_ok: '42 ≥ 5', picked: '42 > 10.0', broken: 'int() type error: cannot convert to int', smoke_ok: 'steps.smoke.ok is false; 3 ≠ 0; smoke failed: exit code 3' });
  });

  it('makes a record that keeps its evidence as written and validates against the schema', () => {
    const loaded = loadRunbook(path.join(FIXTURE, 'evidence.yaml'));
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const predicate = buildRecordPredicate({ doc: loaded.runbook.doc, state, env: {}, now: state.finished?.at ?? Date.now() });
    const gate = predicate.phases[0]!.gate!;
    expect(gate.conditions.find((c) => c.name === 'lag_ok')).toMatchObject({ explained: '42 ≥ 5', evidence: { operator: '<', operands: [{ value: 42 }, { value: 5 }] } });
    expect(recordSchemaValidator(predicate), JSON.stringify(recordSchemaValidator.errors)).toBe(true);
  });
});

describe('a signed record of the build before the evidence tree', () => {
  let dir: string;
  beforeAll(() => {
    assertBuilt();
    dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'deployctl-evidence-v1-')));
    mkdirSync(path.join(dir, '.deployctl/keys'), { recursive: true });
    mkdirSync(path.join(dir, '.deployctl/records'), { recursive: true });
    cpSync(path.join(FIXTURE, 'evidence.yaml'), path.join(dir, 'evidence.yaml'));
    cpSync(path.join(FIXTURE, 'deployctl.pub'), path.join(dir, '.deployctl/keys/deployctl.pub'));
    cpSync(path.join(FIXTURE, 'record.json'), path.join(dir, RECORD));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies, and record show says its evidence as that build did (strings now quoted, as everywhere)', async () => {
    const show = await runCli(['record', 'show'], { cwd: dir, env: { DEPLOYCTL_OPERATOR: 'root' }, timeoutMs: 30_000 });
    expect(show.code, show.stderr).toBe(0);
    const before = readFileSync(path.join(FIXTURE, 'show-by-that-build.txt'), 'utf8').replace('vars.region = eu', 'vars.region = "eu"');
    expect(show.stdout).toBe(before);
  });

  it('exports its evidence', async () => {
    const md = await runCli(['record', 'export', RECORD, '--format', 'markdown'], { cwd: dir, env: { DEPLOYCTL_OPERATOR: 'root' }, timeoutMs: 30_000 });
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toContain('- ✖ **lag_ok** = `false`: `double(steps.lag.stdout.trim()) < double(vars.max_lag_s)` — 42 ≥ 5');
    expect(md.stdout).toContain('  - `double(steps.lag.stdout.trim())` = `42`');
    expect(md.stdout).toMatch(/ {2}- `int\(steps\.lag\.stdout\.trim\(\)\)` = error: int\(\) type error/);
  });
});
