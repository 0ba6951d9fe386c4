// The facts messages are made of, each read from the run and its plan (no field of a message is a constant): checks, ETA, what comes next, the rollback's outcome.
import { celContext } from '../engine/context.js';
import type { ProbeMetrics } from '../engine/events.js';
import { phasesToRollBack } from '../engine/predicates.js';
import type { RunState, StepState } from '../engine/state.js';
import { targetLimitMs } from '../engine/timeline.js';
import { compileTemplate, renderTemplate } from '../expr/template.js';
import { authorizeTimeoutMs, failurePolicy } from '../runbook/failure-policy.js';
import { formatDuration, parseDuration, parseOffset } from '../runbook/duration.js';
import { phaseTitle, roleName } from '../runbook/labels.js';
import { gateId, stepKind, type PhaseDoc, type RunbookDoc, type StepDoc } from '../runbook/types.js';

export const hhmm = (ms: number) => `${new Date(ms).toISOString().slice(11, 16)} UTC`;

/** A reason quoted in a chat message: its first `max` characters (the record and the summary keep it whole). */
export function brief(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max - 1)}… (the record has it all)` : text;
}

const AUTOMATED = new Set(['run', 'http', 'prometheus']);

/** The automated checks that ran (phase and cleanup steps, not rollback steps): `12 of 12 passed`, `11 of 12 passed (1 failed: x)`, `none ran yet`. */
export function checksLine(doc: RunbookDoc, state: RunState): string {
  const failed: string[] = [];
  const inconclusive: string[] = [];
  let passed = 0;
  for (const phase of doc.phases) {
    for (const step of [...(phase.steps ?? []), ...(phase.finally ?? [])]) {
      if (!AUTOMATED.has(stepKind(step))) continue;
      const status = state.steps.get(step.id)?.outcome?.status;
      if (status === 'succeeded') passed++;
      else if (status === 'failed') failed.push(step.id);
      else if (status === 'inconclusive') inconclusive.push(step.id);
    }
  }
  const ran = passed + failed.length + inconclusive.length;
  if (ran === 0) return 'none ran';
  const notes = [failed.length > 0 ? `${failed.length} failed: ${failed.join(', ')}` : '', inconclusive.length > 0 ? `${inconclusive.length} inconclusive: ${inconclusive.join(', ')}` : ''].filter((n) => n !== '');
  return `${passed} of ${ran} passed${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
}

/** The probes' worst error rate and p95: `error rate 0.00% (worst probe), p95 31 ms (worst probe), 9 probes`. */
export function probesLine(state: RunState): string {
  const probes = [...state.steps.values()].map((s) => s.outcome?.metrics).filter((m): m is ProbeMetrics => m !== undefined);
  if (probes.length === 0) return 'no probes ran';
  const worstError = Math.max(...probes.map((m) => m.error_rate));
  const worstP95 = Math.max(...probes.map((m) => m.p95_ms));
  return `error rate ${(worstError * 100).toFixed(2)}% (worst probe), p95 ${Math.round(worstP95)} ms (worst probe), ${probes.length} probes`;
}

/**
 * When the plan expects the phase done: its actual start plus its window (its `at:` to the next phase's `at:`), else
 * the run's start plus `target_duration`. An ALERT's ETA: by when the plan had this phase over.
 */
export function planEta(doc: RunbookDoc, state: RunState, phaseId: string | undefined, now: number): string {
  const index = phaseId === undefined ? -1 : doc.phases.findIndex((p) => p.id === phaseId);
  const phase = doc.phases[index];
  const started = phase !== undefined ? state.phases.get(phase.id)?.startedAt : undefined;
  const from = phase?.at !== undefined ? parseOffset(phase.at) : undefined;
  const next = index === -1 ? undefined : doc.phases.slice(index + 1).find((p) => p.at !== undefined);
  const to = next?.at !== undefined ? parseOffset(next.at) : undefined;
  const when = (at: number, what: string) => (at >= now ? `${hhmm(at)} (${what})` : `overdue since ${hhmm(at)} (${what})`);
  if (phase !== undefined && started !== undefined && from !== undefined && to !== undefined && to > from) {
    return when(started + (to - from), `the end of ${phaseTitle(phase)}'s window in the plan, ${phase.at} to ${next!.at}`);
  }
  // target_duration: the whole run's, or (`{ limit, from }`) the deployment's from the start of its `from` phase.
  const target = targetLimitMs(doc);
  const measuredFrom = typeof doc.target_duration === 'object' && doc.target_duration.from !== undefined ? state.phases.get(doc.target_duration.from)?.startedAt : state.startedAt;
  if (target !== undefined && measuredFrom !== undefined) return when(measuredFrom + target, `the ${formatDuration(target)} target_duration`);
  return `none in the plan (${phase !== undefined ? `phase '${phase.id}' has no at: window` : 'no phase is running'}, and the runbook no target_duration)`;
}

