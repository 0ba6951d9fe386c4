// Values a record keeps from CEL (gate conditions, success metrics): bounded JSON, so tools reading a record are never exhausted by it.
import type { RecordValue } from './types.js';

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
