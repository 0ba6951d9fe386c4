// A `watch:` step: a monitoring window of ticks, each running the checks through the step runners, as events in the run's journal.
import { PromptAbortedError } from '../ports/types.js';
import { parseDuration } from '../runbook/duration.js';
import { checkAsStep, stepKind, type CheckKind, type PhaseDoc, type StepDoc, type WatchCheckDoc } from '../runbook/types.js';
import { runStepOnce } from '../steps/index.js';
import type { StepResult } from '../steps/types.js';
import type { TickCheck, WatchPlan, WatchTick } from './events.js';
import { shouldRunStep } from './predicates.js';
import type { RunContext } from './run-context.js';
import { STEP_ENV } from './step-env.js';
import { watchMessages } from './watch-messages.js';
import { watchMetrics, type WatchState } from './watch-state.js';

/** A reason kept per check per tick: a window of a hundred ticks must not carry a hundred long stack of words. */
const TICK_REASON_CHARS = 300;

/** The window a watch's doc lays out, starting now. */
export function planWatch(step: StepDoc, startedAt: number): WatchPlan {
  const watch = step.watch!;
  const everyMs = parseDuration(watch.every)!;
  const initialDelayMs = watch.initial_delay !== undefined ? parseDuration(watch.initial_delay)! : 0;
  const windowMs = watch.for !== undefined ? parseDuration(watch.for)! : undefined;
  // With `for`, a tick is due at every `every` while the window is open: due times before it closes.
  const plannedTicks = watch.count ?? Math.max(1, Math.ceil((windowMs! - initialDelayMs) / everyMs));
  return { startedAt, everyMs, initialDelayMs, plannedTicks, ...(windowMs !== undefined ? { closesAt: startedAt + windowMs } : {}) };
}

export const dueAt = (plan: WatchPlan, slot: number): number => plan.startedAt + plan.initialDelayMs + (slot - 1) * plan.everyMs;

/**
 * Run the window: sleep (on the run's clock: a rehearsal's is scaled) until each tick is due, run every check, record the
 * tick. More failing ticks than `failure_limit` fail the step at once; more ticks without data (inconclusive or missed)
 * than `inconclusive_limit` and the owner decides. A resumed run continues the window it finds in the state: the slots
 * whose time passed while nobody watched are recorded as missed, never as passed.
 */
export async function runWatch(run: RunContext, step: StepDoc, phase: PhaseDoc): Promise<StepResult> {
  const doc = step.watch!;
  if (run.options.dryRun) {
    const plan = planWatch(step, run.now());
    const schedule = watchMessages.schedule(plan.everyMs, plan.plannedTicks, plan.closesAt !== undefined ? plan.closesAt - plan.startedAt : undefined, plan.initialDelayMs);
    return { status: 'skipped', dryRun: true, command: describeWatch(step, plan), reason: watchMessages.dryRun(schedule, doc.checks.map((c) => c.id)) };
  }
  if (run.state.steps.get(step.id)?.watch === undefined) {
    run.emit({ kind: 'watch-started', at: run.now(), stepId: step.id, phaseId: phase.id, plan: planWatch(step, run.now()) });
  }
  const window = (): WatchState => run.state.steps.get(step.id)!.watch!;
  const { plan } = window();
  const command = describeWatch(step, plan);
  const failureLimit = doc.failure_limit ?? 0;
  const inconclusiveLimit = doc.inconclusive_limit ?? 0;
  const { clock } = run.deps;

  for (;;) {
    if (run.interrupted()) return { status: 'interrupted', command, reason: watchMessages.interruptedWaiting() };
    const slot = window().lastSlot + 1;
    if (slot > plan.plannedTicks) break;
    const now = run.now();
    const due = dueAt(plan, slot);
    if (now >= due + plan.everyMs) {
      // A whole interval late: this slot and every later one whose successor is already due passed unwatched.
      let through = slot;
      while (through < plan.plannedTicks && now >= dueAt(plan, through + 2)) through++;
      const tick: WatchTick = { n: slot, ...(through > slot ? { through } : {}), due, status: 'missed', reason: watchMessages.missed(due, now), checks: [] };
      run.emit({ kind: 'watch-tick', at: now, stepId: step.id, tick });
    } else if (now < due) {
      await clock.sleep(due - now, run.options.signal);
      continue;
    } else {
      const tick = await runTick(run, step, phase, slot, due);
      if (tick === 'interrupted') return { status: 'interrupted', command, reason: watchMessages.interruptedInTick(slot) };
      run.emit({ kind: 'watch-tick', at: run.now(), stepId: step.id, tick });
    }
    const w = window();
    if (w.failed > failureLimit) {
      const last = w.last!;
      return ended(run, step, 'failed', command, watchMessages.tooManyFailures(w.failed, w.ticks, failureLimit, `${last.n}: ${last.reason ?? 'failed'}`));
    }
    if (w.unsettled > inconclusiveLimit) {
      const decision = await decideInconclusive(run, step, w, inconclusiveLimit);
      if (decision === 'interrupted') return { status: 'interrupted', command, reason: watchMessages.interruptedWaiting() };
      if (decision !== 'continue') return ended(run, step, 'inconclusive', command, decision.reason);
    }
  }
  // A `for:` window ends when it closes, not at its last tick: the last tick speaks for the time up to then.
  while (plan.closesAt !== undefined && run.now() < plan.closesAt) {
    if (run.interrupted()) return { status: 'interrupted', command, reason: watchMessages.interruptedWaiting() };
    await clock.sleep(plan.closesAt - run.now(), run.options.signal);
  }
  if (run.interrupted()) return { status: 'interrupted', command, reason: watchMessages.interruptedWaiting() };
  // Ticks without data never count as passes: a window that closes without one passing tick showed nothing.
  const w = window();
  // Failures within failure_limit are tolerated, not passes: a window of failures only has failed.
  if (w.passed === 0 && w.failed > 0) return ended(run, step, 'failed', command, watchMessages.onlyFailingTicks(w.ticks, w.failed, failureLimit, w.inconclusive + w.missed));
  if (w.passed === 0) return ended(run, step, 'inconclusive', command, watchMessages.noPassingTick(w.ticks, w.inconclusive + w.missed, w.decisions.length > 0));
  return ended(run, step, 'succeeded', command);
}

