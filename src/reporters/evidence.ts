// The evidence behind a verdict, in one line: a gate condition with its operands' values, a probe's latency and errors.
import type { GateCondition, ProbeMetrics } from '../engine/events.js';
import { inert } from '../inert.js';

const LOGIC = new Set(['&&', '||']);

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
 * What a condition evaluated to, with the values behind it: `42.0 < 5.0 → false` for a comparison,
 * `steps.a.ok (true) && steps.b.ok (false) → false` for a chain of && or ||, `!(steps.a.ok: true) → false` for a
 * negation; the expression itself when there is nothing to break down; the attestation text for a confirm.
 */
export function formatCondition(c: GateCondition): string {
  const mark = c.ok ? '✔' : '✖';
  const error = c.error !== undefined ? ` (${inert(c.error)})` : '';
  if (c.kind === 'confirm') return `${mark} ${c.name}: ${inert(c.text)} → ${c.value === true ? 'yes' : c.value === false ? 'no' : 'not answered'}${error}`;
  return `${mark} ${c.name}: ${formatEvidence(c)}${error}`;
}

function formatEvidence(c: GateCondition): string {
  const result = c.error !== undefined ? 'error' : formatValue(c.value);
  const evidence = c.evidence;
  if (evidence === undefined || evidence.operands.length === 0) return `${inert(c.text)} → ${result}`;
  const operand = (o: { text: string; value: unknown; error?: string }) => (o.error !== undefined ? `error: ${inert(o.error)}` : formatValue(o.value));
  if (evidence.operator === '!_' || evidence.operator === '!') {
    const [only] = evidence.operands;
    return `!(${inert(only!.text)}: ${operand(only!)}) → ${result}`;
  }
  if (LOGIC.has(evidence.operator)) {
    return `${evidence.operands.map((o) => `${inert(o.text)} (${operand(o)})`).join(` ${evidence.operator} `)} → ${result}`;
  }
  // A comparison or arithmetic: the values in the expression's place, then the expression for reference.
  return `${evidence.operands.map(operand).join(` ${evidence.operator} `)} → ${result}   [${inert(c.text)}]`;
}

/** `p50 12 ms · p95 30 ms · errors 0/50 (0%)`: a probe's numbers, shown as soon as it finishes. */
export function formatProbeMetrics(m: ProbeMetrics): string {
  const pct = m.error_rate * 100;
  const rate = pct === 0 ? '0%' : pct < 0.1 ? '<0.1%' : `${Number(pct.toFixed(1))}%`;
  return `p50 ${Math.round(m.p50_ms)} ms · p95 ${Math.round(m.p95_ms)} ms · errors ${m.errors}/${m.samples} (${rate})`;
}
