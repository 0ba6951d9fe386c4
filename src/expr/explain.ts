// The one formatter of evidence trees (src/expr/evidence.ts): why a condition did not hold, its line in the task list, its values in the record.
import type { CelContext, CompiledExpression, EvaluateResult } from './cel.js';
import type { GateCondition } from '../engine/gate-condition.js';
import { buildEvidence, type EvidenceNode } from './evidence.js';

/** The operator that held instead, for a comparison that was false. */
const NEGATED: Record<string, string> = { '<': '≥', '<=': '>', '>': '≤', '>=': '<', '==': '≠', '!=': '=', in: 'not in' };
/** Top-level operators whose operands' values are the line: `42.0 < 5.0 → false`. */
const BY_OPERANDS = new Set(['<', '<=', '>', '>=', '==', '!=', 'in', '+', '-', '*', '/', '%']);
const LOGIC = new Set(['&&', '||']);

export interface ExplainOptions {
  /** Names shown before the value of a bare identifier: `{ result: 'error rate' }` → `error rate 0.0021 ≥ 0.001`. */
  names?: Record<string, string>;
}

/** A gate condition, from an event or a record (its values JSON), as far as its evidence goes. */
export type ExplainedCondition = Pick<GateCondition, 'kind' | 'text' | 'value' | 'ok' | 'error' | 'tree' | 'notes' | 'explained' | 'evidence'>;

/**
 * Why a false expression was false, with the values it compared: a comparison shows its operands and the relation that
 * held instead (`0.0021 ≥ 0.001`); `a && b` explains the operands that were false; `a || b` explains every operand;
 * `c ? a : b` the branch taken; anything else is `<text> is false` (or `<text>: <error>`). Undefined when the node was
 * not false and did not fail.
 */
export function whyFalse(node: EvidenceNode, options: ExplainOptions = {}): string | undefined {
  if (node.error === undefined && node.value !== false) return undefined;
  const children = node.children ?? [];
  if (node.op === '&&') {
    const parts = children.map((child) => whyFalse(child, options)).filter((p): p is string => p !== undefined);
    return parts.length > 0 ? parts.join('; ') : plain(node);
  }
  if (node.op === '||' && children.length > 0) return children.map((child) => whyFalse(child, options) ?? plain(child)).join(' and ');
  if (node.op === '?:') return (children[1] !== undefined ? whyFalse(children[1], options) : undefined) ?? plain(node);
  if (NEGATED[node.op] !== undefined && children.length === 2 && node.error === undefined) {
    return `${operand(children[0]!, options)} ${NEGATED[node.op]} ${operand(children[1]!, options)}`;
  }
  return plain(node);
}

/** Why one false expression was false, from its tree (`result < 0.001` → `error rate 0.0021 ≥ 0.001`); `result` is its evaluation, when the caller has it. */
export function explainFalse(expression: CompiledExpression, context: CelContext, options: ExplainOptions = {}, result?: EvaluateResult): string {
  const tree = buildEvidence(expression, context, result);
  return whyFalse(tree, options) ?? `${expression.source} is false`;
}

/** The tree of a condition: its own, or the one an earlier build's top-level operands make. */
export function conditionTree(c: ExplainedCondition): EvidenceNode | undefined {
  if (c.tree !== undefined) return c.tree;
  if (c.evidence === undefined) return undefined;
  return {
    text: c.text,
    op: c.evidence.operator,
    ...(c.error !== undefined ? { error: c.error } : { value: c.value }),
    children: c.evidence.operands.map((o) => ({ text: o.text, op: '', ...(o.error !== undefined ? { error: o.error } : { value: o.value }) })),
  };
}

/**
 * Why a condition that was false was false: the values it compared, then why each step it reads did not pass
 * (`0.0476 ≥ 0.001; canary-p95 inconclusive: no data (query: …)`). For earlier_steps_ok, the failures left to the gate.
 */
