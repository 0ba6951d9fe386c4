// The lines printed after a run: how it ended and why, against the target time, gates, failures, rollback, and where the record is.
import { inert } from '../inert.js';
import type { RunResult } from '../engine/execute.js';
import type { RunState } from '../engine/state.js';
import { deployDurationMs, targetLimitMs } from '../engine/timeline.js';
import { formatDuration, parseDuration } from '../runbook/duration.js';
import { roleLabel, stepTitle } from '../runbook/labels.js';
import { gateId, type RunbookDoc, type StepDoc } from '../runbook/types.js';
import { renderCommand } from '../steps/run.js';
import { compileTemplate, renderTemplate } from '../expr/template.js';
import { metricVerdict } from '../record/success-metrics.js';
import type { RecordSuccessMetric } from '../record/types.js';

const HEADLINES: Record<RunResult['status'], string> = {
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  'no-go': 'NO-GO',
  'rolled-back': 'ROLLED BACK',
  aborted: 'ABORTED',
};

/**
 * `resume`: the command that continues this run, shown when it was aborted (default: the generic form). `metrics`: the
 * success metrics as the record has them (met, missed, not measured).
 */
export function formatRunSummary(
  doc: RunbookDoc,
  result: RunResult,
  record: { path: string; keyId: string } | undefined,
  resume = 'deployctl run <runbook> --resume',
  metrics?: readonly RecordSuccessMetric[],
): string {
  const { state } = result;
  const lines: string[] = [''];
  const elapsed = (state.finished?.at ?? state.lastEventAt ?? 0) - (state.startedAt ?? 0);
  const target = targetLimitMs(doc);
  // `target_duration: { from, to }` measures the deployment, not the whole day: say which figure is held to the target.
  const measured = typeof doc.target_duration === 'object' ? deployDurationMs(doc, state, state.finished?.at ?? state.lastEventAt ?? 0) : elapsed;
  const deployment = typeof doc.target_duration === 'object' ? `deployment ${measured === undefined ? 'not reached' : formatDuration(measured)}, ` : '';
  const vsTarget = target !== undefined ? ` (${deployment}target ${formatDuration(target)}${measured !== undefined && measured > target ? ', OVER' : ''})` : '';
  const failedRollback = state.rollback?.status === 'failed';
  lines.push(`${failedRollback ? '!!! ' : ''}Run ${state.runId}: ${HEADLINES[result.status]}${failedRollback ? ' — ROLLBACK FAILED' : ''} in ${formatDuration(elapsed)}${vsTarget}`);
  if (result.reason) lines.push(`  ${result.reason}`);
  if (state.rehearsal !== undefined) {
    const { timeScale } = state.rehearsal;
    lines.push(`  REHEARSAL at ${timeScale}×: every wait of the plan (ticks, windows, status updates, escalations, prompts) ran ${timeScale} times faster; the work took its real time; times are plan times`);
  }

  const outcomes = [...state.steps.values()].filter((s) => !s.rollback && s.outcome !== undefined).map((s) => s.outcome!);
  const count = (status: string) => outcomes.filter((o) => o.status === status).length;
  const total = doc.phases.reduce((n, p) => n + (p.steps?.length ?? 0) + (p.finally?.length ?? 0), 0);
  // An interrupted step ran but did not finish: count it, or the numbers do not add up to the total.
  const interrupted = count('interrupted') > 0 ? `, ${count('interrupted')} interrupted` : '';
  const inconclusive = count('inconclusive') > 0 ? `, ${count('inconclusive')} inconclusive` : '';
  lines.push(`  steps: ${count('succeeded')} succeeded, ${count('failed')} failed${inconclusive}, ${count('skipped')} skipped${interrupted}, ${total - outcomes.length} not run (of ${total})`);

  for (const phase of doc.phases) {
    if (!phase.gate) continue;
    const gate = state.gates.get(gateId(phase));
    if (gate?.skipped !== undefined) lines.push(`  gate ${gateId(phase)}: skipped (${inert(gate.skipped)})`);
    if (gate?.decision === undefined) continue;
    const failing = (gate.conditions ?? []).filter((c) => !c.ok).map((c) => c.name);
    const role = roleLabel(phase.gate.owner, doc.roles[phase.gate.owner], doc.people);
    // Credit who decided: the operator, on behalf of the role's holder; nobody, when it was automatic.
    const by = gate.answeredFrom === 'automatic' || gate.by === undefined ? `automatically (owner ${role})` : `by ${gate.by.operator} on behalf of ${role}`;
    const reason = gate.reason !== undefined ? `; reason: ${gate.reason}` : '';
    lines.push(`  gate ${gateId(phase)}: ${gate.decision.toUpperCase()} ${by}${failing.length > 0 ? `; not holding: ${failing.join(', ')}` : ''}${reason}${gate.note ? ` (${gate.note})` : ''}`);
  }
  for (const [id, s] of state.steps) {
    if (s.outcome?.status !== 'failed' && s.outcome?.status !== 'inconclusive') continue;
    const step = findStep(doc, id);
    const mark = s.outcome.status === 'failed' ? '✖' : '?';
    const led = s.failure !== undefined ? ` → ${FAILURE_ACTIONS[s.failure.action](s.failure.gateId)}${s.failure.answeredFrom === 'prompt' || s.failure.answeredFrom === 'answers-file' ? ` (chosen by ${s.failure.by?.operator ?? '?'})` : ''}` : '';
    lines.push(`  ${mark} ${s.rollback ? 'rollback ' : ''}${id}${step ? ` (${stepTitle(step)})` : ''}: ${s.outcome.status === 'inconclusive' ? 'INCONCLUSIVE: ' : ''}${s.outcome.reason ?? s.outcome.status}${led}`);
  }
  const a = state.authorization;
  if (a?.decision !== undefined) {
    const by = a.answeredFrom === 'timeout' || a.answeredFrom === 'no-terminal' ? `by the default (${a.note ?? a.answeredFrom})` : `by ${a.by?.operator ?? '?'} for ${roleLabel(a.role, doc.roles[a.role], doc.people)}`;
    lines.push(`  rollback ${a.decision === 'rollback' ? 'authorized' : 'NOT authorized'} ${by}`);
  }
  if (metrics !== undefined && metrics.length > 0) lines.push(`  success metrics: ${metricsLine(metrics)}`);
  if (state.rollback) {
    const how =
      state.rollback.status === 'succeeded'
        ? 'succeeded'
        : state.rollback.status === 'failed'
          ? 'FAILED: the system may be in a mixed state; escalate now'
          : 'INTERRUPTED, half done: resume the run to finish it';
    // Its own steps, counted apart from the phases' (an interrupted rollback step was in no count).
    const undo = [...state.steps.values()].filter((s) => s.rollback && s.outcome !== undefined).map((s) => s.outcome!.status);
    const ofRollback = doc.phases.filter((p) => state.rollback!.phases.includes(p.id)).reduce((n, p) => n + (p.rollback?.length ?? 0), 0);
    const tally = (['succeeded', 'failed', 'skipped', 'interrupted'] as const)
      .map((status) => [status, undo.filter((u) => u === status).length] as const)
      .filter(([status, n]) => n > 0 || status === 'succeeded')
      .map(([status, n]) => `${n} ${status}`);
    const notRun = Math.max(0, ofRollback - undo.length);
    lines.push(`  rollback of ${state.rollback.phases.join(', ')}: ${how} (rollback steps: ${[...tally, ...(notRun > 0 ? [`${notRun} not run`] : [])].join(', ')} of ${ofRollback})`);
  }
  if (result.status === 'aborted') lines.push(`  the run can be continued with: ${resume}`);
  lines.push(record ? `  record: ${record.path} (signed with key ${record.keyId})` : '  record: NOT WRITTEN');
  return lines.join('\n');
}