/** The phases after `phaseId`, with their place on the timeline: `Hour 1-4: active monitoring (T+1h), Sign-off & close (T+24h)`. */
export function nextInPlan(doc: RunbookDoc, phaseId: string): string {
  const index = doc.phases.findIndex((p) => p.id === phaseId);
  const rest = doc.phases.slice(index + 1);
  if (rest.length === 0) return `nothing: '${phaseTitle(doc.phases[index] ?? { id: phaseId })}' is the last phase`;
  return rest.map((p) => `${phaseTitle(p)}${p.at !== undefined ? ` (${p.at})` : ''}`).join(', ');
}

/** The version the rollback restored, from the runbook's `rollback.version` template; why not, when it cannot say. */
export function rolledBackTo(doc: RunbookDoc, state: RunState, env: Record<string, string>, now: number): string {
  const template = doc.rollback?.version;
  if (template === undefined) return 'not reported (the runbook has no rollback.version to read it from)';
  const compiled = compileTemplate(template);
  const rendered = compiled.ok ? renderTemplate(compiled.template, celContext({ doc, state, env, now }), 'text') : { ok: false as const, message: compiled.message };
  if (!rendered.ok) return `unknown (rollback.version: ${rendered.message})`;
  const text = rendered.value.trim();
  return text === '' ? 'unknown (rollback.version gave nothing)' : text.slice(0, 200);
}

/** The rollback's own checks (http, prometheus, run steps that ran in it): `rollback-health passed (p95 4 ms, errors 0/10)`. */
export function healthAfterRollback(doc: RunbookDoc, state: RunState): string {
  const checks: string[] = [];
  for (const phase of doc.phases) {
    for (const step of phase.rollback ?? []) {
      const kind = stepKind(step);
      if (kind !== 'http' && kind !== 'prometheus') continue;
      const outcome = state.steps.get(step.id)?.outcome;
      if (outcome === undefined) continue;
      const m = outcome.metrics;
      const figures = m !== undefined ? ` (p95 ${Math.round(m.p95_ms)} ms, errors ${m.errors}/${m.samples})` : outcome.check !== undefined ? ` (${outcome.check.result ?? 'no data'})` : '';
      checks.push(`${step.id} ${outcome.status === 'succeeded' ? 'passed' : outcome.status}${figures}`);
    }
  }
  return checks.length > 0 ? checks.join('; ') : 'not checked (the rollback has no http or prometheus step)';
}

