// The evidence behind a verdict, in one line: a gate condition with its operands' values, a probe's latency and errors.
import type { CheckReading, GateCondition, ProbeMetrics } from '../engine/events.js';
import { formatNumber } from '../expr/explain.js';
import { inert } from '../inert.js';

const LOGIC = new Set(['&&', '||']);
/** Top-level operators whose operands' values tell the story on their own. */
const SHOWN_BY_OPERANDS = new Set(['&&', '||', '!_', '!', '<', '<=', '>', '>=', '==', '!=']);

/** A value as a person reads it: JSON, cut short when long. */
export function formatValue(value: unknown): string {
  if (value === undefined) return '?';
  let text: string;
  try {
    text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value);
  } catch {
    text = String(value);
  }
  return inert(text.length > 60 ? `${text.slice(0, 59)}…` : text);
}

/**
 * What a condition evaluated to, with the values behind it: `42.0 < 5.0 → false` for a comparison; for a chain of
 * && or ||, the operands that decided it (`steps['pf-chat'].ok is false (6 of 7 hold) → false`, `3 of 3 hold → true`);
 * `!(steps.a.ok: true) → false` for a negation; the expression itself when there is nothing to break down. An
 * attestation shows its answer (its text was the question just asked). One short line each: a gate of six
 * conditions must leave room for its phase and its prompt on a 24-line terminal.
 */
export function formatCondition(c: GateCondition): string {
  const mark = c.ok ? '✔' : '✖';
  const error = c.error !== undefined ? ` (${inert(c.error)})` : '';
  if (c.kind === 'confirm') return `${mark} ${c.name}: attested ${c.value === true ? 'yes' : c.value === false ? 'no' : '(not answered)'}${error}`;
  return `${mark} ${c.name}: ${formatEvidence(c)}${error}`;
}

function formatEvidence(c: GateCondition): string {
  const result = c.error !== undefined ? 'error' : formatValue(c.value);
  const evidence = c.evidence;
  // A false condition whose top level is not a comparison, a chain or a negation (a `c ? a : b`, a function call):
  // its own explanation names the values that made it false.
  // A false chain of && or || too: its operands' values are booleans (`x < 0.001 is false`), the explanation has the
  // numbers that made it false (`0.03799 ≥ 0.001`), as the NO-GO reason and the record say them.
  if (c.explained !== undefined && c.value === false && (evidence === undefined || !SHOWN_BY_OPERANDS.has(evidence.operator) || LOGIC.has(evidence.operator))) {
    return `${inert(c.explained)} → ${result}`;
  }
  if (evidence === undefined || evidence.operands.length === 0) return `${inert(c.text)} → ${result}`;
  const operand = (o: { text: string; value: unknown; error?: string }) => (o.error !== undefined ? `error: ${inert(o.error)}` : formatValue(o.value));
  if (evidence.operator === '!_' || evidence.operator === '!') {
    const [only] = evidence.operands;
    return `!(${inert(only!.text)}: ${operand(only!)}) → ${result}`;
  }
  if (LOGIC.has(evidence.operator)) return `${formatChain(evidence.operator, evidence.operands)} → ${result}`;
  // A comparison or arithmetic: the values in the expression's place, then the expression for reference.
  return `${evidence.operands.map(operand).join(` ${evidence.operator} `)} → ${result}   [${inert(c.text)}]`;
}

/** A chain of && or ||, by the operands that decided it: the ones not holding (&&), the ones holding (||). */
function formatChain(operator: string, operands: { text: string; value: unknown; error?: string }[]): string {
  const holding = operands.filter((o) => o.value === true && o.error === undefined);
  const deciding = operator === '&&' ? operands.filter((o) => !(o.value === true && o.error === undefined)) : holding;
  const counts = `${holding.length} of ${operands.length} hold`;
  if (deciding.length === 0) return operator === '&&' ? counts : `none of ${operands.length} holds`;
  const named = deciding.map((o) => `${inert(o.text)} is ${o.error !== undefined ? `error: ${inert(o.error)}` : formatValue(o.value)}`);
  return `${named.join(', ')} (${counts})`;
}

/** `p50 12 ms · p95 30 ms · errors 0/50 (0%)`: a probe's numbers, shown as soon as it finishes. */
export function formatProbeMetrics(m: ProbeMetrics): string {
  const pct = m.error_rate * 100;
  const rate = pct === 0 ? '0%' : pct < 0.1 ? '<0.1%' : `${Number(pct.toFixed(1))}%`;
  return `p50 ${Math.round(m.p50_ms)} ms · p95 ${Math.round(m.p95_ms)} ms · errors ${m.errors}/${m.samples} (${rate})`;
}

/** `result 0.0476` (or `3 series`, `no data`): what a check read, beside its step as a probe's p50/p95 are. */
export function formatCheckReading(check: Pick<CheckReading, 'result' | 'results'>): string {
  if (check.result !== null) return `result ${formatNumber(check.result)}`;
  if (check.results.length > 1) return `${check.results.length} series`;
  if (check.results.length === 1) return `result ${inert(String(check.results[0]!.value))}`;
  return 'no data';
}
