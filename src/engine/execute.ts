// The execute loop: phases in order, steps with retries, gates from evidence, rollback once, newest first. Effects come in as ports.
import type { LoadedRunbook } from '../runbook/load.js';
import { parseDuration } from '../runbook/duration.js';
import { roleLabel } from '../runbook/labels.js';
import { gateId, isConfirmCondition, isManualStep, stepKind, type PhaseDoc, type RoleDoc, type StepDoc } from '../runbook/types.js';
import { compileExpression, evaluateExpression } from '../expr/cel.js';
import { ExitCode } from '../errors.js';
import { PromptAbortedError, type Clock, type Exec, type HttpSend, type Prompter } from '../ports/types.js';
import { runStepOnce } from '../steps/index.js';
import type { StepResult } from '../steps/types.js';
import type { Answers } from './answers.js';
import type { Masker } from './secrets.js';
import { celContext } from './context.js';
import type { Actor, GateCondition, GateDecision, RunEvent, RunStatus, StepOutcome } from './events.js';
import { phasesToRollBack, shouldRollBack, shouldRunStep } from './predicates.js';
import { applyEvent, initialRunState, isStepFinished, type RunState } from './state.js';

export interface EngineDeps {
  exec: Exec;
  send: HttpSend;
  clock: Clock;
  /** Undefined when nobody is at a terminal: answers then come from `answers`, and a missing one fails closed. */
  prompter: Prompter | undefined;
  answers: Answers;
  /** Environment for steps and for `env.*` in expressions. */
  env: Record<string, string>;
  secretValues: readonly string[];
  mask: (text: string) => string;
  /** The masker behind `mask`, for streamed output (secrets split across chunks or lines). */
  masker?: Masker;
  /** Every event, in order; subscribers (journal, reporter, notifier) must not throw. */
  emit: (event: RunEvent) => void;
}

export type InFlightDecision = 'rerun' | 'done' | 'abort';

/**
 * Every step's processes carry the run and step in their environment: a kill -9 between spawning a step and
 * journaling its pid leaves an orphan no journaled pid points to, and a resume finds it by these.
 */
export const STEP_ENV = { runId: 'DEPLOYCTL_RUN_ID', stepId: 'DEPLOYCTL_STEP_ID' } as const;

export interface EngineOptions {
  runId: string;
  operator: string;
  host: string;
  toolVersion: string;
  vars: Record<string, string | number | boolean>;
  dryRun: boolean;
  signal: AbortSignal;
  /** Continue an interrupted run: its folded journal, and what to do with a step left in flight. */
  resume?: { state: RunState; inFlight?: InFlightDecision };
  killGraceMs?: number;
  /** Default pause between attempts when a step has `retries` but no `retry_delay`. */
  defaultRetryDelayMs?: number;
}

export interface RunResult {
  status: RunStatus;
  exitCode: number;
  reason?: string;
  state: RunState;
}

/** Thrown inside the loop to stop it; carries how the run ends. */
class StopRun {
  constructor(
    readonly status: RunStatus,
    readonly exitCode: number,
    readonly reason: string,
  ) {}
}

