// A phase's go/no-go: attestations asked first, then the evidence evaluated, then the decision — at the prompt, from the answers file, or automatic.
import { compileExpression, evaluateExpression, topLevelOperands, type CelContext, type CompiledExpression } from '../expr/cel.js';
import { explainFalse } from '../expr/explain.js';
import { IMPLICIT_CONDITION, stepsLeftToGate } from '../runbook/failure-policy.js';
import { gateId, isConfirmCondition, type GateDoc, type PhaseDoc } from '../runbook/types.js';
import type { Actor, GateCondition, GateDecision } from './events.js';
import { messages } from './messages.js';
import { failuresLeftToGate } from './predicates.js';
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
  const explained = failed
    .map((id) => {
      const outcome = run.state.steps.get(id)?.outcome;
      return `${id} ${outcome?.status ?? 'failed'}${outcome?.reason !== undefined ? `: ${outcome.reason}` : ''}`;
    })
    .join('; ');
  return { name: IMPLICIT_CONDITION, kind: 'implicit', text: messages.implicitCondition(covered), value: ok, ok, ...(ok ? {} : { explained }) };
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
      value = await deps.prompter.ask({ kind: 'confirm', id: key, who, message: condition.confirm });
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
    const result = compiled.ok ? evaluateExpression(compiled.expression, ctx) : { ok: false as const, message: compiled.message };
    const explained = compiled.ok && result.ok && result.value === false ? explainCondition(run, compiled.expression, ctx) : undefined;
    const evidence = compiled.ok ? explain(condition, ctx) : undefined;
    conditions.push(
      result.ok
        ? { name, kind: 'expression', text: condition, value: result.value, ok: result.value === true, ...(explained !== undefined ? { explained } : {}), ...(evidence ? { evidence } : {}) }
        : { name, kind: 'expression', text: condition, value: null, ok: false, error: result.message, ...(evidence ? { evidence } : {}) },
    );
  }
  return conditions;
}

/** The values a false condition compared, then why each step it reads did not pass: `0.0476 ≥ 0.001`, `…; canary-p95 inconclusive: no data (query: …)`. */
function explainCondition(run: RunContext, expression: CompiledExpression, ctx: CelContext): string {
  const notes: string[] = [];
  for (const name of new Set(expression.references.filter((r) => r.root === 'steps').map((r) => r.name))) {
    const outcome = run.state.steps.get(name)?.outcome;
    if (outcome?.status === 'failed' || outcome?.status === 'inconclusive') notes.push(`${name} ${outcome.status}${outcome.reason ? `: ${outcome.reason}` : ''}`);
  }
  return [explainFalse(expression, ctx), ...notes].join('; ');
}

/** Each operand of the condition's top-level operator, evaluated by CEL on the same context: the values behind the verdict. */
function explain(source: string, ctx: CelContext): GateCondition['evidence'] {
  const split = topLevelOperands(source);
  if (split === undefined) return undefined;
  return {
    operator: split.operator,
    operands: split.operands.map((text) => {
      const compiled = compileExpression(text);
      const result = compiled.ok ? evaluateExpression(compiled.expression, ctx) : { ok: false as const, message: compiled.message };
      return result.ok ? { text, value: result.value } : { text, value: null, error: result.message };
    }),
  };
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
  const answer = deps.answers.get(id);
  if (answer === undefined && deps.prompter !== undefined) {
    const choice = await deps.prompter.ask({
      kind: 'decide',
      id,
      who: run.whoFor(gate.owner),
      message: messages.gateQuestion(id, failing),
      choices: [
        { value: 'go', label: messages.gateChoiceGo(), ...(allHold ? {} : { disabled: messages.goNotOffered(failing) }) },
        { value: 'no-go', label: messages.gateChoiceNoGo() },
      ],
    });
    if (choice === 'go' && allHold) return decided('go', 'prompt');
    // NO-GO over evidence that says GO: the record must say why (a holiday, a rumour, a gut feeling).
    if (!allHold) return decided('no-go', 'prompt');
    const reason = (await deps.prompter.ask({ kind: 'ask', id: `${id}.reason`, who: run.whoFor(gate.owner), message: messages.noGoReasonQuestion(id) })) as string;
    return decided('no-go', 'prompt', undefined, reason.trim());
  }
  if (answer === undefined) return decided('no-go', 'automatic', messages.gateUndecided(id));
  if (answer === 'go' && !allHold) return decided('no-go', 'automatic', messages.goRefused(failing));
  if (answer === 'go') return decided('go', 'answers-file');
  const given = deps.answers.get(`${id}.reason`);
  if (!allHold || typeof given === 'string') return decided('no-go', 'answers-file', undefined, typeof given === 'string' ? given : undefined);
  if (deps.prompter !== undefined) {
    const reason = (await deps.prompter.ask({ kind: 'ask', id: `${id}.reason`, who: run.whoFor(gate.owner), message: messages.noGoReasonQuestion(id) })) as string;
    return decided('no-go', 'answers-file', undefined, reason.trim());
  }
  return decided('no-go', 'answers-file', messages.noGoReasonMissing(id));
}
