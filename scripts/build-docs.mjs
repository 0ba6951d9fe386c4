// Generate docs/runbook-format.md from schemas/runbook.schema.json (every key's description and examples), and refuse a key without them.
//
//   node scripts/build-docs.mjs            write the doc (npm run build does this); with CI=true, check it instead
//   node scripts/build-docs.mjs --check    exit 1 when the committed doc differs from what the schema generates
//   node scripts/build-docs.mjs --write    write it, even with CI=true
//   --schema FILE --out FILE               another schema or doc (tests)
//
// The schema is the single source of truth for the runbook format: a key's `description` and `examples` live beside
// it, so the document people read cannot drift from what `validate` accepts. A key (any property of any object in the
// schema) without a description or an example fails the build, naming the key; so does an example the key's own
// schema rejects. The generated file is committed so it reads on GitHub and shows up in review beside the schema
// change that caused it; under CI the build checks it instead of rewriting it, so a stale committed copy fails there.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Document, isMap, isSeq, isScalar, visit } from 'yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_SCHEMA = join(ROOT, 'schemas', 'runbook.schema.json');
export const DEFAULT_OUT = join(ROOT, 'docs', 'runbook-format.md');

/** Object definitions in the order the document presents them (any other object definition follows, alphabetically). */
const SECTION_ORDER = ['person', 'role', 'notify', 'channel', 'escalationRule', 'successMetric', 'phase', 'step', 'http', 'metrics', 'threshold', 'gate'];

// ---- walking the schema --------------------------------------------------------------------------------------------

const refName = (ref) => (typeof ref === 'string' && ref.startsWith('#/$defs/') ? ref.slice('#/$defs/'.length) : undefined);
const isObjectSchema = (s) => s !== null && typeof s === 'object' && (s.type === 'object' || s.properties !== undefined) && s.properties !== undefined;

/**
 * Every key of the schema: each property of each object, the root's, every definition's, and those of objects written
 * inline (an http step's `expect`, a gate condition's `{ confirm }`). `owner` is the definition it belongs to (`''`
 * for the root), `path` its place inside that definition (`expect.status`), `pointer` its JSON pointer.
 */
export function collectKeys(schema) {
  const keys = [];
  const visitObject = (node, owner, prefix, pointer) => {
    for (const [name, sub] of Object.entries(node.properties ?? {})) {
      const path = prefix === '' ? name : `${prefix}.${name}`;
      const at = `${pointer}/properties/${name}`;
      keys.push({ owner, name, path, pointer: at, schema: sub, required: (node.required ?? []).includes(name) });
      for (const [inner, innerPointer] of inlineObjects(sub, at)) visitObject(inner, owner, path, innerPointer);
    }
  };
  visitObject(schema, '', '', '#');
  for (const [name, def] of Object.entries(schema.$defs ?? {})) {
    if (isObjectSchema(def)) visitObject(def, name, '', `#/$defs/${name}`);
    for (const [inner, innerPointer] of inlineObjects(def, `#/$defs/${name}`, false)) visitObject(inner, name, '', innerPointer);
  }
  return keys;
}

/** Objects with properties written inside a key's schema (not behind a $ref): under items, additionalProperties, oneOf. */
function inlineObjects(node, pointer, includeSelf = true) {
  const found = [];
  const walk = (n, p, self) => {
    if (n === null || typeof n !== 'object' || n.$ref !== undefined) return;
    if (self && isObjectSchema(n)) {
      found.push([n, p]);
      return;
    }
    if (n.items !== undefined) walk(n.items, `${p}/items`, true);
    if (n.additionalProperties !== undefined && typeof n.additionalProperties === 'object') walk(n.additionalProperties, `${p}/additionalProperties`, true);
    for (const word of ['oneOf', 'anyOf']) (n[word] ?? []).forEach((alt, i) => walk(alt, `${p}/${word}/${i}`, true));
  };
  walk(node, pointer, includeSelf);
  return found;
}

