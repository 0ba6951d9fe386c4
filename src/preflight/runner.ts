// Run the checks of the preflight phases: each automated step on its own, N at a time, with its retries; manual steps are listed, never run.
import { celContext } from '../engine/context.js';
import { shouldRunStep } from '../engine/predicates.js';
import { initialRunState } from '../engine/state.js';
import { compileExpression } from '../expr/cel.js';
import type { CelContext } from '../expr/cel.js';
import type { Clock, Exec, HttpSend } from '../ports/types.js';
import { parseDuration } from '../runbook/duration.js';
import { phaseTitle, roleLabel, stepTitle } from '../runbook/labels.js';
import type { LoadedRunbook } from '../runbook/load.js';
import type { Scalar } from '../runbook/types.js';
import { runHttpStep } from '../steps/http-step.js';
import { runPrometheusStep } from '../steps/prometheus.js';
import { renderStepText } from '../steps/render.js';
import { runCommandStep } from '../steps/run.js';
import type { StepResult, StepRunContext } from '../steps/types.js';
import { judgeFailure } from './conditions.js';
import { preflightPhases, selectChecks } from './checks.js';
import { MANUAL_NOT_RUN, messages, WATCH_NOT_RUN } from './messages.js';
import type { Check, CheckResult, PreflightEvent, PreflightReport, PreflightSummary } from './types.js';

/** Checks in flight at once unless --concurrency says otherwise: 40 probes of a 250 ms endpoint take 5 rounds. */
export const DEFAULT_CONCURRENCY = 8;
/** Pause between attempts when a step has `retries` but no `retry_delay` (the same as `run`). */
export const DEFAULT_RETRY_DELAY_MS = 1000;

export interface PreflightDeps {
  exec: Exec;
  send: HttpSend;
  clock: Clock;
  /** Environment of child processes and of `env.*` in expressions (secrets included; they are masked in output). */
  env: Record<string, string>;
  secretValues: readonly string[];
  mask: (text: string) => string;
  /** Every event in order; reporters must not throw. */
  emit: (event: PreflightEvent) => void;
}

export interface PreflightRunOptions {
  vars: Record<string, Scalar>;
  concurrency: number;
  /** Aborted by Ctrl-C or SIGTERM: running checks stop (process trees included), no new one starts. */
  signal: AbortSignal;
  killGraceMs?: number;
  defaultRetryDelayMs?: number;
  /** Unique to this invocation: with the check's id, in every check's environment, so a timed-out check's escaped processes are found. */
  preflightId?: string;
}

/**
 * What every check's processes carry in their environment (see `processMarks`). Names of their own: a preflight run
 * by a step of `deployctl run` leaves that step's DEPLOYCTL_RUN_ID and DEPLOYCTL_STEP_ID as they were.
 */
export const PREFLIGHT_ENV = { preflightId: 'DEPLOYCTL_PREFLIGHT_ID', checkId: 'DEPLOYCTL_PREFLIGHT_CHECK_ID' } as const;

