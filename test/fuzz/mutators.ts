// fast-check mutators shared by the fuzz tests: byte-, line- and structure-level edits of seed files, as small replayable op lists.
import fc from 'fast-check';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

// ---------------------------------------------------------------------------------------------
// Byte level

/** Bytes that mean something to YAML, JSON, UTF-8 or a terminal. */
export const INTERESTING_BYTES = [
  0x00, 0xff, 0xfe, 0x09, 0x0a, 0x0d, 0x20, 0x7f, 0x80, 0xc3, 0xe2, 0xef, 0xbb, 0xbf, 0x85, 0x1b,
  ...[...':-&*!%{[}]#|>"\',?@`$\\=~0.'].map((c) => c.charCodeAt(0)),
];

/** Multi-byte snippets worth splicing in: YAML syntax, templates, CEL, encodings, hostile nesting. */
export const SNIPPETS = [
  '${{',
  '}}',
  '${{ steps.x.ok }}',
  '${{ vars.nope }}',
  '*a',
  '&a ',
  '*a\n',
  '!!binary ',
  '!custom ',
  '!!python/object ',
  '<<: ',
  '<<: *a\n',
  '\n---\n',
  '\n...\n',
  '%YAML 1.1\n',
  '%TAG ! tag:x,2000:\n',
  '? ',
  ': ',
  '- ',
  '\t',
  '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[',
  '{a: [',
  '"',
  "'",
  '|\n',
  '>-\n',
  '|2\n',
  'yes',
  'on',
  '~',
  '.inf',
  '.nan',
  '0x1F',
  '0o17',
  '1e999',
  '-0',
  '9007199254740993',
  '__proto__: 1\n',
  'constructor: {}\n',
  '\u0000',
  '\uFEFF',
  '\u2028',
  '\u0085',
  '\u001b[31m',
  '\ud83d\ude80',
  'version: 2\n',
  'id: dup\n',
  `\n${' #'.repeat(24)}\n`,
];

export type ByteOp =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; byte: number }
  | { op: 'insert'; at: number; bytes: number[] }
  | { op: 'delete'; at: number; length: number }
  | { op: 'snippet'; at: number; snippet: string }
  | { op: 'truncate'; at: number };

/** `at` is a fraction of the length in 1/1e6, so an op means the same place in any seed and shrinks towards the start. */
const position = fc.nat({ max: 1_000_000 });
const interestingByte = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...INTERESTING_BYTES.filter((b) => b < 0x80)) },
  { weight: 1, arbitrary: fc.constantFrom(...INTERESTING_BYTES.filter((b) => b >= 0x80)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
);

export const byteOp: fc.Arbitrary<ByteOp> = fc.oneof(
  // Bit 7 turns ASCII into invalid UTF-8, which the reader refuses first: keep it, but rarely, so edits reach the parser.
  fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 6 }) }, { weight: 1, arbitrary: fc.constant(7) }) }),
  fc.record({ op: fc.constant('set' as const), at: position, byte: interestingByte }),
  fc.record({ op: fc.constant('insert' as const), at: position, bytes: fc.array(interestingByte, { minLength: 1, maxLength: 4 }) }),
  fc.record({ op: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant('snippet' as const), at: position, snippet: fc.constantFrom(...SNIPPETS) }),
  fc.record({ op: fc.constant('truncate' as const), at: position }),
);

/** Mostly one edit: each one usually breaks the file, and a few that still load are what reach the engine. */
export const byteOps = fc.oneof({ weight: 3, arbitrary: fc.array(byteOp, { minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: fc.array(byteOp, { minLength: 2, maxLength: 6 }) });

function place(at: number, length: number): number {
  return Math.min(length, Math.floor((at / 1_000_000) * (length + 1)));
}

export function applyByteOps(input: Uint8Array, ops: readonly ByteOp[]): Uint8Array {
  let bytes = Buffer.from(input);
  for (const op of ops) {
    const i = place(op.at, bytes.length);
    switch (op.op) {
      case 'flip':
        if (i < bytes.length) bytes[i] = bytes[i]! ^ (1 << op.bit);
        break;
      case 'set':
        if (i < bytes.length) bytes[i] = op.byte;
        break;
      case 'insert':
        bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from(op.bytes), bytes.subarray(i)]);
        break;
      case 'delete':
        bytes = Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + op.length)]);
        break;
      case 'snippet':
        bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from(op.snippet, 'utf8'), bytes.subarray(i)]);
        break;
      case 'truncate':
        bytes = bytes.subarray(0, i);
        break;
    }
  }
  return new Uint8Array(bytes);
}

