// Validate against schemas/runbook.schema.json (precompiled by scripts/build-schemas.mjs) and turn ajv errors into positioned, fixable problems.
import { validate as validateRunbookSchema } from '../generated/runbook-validator.js';
import { shorten, type Problem } from './problem.js';
import { didYouMean } from './suggest.js';
import type { Locator } from './yaml.js';

/** The subset of ajv's ErrorObject (verbose mode) that the formatter reads. */
export interface SchemaError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  data?: unknown;
  parentSchema?: Record<string, unknown>;
}

export type SchemaValidator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

/** Each pattern in the schema, with the sentence that explains how to write a valid value. */
const PATTERN_HINTS: Record<string, string> = {
  '^([0-9]{1,9}(ms|s|m|h|d))+$': 'write a number and a unit (ms, s, m, h, d), e.g. 30s, 5m, 1h30m',
  '^T([+-]([0-9]{1,9}(ms|s|m|h|d))+)?$': 'write T, or T with an offset such as T-20m or T+4h',
  '^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$': "use letters, digits, '_' and '-' (up to 64 characters)",
  '^[a-z0-9][a-z0-9._-]{0,63}$': "use lower-case letters, digits, '.', '_' and '-' (up to 64 characters)",
  '^[A-Za-z_][A-Za-z0-9_]{0,63}$': "use letters, digits and '_', not starting with a digit (up to 64 characters)",
  '^[A-Za-z_][A-Za-z0-9_]{0,127}$': "use an environment variable name: letters, digits and '_', not starting with a digit",
};

const STEP_KIND_KEYS = ['run', 'http', 'prometheus', 'confirm', 'checklist', 'ask', 'watch'];
/** What a watch's check may be: the automated step kinds. */
const CHECK_KIND_KEYS = ['run', 'http', 'prometheus'];
const YAML11_BOOLEANS = new Set(['yes', 'no', 'on', 'off', 'y', 'n', 'Yes', 'No', 'On', 'Off', 'YES', 'NO', 'ON', 'OFF', 'True', 'False', 'TRUE', 'FALSE']);

export function checkSchema(value: unknown, locate: Locator, validate: SchemaValidator = validateRunbookSchema as SchemaValidator): Problem[] {
  if (validate(value)) return [];
  return formatSchemaErrors(validate.errors ?? [], value, locate);
}

