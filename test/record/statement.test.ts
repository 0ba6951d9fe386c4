// The in-toto statement and the record schema: canonical encoding, strict parsing, and the schema's bounds.
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { signEnvelope, verifyEnvelope } from '../../src/record/dsse.js';
import {
  buildStatement,
  encodeStatement,
  parseStatement as parseStatementWith,
  RECORD_PREDICATE_TYPE,
  stableStringify,
  STATEMENT_PAYLOAD_TYPE,
  STATEMENT_TYPE,
} from '../../src/record/statement.js';
import { FIXTURE_SUBJECT, fullPredicate } from './predicate-fixture.js';
import { validate as validateRecordSchema } from '../../src/generated/record-validator.js';

const validate = validateRecordSchema;
const parseStatement = (bytes: Uint8Array) => parseStatementWith(bytes, validate);

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const statementValue = () => JSON.parse(JSON.stringify(buildStatement(fullPredicate(), FIXTURE_SUBJECT))) as Record<string, unknown>;

function problemsOf(bytes: Uint8Array) {
  const result = parseStatement(bytes);
  expect(result.ok).toBe(false);
  return result.ok ? [] : result.problems;
}

describe('buildStatement and encodeStatement', () => {
  it('builds an in-toto v1 statement naming the runbook as its only subject', () => {
    const statement = buildStatement(fullPredicate(), FIXTURE_SUBJECT);
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(statement.predicateType).toBe('https://deployctl.dev/deployment-record/v1');
    expect(statement.subject).toEqual([{ name: 'runbooks/phase65.yaml', digest: { sha256: FIXTURE_SUBJECT.digest.sha256 } }]);
    expect(STATEMENT_PAYLOAD_TYPE).toBe('application/vnd.in-toto+json');
  });

  it('encodes with sorted keys and no whitespace, whatever the insertion order', () => {
    const a = buildStatement(fullPredicate(), FIXTURE_SUBJECT);
    const reordered = Object.fromEntries(Object.entries(fullPredicate()).reverse()) as ReturnType<typeof fullPredicate>;
    const b = buildStatement(reordered, FIXTURE_SUBJECT);
    expect(Buffer.from(encodeStatement(a)).equals(Buffer.from(encodeStatement(b)))).toBe(true);
    const textOut = Buffer.from(encodeStatement(a)).toString('utf8');
    expect(textOut.startsWith('{"_type":"https://in-toto.io/Statement/v1","predicate":{')).toBe(true);
    expect(textOut).not.toMatch(/\n/);
  });

  it('stableStringify sorts nested keys, keeps array order and drops undefined like JSON.stringify', () => {
    expect(stableStringify({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[3,{"y":2,"z":1}]},"b":1}');
  });
});

describe('parseStatement', () => {
  it('round-trips a full, realistic record', () => {
    const statement = buildStatement(fullPredicate(), FIXTURE_SUBJECT);
    const result = parseStatement(encodeStatement(statement));
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.statement).toEqual(statement);
  });

  it('round-trips through a signed, verified envelope', () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
    const envelope = signEnvelope(STATEMENT_PAYLOAD_TYPE, encodeStatement(buildStatement(fullPredicate(), FIXTURE_SUBJECT)), privateKey);
    const verified = verifyEnvelope(JSON.parse(JSON.stringify(envelope)), [{ key: publicKey, label: 'k' }]);
    if (verified.status !== 'verified' || verified.payload === undefined) throw new Error('not verified');
    const parsed = parseStatement(verified.payload);
    expect(parsed.ok && parsed.statement.predicate.run_id).toBe('20261126T151500Z-3f9a1c');
  });

  it.each<[string, (s: Record<string, unknown>) => void, RegExp]>([
    ['a wrong _type', (s) => (s['_type'] = 'https://in-toto.io/Statement/v0.1'), /_type must be https:\/\/in-toto.io\/Statement\/v1/],
    ['a missing _type', (s) => delete s['_type'], /_type must be .* not missing/],
    ['a wrong predicateType', (s) => (s['predicateType'] = 'https://slsa.dev/provenance/v1'), /predicateType must be https:\/\/deployctl.dev\/deployment-record\/v1/],
    ['a predicateType of another type', (s) => (s['predicateType'] = 1), /not a number/],
    ['no subject', (s) => delete s['subject'], /subject must be an array/],
    ['two subjects', (s) => (s['subject'] = [FIXTURE_SUBJECT, FIXTURE_SUBJECT]), /exactly one file/],
    ['no subjects', (s) => (s['subject'] = []), /exactly one file/],
    ['a short digest', (s) => (s['subject'] = [{ name: 'r.yaml', digest: { sha256: 'abc' } }]), /64 lower-case hex/],
    ['an upper-case digest', (s) => (s['subject'] = [{ ...FIXTURE_SUBJECT, digest: { sha256: FIXTURE_SUBJECT.digest.sha256.toUpperCase() } }]), /64 lower-case hex/],
    ['a digest with a newline', (s) => (s['subject'] = [{ ...FIXTURE_SUBJECT, digest: { sha256: `${FIXTURE_SUBJECT.digest.sha256}\n` } }]), /64 lower-case hex/],
    ['a sha1-only digest', (s) => (s['subject'] = [{ name: 'r.yaml', digest: { sha1: 'a'.repeat(40) } }]), /unexpected digest 'sha1'/],
    ['a subject without a name', (s) => (s['subject'] = [{ digest: FIXTURE_SUBJECT.digest }]), /name must be the runbook path/],
    ['a subject that is a string', (s) => (s['subject'] = ['r.yaml']), /subject\[0\] must be an object/],
    ['a subject digest that differs from the predicate', (s) => (s['subject'] = [{ ...FIXTURE_SUBJECT, digest: { sha256: 'b'.repeat(64) } }]), /differs from the subject digest/],
    ['a subject name that differs from the predicate', (s) => (s['subject'] = [{ ...FIXTURE_SUBJECT, name: 'other.yaml' }]), /differs from the subject name/],
    ['no predicate', (s) => delete s['predicate'], /no predicate/],
    ['an unknown top-level field', (s) => (s['extra'] = true), /unknown field 'extra'/],
    ['an unknown predicate key', (s) => ((s['predicate'] as Record<string, unknown>)['secret'] = 'x'), /unknown key 'secret' at \/predicate$/],
    ['a predicate of the wrong status', (s) => ((s['predicate'] as Record<string, unknown>)['status'] = 'done'), /\/predicate\/status/],
  ])('rejects %s', (_title, edit, message) => {
    const value = statementValue();
    edit(value);
    const problems = problemsOf(encode(value));
    expect(problems.map((p) => p.message).join('\n')).toMatch(message);
  });

  it.each<[string, Uint8Array, RegExp]>([
    ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0x7d]), /not valid UTF-8/],
    ['a BOM', new Uint8Array([0xef, 0xbb, 0xbf, ...encode(statementValue())]), /not JSON/],
    ['not JSON', new TextEncoder().encode('{'), /not JSON/],
    ['a JSON array', new TextEncoder().encode('[]'), /must be a JSON object/],
    ['a JSON null', new TextEncoder().encode('null'), /must be a JSON object/],
    ['something huge', new Uint8Array(9 * 1024 * 1024), /at most/],
  ])('rejects %s without throwing', (_title, bytes, message) => {
    expect(problemsOf(bytes)[0]?.message).toMatch(message);
  });

  it('caps the number of problems it reports', () => {
    const value = statementValue();
    const predicate = value['predicate'] as Record<string, unknown>;
    for (let i = 0; i < 500; i += 1) predicate[`junk${i}`] = i;
    expect(problemsOf(encode(value)).length).toBeLessThanOrEqual(50);
  });
});