export async function executeRun(runbook: LoadedRunbook, options: EngineOptions, deps: EngineDeps): Promise<RunResult> {
  const { doc, source } = runbook;
  const { clock } = deps;
  let state: RunState = options.resume?.state ?? initialRunState;
  const fullOutput = new Map<string, { stdout: string; stderr: string }>();

  const emit = (event: RunEvent) => {
    state = applyEvent(state, event);
    deps.emit(event);
  };
  const now = () => clock.now();
  const context = () => celContext({ doc, state, env: deps.env, now: now(), fullOutput });
  const actorFor = (roleId: string): Actor => {
    const role: RoleDoc | undefined = doc.roles[roleId];
    return { role: roleId, ...(role?.primary !== undefined ? { person: role.primary } : {}), operator: options.operator };
  };
  const whoFor = (roleId: string): string => roleLabel(roleId, doc.roles[roleId]);
  const interrupted = () => options.signal.aborted;

  if (options.resume) {
    emit({ kind: 'run-resumed', at: now(), runId: options.runId, by: options.operator, pid: process.pid });
  } else {
    emit({
      kind: 'run-started',
      at: now(),
      runId: options.runId,
      runbook: { name: doc.name, ...(doc.title !== undefined ? { title: doc.title } : {}), path: source.path, sha256: source.sha256 },
      tool: { name: 'deployctl', version: options.toolVersion },
      operator: options.operator,
      host: options.host,
      vars: options.vars,
      dryRun: options.dryRun,
    });
  }

  // ---- one step -------------------------------------------------------------------------------------------------

  async function runStep(step: StepDoc, phase: PhaseDoc, rollback: boolean): Promise<StepOutcome> {
    const kind = stepKind(step);
    const decision = shouldRunStep(step, context());
    // A dry run has no step results or answers to decide `if:` with: show the step as it would run.
    if (!decision.run && !(options.dryRun && 'error' in decision)) {
      const at = now();
      const outcome: StepOutcome =
        'error' in decision
          ? { status: 'failed', reason: decision.error, attempts: 0, startedAt: at, endedAt: at, durationMs: 0 }
          : { status: 'skipped', reason: decision.reason, attempts: 0, startedAt: at, endedAt: at, durationMs: 0 };
      emit({ kind: 'step-finished', at, stepId: step.id, phaseId: phase.id, rollback, outcome });
      return outcome;
    }
    const automated = kind === 'run' || kind === 'http';
    const maxAttempts = automated && !options.dryRun ? 1 + (step.retries ?? 0) : 1;
    const retryDelay = step.retry_delay !== undefined ? parseDuration(step.retry_delay)! : (options.defaultRetryDelayMs ?? 1000);
    const startedAt = now();
    const startedMono = clock.monotonic();
    let result: StepResult = { status: 'failed', reason: 'not run' };
    let attempt = 0;
    while (attempt < maxAttempts) {
      attempt++;
      emit({ kind: 'step-started', at: now(), stepId: step.id, phaseId: phase.id, stepKind: kind, attempt, rollback });
      try {
        result = await runStepOnce({
          step,
          phase,
          source,
          context: context(),
          actor: actorFor(step.owner),
          who: whoFor(step.owner),
          signal: options.signal,
          dryRun: options.dryRun,
          prompter: deps.prompter,
          answers: deps.answers,
          exec: deps.exec,
          send: deps.send,
          clock,
          env: { ...deps.env, [STEP_ENV.runId]: options.runId, [STEP_ENV.stepId]: step.id },
          secretValues: deps.secretValues,
          mask: deps.mask,
          ...(deps.masker !== undefined ? { masker: deps.masker } : {}),
          onLine: (stream, line) => emit({ kind: 'step-output', at: now(), stepId: step.id, stream, line }),
          onSpawn: (pid) => emit({ kind: 'step-spawned', at: now(), stepId: step.id, pid }),
          ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
        });
      } catch (error) {
        if (!(error instanceof PromptAbortedError)) throw error;
        result = { status: 'interrupted', reason: 'aborted at the prompt (Ctrl-C)' };
      }
      if (result.status !== 'failed' || attempt >= maxAttempts || interrupted()) break;
      emit({ kind: 'step-retrying', at: now(), stepId: step.id, attempt: attempt + 1, delayMs: retryDelay, reason: result.reason ?? 'failed' });
      await clock.sleep(retryDelay, options.signal);
      if (interrupted()) {
        result = { status: 'interrupted', reason: 'interrupted while waiting to retry' };
        break;
      }
    }
    if (interrupted() && result.status !== 'interrupted' && result.status !== 'succeeded') {
      result = { ...result, status: 'interrupted', reason: result.reason ?? 'interrupted' };
    }
    const { fullOutput: output, ...rest } = result;
    if (output) fullOutput.set(step.id, output);
    const endedAt = now();
    const outcome: StepOutcome = {
      ...rest,
      ...(kind === 'confirm' || kind === 'checklist' || kind === 'ask' ? { by: actorFor(step.owner) } : {}),
      attempts: attempt,
      startedAt,
      endedAt,
      durationMs: Math.max(0, Math.round(clock.monotonic() - startedMono)),
    };
    emit({ kind: 'step-finished', at: endedAt, stepId: step.id, phaseId: phase.id, rollback, outcome });
    return outcome;
  }

  /**
   * A step left in flight by a crash or Ctrl-C: re-run only if idempotent, otherwise the operator decides.
   * A manual step (confirm, checklist, ask) changed nothing outside deployctl, so it is simply asked again:
   * Ctrl-C at its prompt must not make the resume ask whether the question "completed".
   */
  async function settleInFlight(step: StepDoc, phase: PhaseDoc, rollback: boolean): Promise<'run' | 'done'> {
    if (step.idempotent || isManualStep(step)) return 'run';
    let decision: InFlightDecision | undefined = options.resume?.inFlight;
    if (decision === undefined && deps.prompter !== undefined) {
      try {
        decision = (await deps.prompter.ask({
          kind: 'decide',
          id: `${step.id}.in-flight`,
          who: whoFor(step.owner),
          message: `Step '${step.id}' was running when the previous session stopped, and it is not idempotent. Did it complete?`,
          // The safe answer first: Enter without reading must not mark an unknown step done.
          choices: [
            { value: 'abort', label: 'Stop here, decide later (resume again when you know)' },
            { value: 'rerun', label: 'Run it again' },
            { value: 'done', label: 'It completed: mark it done and go on' },
          ],
        })) as InFlightDecision;
      } catch (error) {
        if (error instanceof PromptAbortedError) throw new StopRun('aborted', ExitCode.interrupted, 'aborted at the prompt (Ctrl-C)');
        throw error;
      }
    }
    if (decision === undefined) {
      throw new StopRun(
        'aborted',
        ExitCode.usage,
        `step '${step.id}' was in flight when the previous session stopped and is not idempotent, so deployctl will not guess: check whether it completed, then resume with --in-flight done (it completed), --in-flight rerun (run it again) or --in-flight abort`,
      );
    }
    if (decision === 'abort') throw new StopRun('aborted', ExitCode.failed, `stopped at in-flight step '${step.id}' by the operator`);
    if (decision === 'done') {
      const at = now();
      emit({
        kind: 'step-finished',
        at,
        stepId: step.id,
        phaseId: phase.id,
        rollback,
        outcome: { status: 'succeeded', reason: 'marked done by the operator on resume', attempts: 0, startedAt: at, endedAt: at, durationMs: 0, by: actorFor(step.owner) },
      });
      return 'done';
    }
    return 'run';
  }

  // ---- gates ----------------------------------------------------------------------------------------------------

  async function decideGate(phase: PhaseDoc): Promise<GateDecision> {
    const gate = phase.gate!;
    const id = gateId(phase);
    const already = state.gates.get(id)?.decision;
    if (already !== undefined) return already;
    const who = whoFor(gate.owner);
    // Opened before the first question: a go/no-go owner slow to attest is escalated like a slow step.
    emit({ kind: 'gate-opened', at: now(), gateId: id, phaseId: phase.id });
    const conditions: GateCondition[] = [];
    // Attestations first: people answer before the evidence is shown.
    for (const [name, condition] of Object.entries(gate.require)) {
      if (!isConfirmCondition(condition)) continue;
      const key = `${id}.${name}`;
      let value: unknown = null;
      let error: string | undefined;
      if (options.dryRun) {
        error = `dry run: needs answers key '${key}'`;
      } else if (deps.prompter !== undefined) {
        value = await deps.prompter.ask({ kind: 'confirm', id: key, who, message: condition.confirm });
      } else if (deps.answers.has(key)) {
        value = deps.answers.get(key);
      } else {
        error = `no answer and no terminal to ask on: add '${key}: true' to the answers file`;
      }
      conditions.push({ name, kind: 'confirm', text: condition.confirm, value, ok: value === true, ...(error ? { error } : {}) });
    }
    const ctx = context();
    for (const [name, condition] of Object.entries(gate.require)) {
      if (isConfirmCondition(condition)) continue;
      const compiled = compileExpression(condition);
      const result = compiled.ok ? evaluateExpression(compiled.expression, ctx) : { ok: false as const, message: compiled.message };
      conditions.push(
        result.ok
          ? { name, kind: 'expression', text: condition, value: result.value, ok: result.value === true }
          : { name, kind: 'expression', text: condition, value: null, ok: false, error: result.message },
      );
    }
    // Keep the runbook's order for display.
    const order = Object.keys(gate.require);
    conditions.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    emit({ kind: 'gate-evaluated', at: now(), gateId: id, phaseId: phase.id, conditions });

    const failing = conditions.filter((c) => !c.ok).map((c) => c.name);
    const allHold = failing.length === 0;
    const by = actorFor(gate.owner);
    const decided = (decision: GateDecision, answeredFrom: 'prompt' | 'answers-file' | 'automatic', note?: string) => {
      // An automatic decision was nobody's: record the role and the operator, not a person who did not act.
      const actor: Actor = answeredFrom === 'automatic' ? { role: by.role, operator: by.operator } : by;
      emit({ kind: 'gate-decided', at: now(), gateId: id, phaseId: phase.id, decision, by: actor, answeredFrom, ...(note !== undefined ? { note } : {}) });
      return decision;
    };
    if (options.dryRun) {
      const keys = [...conditions.filter((c) => c.kind === 'confirm').map((c) => `${id}.${c.name}`), id];
      return decided('go', 'automatic', `dry run: assumed GO; a real run needs a decision (answers keys: ${keys.join(', ')})`);
    }
    if (deps.prompter !== undefined) {
      const choice = await deps.prompter.ask({
        kind: 'decide',
        id,
        who,
        message: allHold ? `Go/no-go '${id}': every condition holds. Decide:` : `Go/no-go '${id}': ${failing.join(', ')} ${failing.length === 1 ? 'does' : 'do'} not hold. Decide:`,
        choices: [
          { value: 'go', label: 'GO', ...(allHold ? {} : { disabled: `not offered: ${failing.join(', ')} ${failing.length === 1 ? 'does' : 'do'} not hold` }) },
          { value: 'no-go', label: 'NO-GO' },
        ],
      });
      return decided(choice === 'go' && allHold ? 'go' : 'no-go', 'prompt');
    }
    const answer = deps.answers.get(id);
    if (answer === undefined) return decided('no-go', 'automatic', `no decision and no terminal to ask on: add '${id}: go' or '${id}: no-go' to the answers file`);
    if (answer === 'go' && !allHold) return decided('no-go', 'automatic', `the answers file says go, but ${failing.join(', ')} ${failing.length === 1 ? 'does' : 'do'} not hold`);
    return decided(answer === 'go' ? 'go' : 'no-go', 'answers-file');
  }

  // ---- rollback -------------------------------------------------------------------------------------------------

  /**
   * Roll back every started phase that has rollback steps, newest first, once. The first rollback step that fails
   * stops the rollback: what comes after it may assume it worked, so a person decides from there. An interrupt
   * leaves the rollback pending (no rollback-finished), so a resume carries on where it stopped.
   */
  async function rollBack(reason: string): Promise<'succeeded' | 'failed' | 'interrupted'> {
    const phases = phasesToRollBack(doc, state);
    if (state.rollback === undefined) emit({ kind: 'rollback-started', at: now(), reason, phases: phases.map((p) => p.id) });
    for (const phase of phases) {
      for (const step of phase.rollback ?? []) {
        const previous = state.steps.get(step.id)?.outcome;
        if (previous !== undefined && previous.status !== 'interrupted') {
          // Finished in an earlier session: a failure there is still a failed rollback.
          if (previous.status === 'failed') return finishRollback('failed');
          continue;
        }
        if (state.steps.has(step.id) && (await settleInFlight(step, phase, true)) === 'done') continue;
        const outcome = await runStep(step, phase, true);
        if (outcome.status === 'interrupted' || interrupted()) return 'interrupted';
        if (outcome.status === 'failed') return finishRollback('failed');
      }
    }
    return finishRollback('succeeded');
  }

  function finishRollback(status: 'succeeded' | 'failed'): 'succeeded' | 'failed' {
    emit({ kind: 'rollback-finished', at: now(), status });
    return status;
  }

  /** After a failure or NO-GO: roll back if anything started can be, and say how the run ends. */
  async function failRun(reason: string, failedStatus: RunStatus, failedExit: number, wantRollback: boolean): Promise<StopRun> {
    if (wantRollback && !options.dryRun && shouldRollBack(doc, state)) {
      const result = await rollBack(reason);
      if (result === 'interrupted' || interrupted()) {
        if (state.interrupted === undefined) emit({ kind: 'interrupted', at: now(), signal: signalName(options.signal) });
        return new StopRun('aborted', ExitCode.interrupted, `interrupted during rollback after: ${reason} (resume to finish the rollback)`);
      }
      return result === 'succeeded'
        ? new StopRun('rolled-back', ExitCode.rolledBack, `${reason}; rolled back`)
        : new StopRun('failed', ExitCode.failed, `${reason}; ROLLBACK FAILED TOO: the system may be in a mixed state, act now`);
    }
    return new StopRun(failedStatus, failedExit, reason);
  }

  // ---- the loop -------------------------------------------------------------------------------------------------

  let stop: StopRun | undefined;
  try {
    for (const phase of doc.phases) {
      if (state.phases.get(phase.id)?.status === 'succeeded') continue;
      if (interrupted()) throw new StopRun('aborted', ExitCode.interrupted, 'interrupted');
      if (!state.phases.has(phase.id)) emit({ kind: 'phase-started', at: now(), phaseId: phase.id });
      for (const step of phase.steps ?? []) {
        if (isStepFinished(state, step.id)) {
          const previous = state.steps.get(step.id)!.outcome!;
          if (previous.status === 'failed') throw await failRun(`step '${step.id}' failed: ${previous.reason ?? ''}`, 'failed', ExitCode.failed, true);
          continue;
        }
        if (state.steps.has(step.id) && (await settleInFlight(step, phase, false)) === 'done') continue;
        if (interrupted()) throw new StopRun('aborted', ExitCode.interrupted, 'interrupted');
        const outcome = await runStep(step, phase, false);
        if (outcome.status === 'interrupted' || interrupted()) {
          emit({ kind: 'interrupted', at: now(), signal: signalName(options.signal), stepId: step.id });
          throw new StopRun('aborted', ExitCode.interrupted, `interrupted during step '${step.id}'`);
        }
        if (outcome.status === 'failed') {
          emit({ kind: 'phase-finished', at: now(), phaseId: phase.id, status: 'failed' });
          throw await failRun(`step '${step.id}' failed: ${outcome.reason ?? 'failed'}`, 'failed', ExitCode.failed, true);
        }
      }
      if (phase.gate) {
        let decision: GateDecision;
        try {
          decision = await decideGate(phase);
        } catch (error) {
          if (error instanceof PromptAbortedError) {
            emit({ kind: 'interrupted', at: now(), signal: 'SIGINT' });
            throw new StopRun('aborted', ExitCode.interrupted, `aborted at gate '${gateId(phase)}'`);
          }
          throw error;
        }
        if (decision === 'no-go') {
          emit({ kind: 'phase-finished', at: now(), phaseId: phase.id, status: 'failed' });
          const reason = `gate '${gateId(phase)}' decided NO-GO`;
          throw phase.gate.on_no_go === 'rollback' ? await failRun(reason, 'no-go', ExitCode.noGo, true) : new StopRun('no-go', ExitCode.noGo, reason);
        }
      }
      emit({ kind: 'phase-finished', at: now(), phaseId: phase.id, status: 'succeeded' });
    }
  } catch (error) {
    if (!(error instanceof StopRun)) throw error;
    stop = error;
  }

  const ending = stop ?? new StopRun('succeeded', ExitCode.ok, options.dryRun ? 'dry run complete: nothing was executed' : 'every phase completed');
  if (ending.status === 'aborted' && ending.exitCode === ExitCode.interrupted && state.interrupted === undefined) {
    emit({ kind: 'interrupted', at: now(), signal: signalName(options.signal) });
  }
  emit({ kind: 'run-finished', at: now(), status: ending.status, exitCode: ending.exitCode, reason: ending.reason });
  return { status: ending.status, exitCode: ending.exitCode, reason: ending.reason, state };
}

function signalName(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return typeof reason === 'string' ? reason : 'SIGINT';
}