// ---------------------------------------------------------------------------------------------
// Line level

export type LineOp =
  | { op: 'delete'; at: number }
  | { op: 'duplicate'; at: number }
  | { op: 'swap'; at: number; with: number }
  | { op: 'move'; at: number; to: number }
  | { op: 'indent'; at: number; by: number }
  | { op: 'tab-indent'; at: number }
  | { op: 'crlf'; at: number };

export const lineOp: fc.Arbitrary<LineOp> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: position }),
  fc.record({ op: fc.constant('duplicate' as const), at: position }),
  fc.record({ op: fc.constant('swap' as const), at: position, with: position }),
  fc.record({ op: fc.constant('move' as const), at: position, to: position }),
  fc.record({ op: fc.constant('indent' as const), at: position, by: fc.integer({ min: -8, max: 8 }) }),
  fc.record({ op: fc.constant('tab-indent' as const), at: position }),
  fc.record({ op: fc.constant('crlf' as const), at: position }),
);

export const lineOps = fc.oneof({ weight: 3, arbitrary: fc.array(lineOp, { minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: fc.array(lineOp, { minLength: 2, maxLength: 5 }) });

export function applyLineOps(text: string, ops: readonly LineOp[]): string {
  const lines = text.split('\n');
  const pick = (at: number) => Math.min(lines.length - 1, Math.floor((at / 1_000_001) * lines.length));
  for (const op of ops) {
    if (lines.length === 0) break;
    const i = pick(op.at);
    switch (op.op) {
      case 'delete':
        lines.splice(i, 1);
        break;
      case 'duplicate':
        lines.splice(i, 0, lines[i]!);
        break;
      case 'swap': {
        const j = pick(op.with);
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        break;
      }
      case 'move': {
        const [line] = lines.splice(i, 1);
        lines.splice(Math.min(lines.length, pick(op.to)), 0, line!);
        break;
      }
      case 'indent':
        lines[i] = op.by >= 0 ? ' '.repeat(op.by) + lines[i]! : lines[i]!.replace(new RegExp(`^ {0,${-op.by}}`), '');
        break;
      case 'tab-indent':
        lines[i] = lines[i]!.replace(/^( +)/, (s) => '\t'.repeat(Math.max(1, s.length >> 1)));
        break;
      case 'crlf':
        lines[i] = `${lines[i]!}\r`;
        break;
    }
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Structure level: values

/** Pieces of CEL, some valid, some hostile, some broken. */
export const CEL_FRAGMENTS = [
  'true',
  'false',
  'null',
  '1',
  '1.5',
  '-9223372036854775808',
  '9223372036854775807 + 1',
  '18446744073709551615u',
  '1 / 0',
  '1.0 / 0.0',
  '"}}"',
  "'}}'",
  "'${{'",
  '"\\u0000"',
  'b"\\xff"',
  'steps',
  'steps.backup.ok',
  "steps['qa-ready'].ok",
  'steps.health.metrics.p95_ms < 500',
  'steps.nope.ok',
  'steps.backup.stdout.size() > 2',
  "steps.backup.stdout.matches('(a+)+$')",
  'vars.base_url',
  'vars.version + "x"',
  'vars.nope',
  "answers['on-call']",
  'answers.go-no-go',
  'env.HOME',
  'env.SECRET',
  'run.id',
  'run.nope',
  'has(steps.backup.ok)',
  'dyn(1) == "1"',
  'int("x")',
  'string(b"\\xff")',
  'duration("1h") > duration("1m")',
  'timestamp("not a time")',
  '[1, 2, 3].map(x, x * x)',
  '[1, 2, 3].all(x, x > 0)',
  '{"a": 1}.a',
  '{1: 2, 1: 3}',
  'size(vars)',
  'steps.all(s, steps[s].ok)',
  'x',
  '&&',
  '||',
  '!',
  '? :',
  '(',
  ')',
  '[',
  ']',
  '.',
  '==',
  '"unterminated',
  '!'.repeat(300),
  '('.repeat(60) + '1' + ')'.repeat(60),
  '[' + Array.from({ length: 40 }, () => '0').join(',') + '].map(a, [' + Array.from({ length: 40 }, () => '0').join(',') + '].map(b, a + b))',
];

/** A string the runbook might carry: plain, a CEL expression, a `${{ … }}` template (maybe broken), or binary junk. */
export const interestingString: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 3, arbitrary: fc.array(fc.constantFrom(...CEL_FRAGMENTS), { minLength: 1, maxLength: 4 }).map((parts) => parts.join(' ')) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 6 }), fc.array(fc.constantFrom(...CEL_FRAGMENTS), { minLength: 0, maxLength: 3 }), fc.constantFrom('}}', ' }}', '}', '', '}} ${{ run.id }}'), fc.string({ maxLength: 6 }))
      .map(([before, parts, close, after]) => `${before}\${{ ${parts.join(' ')} ${close}${after}`),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      'yes',
      'no',
      'on',
      'True',
      '~',
      'null',
      '0x1F',
      '1e3',
      '.inf',
      '-.nan',
      '*a',
      '&a',
      '!tag',
      '%',
      '@x',
      '`x`',
      '- x',
      'a: b',
      '# c',
      '---',
      '...',
      'http://127.0.0.1:1/x',
      'T-20m',
      'T+4h',
      '5m',
      '0s',
      '999999999d',
      '1h30m',
      "it's \"quoted\"",
      'a\nb',
      '\t',
      '\r\n',
      '\u0000',
      '\u001b[2J',
      '\u2028',
      '\ud800',
      'x'.repeat(5000),
      'x'.repeat(25_000),
    ),
  },
);