/** Where each object definition is used, as runbook paths: `step` → `phases[].steps[]`, `phases[].rollback[]`. */
export function usagePaths(schema) {
  const uses = new Map();
  const add = (def, path) => {
    const list = uses.get(def) ?? [];
    if (!list.includes(path)) list.push(path);
    uses.set(def, list);
  };
  const seen = new Set();
  const walk = (node, path) => {
    if (node === null || typeof node !== 'object') return;
    const ref = refName(node.$ref);
    if (ref !== undefined) {
      const def = schema.$defs?.[ref];
      if (def !== undefined && isObjectSchema(def)) {
        add(ref, path);
        if (seen.has(`${ref}@${path}`) || path.split('.').length > 12) return;
        seen.add(`${ref}@${path}`);
        walk(def, path);
      } else if (def !== undefined) walk(def, path);
      return;
    }
    for (const [name, sub] of Object.entries(node.properties ?? {})) walk(sub, path === '' ? name : `${path}.${name}`);
    if (node.items !== undefined) walk(node.items, `${path}[]`);
    if (node.additionalProperties !== undefined && typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${path}.<${mapKeyName(node)}>`);
    for (const word of ['oneOf', 'anyOf']) for (const alt of node[word] ?? []) walk(alt, path);
  };
  walk(schema, '');
  return uses;
}

/** `a.x`, `a.y`, `a.z` → `a.<key>`: a definition used under many keys of one mapping is listed once for it. */
function collapsePaths(paths) {
  const byParent = new Map();
  for (const p of paths) {
    const cut = p.lastIndexOf('.');
    const parent = cut === -1 ? '' : p.slice(0, cut);
    byParent.set(parent, [...(byParent.get(parent) ?? []), p]);
  }
  return [...byParent].flatMap(([parent, list]) => (list.length > 2 && parent !== '' ? [`${parent}.<key>`] : list));
}

function mapKeyName(node) {
  const ref = refName(node.propertyNames?.$ref);
  return ref === 'identifier' ? 'name' : ref === 'envName' ? 'NAME' : ref ?? 'key';
}

// ---- the completeness check --------------------------------------------------------------------------------------

/** How a problem names a key: `step.timeout` (at #/$defs/step/properties/timeout), or `version` for the root. */
export function keyLabel(key) {
  return `${key.owner === '' ? '' : `${key.owner}.`}${key.path}`;
}

/**
 * Every key without a description or an example, every example its key's schema rejects, every definition without a
 * description: one sentence each, naming the key and where it is.
 */
export function checkSchemaDocs(schema) {
  const problems = [];
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true, allErrors: true });
  ajv.addSchema(schema);
  const id = schema.$id ?? '';
  const validatorFor = (pointer) => ajv.compile({ $ref: `${id}${pointer}` });
  for (const key of collectKeys(schema)) {
    const where = `${keyLabel(key)} (${key.pointer})`;
    if (typeof key.schema.description !== 'string' || key.schema.description.trim() === '') problems.push(`${where}: no description: add "description" beside the key`);
    if (!Array.isArray(key.schema.examples) || key.schema.examples.length === 0) {
      problems.push(`${where}: no example: add "examples": [ … ] beside the key, with a value the key accepts`);
      continue;
    }
    const validate = validatorFor(key.pointer);
    key.schema.examples.forEach((example, i) => {
      if (!validate(example)) problems.push(`${where}: example ${i + 1} (${JSON.stringify(example).slice(0, 80)}) is not valid for the key: ${ajv.errorsText(validate.errors)}`);
    });
  }
  for (const [name, def] of Object.entries(schema.$defs ?? {})) {
    if (typeof def.description !== 'string' || def.description.trim() === '') problems.push(`$defs.${name} (#/$defs/${name}): no description: add "description" to the definition`);
  }
  if (Array.isArray(schema.examples)) {
    const validate = ajv.compile({ $ref: id });
    schema.examples.forEach((example, i) => {
      if (!validate(example)) problems.push(`the runbook example ${i + 1} (#/examples/${i}) is not a valid runbook: ${ajv.errorsText(validate.errors)}`);
    });
  }
  return problems;
}

// ---- rendering -------------------------------------------------------------------------------------------------------

const code = (text) => `\`${String(text).replace(/`/g, 'ˋ')}\``;
const sectionAnchor = (def) => def.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** A definition's title for people: its `title`, or its name split into words (`escalationRule` → `Escalation rule`). */
function defTitle(schema, def) {
  const title = schema.$defs?.[def]?.title;
  if (typeof title === 'string') return title;
  const words = def.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`);
  return words[0].toUpperCase() + words.slice(1);
}

/** A key's type in a few words, linking object definitions and value types to their sections. */
export function describeType(schema, node) {
  if (node === undefined || node === null) return 'any';
  const ref = refName(node.$ref);
  if (ref !== undefined) {
    const def = schema.$defs?.[ref];
    return def !== undefined && isObjectSchema(def) ? `[${defTitle(schema, ref)}](#${sectionAnchor(ref)})` : `[${ref}](#${sectionAnchor(ref)})`;
  }
  if (node.const !== undefined) return code(JSON.stringify(node.const));
  if (Array.isArray(node.enum)) return `one of ${node.enum.map((v) => code(v === null ? 'null' : v)).join(', ')}`;
  for (const word of ['oneOf', 'anyOf']) if (Array.isArray(node[word])) return node[word].map((alt) => describeType(schema, alt)).join(', or ');
  const type = Array.isArray(node.type) ? node.type.join(' or ') : node.type;
  if (type === 'array') {
    const bounds = rangeText(node.minItems, node.maxItems, 'items');
    return `list of ${describeType(schema, node.items)}${node.uniqueItems ? ', no duplicates' : ''}${bounds}`;
  }
  if (type === 'object' && node.additionalProperties !== undefined && node.properties === undefined) {
    const keyType = node.propertyNames === undefined ? 'name' : describeType(schema, node.propertyNames);
    return `map of ${keyType} → ${describeType(schema, node.additionalProperties)}${rangeText(node.minProperties, node.maxProperties, 'entries')}`;
  }
  if (type === 'object') return 'mapping (keys below)';
  if (type === 'integer' || type === 'number') return `${type}${rangeText(node.minimum, node.maximum, '')}`;
  if (type === 'string') {
    if (node.pattern !== undefined) return `text matching ${code(node.pattern)}`;
    return `text${node.maxLength !== undefined ? ` (at most ${node.maxLength} characters)` : ''}`;
  }
  return type ?? 'any';
}

