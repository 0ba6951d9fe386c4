// The in-toto Statement v1 that a record's DSSE envelope carries: build, encode canonically, and parse strictly against schemas/record.schema.json.
import { validate as validateRecordSchema } from '../generated/record-validator.js';
import type { SchemaError, SchemaValidator } from '../runbook/schema.js';
import { parseJsonStrict } from './strict-json.js';
import type { RecordPredicate } from './types.js';

/** https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md */
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const RECORD_PREDICATE_TYPE = 'https://deployctl.dev/deployment-record/v1';
/** The DSSE payloadType for in-toto statements (https://github.com/in-toto/attestation/blob/main/spec/v1/envelope.md). */
export const STATEMENT_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface StatementSubject {
  /** The runbook path as given on the command line. */
  name: string;
  digest: { sha256: string };
}

export interface RecordStatement {
  _type: typeof STATEMENT_TYPE;
  subject: [StatementSubject];
  predicateType: typeof RECORD_PREDICATE_TYPE;
  predicate: RecordPredicate;
}

export function buildStatement(predicate: RecordPredicate, subject: StatementSubject): RecordStatement {
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: subject.name, digest: { sha256: subject.digest.sha256 } }],
    predicateType: RECORD_PREDICATE_TYPE,
    predicate,
  };
}

/**
 * Serialize with every object's keys sorted (the order a second implementation can reproduce), UTF-8,
 * no whitespace. The signature covers these exact bytes; nothing re-serializes before verifying.
 */
export function encodeStatement(statement: RecordStatement): Uint8Array {
  return new TextEncoder().encode(stableStringify(statement));
}

/** JSON.stringify with object keys in sorted order; `undefined` members are dropped as JSON.stringify does. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key];
    return sorted;
  });
}

export interface StatementProblem {
  /** JSON pointer into the statement, e.g. `/predicate/phases/0/status`. */
  path: string;
  message: string;
}

export type ParseStatementResult = { ok: true; statement: RecordStatement } | { ok: false; problems: StatementProblem[] };

const STATEMENT_FIELDS = new Set(['_type', 'subject', 'predicateType', 'predicate']);
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Matches ENVELOPE_LIMITS.payloadBytes: the statement is the envelope's payload. */
const MAX_STATEMENT_BYTES = 8 * 1024 * 1024;
const MAX_PROBLEMS = 50;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parse a statement from (verified) payload bytes: strict UTF-8 JSON, the in-toto v1 `_type`, our
 * predicateType, exactly one subject with a sha256 digest, and a predicate valid against the record
 * schema. Expected failures come back as problems; never throws.
 */
export function parseStatement(bytes: Uint8Array, validate: SchemaValidator = validateRecordSchema): ParseStatementResult {
  const fail = (path: string, message: string): ParseStatementResult => ({ ok: false, problems: [{ path, message }] });
  if (bytes.byteLength > MAX_STATEMENT_BYTES) return fail('', `the statement is ${bytes.byteLength} bytes; at most ${MAX_STATEMENT_BYTES} are accepted`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return fail('', 'the statement is not valid UTF-8');
  }
  const json = parseJsonStrict(text);
  if (!json.ok) {
    if (json.kind === 'syntax') return fail('', `the statement is not JSON: ${json.message}`);
    return fail(json.pointer, `the key "${json.key.slice(0, 64)}" appears twice at ${json.pointer.slice(0, 200)}: a statement with a duplicate key is refused, since JSON readers disagree on which one counts`);
  }
  const value = json.value;
  if (!isPlainObject(value)) return fail('', 'the statement must be a JSON object');

  const problems: StatementProblem[] = [];
  for (const key of Object.keys(value)) {
    if (!STATEMENT_FIELDS.has(key)) problems.push({ path: `/${key.slice(0, 64)}`, message: `unknown field '${key.slice(0, 64)}' in the statement` });
  }
  if (value['_type'] !== STATEMENT_TYPE) {
    problems.push({ path: '/_type', message: `_type must be ${STATEMENT_TYPE}, not ${describe(value['_type'])}` });
  }
  if (value['predicateType'] !== RECORD_PREDICATE_TYPE) {
    problems.push({ path: '/predicateType', message: `predicateType must be ${RECORD_PREDICATE_TYPE}, not ${describe(value['predicateType'])}` });
  }
  problems.push(...checkSubject(value['subject']));

  if (!('predicate' in value)) {
    problems.push({ path: '/predicate', message: 'the statement has no predicate' });
  } else {
    let valid = false;
    try {
      valid = validate(value['predicate']);
    } catch (error) {
      // A pathological document can exhaust the validator's stack: still a rejected record, not a crash.
      problems.push({ path: '/predicate', message: `the predicate could not be validated: ${(error as Error).message}` });
    }
    if (!valid) problems.push(...(validate.errors ?? []).slice(0, MAX_PROBLEMS).map(schemaProblem));
    else problems.push(...checkSubjectMatchesPredicate(value['subject'], value['predicate'] as RecordPredicate));
  }

  if (problems.length > 0) return { ok: false, problems: problems.slice(0, MAX_PROBLEMS) };
  return { ok: true, statement: value as unknown as RecordStatement };
}

