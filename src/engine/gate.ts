// A phase's go/no-go: attestations asked first, then the evidence evaluated, then the decision — at the prompt, from the answers file, or automatic.
import { compileExpression, evaluateExpression, type CelContext, type CompiledExpression } from '../expr/cel.js';
import { explainFalse } from '../expr/explain.js';
import { gateId, isConfirmCondition, type GateDoc, type PhaseDoc } from '../runbook/types.js';
import type { Actor, GateCondition, GateDecision } from './events.js';
import { messages } from './messages.js';
import type { RunContext } from './run-context.js';

/** The gate's decision, taken once: a resumed run keeps the decision an earlier session recorded. */
export async function decideGate(run: RunContext, phase: PhaseDoc): Promise<GateDecision> {
  const gate = phase.gate!;
  const id = gateId(phase);
  const already = run.state.gates.get(id)?.decision;
  if (already !== undefined) return already;
  // Opened before the first question: a go/no-go owner slow to attest is escalated like a slow step.
  run.emit({ kind: 'gate-opened', at: run.now(), gateId: id, phaseId: phase.id });
  // Attestations first: people answer before the evidence is shown.
  const conditions = [...(await askAttestations(run, gate, id)), ...evaluateExpressions(run, gate)];
  // Keep the runbook's order for display.
  const order = Object.keys(gate.require);
  conditions.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  run.emit({ kind: 'gate-evaluated', at: run.now(), gateId: id, phaseId: phase.id, conditions });
  return decide(run, phase, conditions);
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
    } else if (deps.prompter !== undefined) {
      value = await deps.prompter.ask({ kind: 'confirm', id: key, who, message: condition.confirm });
    } else if (deps.answers.has(key)) {
      value = deps.answers.get(key);
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
    conditions.push(
      result.ok
        ? { name, kind: 'expression', text: condition, value: result.value, ok: result.value === true, ...(explained !== undefined ? { explained } : {}) }
        : { name, kind: 'expression', text: condition, value: null, ok: false, error: result.message },
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

/** GO only when every condition holds: a person may say NO-GO regardless, never GO over a failing condition. */
async function decide(run: RunContext, phase: PhaseDoc, conditions: GateCondition[]): Promise<GateDecision> {
  const { options, deps } = run;
  const gate = phase.gate!;
  const id = gateId(phase);
  const failing = conditions.filter((c) => !c.ok).map((c) => c.name);
  const allHold = failing.length === 0;
  const by = run.actorFor(gate.owner);
  const decided = (decision: GateDecision, answeredFrom: 'prompt' | 'answers-file' | 'automatic', note?: string) => {
    // An automatic decision was nobody's: record the role and the operator, not a person who did not act.
    const actor: Actor = answeredFrom === 'automatic' ? { role: by.role, operator: by.operator } : by;
    run.emit({ kind: 'gate-decided', at: run.now(), gateId: id, phaseId: phase.id, decision, by: actor, answeredFrom, ...(note !== undefined ? { note } : {}) });
    return decision;
  };
  if (options.dryRun) {
    const keys = [...conditions.filter((c) => c.kind === 'confirm').map((c) => `${id}.${c.name}`), id];
    return decided('go', 'automatic', messages.gateDryRun(keys));
  }
  if (deps.prompter !== undefined) {
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
    return decided(choice === 'go' && allHold ? 'go' : 'no-go', 'prompt');
  }
  const answer = deps.answers.get(id);
  if (answer === undefined) return decided('no-go', 'automatic', messages.gateUndecided(id));
  if (answer === 'go' && !allHold) return decided('no-go', 'automatic', messages.goRefused(failing));
  return decided(answer === 'go' ? 'go' : 'no-go', 'answers-file');
}