export function conditionWhy(c: ExplainedCondition): string | undefined {
  if (c.explained !== undefined || (c.tree === undefined && c.notes === undefined)) return c.explained;
  if (c.ok) return undefined;
  const why = c.tree !== undefined && c.value === false && c.error === undefined ? whyFalse(c.tree) : undefined;
  const parts = [...(why !== undefined ? [why] : []), ...(c.notes ?? [])];
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/** Why a condition does not hold, in a NO-GO reason: its explanation, else its error, else an attestation not given. */
export function whyNotHeld(c: ExplainedCondition): string | undefined {
  return conditionWhy(c) ?? c.error ?? (c.kind === 'confirm' ? 'not confirmed' : undefined);
}

/** The conditions that do not hold, each with why: what a NO-GO reason lists (the run's end, its notification). */
export function notHolding<C extends ExplainedCondition & { name: string }>(conditions: readonly C[]): { name: string; why: string | undefined }[] {
  return conditions.filter((c) => !c.ok).map((c) => ({ name: c.name, why: whyNotHeld(c) }));
}

/**
 * A condition's value with the values behind it, for the task list: `42.0 < 5.0 → false   [<text>]` for a comparison;
 * for a chain of && or ||, the operands that decided it (`steps.a.ok is false (6 of 7 hold) → false`, `3 of 3 hold →
 * true`), or when false the numbers that made it false (`0.03799 ≥ 0.001 → false`); `!(steps.a.ok: true) → false`
 * for a negation; the expression itself when there is nothing to break down. The text is not made inert here.
 */
export function conditionLine(c: ExplainedCondition): string {
  const result = c.error !== undefined ? 'error' : formatCelValue(c.value);
  const tree = conditionTree(c);
  const children = tree?.children ?? [];
  const why = c.value === false ? conditionWhy(c) : undefined;
  // A false chain, ternary, call: its explanation has the numbers that made it false (the operands of a chain are
  // booleans). The explanation says what held instead (`0.03799 ≥ 0.001`), so it follows the verdict, never `→ false`.
  if (why !== undefined && (tree === undefined || !(BY_OPERANDS.has(tree.op) || tree.op === '!_' || tree.op === '!'))) return `${result} because ${why}`;
  if (tree === undefined || children.length === 0) return `${c.text} → ${result}`;
  const shown = (n: EvidenceNode) => (n.error !== undefined ? `error: ${n.error}` : formatCelValue(n.value, n.double));
  if (tree.op === '!_' || tree.op === '!') return `!(${children[0]!.text}: ${shown(children[0]!)}) → ${result}`;
  if (LOGIC.has(tree.op)) return `${formatChain(tree.op, children)} → ${result}`;
  if (tree.op === '?:') return `${c.text} → ${result}`;
  return `${children.map(shown).join(` ${tree.op} `)} → ${result}   [${c.text}]`;
}

/** The values behind a condition, one a line in `record show` and `record export`: each part but literals, as written and as evaluated. */
export function conditionValues(c: ExplainedCondition): ({ text: string; value: string } | { text: string; error: string })[] {
  return (conditionTree(c)?.children ?? [])
    .filter((n) => n.op !== 'value')
    .map((n) => (n.error !== undefined ? { text: n.text, error: n.error } : { text: n.text, value: formatCelValue(n.value, n.double) }));
}

/** A chain of && or ||, by the operands that decided it: the ones not holding (&&), the ones holding (||). */
function formatChain(op: string, operands: EvidenceNode[]): string {
  const holds = (o: EvidenceNode) => o.value === true && o.error === undefined;
  const holding = operands.filter(holds);
  const decided = op === '&&' ? operands.filter((o) => !holds(o)) : holding;
  const counts = `${holding.length} of ${operands.length} hold`;
  if (decided.length === 0) return op === '&&' ? counts : `none of ${operands.length} holds`;
  return `${decided.map((o) => `${o.text} is ${o.error !== undefined ? `error: ${o.error}` : formatCelValue(o.value, o.double)}`).join(', ')} (${counts})`;
}

function plain(node: EvidenceNode): string {
  if (node.error !== undefined) return `${node.text}: ${node.error}`;
  return `${node.text} is ${'value' in node ? formatCelValue(node.value, node.double) : 'not known'}`;
}

/** An operand as shown in a sentence: a literal as written, a bare name with its label and value, anything else as its value. */
function operand(node: EvidenceNode, options: ExplainOptions): string {
  if (node.op === 'value' || node.error !== undefined || !('value' in node)) return node.text;
  const shown = formatCelValue(node.value, node.double);
  if (node.op === 'id') return `${options.names?.[node.text] ?? node.text} ${shown}`;
  return shown;
}

/** A value as a person reads it in a sentence: numbers to 4 significant digits (a CEL double as `42.0`), strings quoted, lists and maps as JSON. */
export function formatCelValue(value: unknown, double?: boolean): string {
  if (typeof value === 'number') return double === true && Number.isInteger(value) && Math.abs(value) < 1e15 ? `${value}.0` : formatNumber(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}…` : value);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return String(value);
  const json = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
  return json === undefined ? String(value) : json.length > 120 ? `${json.slice(0, 117)}…` : json;
}

/** `0.0021`, `612.3`, `1`, `NaN`: up to 4 significant digits, never an exponent below 1e-6. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf';
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const text = String(Number(value.toPrecision(4)));
  return /e/.test(text) && Math.abs(value) >= 1e-6 ? value.toFixed(8).replace(/0+$/, '') : text;
}