/** Keys that matter to the runbook grammar, to prototype pollution, or to nothing at all. */
export const interestingKey: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      'hasOwnProperty',
      '<<',
      'version',
      'name',
      'title',
      'roles',
      'vars',
      'secrets',
      'notify',
      'escalation',
      'success_metrics',
      'phases',
      'steps',
      'rollback',
      'gate',
      'require',
      'on_no_go',
      'id',
      'owner',
      'run',
      'http',
      'confirm',
      'checklist',
      'ask',
      'if',
      'timeout',
      'retries',
      'retry_delay',
      'env',
      'cwd',
      'metrics',
      'idempotent',
      'url',
      'expect',
      'samples',
      'concurrency',
      'status',
      'body_contains',
      'keys',
      'escalates_to',
      'when',
      'after',
      'on',
      'to',
      'channels',
      'webhook',
      'file',
      'status_every',
      'actual',
      'ok',
      'max',
      'min',
      'p95_ms',
      'duration_ms',
      '',
      ' ',
      'a.b',
      'go-no-go.leadership_approved',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);

export const interestingNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 2, 20, 64, 65, 100, 101, 200, 500, 1000, 1001, 1e21, 1e308, -1e308, 5e-324, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 0.001, 0.1, NaN, Infinity, -Infinity),
  fc.integer(),
  fc.double(),
);

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: interestingString },
  { weight: 2, arbitrary: interestingNumber },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
);

/** An object from entries, keeping `__proto__` as an own key (an object literal would set the prototype instead). */
export function objectFromEntries(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

/** Nesting far past the parser's limits, built directly (a recursive arbitrary would stay shallow). */
const deepValue: fc.Arbitrary<unknown> = fc
  .tuple(fc.integer({ min: 1, max: 90 }), fc.boolean(), leaf)
  .map(([depth, asList, inner]) => {
    let value: unknown = inner;
    for (let i = 0; i < depth; i++) value = asList ? [value] : objectFromEntries([['k', value]]);
    return value;
  });

export const jsonishValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown; list: unknown[]; map: Record<string, unknown> }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: leaf },
    { weight: 2, arbitrary: tie('list') },
    { weight: 2, arbitrary: tie('map') },
    { weight: 1, arbitrary: deepValue },
  ),
  list: fc.array(tie('value'), { maxLength: 4 }),
  map: fc.array(fc.tuple(interestingKey, tie('value')), { maxLength: 4 }).map(objectFromEntries),
})).value;

