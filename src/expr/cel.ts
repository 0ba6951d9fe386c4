// CEL (Common Expression Language) for `if:`, gate conditions, escalation rules and templates: parse, check, evaluate, find references.
import * as vm from 'node:vm';
import { Environment, type ASTNode } from '@marcbachmann/cel-js';
import { promqlDuration, promqlString } from './promql-placement.js';

/** The variables an expression may use (DESIGN.md "Expressions"). */
export const CEL_VARIABLES = ['steps', 'vars', 'answers', 'env', 'run'] as const;
export type CelVariable = (typeof CEL_VARIABLES)[number];

export type CelContext = Partial<Record<CelVariable, unknown>> & { result?: unknown; results?: unknown };

/** What a check's `expect:` sees on top of the usual variables: the number read, and every series with its labels. */
export const CHECK_VARIABLES = ['result', 'results'] as const;

/** Expressions in general, and `expect:` of a check (which also sees `result` and `results`). */
export type CelDialect = 'general' | 'check';

const environments = new Map<CelDialect, Environment>();

function celEnvironment(dialect: CelDialect = 'general'): Environment {
  let environment = environments.get(dialect);
  if (environment === undefined) {
    const env = new Environment({
      unlistedVariablesAreDyn: false,
      homogeneousAggregateLiterals: false,
      limits: { maxAstNodes: 2000, maxDepth: 48, maxListElements: 500, maxMapEntries: 500, maxCallArguments: 16 },
    });
    for (const name of CEL_VARIABLES) env.registerVariable(name, 'map');
    if (dialect === 'check') {
      env.registerVariable('result', 'dyn');
      env.registerVariable('results', 'list');
    }
    // Templates go into URLs too: `${{ vars.base_url }}/search?q=${{ urlencode(vars.query) }}`.
    env.registerFunction('urlencode(string): string', (value: string) => encodeURIComponent(value));
    // PromQL queries (src/expr/promql-placement.ts): a value as one whole "…" literal, and a duration covering some ms.
    env.registerFunction('promql_string(string): string', (value: string) => promqlString(value));
    env.registerFunction('promql_duration(int): string', (ms: bigint) => promqlDuration(Number(ms)));
    env.registerFunction('promql_duration(double): string', (ms: number) => promqlDuration(ms));
    environment = env;
    environments.set(dialect, env);
  }
  return environment;
}

/** A reference like `steps.health` or `answers['on-call']`, with its offset inside the expression. */
export interface Reference {
  root: CelVariable;
  name: string;
  offset: number;
  /** The field read on it, if any: `ok` in `steps.health.ok`. */
  field?: string;
  fieldOffset?: number;
}

export interface CompiledExpression {
  source: string;
  evaluate(context: CelContext): unknown;
  references: Reference[];
  /** The static result type CEL infers: 'bool', 'string', 'dyn', … */
  type: string;
  /** The parsed tree (nodes carry `start`/`end` offsets into `source`): src/expr/evidence.ts reads it. */
  ast: ASTNode;
  dialect: CelDialect;
}

export type CompileResult = { ok: true; expression: CompiledExpression } | { ok: false; message: string; offset: number };

/** Parse and type-check once; evaluation later reuses the parsed form. Never throws for bad input. */
export function compileExpression(source: string, dialect: CelDialect = 'general'): CompileResult {
  const env = celEnvironment(dialect);
  let parsed;
  try {
    parsed = env.parse(source);
  } catch (error) {
    return { ok: false, ...describeCelError(error) };
  }
  let type = 'dyn';
  try {
    const checked = parsed.check();
    if (!checked.valid) return { ok: false, ...describeCelError(checked.error) };
    type = checked.type ?? 'dyn';
  } catch (error) {
    return { ok: false, ...describeCelError(error) };
  }
  const references = findReferences(parsed.ast);
  return {
    ok: true,
    expression: {
      source,
      type,
      references,
      ast: parsed.ast,
      dialect,
      evaluate: (context) => parsed(fillContext(context)),
    },
  };
}

export type EvaluateResult = { ok: true; value: unknown } | { ok: false; message: string };

/** Evaluate a compiled expression; a runtime error (missing key, bad types, too slow) is a value, not an exception. */
export function evaluateExpression(expression: CompiledExpression, context: CelContext): EvaluateResult {
  try {
    return { ok: true, value: fromCel(withTimeLimit(() => expression.evaluate(context))) };
  } catch (error) {
    if ((error as { code?: unknown } | undefined)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      return { ok: false, message: `the expression took longer than ${EVALUATION_TIME_LIMIT_MS} ms to evaluate: simplify its matches() pattern or nested map/all/exists` };
    }
    return { ok: false, message: describeCelError(error).message };
  }
}

