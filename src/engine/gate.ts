// A phase's go/no-go: attestations asked first, then the evidence evaluated, then the decision — at the prompt, from the answers file, or automatic.
import { compileExpression, evaluateExpression, type CompiledExpression } from '../expr/cel.js';
import { buildEvidence } from '../expr/evidence.js';
import { IMPLICIT_CONDITION, stepsLeftToGate } from '../runbook/failure-policy.js';
import { gateId, isConfirmCondition, type GateDoc, type PhaseDoc } from '../runbook/types.js';
import type { Actor, GateCondition, GateDecision } from './events.js';
import { messages } from './messages.js';
import { PromptUnansweredError } from '../ports/types.js';
import { failuresLeftToGate } from './predicates.js';
import { maskDeepWith } from './secrets.js';
import type { RunContext } from './run-context.js';

/** The gate's decision, taken once: a resumed run keeps the decision an earlier session recorded. */
export async function decideGate(run: RunContext, phase: PhaseDoc): Promise<GateDecision | 'skipped'> {
  const gate = phase.gate!;
  const id = gateId(phase);
  const already = run.state.gates.get(id);
  if (already?.decision !== undefined) return already.decision;
  if (already?.skipped !== undefined) return 'skipped';
  // `if:` false: the gate has nothing to decide (e.g. a Prometheus canary gate without Prometheus). An `if:` that does
  // not evaluate fails closed: the gate is asked as usual. So does a gate that failures were left to (on_failure: gate):
  // skipping it would let them through; it decides, and its earlier_steps_ok does not hold.
  if (gate.if !== undefined && failuresLeftToGate(run.state, id).length === 0) {
    const compiled = compileExpression(gate.if);
    const result = compiled.ok ? evaluateExpression(compiled.expression, run.celContext()) : undefined;
    if (result?.ok === true && result.value === false) {
      run.emit({ kind: 'gate-skipped', at: run.now(), gateId: id, phaseId: phase.id, reason: `if: ${gate.if} was false` });
      return 'skipped';
    }
  }
  // Opened before the first question: a go/no-go owner slow to attest is escalated like a slow step.
  run.emit({ kind: 'gate-opened', at: run.now(), gateId: id, phaseId: phase.id });
  // A dry run has no evidence and asks nobody: it says what it would ask, and shows no condition as failing.
  if (run.options.dryRun) return decide(run, phase, []);
  // Attestations first: people answer before the evidence is shown.
  const implicit = implicitCondition(run, phase);
  const conditions = [...(await askAttestations(run, gate, id)), ...evaluateExpressions(run, gate)];
  // Keep the runbook's order for display, after the failures left to the gate.
  const order = Object.keys(gate.require);
  conditions.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  if (implicit !== undefined) conditions.unshift(implicit);
  run.emit({ kind: 'gate-evaluated', at: run.now(), gateId: id, phaseId: phase.id, conditions });
  return decide(run, phase, conditions);
}

/**
 * `earlier_steps_ok`: every failure left to this gate (`on_failure: gate`, the default in preflight phases and in a
 * gate's own phase) makes it false, and its explanation names each with its reason. Only on gates that steps are left
 * to, so a gate with none reads as before.
 */
function implicitCondition(run: RunContext, phase: PhaseDoc): GateCondition | undefined {
  const covered = stepsLeftToGate(run.doc, phase).map((s) => s.id);
  const failed = failuresLeftToGate(run.state, gateId(phase));
  if (covered.length === 0 && failed.length === 0) return undefined;
  const ok = failed.length === 0;
  const notes = failed.map((id) => stepNote(run, id));
  return { name: IMPLICIT_CONDITION, kind: 'implicit', text: messages.implicitCondition(covered), value: ok, ok, ...(ok ? {} : { notes }) };
}