export function formatSchemaErrors(errors: readonly SchemaError[], root: unknown, locate: Locator): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const hidden = hiddenByOneOf(errors);
  for (const error of errors) {
    if (hidden.has(error) || error.keyword === 'propertyNames' || error.keyword === 'if') continue;
    const problem = describe(error, root, locate);
    const key = `${problem.line}:${problem.col}:${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

/**
 * A failed oneOf explains itself better than the failures of each of its branches ("must be a string or a list"),
 * unless the value has the type of exactly one branch: then that branch's own failure is the news (a 20,001-character
 * `run:` is too long, not "not a string"). Linear in the errors: a hostile file has tens of thousands (issue 12).
 */
function hiddenByOneOf(errors: readonly SchemaError[]): Set<SchemaError> {
  const oneOfs = new Map<string, SchemaError>();
  for (const e of errors) if (e.keyword === 'oneOf') oneOfs.set(`${e.instancePath}|${e.schemaPath}`, e);
  const hidden = new Set<SchemaError>();
  if (oneOfs.size === 0) return hidden;
  /** Per failed oneOf: each branch's errors, and whether the value failed the branch's own type. */
  const branches = new Map<SchemaError, Map<number, { errors: SchemaError[]; wrongType: boolean }>>();
  for (const e of errors) {
    if (e.keyword === 'oneOf' && e.schemaPath.lastIndexOf('/oneOf/') === -1) continue;
    const owner = enclosingOneOf(e, oneOfs);
    if (owner === undefined) continue;
    const { oneOf, branch } = owner;
    let byBranch = branches.get(oneOf);
    if (byBranch === undefined) branches.set(oneOf, (byBranch = new Map()));
    let entry = byBranch.get(branch);
    if (entry === undefined) byBranch.set(branch, (entry = { errors: [], wrongType: false }));
    entry.errors.push(e);
    if (e.keyword === 'type' && e.instancePath === oneOf.instancePath && e.schemaPath === `${oneOf.schemaPath}/${branch}/type`) entry.wrongType = true;
  }
  for (const [oneOf, byBranch] of branches) {
    const fitting = [...byBranch.values()].filter((b) => !b.wrongType);
    const everyBranchSeen = byBranch.size === ((oneOf.parentSchema?.['oneOf'] as unknown[] | undefined)?.length ?? -1);
    if (fitting.length === 1 && everyBranchSeen) {
      hidden.add(oneOf);
      for (const b of byBranch.values()) if (b !== fitting[0]) for (const e of b.errors) hidden.add(e);
    } else {
      for (const b of byBranch.values()) for (const e of b.errors) hidden.add(e);
    }
  }
  return hidden;
}

/** The innermost failed oneOf whose branch `error` comes from, found by walking up its schema and instance paths. */
function enclosingOneOf(error: SchemaError, oneOfs: Map<string, SchemaError>): { oneOf: SchemaError; branch: number } | undefined {
  let at = error.schemaPath.length;
  for (;;) {
    const i = error.schemaPath.lastIndexOf('/oneOf/', at - 1);
    if (i === -1) return undefined;
    const schemaPath = error.schemaPath.slice(0, i + '/oneOf'.length);
    const branch = Number(/^\d+/.exec(error.schemaPath.slice(i + '/oneOf/'.length))?.[0]);
    // The oneOf stands at the error's instance or at one of its ancestors.
    let instance = error.instancePath;
    for (;;) {
      const oneOf = oneOfs.get(`${instance}|${schemaPath}`);
      if (oneOf !== undefined && oneOf !== error && Number.isInteger(branch)) return { oneOf, branch };
      if (instance === '') break;
      instance = instance.slice(0, instance.lastIndexOf('/'));
    }
    at = i;
  }
}

function describe(error: SchemaError, root: unknown, locate: Locator): Problem {
  const path = parsePointer(error.instancePath);
  const where = describePath(root, path);
  const at = (p: readonly (string | number)[], useKey: boolean) => {
    const pos = useKey ? locate.key(p) : locate.value(p);
    return { file: locate.file, line: pos.line, col: pos.col };
  };
  const make = (message: string, code: string, p = path, useKey = false): Problem => ({ ...at(p, useKey), code, message });
  const params = error.params;

  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const known = Object.keys((error.parentSchema?.['properties'] as Record<string, unknown> | undefined) ?? {});
      const allowed = known.length > 0 ? ` (allowed: ${known.join(', ')})` : '';
      const hint = didYouMean(key, known);
      return make(`unknown key '${shorten(key)}' in ${where}${hint || allowed}`, 'unknown-key', [...path, key], true);
    }
    case 'required': {
      const missing = String(params['missingProperty']);
      return make(`${where} is missing '${missing}'${requiredHint(missing)}`, 'missing-key');
    }
    case 'type': {
      const types = Array.isArray(params['type']) ? (params['type'] as unknown[]).map(String) : String(params['type']).split(',');
      const expected = types.join(' or ');
      const data = error.data;
      if (expected === 'boolean' && typeof data === 'string' && YAML11_BOOLEANS.has(data)) {
        return make(`${where} must be true or false, got '${data}': YAML 1.2 reads '${data}' as a string; write true or false`, 'yaml11-boolean');
      }
      const pattern = error.parentSchema?.['pattern'];
      if (typeof data === 'number' && typeof pattern === 'string' && PATTERN_HINTS[pattern] !== undefined && pattern.includes('ms|s|m|h|d')) {
        // `target_duration: 20`: a bare number has no unit.
        return make(`${where} must be a duration with a unit, got ${describeValue(data)}: ${PATTERN_HINTS[pattern]} (e.g. ${data}m)`, 'wrong-type');
      }
      return make(`${where} must be ${listOf(types.map(article))}, got ${describeValue(data)}`, 'wrong-type');
    }
    case 'const':
      if (path.length === 1 && path[0] === 'version') {
        return make(`unsupported runbook version ${describeValue(error.data)}: this deployctl reads version 1; set 'version: 1' or upgrade deployctl`, 'unsupported-version');
      }
      return make(`${where} must be ${JSON.stringify(params['allowedValue'])}, got ${describeValue(error.data)}`, 'wrong-value');
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[]).map(String);
      const got = typeof error.data === 'string' ? didYouMean(error.data, allowed) : '';
      return make(`${where} must be one of ${allowed.join(', ')}, got ${describeValue(error.data)}${got}`, 'wrong-value');
    }
    case 'pattern': {
      const pattern = String(params['pattern']);
      const hint = PATTERN_HINTS[pattern] ?? `must match ${pattern}`;
      const propertyName = (error as { propertyName?: string }).propertyName;
      if (propertyName !== undefined) {
        return make(`bad name '${shorten(propertyName)}' in ${where}: ${hint}`, 'bad-name', [...path, propertyName], true);
      }
      const kind = pattern.includes('T(') ? 'timeline offset' : pattern.includes('ms|s|m|h|d') ? 'duration' : 'value';
      return make(`bad ${kind} ${describeValue(error.data)} for ${where}: ${hint}`, kind === 'value' ? 'bad-value' : `bad-${kind.replace(' ', '-')}`);
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const words = { minimum: 'at least', maximum: 'at most', exclusiveMinimum: 'more than', exclusiveMaximum: 'less than' } as const;
      return make(`${where} must be ${words[error.keyword]} ${String(params['limit'])}, got ${describeValue(error.data)}`, 'out-of-range');
    }
    case 'minItems':
      return make(`${where} needs at least ${String(params['limit'])} item${params['limit'] === 1 ? '' : 's'}`, 'too-few');
    case 'maxItems':
      return make(`${where} has more than ${String(params['limit'])} items`, 'too-many');
    case 'minProperties':
      return make(`${where} needs at least ${String(params['limit'])} entr${params['limit'] === 1 ? 'y' : 'ies'}`, 'too-few');
    case 'maxProperties':
      return make(`${where} has more than ${String(params['limit'])} entries`, 'too-many');
    case 'minLength':
      return make(`${where} must not be empty`, 'empty-value');
    case 'maxLength':
      return make(`${where} is longer than ${String(params['limit'])} characters`, 'too-long');
    case 'uniqueItems':
      return make(`${where} lists the same item twice (items ${String(params['j'])} and ${String(params['i'])})`, 'duplicate-item');
    case 'oneOf':
      return describeOneOf(error, where, make);
    default:
      return make(`${where} ${error.message ?? 'is invalid'}`, `schema-${error.keyword}`);
  }
}

function describeOneOf(error: SchemaError, where: string, make: (message: string, code: string) => Problem): Problem {
  const branches = (error.parentSchema?.['oneOf'] as Record<string, unknown>[] | undefined) ?? [];
  const isKinds = (keys: string[]) => branches.length === keys.length && branches.every((b, i) => JSON.stringify(b['required']) === JSON.stringify([keys[i]]));
  const kindKeys = isKinds(STEP_KIND_KEYS) ? STEP_KIND_KEYS : isKinds(CHECK_KIND_KEYS) ? CHECK_KIND_KEYS : undefined;
  if (kindKeys !== undefined) {
    const noun = kindKeys === STEP_KIND_KEYS ? 'step' : 'check';
    // A step that is not a mapping passes every `required` branch: the type error already says what is wrong, so
    // say the same words and the two collapse into one problem (`'run' in "text"` would throw).
    if (error.data === null || typeof error.data !== 'object' || Array.isArray(error.data)) {
      return make(`${where} must be a mapping, got ${describeValue(error.data)}`, 'wrong-type');
    }
    const data = error.data as Record<string, unknown>;
    const present = kindKeys.filter((k) => k in data);
    if (present.length > 1) {
      return make(`${where} has ${present.length} kinds (${present.join(', ')}): a ${noun} does exactly one thing; split it into ${present.length} ${noun}s`, 'several-kinds');
    }
    return make(`${where} does nothing: give it one of ${kindKeys.join(', ')}`, 'no-kind');
  }
  const shapes = branches.map(describeShape).join(' or ');
  return make(`${where} must be ${shapes}, got ${describeValue(error.data)}`, 'wrong-type');
}

function describeShape(schema: Record<string, unknown>): string {
  if (typeof schema['$ref'] === 'string') {
    const name = schema['$ref'].split('/').pop() ?? '';
    return { cel: 'a CEL expression (string)', runEventName: 'an event name', httpStatus: 'an HTTP status code' }[name] ?? article(name);
  }
  if (schema['type'] === 'array') return 'a list';
  if (schema['type'] === 'object') {
    const required = schema['required'] as string[] | undefined;
    return required ? `{${required.map((r) => `${r}: …`).join(', ')}}` : 'a mapping';
  }
  return article(String(schema['type'] ?? 'value'));
}

function requiredHint(key: string): string {
  switch (key) {
    case 'owner':
      return ': every step names the role that owns it, e.g. owner: devops';
    case 'version':
      return ": add 'version: 1' at the top";
    case 'id':
      return ': give it a unique id';
    default:
      return '';
  }
}

/** `a, b or c`. */
function listOf(words: readonly string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

function article(type: string): string {
  const words: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a string', integer: 'a whole number', number: 'a number', boolean: 'true or false', null: 'empty' };
  return type
    .split(' or ')
    .map((t) => words[t] ?? t)
    .join(' or ');
}

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `'${shorten(value)}'`;
  return String(value);
}

export function parsePointer(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

/** A path as a person reads it: `step 'backup' (phases[1].steps[0])`, `roles.qa`, `the runbook`. */
export function describePath(root: unknown, path: readonly (string | number)[]): string {
  if (path.length === 0) return 'the runbook';
  let node: unknown = root;
  let text = '';
  let owner = '';
  for (const [i, segment] of path.entries()) {
    text += typeof segment === 'number' ? `[${segment}]` : i === 0 ? shorten(segment) : `.${shorten(segment)}`;
    node = node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>)[segment] : undefined;
    const id = node !== null && typeof node === 'object' && !Array.isArray(node) ? (node as Record<string, unknown>)['id'] : undefined;
    if (typeof segment === 'number' && typeof id === 'string') {
      const parent = path[i - 1];
      const noun = parent === 'phases' ? 'phase' : parent === 'steps' || parent === 'rollback' ? 'step' : 'item';
      owner = `${noun} '${id}'`;
      text = '';
    }
  }
  if (owner === '') return text;
  return text === '' ? owner : `${owner} ${text.replace(/^\./, '')}`;
}