// ---------------------------------------------------------------------------------------------
// Structure level: edits of a parsed document

export type Path = (string | number)[];

export type TreeOp =
  | { op: 'replace'; at: number; value: unknown }
  /** Replace a leaf with another of the same type: keeps the grammar, so the meaning checks and the engine see it. */
  | { op: 'tweak'; at: number; text: string; number: number; flag: boolean }
  | { op: 'delete'; at: number }
  | { op: 'insert'; at: number; key: string; value: unknown }
  | { op: 'rename'; at: number; key: string }
  | { op: 'duplicate'; at: number }
  | { op: 'copy'; from: number; at: number }
  | { op: 'swap-siblings'; at: number; with: number };

export const treeOp: fc.Arbitrary<TreeOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: jsonishValue }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('tweak' as const), at: fc.nat(), text: interestingString, number: interestingNumber, flag: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('insert' as const), at: fc.nat(), key: interestingKey, value: jsonishValue }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rename' as const), at: fc.nat(), key: interestingKey }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('copy' as const), from: fc.nat(), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('swap-siblings' as const), at: fc.nat(), with: fc.nat() }) },
);

export const treeOps = fc.array(treeOp, { minLength: 1, maxLength: 4 });

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null;
}

/** Every path in the value, root first, depth-first; bounded so a huge seed stays cheap. */
export function allPaths(root: unknown, limit = 20_000): Path[] {
  const out: Path[] = [];
  const stack: { value: unknown; path: Path }[] = [{ value: root, path: [] }];
  while (stack.length > 0 && out.length < limit) {
    const { value, path } = stack.pop()!;
    out.push(path);
    if (Array.isArray(value)) for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: [...path, i] });
    else if (isContainer(value)) for (const key of Object.keys(value).reverse()) stack.push({ value: (value as Record<string, unknown>)[key], path: [...path, key] });
  }
  return out;
}

function getAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const segment of path) node = isContainer(node) ? (node as Record<string | number, unknown>)[segment] : undefined;
  return node;
}

/** Deep copy that keeps `__proto__` own keys (structuredClone and JSON round trips would not all agree). */
export function cloneValue<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneValue) as T;
  if (isContainer(value)) return objectFromEntries(Object.entries(value).map(([k, v]) => [k, cloneValue(v)])) as T;
  return value;
}

