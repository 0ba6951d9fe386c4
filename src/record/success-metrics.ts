// The success-metrics table as the record keeps it: each metric's actual value and verdict, from the evidence the run produced, and "not measured" where it produced none.
import { celContext } from '../engine/context.js';
import type { RunState } from '../engine/state.js';
import { compileExpression, evaluateExpression, type CompiledExpression } from '../expr/cel.js';
import { compileTemplate, renderTemplate } from '../expr/template.js';
import type { RunbookDoc } from '../runbook/types.js';
import { toRecordValue } from './values.js';
import type { RecordSuccessMetric } from './types.js';

/**
 * Each metric once the run is over (or at go-live, for the ALL-CLEAR). `actual` reads the run as it stands (a step
 * not run is pending: its metrics empty). `ok` reads only evidence: steps that ran to an end and answers given. A
 * verdict the evidence decides stands (CEL lets `a && b` be false on a false `a` whatever `b` is); one that needs a
 * step that never ran, or an answer never given, is "not measured" (ok null, `not_measured` says which), never a
 * failure: probes that never ran are not counted against a metric (issue 13). `ok` may also give null itself: not measured.
 */
export function evaluateSuccessMetrics(doc: RunbookDoc, state: RunState, env: Record<string, string | undefined>, now: number): RecordSuccessMetric[] {
  const context = celContext({ doc, state, env, now });
  const evidence = evidenceContext(doc, state, env, now);
  return (doc.success_metrics ?? []).map((metric) => {
    const row: RecordSuccessMetric = { id: metric.id, title: metric.title, target: metric.target, actual: null, ok: null, ...(metric.unit !== undefined ? { unit: metric.unit } : {}) };
    const errors: string[] = [];
    if (metric.actual !== undefined) {
      const compiled = compileExpression(metric.actual);
      const result = compiled.ok ? evaluateExpression(compiled.expression, context) : { ok: false as const, message: compiled.message };
      if (result.ok) row.actual = toRecordValue(result.value);
      else errors.push(`actual: ${result.message}`);
    }
    if (metric.ok !== undefined) {
      const compiled = compileExpression(metric.ok);
      if (!compiled.ok) errors.push(`ok: ${compiled.message}`);
      else {
        const result = evaluateExpression(compiled.expression, evidence);
        const missing = missingEvidence(compiled.expression, doc, state);
        if (result.ok && typeof result.value === 'boolean') row.ok = result.value;
        else if (result.ok && result.value === null) row.not_measured = missing.length > 0 ? noEvidence(missing) : 'the runbook says it was not measured (ok gave null)';
        else if (result.ok) errors.push(`ok: gave ${JSON.stringify(toRecordValue(result.value))}, not true or false`);
        else if (missing.length > 0 && /^No such key: /.test(result.message)) row.not_measured = noEvidence(missing);
        else errors.push(`ok: ${result.message}`);
      }
    }
    if (metric.source !== undefined) {
      const compiled = compileTemplate(metric.source);
      const rendered = compiled.ok ? renderTemplate(compiled.template, context, 'text') : { ok: false as const, message: compiled.message };
      if (rendered.ok) row.source = rendered.value.slice(0, 4000);
      else errors.push(`source: ${rendered.message}`);
    }
    if (errors.length > 0) row.error = errors.join('; ');
    return row;
  });
}

/** Verdict words for people: met, missed, not measured, or unknown (an expression that did not evaluate). */
export function metricVerdict(row: Pick<RecordSuccessMetric, 'ok' | 'not_measured'>): 'met' | 'missed' | 'not measured' | 'unknown' {
  if (row.ok === true) return 'met';
  if (row.ok === false) return 'missed';
  return row.not_measured !== undefined ? 'not measured' : 'unknown';
}

/** What expressions see when only evidence counts: steps that ran to an end (not pending, running or interrupted), answers given. */
function evidenceContext(doc: RunbookDoc, state: RunState, env: Record<string, string | undefined>, now: number) {
  const context = celContext({ doc, state, env, now, onlyFinished: true });
  const steps = context.steps as Record<string, unknown>;
  for (const [id, s] of state.steps) if (s.outcome?.status === 'interrupted') delete steps[id];
  // How the run ended is evidence only once it has (the ALL-CLEAR counts metrics while the run goes on).
  if (state.finished === undefined) delete (context.run as Record<string, unknown>)['status'];
  return context;
}

/**
 * The steps and answers an expression names (`steps.x`, `steps['x']`, `answers.x`, and ids written as strings, as in
 * `['a', 'b'].all(id, steps[id].ok)`) that the run has no evidence of.
 */
function missingEvidence(expression: CompiledExpression, doc: RunbookDoc, state: RunState): string[] {
  const stepIds = new Set(doc.phases.flatMap((p) => [...(p.steps ?? []), ...(p.finally ?? []), ...(p.rollback ?? [])].map((s) => s.id)));
  const hasEvidence = (id: string) => {
    const status = state.steps.get(id)?.outcome?.status;
    return status !== undefined && status !== 'interrupted';
  };
  const named = new Set<string>();
  for (const ref of expression.references) if (ref.root === 'steps' || ref.root === 'answers') named.add(`${ref.root}:${ref.name}`);
  for (const match of expression.source.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g)) {
    const text = match[1] ?? match[2] ?? '';
    // Only an id the expression does not already name (answers['x'] is an answer, not the step).
    if (stepIds.has(text) && !named.has(`answers:${text}`)) named.add(`steps:${text}`);
  }
  const missing: string[] = [];
  if (state.finished === undefined && expression.references.some((r) => r.root === 'run' && r.name === 'status')) missing.push('run.status (the run has not ended)');
  for (const entry of named) {
    const [root, id] = [entry.slice(0, entry.indexOf(':')), entry.slice(entry.indexOf(':') + 1)];
    if (root === 'steps' && stepIds.has(id) && !hasEvidence(id)) missing.push(`${id} (${describeMissing(state, id)})`);
    if (root === 'answers' && !hasEvidence(id) && !state.gates.has(id)) missing.push(`answer ${id} (not given)`);
  }
  return missing;
}

function describeMissing(state: RunState, id: string): string {
  const s = state.steps.get(id);
  if (s === undefined) return 'not run';
  return s.outcome?.status === 'interrupted' ? 'interrupted' : 'did not finish';
}

function noEvidence(missing: readonly string[]): string {
  return `no evidence from ${missing.length <= 8 ? missing.join(', ') : `${missing.slice(0, 8).join(', ')} and ${missing.length - 8} more`}`;
}