function rangeText(min, max, unit) {
  const u = unit === '' ? '' : ` ${unit}`;
  if (min !== undefined && max !== undefined) return `, ${min}–${max}${u}`;
  if (min !== undefined) return `, at least ${min}${u}`;
  return '';
}

/**
 * A value as the YAML a person writes: block style, with short lists and maps of plain values on one line, as runbooks
 * write them (`escalates_to: [cto]`, `p95_ms: { max: 500 }`).
 */
export function toYaml(value) {
  const doc = new Document(value);
  visit(doc, {
    Collection(_key, node) {
      if (!(isMap(node) || isSeq(node)) || node.items.length === 0 || node === doc.contents) return;
      const plain = node.items.every((item) => (isSeq(node) ? isScalar(item) : isScalar(item.value)));
      if (plain) node.flow = String(new Document(node.toJSON()).contents).length <= 60;
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: true }).trimEnd();
}

/** An example as the YAML a person writes: `key: value`. */
function exampleYaml(name, example) {
  return toYaml({ [name]: example });
}

/** The whole document. Deterministic: the same schema gives the same bytes. */
export function renderRunbookFormat(schema, { schemaPath = 'schemas/runbook.schema.json' } = {}) {
  const keys = collectKeys(schema);
  const uses = usagePaths(schema);
  const objectDefs = Object.keys(schema.$defs ?? {}).filter((d) => isObjectSchema(schema.$defs[d]));
  const ordered = [...SECTION_ORDER.filter((d) => objectDefs.includes(d)), ...objectDefs.filter((d) => !SECTION_ORDER.includes(d)).sort()];
  const valueDefs = Object.keys(schema.$defs ?? {}).filter((d) => !isObjectSchema(schema.$defs[d])).sort();

  const out = [];
  out.push(`# ${schema.title ?? 'Runbook format'}`, '');
  out.push(`<!-- Generated by scripts/build-docs.mjs from ${schemaPath} (npm run build). Do not edit: change the schema's descriptions and examples. -->`, '');
  if (schema.description) out.push(schema.description, '');
  out.push(
    `This page is generated from [\`${schemaPath}\`](../${schemaPath}), the grammar \`deployctl validate\` checks, so it lists every key the format has.`,
    'Editors that read JSON Schema check a runbook as you type with this first line:',
    '',
    '```yaml',
    '# yaml-language-server: $schema=../schemas/runbook.schema.json',
    '```',
    '',
    'Text values may hold `${{ expr }}` templates, and conditions are CEL expressions over `steps.<id>.{ok, status, exit_code, duration_ms, stdout, metrics}`, `vars`, `answers.<id>` and `env`.',
    '',
  );
  if (Array.isArray(schema.examples) && schema.examples.length > 0) {
    out.push('A small complete runbook:', '', '```yaml', toYaml(schema.examples[0]), '```', '');
  }
  out.push('## Contents', '', '- [Runbook (top level)](#runbook-top-level)');
  for (const def of ordered) out.push(`- [${defTitle(schema, def)}](#${sectionAnchor(def)})`);
  out.push('- [Value types](#value-types)', '');

  const renderKeys = (owner) => {
    for (const key of keys.filter((k) => k.owner === owner)) {
      out.push(`### \`${key.path}\`${key.required ? ' (required)' : ''}`, '');
      out.push(`Type: ${describeType(schema, key.schema)}`, '');
      out.push(String(key.schema.description ?? '').trim(), '');
      const examples = key.schema.examples ?? [];
      out.push(examples.length > 1 ? 'Examples:' : 'Example:', '', '```yaml', examples.map((e) => exampleYaml(key.name, e)).join('\n---\n'), '```', '');
    }
  };

  out.push('<a id="runbook-top-level"></a>', '', '## Runbook (top level)', '', 'The keys of the file itself.', '');
  renderKeys('');
  for (const def of ordered) {
    const node = schema.$defs[def];
    out.push(`<a id="${sectionAnchor(def)}"></a>`, '', `## ${defTitle(schema, def)}`, '');
    const at = collapsePaths(uses.get(def) ?? []);
    if (at.length > 0) out.push(`Where: ${at.map((p) => code(p)).join(', ')}`, '');
    if (node.description) out.push(String(node.description).trim(), '');
    renderKeys(def);
  }
  out.push('<a id="value-types"></a>', '', '## Value types', '', 'Shapes that many keys share.', '', '| type | what it is | accepts |', '|---|---|---|');
  const cell = (text) => text.replace(/\|/g, '\\|');
  for (const def of valueDefs) {
    const node = schema.$defs[def];
    out.push(`| <a id="${sectionAnchor(def)}"></a>${code(def)} | ${cell(String(node.description ?? '').trim())} | ${cell(describeType(schema, node))} |`);
  }
  out.push('');
  return out.join('\n');
}

// ---- the command -----------------------------------------------------------------------------------------------------

function main(argv) {
  const option = (name) => {
    const i = argv.indexOf(name);
    return i === -1 ? undefined : argv[i + 1];
  };
  const schemaFile = option('--schema') ?? DEFAULT_SCHEMA;
  const outFile = option('--out') ?? DEFAULT_OUT;
  const check = argv.includes('--check') || (process.env.CI === 'true' && !argv.includes('--write'));
  const shown = (file) => relative(process.cwd(), file) || file;

  const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));
  const problems = checkSchemaDocs(schema);
  if (problems.length > 0) {
    process.stderr.write(
      `build-docs: ${shown(schemaFile)}: ${problems.length} key${problems.length === 1 ? '' : 's'} cannot be documented in ${shown(outFile)}:\n` +
        problems.map((p) => `  - ${p}\n`).join('') +
        'Every key of the runbook format needs a "description" and at least one valid entry in "examples" beside it.\n',
    );
    return 1;
  }
  const text = renderRunbookFormat(schema, { schemaPath: relative(ROOT, schemaFile).split('\\').join('/') });
  if (check) {
    let committed = '';
    try {
      committed = readFileSync(outFile, 'utf8');
    } catch {
      // missing: different, said below
    }
    if (committed !== text) {
      process.stderr.write(`build-docs: ${shown(outFile)} is not what ${shown(schemaFile)} generates: run \`npm run build\` (without CI=true) and commit ${shown(outFile)}\n`);
      return 1;
    }
    return 0;
  }
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, text);
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