function setIn(parent: Record<string, unknown> | unknown[], key: string | number, value: unknown): void {
  if (Array.isArray(parent)) parent[key as number] = value;
  else Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Apply tree edits to a copy of `root`; returns the new root. */
export function applyTreeOps(root: unknown, ops: readonly TreeOp[]): unknown {
  let doc = cloneValue(root);
  for (const op of ops) {
    const paths = allPaths(doc);
    const path = paths[op.at % paths.length]!;
    const parentPath = path.slice(0, -1);
    const last = path[path.length - 1];
    const parent = path.length > 0 ? (getAt(doc, parentPath) as Record<string, unknown> | unknown[]) : undefined;
    const node = getAt(doc, path);
    switch (op.op) {
      case 'replace':
        if (parent === undefined) doc = cloneValue(op.value);
        else setIn(parent, last!, cloneValue(op.value));
        break;
      case 'tweak': {
        // Aim at leaves only: `at` counts among them, so the edit lands on a value, not on a collection.
        const leaves = paths.filter((p) => !isContainer(getAt(doc, p)) && p.length > 0);
        if (leaves.length === 0) break;
        const leafPath = leaves[op.at % leaves.length]!;
        const old = getAt(doc, leafPath);
        const value = typeof old === 'string' ? op.text : typeof old === 'number' ? op.number : typeof old === 'boolean' ? op.flag : op.text;
        setIn(getAt(doc, leafPath.slice(0, -1)) as Record<string, unknown>, leafPath[leafPath.length - 1]!, value);
        break;
      }
      case 'delete':
        if (parent === undefined) doc = null;
        else if (Array.isArray(parent)) parent.splice(last as number, 1);
        else delete parent[last as string];
        break;
      case 'insert':
        if (Array.isArray(node)) node.splice(op.at % (node.length + 1), 0, cloneValue(op.value));
        else if (isContainer(node)) setIn(node, op.key, cloneValue(op.value));
        else if (parent !== undefined) setIn(parent, last!, cloneValue(op.value));
        break;
      case 'rename':
        if (parent !== undefined && !Array.isArray(parent)) {
          // Keep the key's place among its siblings: order matters to people reading the file, and to some checks.
          const entries = Object.entries(parent).map(([k, v]) => [k === last ? op.key : k, v] as const);
          for (const key of Object.keys(parent)) delete (parent as Record<string, unknown>)[key];
          for (const [k, v] of entries) setIn(parent, k, v);
        }
        break;
      case 'duplicate':
        if (Array.isArray(parent)) parent.splice(last as number, 0, cloneValue(node));
        else if (Array.isArray(node) && node.length > 0) node.push(cloneValue(node[0]));
        break;
      case 'copy': {
        const source = cloneValue(getAt(doc, paths[op.from % paths.length]!));
        if (parent === undefined) doc = source;
        else setIn(parent, last!, source);
        break;
      }
      case 'swap-siblings':
        if (Array.isArray(parent) && parent.length > 1) {
          const j = op.with % parent.length;
          [parent[last as number], parent[j]] = [parent[j], parent[last as number]];
        }
        break;
    }
  }
  return doc;
}

/** How to write a mutated document back out as YAML. */
export interface YamlStyle {
  collectionStyle: 'any' | 'block' | 'flow';
  defaultStringType: 'PLAIN' | 'QUOTE_DOUBLE' | 'QUOTE_SINGLE' | 'BLOCK_LITERAL' | 'BLOCK_FOLDED';
  /** Write repeated objects as anchors and aliases. */
  aliases: boolean;
  indent: number;
}

export const yamlStyle: fc.Arbitrary<YamlStyle> = fc.record({
  collectionStyle: fc.constantFrom('any' as const, 'any' as const, 'block' as const, 'flow' as const),
  defaultStringType: fc.constantFrom('PLAIN' as const, 'PLAIN' as const, 'QUOTE_DOUBLE' as const, 'QUOTE_SINGLE' as const, 'BLOCK_LITERAL' as const, 'BLOCK_FOLDED' as const),
  aliases: fc.boolean(),
  indent: fc.constantFrom(2, 2, 4, 1),
});

export function toYaml(value: unknown, style: YamlStyle): string {
  return stringifyYaml(value, {
    collectionStyle: style.collectionStyle,
    defaultStringType: style.defaultStringType,
    aliasDuplicateObjects: style.aliases,
    indent: style.indent,
    lineWidth: 0,
  });
}

export function parseSeed(text: string): unknown {
  return parseYaml(text, { version: '1.2', schema: 'core', uniqueKeys: false });
}

// ---------------------------------------------------------------------------------------------
// Helpers for assertions

/** Line breaks as YAML counts them (`\r\n`, `\r`, `\n`), plus one: the highest line a problem may point at. */
export function maxLine(text: string): number {
  return (text.match(/\r\n|\r|\n/g)?.length ?? 0) + 1;
}

export function lenientText(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

export function fuzzRuns(base: number): number {
  const scale = Number(process.env['FUZZ_SCALE'] ?? '1');
  return Math.max(1, Math.round(base * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

/**
 * Each property's whole run is bounded only against a hang: the bound that matters is per case (LIMIT_MS in each
 * suite). Hundreds of loads and dry runs take 15-30 s on a loaded 2-core machine, too close to vitest's default.
 */
export const PROPERTY_TIMEOUT_MS = fuzzRuns(1) * 120_000;

/** fast-check parameters. The seed is the run's (FC_SEED, test/setup/fast-check.ts); FUZZ_PATH with it replays a failure. */
export function fuzzParams(numRuns: number): fc.Parameters<unknown> {
  const path = process.env['FUZZ_PATH'];
  return { numRuns: fuzzRuns(numRuns), ...(path !== undefined ? { path } : {}), endOnFailure: false };
}