export async function runPreflight(runbook: LoadedRunbook, options: PreflightRunOptions, deps: PreflightDeps): Promise<PreflightReport> {
  const { doc, source } = runbook;
  const { clock } = deps;
  const startedAt = clock.now();
  const startedMono = clock.monotonic();
  const checks = selectChecks(runbook);
  const phases = preflightPhases(runbook);
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  const runbookRef = { name: doc.name, ...(doc.title !== undefined ? { title: doc.title } : {}), path: source.path, sha256: source.sha256 };
  deps.emit({
    kind: 'preflight-started',
    runbook: runbookRef,
    phases: phases.length,
    automated: checks.filter((c) => !c.manual && c.kind !== 'watch').length,
    manual: checks.filter((c) => c.manual).length,
    concurrency,
    ids: checks.map((c) => c.step.id),
  });

  // Checks are independent: every one sees the context of a run where no step has run yet.
  const context = celContext({ doc, state: { ...initialRunState, vars: options.vars }, env: deps.env, now: startedAt });
  const results = new Map<Check, CheckResult>();
  const finish = (result: CheckResult, check: Check) => {
    const masked = maskStrings(result, deps.mask);
    results.set(check, masked);
    deps.emit({ kind: 'check-finished', result: masked });
  };

  const queue: Check[] = [];
  for (const check of checks) {
    if (check.manual) finish(skipped(check, doc, MANUAL_NOT_RUN), check);
    else if (check.kind === 'watch') finish(skipped(check, doc, WATCH_NOT_RUN), check);
    else {
      const decision = decideIf(check, context);
      if (decision === undefined) queue.push(check);
      else finish(skipped(check, doc, decision), check);
    }
  }

  let next = 0;
  const worker = async (): Promise<void> => {
    while (!options.signal.aborted && next < queue.length) {
      const check = queue[next++]!;
      finish(await runCheck(check, runbook, context, options, deps), check);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));

  for (const check of queue) {
    if (!results.has(check)) finish({ ...skipped(check, doc, messages.interruptedBeforeStart), interrupted: true }, check);
  }

  const ordered = checks.map((check) => results.get(check)!);
  const summary = summarize(ordered);
  const report: PreflightReport = {
    runbook: runbookRef,
    startedAt,
    durationMs: Math.round(clock.monotonic() - startedMono),
    concurrency,
    status: options.signal.aborted ? 'interrupted' : summary.failed > 0 ? 'failed' : 'passed',
    summary,
    phases: phases.map((p) => ({ id: p.id, title: phaseTitle(p) })),
    checks: ordered,
  };
  deps.emit({ kind: 'preflight-finished', report });
  return report;
}

/**
 * `if:` in preflight: evaluated once, up front, against a run where no step has run (every `steps.<id>` is
 * pending, `answers` is empty). True runs the check; false skips it; an expression that cannot be decided
 * there (say `steps.backup.metrics.p95_ms < 500`, a missing key before the step ran) skips it too, with the
 * error as the reason. A skip is never a failure: preflight cannot know what a real run would decide.
 * Returns the skip reason, or undefined to run the check.
 */
export function decideIf(check: Check, context: CelContext): string | undefined {
  const decision = shouldRunStep(check.step, context);
  if (decision.run) return undefined;
  if ('error' in decision) return messages.ifError(decision.error);
  const compiled = compileExpression(check.step.if!);
  const dependsOnSteps = compiled.ok && compiled.expression.references.some((r) => r.root === 'steps' || r.root === 'answers');
  return messages.ifFalse(check.step.if!, dependsOnSteps);
}