/** `confirm:` conditions: asked at the prompt, else read from the answers file; a dry run asks nobody. */
async function askAttestations(run: RunContext, gate: GateDoc, id: string): Promise<GateCondition[]> {
  const { options, deps } = run;
  const who = run.whoFor(gate.owner);
  const conditions: GateCondition[] = [];
  for (const [name, condition] of Object.entries(gate.require)) {
    if (!isConfirmCondition(condition)) continue;
    const key = `${id}.${name}`;
    let value: unknown = null;
    let error: string | undefined;
    if (options.dryRun) {
      error = messages.attestationDryRun(key);
    } else if (deps.answers.has(key)) {
      // The answers file first, at a terminal too: only what it lacks is asked.
      value = deps.answers.get(key);
    } else if (deps.prompter !== undefined) {
      // Unanswered within --wait (a team run without a terminal): the condition does not hold.
      const asked = await deps.prompter.ask({ kind: 'confirm', id: key, role: gate.owner, who, message: condition.confirm }).catch(unanswered);
      if (asked instanceof PromptUnansweredError) error = asked.reason;
      else value = asked;
    } else {
      error = messages.attestationUnanswered(key);
    }
    conditions.push({ name, kind: 'confirm', text: condition.confirm, value, ok: value === true, ...(error ? { error } : {}) });
  }
  return conditions;
}

/** Expression conditions, over the evidence as it is now; one that does not evaluate does not hold. */
function evaluateExpressions(run: RunContext, gate: GateDoc): GateCondition[] {
  const ctx = run.celContext();
  const conditions: GateCondition[] = [];
  for (const [name, condition] of Object.entries(gate.require)) {
    if (isConfirmCondition(condition)) continue;
    const compiled = compileExpression(condition);
    if (!compiled.ok) {
      conditions.push({ name, kind: 'expression', text: condition, value: null, ok: false, error: compiled.message });
      continue;
    }
    const result = evaluateExpression(compiled.expression, ctx);
    // The values behind the verdict, computed once: the task list, the NO-GO reason and the record all render this tree.
    const tree = buildEvidence(compiled.expression, ctx, result);
    const notes = result.ok && result.value === false ? stepNotes(run, compiled.expression) : [];
    // A part may read a secret (`env.DEPLOY_TOKEN == 'x'`): its value goes to the journal and the record masked, as step output does.
    const masked = maskDeepWith({ value: result.ok ? result.value : null, tree, ...(result.ok ? {} : { error: result.message }) }, run.deps.mask);
    conditions.push({ name, kind: 'expression', text: condition, ...masked, ok: result.ok && result.value === true, ...(notes.length > 0 ? { notes } : {}) });
  }
  return conditions;
}

/** Why each step a false condition reads did not pass: `canary-p95 inconclusive: no data (query: …)`. */
function stepNotes(run: RunContext, expression: CompiledExpression): string[] {
  const names = new Set(expression.references.filter((r) => r.root === 'steps').map((r) => r.name));
  return [...names].filter((name) => ['failed', 'inconclusive'].includes(run.state.steps.get(name)?.outcome?.status ?? '')).map((name) => stepNote(run, name));
}

/** `smoke failed: exit code 2`: a step that did not pass, with its reason. */
function stepNote(run: RunContext, id: string): string {
  const outcome = run.state.steps.get(id)?.outcome;
  return `${id} ${outcome?.status ?? 'failed'}${outcome?.reason ? `: ${outcome.reason}` : ''}`;
}