function checkSubject(subject: unknown): StatementProblem[] {
  if (!Array.isArray(subject)) return [{ path: '/subject', message: `subject must be an array with one entry, not ${describe(subject)}` }];
  if (subject.length !== 1) return [{ path: '/subject', message: `subject must name exactly one file (the runbook), not ${subject.length}` }];
  const entry: unknown = subject[0];
  if (!isPlainObject(entry)) return [{ path: '/subject/0', message: 'subject[0] must be an object with name and digest' }];
  const problems: StatementProblem[] = [];
  for (const key of Object.keys(entry)) {
    if (key !== 'name' && key !== 'digest') problems.push({ path: `/subject/0/${key.slice(0, 64)}`, message: `unknown field '${key.slice(0, 64)}' in subject[0]` });
  }
  const name = entry['name'];
  if (typeof name !== 'string' || name.length === 0 || name.length > 4096) {
    problems.push({ path: '/subject/0/name', message: 'subject[0].name must be the runbook path (1 to 4096 characters)' });
  }
  const digest = entry['digest'];
  if (!isPlainObject(digest)) {
    problems.push({ path: '/subject/0/digest', message: 'subject[0].digest must be an object { sha256 }' });
  } else {
    for (const key of Object.keys(digest)) {
      if (key !== 'sha256') problems.push({ path: `/subject/0/digest/${key.slice(0, 64)}`, message: `unexpected digest '${key.slice(0, 64)}' (only sha256 is recorded)` });
    }
    const sha256 = digest['sha256'];
    if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) {
      problems.push({ path: '/subject/0/digest/sha256', message: 'subject[0].digest.sha256 must be 64 lower-case hex digits' });
    }
  }
  return problems;
}

/** The subject and the predicate's runbook reference name the same file: a mismatch means one was edited. */
function checkSubjectMatchesPredicate(subject: unknown, predicate: RecordPredicate): StatementProblem[] {
  const entry: unknown = Array.isArray(subject) ? subject[0] : undefined;
  if (!isPlainObject(entry) || !isPlainObject(entry['digest'])) return [];
  const problems: StatementProblem[] = [];
  if (entry['digest']['sha256'] !== predicate.runbook.sha256) {
    problems.push({ path: '/predicate/runbook/sha256', message: 'predicate.runbook.sha256 differs from the subject digest' });
  }
  if (entry['name'] !== predicate.runbook.path) {
    problems.push({ path: '/predicate/runbook/path', message: 'predicate.runbook.path differs from the subject name' });
  }
  return problems;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

function schemaProblem(error: SchemaError): StatementProblem {
  const path = `/predicate${error.instancePath}`;
  if (error.keyword === 'additionalProperties') {
    return { path, message: `unknown key '${String(error.params['additionalProperty']).slice(0, 64)}' at ${path}` };
  }
  return { path, message: `${path} ${error.message ?? `fails ${error.keyword}`}` };
}
