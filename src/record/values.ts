// Values a record keeps from CEL (gate conditions, success metrics): bounded JSON, so tools reading a record are never exhausted by it.
import type { EvidenceNode } from '../expr/evidence.js';
import type { GateCondition } from '../engine/events.js';
import type { RecordEvidenceNode, RecordGateCondition, RecordValue } from './types.js';

/** CEL values as bounded JSON (records are read by tools that must not be exhausted by them). */
export function toRecordValue(value: unknown, depth = 0): RecordValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value.length > 4096 ? `${value.slice(0, 4096)}…` : value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (depth >= 2) return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)).slice(0, 4096);
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => toRecordValue(v, depth + 1));
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).slice(0, 100).map(([k, v]) => [k, toRecordValue(v, depth + 1)]));
  }
  return String(value);
}

/** A gate condition's evidence tree with bounded values, as the record keeps it. */
export function recordEvidence(node: EvidenceNode): RecordEvidenceNode {
  return {
    text: node.text.length > 4000 ? `${node.text.slice(0, 3999)}…` : node.text,
    op: node.op,
    ...('value' in node ? { value: toRecordValue(node.value) } : {}),
    ...(node.double === true ? { double: true as const } : {}),
    ...(node.error !== undefined ? { error: node.error.slice(0, 4000) } : {}),
    ...(node.children !== undefined ? { children: node.children.map(recordEvidence) } : {}),
  };
}

/** A condition's evidence as the record keeps it: its tree and notes, or, from a journal of an earlier build, its evidence as that build wrote it. */
export function recordConditionEvidence(c: GateCondition): Pick<RecordGateCondition, 'tree' | 'notes' | 'explained' | 'evidence'> {
  return {
    ...(c.tree !== undefined ? { tree: recordEvidence(c.tree) } : {}),
    ...(c.notes !== undefined ? { notes: c.notes } : {}),
    ...(c.explained !== undefined ? { explained: c.explained } : {}),
    ...(c.evidence !== undefined
      ? { evidence: { operator: c.evidence.operator, operands: c.evidence.operands.map((o) => ({ text: o.text, value: toRecordValue(o.value), ...(o.error !== undefined ? { error: o.error } : {}) })) } }
      : {}),
  };
}