function ended(run: RunContext, step: StepDoc, status: 'succeeded' | 'failed' | 'inconclusive', command: string, reason?: string): StepResult {
  const w = run.state.steps.get(step.id)!.watch!;
  const metrics = watchMetrics(w);
  const ticks = { planned: w.plan.plannedTicks, recorded: w.ticks, passed: w.passed, failed: w.failed, inconclusive: w.inconclusive, missed: w.missed };
  return { status, command, ticks, ...(reason !== undefined ? { reason, failures: [reason] } : {}), ...(metrics !== undefined ? { metrics } : {}) };
}

/** `watch every 15m for 3h (12 ticks): health, chat`: the step as the record's `command`. */
export function describeWatch(step: StepDoc, plan: WatchPlan): string {
  const windowMs = plan.closesAt !== undefined ? plan.closesAt - plan.startedAt : undefined;
  return `watch ${watchMessages.schedule(plan.everyMs, plan.plannedTicks, windowMs, plan.initialDelayMs)}: ${step.watch!.checks.map((c) => c.id).join(', ')}`;
}

/**
 * One tick: every check at once (a tick is one moment of the system, and it must fit in its interval), each through its
 * step runner, on the unscaled clock: a check's timeout is real time.
 */
async function runTick(run: RunContext, step: StepDoc, phase: PhaseDoc, n: number, due: number): Promise<WatchTick | 'interrupted'> {
  const results = await Promise.all(step.watch!.checks.map((check) => runCheck(run, step, phase, check)));
  if (run.interrupted() || results.includes('interrupted')) return 'interrupted';
  const checks = results as TickCheck[];
  const failed = checks.find((c) => c.status === 'failed');
  const inconclusive = checks.find((c) => c.status === 'inconclusive');
  const ran = checks.filter((c) => c.status !== 'skipped');
  if (failed !== undefined) return { n, due, status: 'failed', reason: watchMessages.checkFailed(failed.id, failed.reason ?? 'failed'), checks };
  if (inconclusive !== undefined) return { n, due, status: 'inconclusive', reason: watchMessages.checkFailed(inconclusive.id, inconclusive.reason ?? 'no data'), checks };
  if (ran.length === 0) return { n, due, status: 'inconclusive', reason: watchMessages.everyCheckSkipped(), checks };
  return { n, due, status: 'passed', checks };
}