describe('schemas/record.schema.json', () => {
  const valid = (value: unknown) => validate(value);
  const withPredicate = (edit: (p: Record<string, any>) => void) => {
    const p = JSON.parse(JSON.stringify(fullPredicate())) as Record<string, any>;
    edit(p);
    return p;
  };

  it('accepts the full realistic predicate', () => {
    expect(valid(fullPredicate()), JSON.stringify(validate.errors)).toBe(true);
  });

  it('accepts a minimal predicate (no optional fields, empty lists, no rollback)', () => {
    const p = withPredicate((p) => {
      for (const key of ['target_duration_ms', 'reason']) delete p[key];
      delete p['runbook']['title'];
      Object.assign(p, { status: 'succeeded', exit_code: 0, vars: {}, resumes: [], phases: [], rollback: null, success_metrics: [], escalations: [], notifications: [], roles: {} });
    });
    expect(valid(p), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each<[string, (p: Record<string, any>) => void]>([
    ['an unknown top-level key', (p) => (p['extra'] = 1)],
    ['an unknown runbook key', (p) => (p['runbook']['url'] = 'x')],
    ['an unknown tool key', (p) => (p['tool']['commit'] = 'x')],
    ['an unknown phase key', (p) => (p['phases'][0]['owner'] = 'lead')],
    ['an unknown step key', (p) => (p['phases'][0]['steps'][0]['env'] = { TOKEN: 'x' })],
    ['an unknown actor key', (p) => (p['phases'][0]['steps'][0]['actor']['email'] = 'x')],
    ['an unknown output key', (p) => (p['phases'][0]['steps'][0]['stdout']['raw'] = 'x')],
    ['an unknown metrics key', (p) => (p['phases'][0]['steps'][1]['metrics']['p90_ms'] = 1)],
    ['an unknown gate key', (p) => (p['phases'][1]['gate']['title'] = 'x')],
    ['an unknown gate condition key', (p) => (p['phases'][1]['gate']['conditions'][0]['why'] = 'x')],
    ['an unknown rollback key', (p) => (p['rollback']['phases'] = [])],
    ['an unknown success metric key', (p) => (p['success_metrics'][0]['origin'] = 'x')],
    ['an unknown escalation key', (p) => (p['escalations'][0]['severity'] = 'high')],
    ['an unknown escalation target key', (p) => (p['escalations'][0]['to'][0]['contact'] = 'x')],
    ['an unknown notification key', (p) => (p['notifications'][0]['text'] = 'x')],
    ['an unknown role key', (p) => (p['roles']['lead']['keys'] = [])],
    ['an unknown resume key', (p) => (p['resumes'][0]['pid'] = 1)],
    ['schema_version 2', (p) => (p['schema_version'] = 2)],
    ['a dry run', (p) => (p['dry_run'] = true)],
    ['a tool other than deployctl', (p) => (p['tool']['name'] = 'other')],
    ['an unknown run status', (p) => (p['status'] = 'partial')],
    ['an unknown step status', (p) => (p['phases'][0]['steps'][0]['status'] = 'ok')],
    ['an unknown step kind', (p) => (p['phases'][0]['steps'][0]['kind'] = 'script')],
    ['an unknown phase status', (p) => (p['phases'][0]['status'] = 'interrupted')],
    ['a time without a zone', (p) => (p['started_at'] = '2026-11-26T15:15:00')],
    ['a time that is a number', (p) => (p['started_at'] = 1764170100000)],
    ['a negative duration', (p) => (p['duration_ms'] = -1)],
    ['a fractional exit code', (p) => (p['exit_code'] = 1.5)],
    ['a bad runbook digest', (p) => (p['runbook']['sha256'] = 'xyz')],
    ['a missing required field', (p) => delete p['operator']],
    ['a missing step attempts', (p) => delete p['phases'][0]['steps'][0]['attempts']],
    ['an error rate above 1', (p) => (p['phases'][0]['steps'][1]['metrics']['error_rate'] = 2)],
    ['a var that is an object', (p) => (p['vars']['x'] = { a: 1 })],
    ['a var name with a dash', (p) => (p['vars']['bad-name'] = 1)],
    ['a step id with a space', (p) => (p['phases'][0]['steps'][0]['id'] = 'a b')],
    ['a gate decision of maybe', (p) => (p['phases'][1]['gate']['decision'] = 'maybe')],
    ['a checklist answer of numbers', (p) => (p['phases'][0]['steps'][2]['answer'] = [1, 2])],
    ['a huge stdout', (p) => (p['phases'][0]['steps'][0]['stdout']['text'] = 'x'.repeat(70_000))],
    ['a huge title', (p) => (p['phases'][0]['title'] = 't'.repeat(501))],
    ['a huge reason', (p) => (p['reason'] = 'r'.repeat(4001))],
    ['too many phases', (p) => (p['phases'] = Array.from({ length: 501 }, () => p['phases'][3]))],
    ['too many failures', (p) => (p['phases'][0]['steps'][1]['failures'] = Array.from({ length: 101 }, () => 'f'))],
    ['too many vars', (p) => (p['vars'] = Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`v${i}`, i])))],
    ['a condition value nested too deep', (p) => (p['phases'][1]['gate']['conditions'][0]['value'] = [[[[1]]]])],
    ['a condition value too wide', (p) => (p['phases'][1]['gate']['conditions'][0]['value'] = Array.from({ length: 101 }, () => 1))],
    ['a rollback with an unknown status', (p) => (p['rollback']['status'] = 'partial')],
  ])('rejects %s', (_title, edit) => {
    expect(valid(withPredicate(edit))).toBe(false);
  });

  it('accepts condition values up to three levels deep', () => {
    expect(valid(withPredicate((p) => (p['phases'][1]['gate']['conditions'][0]['value'] = [[{ a: 1 }], { b: [null] }, [[true]]])))).toBe(true);
  });
});

describe('the precompiled validator (src/generated/record-validator.js, run by plain Node)', () => {
  const generated = fileURLToPath(new URL('../../src/generated/record-validator.js', import.meta.url));
  const check = (value: unknown) =>
    execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `import { validate } from ${JSON.stringify(generated)}; import { readFileSync } from 'node:fs'; process.stdout.write(String(validate(JSON.parse(readFileSync(0, 'utf8')))));`],
      { input: JSON.stringify(value), encoding: 'utf8' },
    );

  it('accepts the full predicate and rejects an unknown key, like the schema', () => {
    expect(check(fullPredicate())).toBe('true');
    expect(check({ ...fullPredicate(), extra: 1 })).toBe('false');
    expect(check({ ...fullPredicate(), reason: 'r'.repeat(4001) })).toBe('false');
  });
});

describe('constants', () => {
  it('are the in-toto and deployctl URIs', () => {
    expect(STATEMENT_TYPE).toBe('https://in-toto.io/Statement/v1');
    expect(RECORD_PREDICATE_TYPE).toBe('https://deployctl.dev/deployment-record/v1');
  });
});
