// The values expressions see (`steps`, `vars`, `answers`, `env`, `run`), built from run state.
import type { CelContext } from '../expr/cel.js';
import { gateId, type RunbookDoc } from '../runbook/types.js';
import type { RunState } from './state.js';
import { deployDurationMs } from './timeline.js';
import { watchMetricsView, watchView, type WatchView } from './watch-view.js';

export interface StepView extends WatchView {
  ok: boolean;
  status: string;
  exit_code: number | null;
  duration_ms: number;
  /**
   * Milliseconds since the step finished, as of when the expression is evaluated (0 until it has): "since deploy" for
   * a query, `increase(x[${{ promql_duration(steps.deploy.finished_ago_ms) }}])`.
   */
  finished_ago_ms: number;
  attempts: number;
  stdout: string;
  stderr: string;
  metrics: Record<string, unknown>;
  answer: unknown;
  /** A check's number (prometheus, http with json_path): null when it read none, or the step is no check. */
  result: number | null;
  /** The same number: `steps.<id>.value` reads as well in a success metric. */
  value: number | null;
  /** Every series the check read, `{labels, value}`. */
  results: { labels: Record<string, string>; value: number | string }[];
}

const PENDING = { ok: false, status: 'pending', exit_code: null, duration_ms: 0, finished_ago_ms: 0, attempts: 0, stdout: '', stderr: '', metrics: {}, answer: null, result: null, value: null, results: [] };
/** A step not finished and not a watch: one shared view (expressions only read it; a runbook has many steps). */
const PENDING_VIEW: StepView = { ...PENDING, ...watchView(undefined, undefined) };
const RUNNING_VIEW: StepView = { ...PENDING_VIEW, status: 'running' };
/** A step the run ended without (failed, NO-GO, rolled back): it will never run, so it is not "pending". */
const NOT_RUN_VIEW: StepView = { ...PENDING_VIEW, status: 'not-run' };

/** `steps.<id>` for every step of the runbook: pending until it runs, so expressions never hit a missing key. */
export function stepViews(doc: RunbookDoc, state: RunState, onlyFinished = false, now = Date.now()): Record<string, StepView> {
  const views: Record<string, StepView> = Object.create(null) as Record<string, StepView>;
  // An aborted run may be resumed: its steps not reached are still pending. Any other ending is final.
  const ended = state.finished !== undefined && state.finished.status !== 'aborted';
  const waiting = (s: { startedAt?: number } | undefined) => (s?.startedAt !== undefined ? 'running' : ended ? 'not-run' : 'pending');
  for (const phase of doc.phases) {
    for (const step of [...(phase.steps ?? []), ...(phase.finally ?? []), ...(phase.rollback ?? [])]) {
      const s = state.steps.get(step.id);
      const outcome = s?.outcome;
      if (outcome === undefined) {
        if (step.watch === undefined) {
          if (!onlyFinished) views[step.id] = s?.startedAt !== undefined ? RUNNING_VIEW : ended ? NOT_RUN_VIEW : PENDING_VIEW;
          continue;
        }
        // A watch at work is evidence already: its ticks so far (alarms fire from them while the window is open).
        const ticking = s?.watch !== undefined && s.watch.ticks > 0;
        if (onlyFinished && !ticking) continue;
        views[step.id] = { ...PENDING, ...watchView(step, s?.watch), status: waiting(s), metrics: ticking ? watchMetricsView(s.watch) : {} };
        continue;
      }
      const w = watchView(step, s?.watch);
      // One literal, no spreads: this runs for every step at every expression (phase65: 80 steps, hundreds of times).
      views[step.id] = {
        ok: outcome.status === 'succeeded',
        status: outcome.status,
        exit_code: outcome.exitCode ?? null,
        duration_ms: outcome.durationMs,
        finished_ago_ms: Math.max(0, now - outcome.endedAt),
        attempts: outcome.attempts,
        stdout: outcome.kept?.stdout ?? outcome.stdout?.text ?? '',
        stderr: outcome.kept?.stderr ?? outcome.stderr?.text ?? '',
        metrics: outcome.metrics ? { ...outcome.metrics } : {},
        answer: outcome.answer ?? null,
        result: outcome.check?.result ?? null,
        value: outcome.check?.result ?? null,
        results: outcome.check?.results.map((r) => ({ labels: { ...r.labels }, value: r.value })) ?? [],
        ticks: w.ticks,
        planned_ticks: w.planned_ticks,
        passed_ticks: w.passed_ticks,
        failed_ticks: w.failed_ticks,
        inconclusive_ticks: w.inconclusive_ticks,
        missed_ticks: w.missed_ticks,
        uptime: w.uptime,
        last: w.last,
        checks: w.checks,
      };
    }
  }
  return views;
}

/** `answers.<id>`: what people answered (steps) and decided (gates) so far. */
export function answerViews(doc: RunbookDoc, state: RunState): Record<string, unknown> {
  const answers: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [id, s] of state.steps) if (s.outcome?.answer !== undefined) answers[id] = s.outcome.answer;
  for (const phase of doc.phases) {
    const decision = phase.gate ? state.gates.get(gateId(phase))?.decision : undefined;
    if (decision !== undefined) answers[gateId(phase)] = decision;
  }
  return answers;
}

export interface ContextInputs {
  doc: RunbookDoc;
  state: RunState;
  env: Record<string, string | undefined>;
  now: number;
  /**
   * Leave out steps that have not finished, instead of showing them as pending (`ok: false`). For conditions that
   * raise alarms: `!steps.health.ok` must wait for evidence. CEL absorbs the missing key where the rest decides
   * (`a || b` is true when `a` is), so a rule over several steps fires on the first that shows the problem.
   */
  onlyFinished?: boolean;
}

/** The variables that are set: `process.env`'s type allows undefined values, steps and `env.*` have none. */
export function definedEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

export function celContext({ doc, state, env, now, onlyFinished = false }: ContextInputs): CelContext {
  const steps = stepViews(doc, state, onlyFinished, now);
  return {
    steps,
    vars: { ...state.vars },
    answers: answerViews(doc, state),
    env: definedEnv(env),
    run: {
      id: state.runId ?? '',
      operator: state.operator ?? '',
      runbook: doc.name,
      started_at: state.startedAt !== undefined ? new Date(state.startedAt).toISOString() : '',
      elapsed_ms: state.startedAt !== undefined ? Math.max(0, now - state.startedAt) : 0,
      status: state.finished?.status ?? 'running',
      // target_duration's measure: from its `from` phase's first step to its `to` phase's last (the whole run for the plain form).
      deploy_duration_ms: deployDurationMs(doc, state, now) ?? 0,
      rehearsal: state.rehearsal !== undefined,
    },
  };
}