async function runCheck(run: RunContext, watch: StepDoc, phase: PhaseDoc, check: WatchCheckDoc): Promise<TickCheck | 'interrupted'> {
  const { deps, options } = run;
  const stepClock = run.stepClock();
  const asStep = checkAsStep(watch, check);
  const kind = stepKind(asStep) as CheckKind;
  const started = stepClock.monotonic();
  const decision = shouldRunStep(asStep, run.celContext());
  if (!decision.run) {
    return 'error' in decision
      ? { id: check.id, kind, status: 'failed', reason: clip(decision.error), durationMs: 0 }
      : { id: check.id, kind, status: 'skipped', durationMs: 0 };
  }
  let result: StepResult;
  try {
    result = await runStepOnce({
      step: asStep,
      phase,
      source: run.source,
      context: run.celContext(),
      actor: run.actorFor(watch.owner),
      who: run.whoFor(watch.owner),
      signal: options.signal,
      dryRun: false,
      prompter: undefined,
      answers: deps.answers,
      exec: deps.exec,
      send: deps.send,
      clock: stepClock,
      env: deps.env,
      // Its processes carry the watch's id: a resume after a crash finds one still running, as for any step.
      processMarks: { [STEP_ENV.runId]: options.runId, [STEP_ENV.stepId]: watch.id },
      secretValues: deps.secretValues,
      mask: deps.mask,
      ...(deps.masker !== undefined ? { masker: deps.masker } : {}),
      onLine: () => undefined,
      onSpawn: (pid) => run.emit({ kind: 'step-spawned', at: run.now(), stepId: watch.id, pid }),
      ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
    });
  } catch (error) {
    if (error instanceof PromptAbortedError) return 'interrupted';
    throw error;
  }
  if (result.status === 'interrupted') return 'interrupted';
  const durationMs = Math.max(0, Math.round(stepClock.monotonic() - started));
  const status = result.status === 'succeeded' ? 'passed' : result.status === 'skipped' ? 'skipped' : result.status === 'inconclusive' ? 'inconclusive' : 'failed';
  return {
    id: check.id,
    kind,
    status,
    ...(status !== 'passed' && result.reason !== undefined ? { reason: clip(result.reason) } : {}),
    durationMs,
    ...(result.metrics !== undefined ? { metrics: result.metrics } : {}),
    ...(kind === 'run' ? { exitCode: result.exitCode ?? null } : {}),
    ...(result.check !== undefined ? { result: result.check.result } : {}),
  };
}

function clip(text: string): string {
  return text.length > TICK_REASON_CHARS ? `${text.slice(0, TICK_REASON_CHARS - 1)}…` : text;
}

/**
 * More ticks without data than the watch tolerates: its owner decides, from the answers file (`<id>.inconclusive:
 * continue | fail`), else at the prompt; with neither, the watch fails closed (nobody knows whether the system is well).
 */
async function decideInconclusive(run: RunContext, step: StepDoc, w: WatchState, limit: number): Promise<'continue' | 'interrupted' | { reason: string }> {
  const key = `${step.id}.inconclusive`;
  const lastReason = w.last?.reason ?? w.lastStatus ?? 'no data';
  const given = run.deps.answers.get(key);
  let decision: 'continue' | 'fail';
  let answeredFrom: 'prompt' | 'answers-file' | 'automatic';
  if (given === 'continue' || given === 'fail') {
    decision = given;
    answeredFrom = 'answers-file';
  } else if (run.deps.prompter !== undefined) {
    try {
      decision = (await run.deps.prompter.ask({
        kind: 'decide',
        id: key,
        who: run.whoFor(step.owner),
        message: watchMessages.inconclusiveQuestion(step.id, w.unsettled, limit, lastReason),
        // The safe answer first: Enter without reading must not keep a blind watch going.
        choices: [
          { value: 'fail', label: watchMessages.choiceFail() },
          { value: 'continue', label: watchMessages.choiceContinue() },
        ],
      })) as 'continue' | 'fail';
    } catch (error) {
      if (error instanceof PromptAbortedError) return 'interrupted';
      throw error;
    }
    answeredFrom = 'prompt';
  } else {
    decision = 'fail';
    answeredFrom = 'automatic';
  }
  run.emit({ kind: 'watch-decided', at: run.now(), stepId: step.id, decision, by: run.actorFor(step.owner), answeredFrom, inconclusive: w.unsettled });
  if (decision === 'continue') return 'continue';
  return { reason: answeredFrom === 'automatic' ? watchMessages.failedClosed(w.unsettled, limit, key) : watchMessages.ownerChoseFail(w.unsettled, limit) };
}
