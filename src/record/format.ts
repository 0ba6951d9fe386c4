// How record content is put in front of people: untrusted text made inert (no terminal escapes, one line), values, numbers, key ids, roles.
import { inert } from '../inert.js';
import { formatDuration } from '../runbook/duration.js';
import type { RecordActor, RecordFailureHandling, RecordPredicate, RecordRollbackAuthorization, RecordSuccessMetric, RecordValue } from './types.js';

/**
 * Text from a record (even a verified one quotes commands, answers and runbook titles) as one inert line:
 * control characters become visible escapes, so nothing in a file can move the cursor or recolour a terminal.
 */
export function clean(text: string, max = 500): string {
  const escaped = inert(text);
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}

/** `sha256:668e3fcb4067…`: enough to tell keys apart on screen; `--json` has the whole id. */
export function shortKeyId(keyid: string): string {
  const match = /^sha256:([0-9a-f]{12})[0-9a-f]{52}$/.exec(keyid);
  if (match) return `sha256:${match[1]}`;
  if (keyid === '') return '(no keyid)';
  return clean(keyid.length > 24 ? `${keyid.slice(0, 24)}…` : keyid);
}

/** Numbers as people read them: integers whole, others to three significant decimals (0.0472, 16.7, 99.95). */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  const text = Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3);
  return text.includes('.') && !text.includes('e') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

/** A recorded CEL value on one line. */
export function formatValue(value: RecordValue | undefined, unit?: string): string {
  if (value === undefined || value === null) return '—';
  if (typeof value === 'number') return unit === undefined ? formatNumber(value) : `${formatNumber(value)}${unit === '%' ? '%' : ` ${clean(unit, 40)}`}`;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return unit === undefined ? clean(value, 200) : `${clean(value, 200)} ${clean(unit, 40)}`;
  return clean(JSON.stringify(value), 200);
}

/** A step's answer: confirm → yes/no, ask → the text, checklist → the ticked items. */
export function formatAnswer(answer: boolean | string | string[]): string {
  if (typeof answer === 'boolean') return answer ? 'yes' : 'no';
  if (typeof answer === 'string') return `"${clean(answer, 200)}"`;
  return `${answer.length} ticked`;
}

/** `Deployment Lead · Ana Torres`, from the roles the record carries; an unknown id stands for itself. */
export function roleName(predicate: RecordPredicate | undefined, roleId: string): string {
  const role = predicate?.roles[roleId];
  if (role === undefined) return clean(roleId, 64);
  return role.primary ? `${clean(role.title, 100)} · ${clean(role.primary, 100)}` : clean(role.title, 100);
}

/**
 * Who acted. An answer credits the one who gave it, on behalf of the role's holder (`root on behalf of CTO · Lena
 * Fischer`); otherwise the role and its person, and the operator when that is not the run's operator (records
 * written before answers carried `answered_by`).
 */
export function formatActor(actor: RecordActor, predicate?: RecordPredicate): string {
  const title = predicate?.roles[actor.role]?.title ?? actor.role;
  if (actor.answered_by !== undefined) {
    const holder = actor.on_behalf_of !== undefined ? `${clean(title, 100)} · ${clean(actor.on_behalf_of, 100)}` : clean(title, 100);
    return `${clean(actor.answered_by, 100)} on behalf of ${holder}`;
  }
  const who = actor.person !== undefined ? `${clean(title, 100)} · ${clean(actor.person, 100)}` : clean(title, 100);
  return actor.operator !== predicate?.operator ? `${who} (operator ${clean(actor.operator, 100)})` : who;
}

/** `2.8s`, or `—` when a duration was not recorded. */
export function formatMs(ms: number | undefined): string {
  return ms === undefined ? '—' : formatDuration(ms);
}

/** The run's duration against its target: `2.8s (target 20m, within)` / `25m (target 20m, OVER by 5m)`. */
export function formatDurationVsTarget(predicate: RecordPredicate): string {
  const took = formatDuration(predicate.duration_ms);
  const target = predicate.target_duration_ms;
  if (target === undefined) return took;
  if (predicate.duration_ms <= target) return `${took} (target ${formatDuration(target)}, within)`;
  return `${took} (target ${formatDuration(target)}, OVER by ${formatDuration(predicate.duration_ms - target)})`;
}

export const STATUS_HEADLINES: Record<RecordPredicate['status'], string> = {
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  'no-go': 'NO-GO',
  'rolled-back': 'ROLLED BACK',
  aborted: 'ABORTED',
};

/** ✔ for a success, ✖ for a failure, ↓ skipped, · not run, ? unknown. */
export function statusMark(status: string | boolean | null | undefined): string {
  switch (status) {
    case 'succeeded':
    case 'go':
    case true:
      return '✔';
    case 'failed':
    case 'interrupted':
    case 'no-go':
    case false:
      return '✖';
    case 'skipped':
      return '↓';
    case 'inconclusive':
      return '?';
    case 'not-run':
      return '·';
    default:
      return '?';
  }
}

/** What a step's failure led to, in a sentence: `left to gate go-no-go`, `continued (on_failure: continue)`, `rolled back, chosen by root on behalf of …`. */
export function formatFailureHandling(h: RecordFailureHandling, predicate?: RecordPredicate): string {
  const what = {
    rollback: 'the run stopped and rolled back what it could',
    continue: 'the run went on',
    abort: 'the run stopped without rolling back',
    gate: `left to gate ${clean(h.gate ?? '?', 64)}, which decided`,
  }[h.action];
  const who = h.decided_by !== undefined && (h.answered_from === 'prompt' || h.answered_from === 'answers-file') ? `, chosen by ${formatActor(h.decided_by, predicate)}${h.answered_from === 'answers-file' ? ' (answers file)' : ''}` : '';
  const note = h.note !== undefined ? ` (${clean(h.note, 300)})` : '';
  return `on_failure: ${h.policy}: ${what}${who}${note}`;
}

/** The rollback authorization in a sentence: who said what, when, or that the default decided. */
export function formatAuthorization(a: RecordRollbackAuthorization, predicate?: RecordPredicate): string {
  const decision = a.decision === null ? 'not decided' : a.decision === 'rollback' ? 'authorized' : 'DECLINED (nothing rolled back)';
  const by =
    a.answered_from === 'timeout' || a.answered_from === 'no-terminal'
      ? ` by the default: ${clean(a.note ?? a.answered_from, 300)}`
      : a.decided_by !== undefined
        ? ` by ${formatActor(a.decided_by, predicate)}${a.answered_from === 'answers-file' ? ' (answers file)' : a.answered_from === 'chosen' ? ' (their own on_failure: ask choice)' : ''}`
        : '';
  const asked = a.requested_at !== undefined ? `asked ${clean(a.requested_at, 64)}, ` : '';
  return `rollback ${decision}${by} (${asked}${a.decided_at !== undefined ? `decided ${clean(a.decided_at, 64)}, ` : ''}default after ${formatDuration(a.timeout_ms)}: ${a.default})`;
}

/** A success metric's verdict mark and word: ✔ met, ✖ missed, · not measured, ? unknown. */
export function metricMark(m: RecordSuccessMetric): string {
  if (m.ok === null && m.not_measured !== undefined) return '·';
  return statusMark(m.ok);
}