/** What a dry run would have done: each command with its templates resolved, and the answers a real run needs. */
export function formatDryRun(doc: RunbookDoc, state: RunState): string {
  const lines: string[] = ['', `Dry run of ${doc.name}: nothing was executed, no record written.`];
  for (const phase of doc.phases) {
    lines.push(`  ${phase.title ?? phase.id}`);
    for (const step of phase.steps ?? []) {
      const outcome = state.steps.get(step.id)?.outcome;
      const what = outcome?.command ?? outcome?.reason ?? 'not reached';
      lines.push(`    ${step.id}: ${what}`);
    }
    if (phase.gate) {
      const gate = state.gates.get(gateId(phase));
      lines.push(`    gate ${gateId(phase)}: ${gate?.note ?? 'not reached'}`);
    }
    for (const step of phase.finally ?? []) {
      const outcome = state.steps.get(step.id)?.outcome;
      lines.push(`    finally ${step.id}: ${outcome?.command ?? outcome?.reason ?? 'not reached'}`);
    }
    for (const step of phase.rollback ?? []) lines.push(`    rollback ${step.id}: ${wouldDo(step, state)}`);
  }
  return lines.join('\n');
}

const FAILURE_ACTIONS: Record<'rollback' | 'continue' | 'abort' | 'gate', (gate?: string) => string> = {
  rollback: () => 'stopped the run',
  continue: () => 'the run went on (on_failure: continue)',
  abort: () => 'stopped the run without rolling back',
  gate: (gate) => `left to gate ${gate ?? '?'}`,
};

/** `5 met, 1 missed (Uptime), 3 not measured (Test passage, …)`. */
function metricsLine(metrics: readonly RecordSuccessMetric[]): string {
  const groups: [string, RecordSuccessMetric[]][] = [
    ['met', metrics.filter((m) => metricVerdict(m) === 'met')],
    ['missed', metrics.filter((m) => metricVerdict(m) === 'missed')],
    ['not measured', metrics.filter((m) => metricVerdict(m) === 'not measured')],
    ['unknown', metrics.filter((m) => metricVerdict(m) === 'unknown')],
  ];
  return groups
    .filter(([, list]) => list.length > 0)
    .map(([word, list]) => `${list.length} ${word}${word === 'met' ? '' : ` (${list.map((m) => m.title).join(', ')})`}`)
    .join(', ');
}

function findStep(doc: RunbookDoc, id: string) {
  for (const phase of doc.phases) {
    for (const step of [...(phase.steps ?? []), ...(phase.finally ?? []), ...(phase.rollback ?? [])]) if (step.id === id) return step;
  }
  return undefined;
}

/** What a rollback step would do: its command with the run's vars resolved, or what it asks. */
function wouldDo(step: StepDoc, state: RunState): string {
  if (step.http !== undefined) {
    const url = compileTemplate(step.http.url);
    const rendered = url.ok ? renderTemplate(url.template, { vars: state.vars }) : undefined;
    return `${step.http.method ?? 'GET'} ${rendered?.ok ? rendered.value : step.http.url}`;
  }
  if (step.prometheus !== undefined) {
    const url = compileTemplate(step.prometheus.url);
    const rendered = url.ok ? renderTemplate(url.template, { vars: state.vars }) : undefined;
    return `prometheus ${rendered?.ok ? rendered.value : step.prometheus.url}: ${step.prometheus.query}`;
  }
  if (step.run === undefined) return `asks: ${stepTitle(step)}`;
  const rendered = renderCommand(step.run, { context: { vars: state.vars } });
  return rendered.ok ? rendered.display : Array.isArray(step.run) ? step.run.join(' ') : step.run;
}