async function runCheck(check: Check, runbook: LoadedRunbook, context: CelContext, options: PreflightRunOptions, deps: PreflightDeps): Promise<CheckResult> {
  const { step, phase, kind } = check;
  const { doc, source } = runbook;
  const { clock } = deps;
  const role = doc.roles[step.owner];
  const maxAttempts = 1 + (step.retries ?? 0);
  const retryDelayMs = step.retry_delay !== undefined ? (parseDuration(step.retry_delay) ?? 0) : (options.defaultRetryDelayMs ?? DEFAULT_RETRY_DELAY_MS);
  const ctx: StepRunContext = {
    step,
    phase,
    source,
    context,
    actor: { role: step.owner, ...(role?.primary !== undefined ? { person: role.primary } : {}), operator: 'preflight' },
    who: roleLabel(step.owner, role),
    signal: options.signal,
    dryRun: false,
    // Preflight never asks anyone anything.
    prompter: undefined,
    answers: new Map(),
    exec: deps.exec,
    send: deps.send,
    clock,
    env: deps.env,
    secretValues: deps.secretValues,
    mask: deps.mask,
    onLine: () => undefined,
    ...(options.preflightId !== undefined ? { processMarks: { [PREFLIGHT_ENV.preflightId]: options.preflightId, [PREFLIGHT_ENV.checkId]: step.id } } : {}),
    ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
  };
  const run = kind === 'http' ? runHttpStep : kind === 'prometheus' ? runPrometheusStep : runCommandStep;

  const started = clock.monotonic();
  const retriedAfter: string[] = [];
  let result: StepResult;
  let attempt = 0;
  let lastAttemptMs = 0;
  for (;;) {
    attempt++;
    deps.emit({ kind: 'check-started', id: step.id, attempt, title: stepTitle(step) });
    const attemptStarted = clock.monotonic();
    result = await run(ctx);
    lastAttemptMs = clock.monotonic() - attemptStarted;
    if ((result.status !== 'failed' && result.status !== 'inconclusive') || attempt >= maxAttempts || options.signal.aborted) break;
    const why = deps.mask(result.reason ?? 'failed');
    retriedAfter.push(why);
    deps.emit({ kind: 'check-retrying', id: step.id, attempt: attempt + 1, delayMs: retryDelayMs, reason: why });
    await clock.sleep(retryDelayMs, options.signal);
    if (options.signal.aborted) break;
  }

  const base = describeCheck(check, doc);
  const common = {
    ...base,
    durationMs: Math.round(clock.monotonic() - started),
    attempts: attempt,
    retriedAfter,
    ...(result.command !== undefined ? { command: result.command } : {}),
    ...(kind === 'http' ? httpTarget(check, context) : {}),
    ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
    ...(result.timedOut === true ? { timedOut: true } : {}),
    ...(result.metrics !== undefined ? { metrics: result.metrics } : {}),
    ...(result.warmup !== undefined ? { warmup: result.warmup } : {}),
    ...outputOf(result),
  };
  if (result.status === 'succeeded') return { ...common, status: 'passed', failures: [] };
  if (result.status === 'interrupted' || options.signal.aborted) {
    return { ...common, status: 'skipped', interrupted: true, reason: messages.interruptedRunning, failures: [] };
  }
  if (result.status === 'skipped') return { ...common, status: 'skipped', reason: result.reason ?? 'skipped', failures: [] };
  // Pre-flight fails closed: a check that could not tell (no data) has not shown the system is ready.
  if (result.status === 'inconclusive') result = { ...result, reason: `inconclusive: ${result.reason ?? 'no data'}`, failures: [`inconclusive: ${result.reason ?? 'no data'}`] };
  const judged = judgeFailure(step, kind, result, lastAttemptMs);
  return { ...common, status: 'failed', reason: judged.reason, failureType: judged.type, failures: judged.conditions };
}

type Described = Omit<CheckResult, 'status' | 'failures' | 'durationMs' | 'attempts' | 'retriedAfter'>;

function describeCheck(check: Check, doc: LoadedRunbook['doc']): Described {
  const { step, phase } = check;
  const role = doc.roles[step.owner];
  return {
    id: step.id,
    phase: phase.id,
    phaseTitle: phaseTitle(phase),
    owner: step.owner,
    ownerTitle: role?.title ?? step.owner,
    who: roleLabel(step.owner, role),
    title: stepTitle(step),
    kind: check.kind,
    manual: check.manual,
    position: check.position,
  };
}

function skipped(check: Check, doc: LoadedRunbook['doc'], reason: string): CheckResult {
  return { ...describeCheck(check, doc), status: 'skipped', reason, failures: [], durationMs: 0, attempts: 0, retriedAfter: [] };
}

/** The URL as probed (templates rendered), for reports; the step runner itself renders it again for the request. */
function httpTarget(check: Check, context: CelContext): { url?: string; method: string } {
  const http = check.step.http!;
  const method = http.method ?? 'GET';
  const rendered = renderStepText(http.url, context);
  return rendered.ok ? { url: rendered.value, method } : { method };
}

function outputOf(result: StepResult): { output?: { stdout: string; stderr: string } } {
  const stdout = result.stdout?.text ?? '';
  const stderr = result.stderr?.text ?? '';
  return stdout === '' && stderr === '' ? {} : { output: { stdout, stderr } };
}

/** Every string a result carries goes through the masker: URLs, reasons, output, even titles. */
function maskStrings<T>(value: T, mask: (text: string) => string): T {
  if (typeof value === 'string') return mask(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => maskStrings(item, mask)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = maskStrings(item, mask);
    return out as T;
  }
  return value;
}

export function summarize(results: readonly CheckResult[]): PreflightSummary {
  return {
    total: results.length,
    passed: results.filter((r) => r.status === 'passed').length,
    failed: results.filter((r) => r.status === 'failed').length,
    skipped: results.filter((r) => r.status === 'skipped').length,
    manual: results.filter((r) => r.manual).length,
  };
}