/** GO only when every condition holds: a person may say NO-GO regardless, never GO over a failing condition. */
async function decide(run: RunContext, phase: PhaseDoc, conditions: GateCondition[]): Promise<GateDecision> {
  const { options, deps } = run;
  const gate = phase.gate!;
  const id = gateId(phase);
  const failing = conditions.filter((c) => !c.ok).map((c) => c.name);
  const allHold = failing.length === 0;
  const by = run.actorFor(gate.owner);
  const decided = (decision: GateDecision, answeredFrom: 'prompt' | 'answers-file' | 'automatic', note?: string, reason?: string) => {
    // An automatic decision was nobody's: record the role and the operator, not a person who did not act.
    const actor: Actor = answeredFrom === 'automatic' ? { role: by.role, operator: by.operator } : by;
    run.emit({
      kind: 'gate-decided',
      at: run.now(),
      gateId: id,
      phaseId: phase.id,
      decision,
      by: actor,
      answeredFrom,
      ...(note !== undefined ? { note } : {}),
      ...(reason !== undefined ? { reason } : {}),
    });
    return decision;
  };
  if (options.dryRun) {
    const keys = [...Object.entries(gate.require).filter(([, c]) => isConfirmCondition(c)).map(([name]) => `${id}.${name}`), id];
    return decided('go', 'automatic', messages.gateDryRun(run.whoFor(gate.owner), Object.keys(gate.require), keys));
  }
  // Approvals (issue 14): people's signed answers, never the answers file; the conditions must hold first.
  if (gate.approvals !== undefined) {
    if (!allHold) return decided('no-go', 'automatic', messages.goRefused(failing));
    if (deps.prompter === undefined) return decided('no-go', 'automatic', `the approvals of ${id} are people's signed answers, and nobody can be asked here (without a terminal, run with --wait so they can answer)`);
    const result = await deps.prompter
      .ask({ kind: 'decide', id, role: gate.owner, who: run.whoFor(gate.owner), message: `Approve ${id}?`, choices: [{ value: 'approve', label: 'Approve' }, { value: 'reject', label: 'Reject (NO-GO)' }] })
      .catch(unanswered);
    if (result instanceof PromptUnansweredError) return decided('no-go', 'automatic', result.reason);
    return result === 'go' ? decided('go', 'prompt', 'approved') : decided('no-go', 'prompt', 'rejected by an approver');
  }
  const answer = deps.answers.get(id);
  if (answer === undefined && deps.prompter !== undefined) {
    const choice = await deps.prompter
      .ask({
        kind: 'decide',
        id,
        role: gate.owner,
        who: run.whoFor(gate.owner),
        message: messages.gateQuestion(id, failing),
        choices: [
          { value: 'go', label: messages.gateChoiceGo(), ...(allHold ? {} : { disabled: messages.goNotOffered(failing) }) },
          { value: 'no-go', label: messages.gateChoiceNoGo() },
        ],
      })
      .catch(unanswered);
    // Nobody decided within --wait (a team run without a terminal): NO-GO, failing closed.
    if (choice instanceof PromptUnansweredError) return decided('no-go', 'automatic', choice.reason);
    if (choice === 'go' && allHold) return decided('go', 'prompt');
    // NO-GO over evidence that says GO: the record must say why (a holiday, a rumour, a gut feeling).
    if (!allHold) return decided('no-go', 'prompt');
    const reason = await deps.prompter.ask({ kind: 'ask', id: `${id}.reason`, role: gate.owner, who: run.whoFor(gate.owner), message: messages.noGoReasonQuestion(id) }).catch(unanswered);
    if (reason instanceof PromptUnansweredError) return decided('no-go', 'prompt', reason.reason);
    return decided('no-go', 'prompt', undefined, (reason as string).trim());
  }
  if (answer === undefined) return decided('no-go', 'automatic', messages.gateUndecided(id));
  if (answer === 'go' && !allHold) return decided('no-go', 'automatic', messages.goRefused(failing));
  if (answer === 'go') return decided('go', 'answers-file');
  const given = deps.answers.get(`${id}.reason`);
  if (!allHold || typeof given === 'string') return decided('no-go', 'answers-file', undefined, typeof given === 'string' ? given : undefined);
  if (deps.prompter !== undefined) {
    const reason = await deps.prompter.ask({ kind: 'ask', id: `${id}.reason`, role: gate.owner, who: run.whoFor(gate.owner), message: messages.noGoReasonQuestion(id) }).catch(unanswered);
    if (reason instanceof PromptUnansweredError) return decided('no-go', 'answers-file', reason.reason);
    return decided('no-go', 'answers-file', undefined, (reason as string).trim());
  }
  return decided('no-go', 'answers-file', messages.noGoReasonMissing(id));
}

/** A question nobody answered within --wait comes back as its error (a value), every other failure is thrown on. */
function unanswered(error: unknown): PromptUnansweredError {
  if (error instanceof PromptUnansweredError) return error;
  throw error;
}
