// docs/runbook-format.md is generated from the runbook schema (scripts/build-docs.mjs): every key with its description and examples, a build that refuses an undocumented key, and a committed copy that cannot drift.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a build script in plain JavaScript, without type declarations
import { DEFAULT_OUT, DEFAULT_SCHEMA, checkSchemaDocs, collectKeys, keyLabel, renderRunbookFormat, toYaml } from '../../scripts/build-docs.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = path.join(ROOT, 'scripts', 'build-docs.mjs');

interface Key {
  owner: string;
  name: string;
  path: string;
  pointer: string;
  schema: { description?: string; examples?: unknown[] };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Schema = Record<string, any>;
const schema = (): Schema => JSON.parse(readFileSync(DEFAULT_SCHEMA, 'utf8')) as Schema;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'deployctl-docs-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the build step on a changed copy of the schema; the real doc is never touched. */
function buildDocs(change: (s: Schema) => void, args: string[] = [], env: Record<string, string | undefined> = { CI: undefined }) {
  const s = schema();
  change(s);
  const file = path.join(dir, 'schema.json');
  writeFileSync(file, JSON.stringify(s, null, 2));
  const out = path.join(dir, 'runbook-format.md');
  const { CI: _ci, ...inherited } = process.env;
  const result = spawnSync(process.execPath, [SCRIPT, '--schema', file, '--out', out, ...args], {
    encoding: 'utf8',
    env: Object.fromEntries(Object.entries({ ...inherited, ...env }).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv,
  });
  return { code: result.status, stderr: result.stderr, out };
}

describe('docs/runbook-format.md', () => {
  it('is committed exactly as the schema generates it (npm run build regenerates it; under CI it only checks)', () => {
    expect(readFileSync(DEFAULT_OUT, 'utf8')).toBe(renderRunbookFormat(schema()));
  });

  it('documents every key of the schema with its description and its examples', () => {
    const s = schema();
    const doc = readFileSync(DEFAULT_OUT, 'utf8');
    const keys = collectKeys(s) as Key[];
    expect(checkSchemaDocs(s)).toEqual([]);
    expect(keys.length).toBeGreaterThan(80);
    for (const key of keys) {
      expect(doc, keyLabel(key)).toContain(`### \`${key.path}\``);
      expect(doc, keyLabel(key)).toContain(key.schema.description!.trim());
      for (const example of key.schema.examples!) expect(doc, keyLabel(key)).toContain(toYaml({ [key.name]: example }));
    }
    // The keys the issue named, among all the others.
    const labels = keys.map(keyLabel);
    for (const label of ['escalationRule.severity', 'escalationRule.action', 'success_metrics', 'successMetric.actual', 'http.warmup', 'gate.on_no_go', 'http.expect.body_contains']) {
      expect(labels).toContain(label);
    }
  });

  it('is linked from the README', () => {
    expect(readFileSync(path.join(ROOT, 'README.md'), 'utf8')).toContain('](docs/runbook-format.md)');
  });
});

describe('the build step that generates it', () => {
  it('writes the document for a complete schema', () => {
    const result = buildDocs(() => undefined);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(readFileSync(result.out, 'utf8')).toContain('### `severity`');
  });

  it('fails, naming the key, when a key has no description', () => {
    const result = buildDocs((s) => delete s['$defs'].escalationRule.properties.severity.description);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('escalationRule.severity (#/$defs/escalationRule/properties/severity): no description');
  });

  it('fails, naming the key, when a key has no example', () => {
    const result = buildDocs((s) => delete s['$defs'].successMetric.properties.actual.examples);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('successMetric.actual (#/$defs/successMetric/properties/actual): no example');
  });

  it('fails for a new key added without either, as a parallel change would add one', () => {
    const result = buildDocs((s) => {
      s['$defs'].step.properties.watch = { type: 'object', properties: { every: { $ref: '#/$defs/duration' } } };
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('step.watch (#/$defs/step/properties/watch): no description');
    expect(result.stderr).toContain('step.watch (#/$defs/step/properties/watch): no example');
    // Keys of an object written inline are keys too.
    expect(result.stderr).toContain('step.watch.every (#/$defs/step/properties/watch/properties/every): no description');
    expect(result.stderr).toContain('needs a "description" and at least one valid entry in "examples"');
  });

  it('fails, naming the key, when an example is not a value the key accepts', () => {
    const result = buildDocs((s) => (s['$defs'].http.properties.samples.examples = [0]));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/http\.samples \(#\/\$defs\/http\/properties\/samples\): example 1 \(0\) is not valid for the key: .*>= 1/);
  });

  it('fails when a definition has no description', () => {
    const result = buildDocs((s) => delete s['$defs'].duration.description);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('$defs.duration (#/$defs/duration): no description');
  });

  it('under CI=true checks the committed document instead of writing it, and says how to fix a stale one', () => {
    const stale = path.join(dir, 'runbook-format.md');
    writeFileSync(stale, 'stale\n');
    const result = buildDocs(() => undefined, [], { CI: 'true' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is not what');
    expect(result.stderr).toContain('run `npm run build` (without CI=true) and commit');
    expect(readFileSync(stale, 'utf8')).toBe('stale\n');
    expect(buildDocs(() => undefined, ['--write'], { CI: 'true' }).code).toBe(0);
    expect(buildDocs(() => undefined, ['--check'], { CI: 'true' }).code).toBe(0);
  });
});