/** What happens after a RESOLVED: the deployment goes on only while it does; otherwise the rollback, or the run's end. */
export function nextSteps(doc: RunbookDoc, state: RunState): string {
  if (state.finished !== undefined) return `the run ended ${state.finished.status.toUpperCase()}`;
  const failedNow = (s: StepState) => s.outcome?.status === 'failed' || s.outcome?.status === 'inconclusive';
  if (state.rollback !== undefined && state.rollback.status === undefined) {
    // The first rollback step that fails stops the rollback.
    const broken = [...state.steps].find(([, s]) => s.rollback && s.startedAt !== undefined && s.startedAt >= state.rollback!.startedAt && failedNow(s));
    return broken !== undefined ? `the rollback stops: rollback step '${broken[0]}' failed; act now` : 'the rollback continues';
  }
  if (state.rollback?.status === 'succeeded') return 'the run ends ROLLED BACK; post-incident review';
  if (state.rollback?.status === 'failed') return 'the rollback FAILED: act now';
  if (state.authorization !== undefined && state.authorization.decision === undefined) return `waiting for ${roleName(state.authorization.role, doc.roles[state.authorization.role], doc.people)} to authorize the rollback`;
  const noGo = doc.phases.find((p) => p.gate !== undefined && state.gates.get(gateId(p))?.decision === 'no-go');
  if (noGo !== undefined) return `go/no-go '${gateId(noGo)}' decided NO-GO: the run ${noGo.gate!.on_no_go === 'rollback' ? 'rolls back' : 'stops here'}`;
  // A phase step that has just failed, before its on_failure is applied (this message goes out in between).
  for (const phase of doc.phases) {
    for (const step of phase.steps ?? []) {
      const s = state.steps.get(step.id);
      if (s !== undefined && !s.rollback && s.finally !== true && failedNow(s) && s.failure === undefined) return `step '${step.id}' failed: ${failureAction(doc, state, phase, step)}`;
    }
  }
  const stopping = [...state.steps].find(([, s]) => s.failure?.action === 'rollback' || s.failure?.action === 'abort');
  if (stopping !== undefined) return `the run is stopping: step '${stopping[0]}' failed`;
  // A failure left to a gate ahead: its earlier_steps_ok does not hold, so GO is not on offer there.
  const leftToGate = [...state.steps].filter(([, s]) => s.failure?.action === 'gate' && s.failure.gateId !== undefined && state.gates.get(s.failure.gateId)?.decision === undefined);
  if (leftToGate.length > 0) {
    const gate = leftToGate[0]![1].failure!.gateId!;
    const ids = leftToGate.map(([id]) => `'${id}'`).join(', ');
    return `the remaining steps up to go/no-go '${gate}' still run; ${ids} ${leftToGate.length === 1 ? 'has' : 'have'} failed, so that gate will decide NO-GO`;
  }
  const running = doc.phases.find((p) => state.phases.get(p.id)?.status === 'running');
  return running !== undefined ? `the deployment continues with ${phaseTitle(running)}` : 'the deployment continues';
}

/** What an ALERT says follows a failed phase step: from its on_failure (src/runbook/failure-policy.ts). */
export function failureAction(doc: RunbookDoc, state: RunState, phase: PhaseDoc, step: StepDoc): string {
  const policy = failurePolicy(doc, phase, step);
  switch (policy.policy) {
    case 'continue':
      return 'recorded; the deployment continues (on_failure: continue)';
    case 'gate':
      return `the remaining steps up to go/no-go '${policy.gate}' still run; that gate decides`;
    case 'ask':
      return `${roleName(step.owner, doc.roles[step.owner], doc.people)} decides: roll back, continue or abort`;
    case 'rollback': {
      const phases = state.rollback === undefined ? phasesToRollBack(doc, state).map((p) => p.id) : [];
      if (phases.length === 0) return 'stopping the deployment; nothing to roll back';
      const auth = doc.rollback;
      const authorized = auth !== undefined ? ` once ${roleName(auth.authorize, doc.roles[auth.authorize], doc.people)} authorizes it (default in ${formatDuration(authorizeTimeoutMs(doc))}: ${auth.default ?? 'rollback'})` : '';
      return `stopping the deployment; rolling back ${phases.join(', ')}${authorized}`;
    }
  }
}

/** The failure notice's "Status:" line: what is live now, as far as the run knows. */
export function liveStatus(doc: RunbookDoc, state: RunState, status: string): string {
  const changing = doc.phases.filter((p) => (p.rollback ?? []).length > 0);
  const started = changing.filter((p) => state.phases.has(p.id)).map((p) => p.id);
  if (status === 'rolled-back') return `rolled back (${started.join(', ')})`;
  if (state.rollback?.status === 'failed') return 'ROLLBACK FAILED: the system may be in a mixed state';
  if (status === 'aborted') {
    const at = doc.phases.find((p) => state.phases.get(p.id)?.status === 'running');
    return `stopped part-way${at !== undefined ? ` in ${phaseTitle(at)}` : ''}; resumable`;
  }
  if (changing.length > 0 && started.length === 0) return `unchanged: the run stopped before ${changing.map((p) => phaseTitle(p)).join(', ')}`;
  if (started.length > 0) {
    const a = state.authorization;
    const why = a?.decision === 'abort' ? `the rollback was not authorized (${a.note ?? `declined by ${a.by?.operator ?? '?'}`})` : 'nothing was rolled back';
    return `as left by ${started.join(', ')}: ${why}; check the system now`;
  }
  return 'nothing in the runbook changes the system (no phase has rollback steps)';
}