/**
 * Far above any sane expression (microseconds), far below a hang. The watchdog measures wall time, so the margin is
 * wide: on a loaded machine a process can wait hundreds of ms for a core, and a gate condition cut short is a NO-GO.
 */
export const EVALUATION_TIME_LIMIT_MS = 1000;

let sandbox: { context: vm.Context; script: vm.Script } | undefined;

/**
 * Run one evaluation under V8's watchdog. The AST limits bound an expression's size, not its running time: cel-js runs
 * `matches()` on JavaScript's backtracking RegExp, not RE2 as the CEL spec says (`'aaaa…!'.matches('^(a+)+$')` is
 * exponential), and nested comprehensions multiply (`[…40].all(a, […40].all(b, …))`). Found while fuzzing dry runs.
 * The script is a fixed call of the compiled expression: no expression text ever reaches vm.
 */
function withTimeLimit<T>(evaluate: () => T): T {
  sandbox ??= { context: vm.createContext({ evaluate: undefined }), script: new vm.Script('evaluate()') };
  const { context, script } = sandbox;
  context['evaluate'] = evaluate;
  try {
    return script.runInContext(context, { timeout: EVALUATION_TIME_LIMIT_MS }) as T;
  } finally {
    context['evaluate'] = undefined;
  }
}

function fillContext(context: CelContext): Record<string, unknown> {
  return {
    steps: context.steps ?? {},
    vars: context.vars ?? {},
    answers: context.answers ?? {},
    env: context.env ?? {},
    run: context.run ?? {},
    result: context.result ?? null,
    results: context.results ?? [],
  };
}

/** CEL integers are BigInts; runbooks and records speak JSON numbers. */
export function fromCel(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (Array.isArray(value)) return value.map(fromCel);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), fromCel(v)]));
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value !== null && typeof value === 'object' && value.constructor === Object) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromCel(v)]));
  }
  return value;
}

function describeCelError(error: unknown): { message: string; offset: number } {
  // The parser recurses per operator (`!!!!…`): a stack overflow is a property of the expression, so say so.
  if (error instanceof RangeError) return { message: 'the expression is nested too deeply: simplify it', offset: 0 };
  const e = error as { message?: string; summary?: string; node?: { pos?: number; start?: number } } | undefined;
  const first = (e?.summary ?? e?.message ?? String(error)).split('\n')[0]!.trim();
  return { message: first, offset: e?.node?.pos ?? e?.node?.start ?? 0 };
}

/** Every `<root>.<name>` or `<root>['<name>']` in the expression, for the loader's meaning checks. */
function findReferences(ast: ASTNode): Reference[] {
  const accesses = memberAccesses(ast);
  const refs: Reference[] = [];
  /** The reference each `<root>.<name>` node made, so an access on it (`steps.a.ok`) can add its field. */
  const byNode = new Map<ASTNode, Reference>();
  for (const { node, target, key, offset } of accesses) {
    if (target.op === 'id' && (CEL_VARIABLES as readonly string[]).includes(target.args) && key !== undefined) {
      const ref: Reference = { root: target.args as CelVariable, name: key, offset };
      refs.push(ref);
      byNode.set(node, ref);
    }
  }
  // Second pass, now that every `<root>.<name>` is known: the field accessed on it, if any.
  for (const { target, key, offset } of accesses) {
    const ref = byNode.get(target);
    if (ref !== undefined && key !== undefined) {
      ref.field = key;
      ref.fieldOffset = offset;
    }
  }
  return refs.sort((a, b) => a.offset - b.offset);
}

interface MemberAccess {
  /** The access itself: `.`, `.?`, `[]` or `[?]`. */
  node: ASTNode;
  /** What is accessed. */
  target: ASTNode;
  /** The member's name, when it is a name or a string literal. */
  key: string | undefined;
  offset: number;
}

/** Every member access in the tree, depth first. */
function memberAccesses(ast: ASTNode): MemberAccess[] {
  const accesses: MemberAccess[] = [];
  const stack: unknown[] = [ast];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      stack.push(...node);
      continue;
    }
    if (node === null || typeof node !== 'object' || !('op' in node)) continue;
    const n = node as ASTNode;
    if (n.op === '.' || n.op === '.?' || n.op === '[]' || n.op === '[?]') {
      const [target, member] = n.args as [ASTNode, ASTNode | string];
      const key = typeof member === 'string' ? member : member.op === 'value' && typeof member.args === 'string' ? member.args : undefined;
      accesses.push({ node: n, target, key, offset: typeof member === 'string' ? n.pos : member.pos });
    }
    stack.push(n.args);
  }
  return accesses;
}
