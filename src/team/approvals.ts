// Approvals on a gate (issue 14): who may approve (the holders of the approving roles) and who may not (separation of duties: the operator, a role's holders, whoever did a step), one rule for the host, `deployctl answer` and `join`.
import type { GateDoc, RunbookDoc } from '../runbook/types.js';
import { stepKind } from '../runbook/types.js';
import { holders, stepsById } from './prompts.js';

export interface ApprovalRules {
  /** Person ids who may approve. */
  allowed: string[];
  /** Person id → why they may not. */
  excluded: Map<string, string>;
  min: number;
  distinct: boolean;
}

/**
 * The rules for the next approval of `gate`: `hostPerson` runs the deployment; `answered` are the answers taken so far
 * (who did each manual step); `approvedBy` the people who approved already.
 */
export function approvalRules(doc: RunbookDoc, gate: GateDoc, hostPerson: string | undefined, answered: readonly { promptId: string; person?: string }[], approvedBy: readonly string[]): ApprovalRules {
  const spec = gate.approvals!;
  const name = (id: string) => doc.people?.[id]?.name ?? id;
  const allowed = [...new Set(spec.roles.flatMap((r) => holders(doc.roles[r])))];
  const excluded = new Map<string, string>();
  const steps = stepsById(doc);
  // Who answered each prompt, looked up once per step below (a record may hold thousands of answers).
  const answeredBy = new Map<string, (string | undefined)[]>();
  for (const a of answered) {
    const list = answeredBy.get(a.promptId);
    if (list === undefined) answeredBy.set(a.promptId, [a.person]);
    else list.push(a.person);
  }
  for (const who of spec.not ?? []) {
    if (who === 'operator') {
      if (hostPerson !== undefined) excluded.set(hostPerson, `${name(hostPerson)} runs the deployment, so may not approve it (separation of duties: not: [operator])`);
    } else if (Object.hasOwn(doc.roles, who)) {
      for (const h of holders(doc.roles[who])) if (!excluded.has(h)) excluded.set(h, `${name(h)} holds role ${who}, so may not approve (separation of duties: not: [${who}])`);
      // And whoever did that role's steps without holding it: answered one on its behalf, or ran its commands (the operator).
      for (const step of steps.values()) {
        if (step.owner !== who) continue;
        const manual = ['confirm', 'checklist', 'ask'].includes(stepKind(step));
        const did = manual ? (answeredBy.get(step.id) ?? []) : [hostPerson];
        for (const person of did) if (person !== undefined && !excluded.has(person)) excluded.set(person, `${name(person)} ${manual ? 'answered' : 'ran'} step ${step.id} of role ${who}, so may not approve (separation of duties: not: [${who}])`);
      }
    } else if (steps.has(who)) {
      const step = steps.get(who)!;
      const manual = ['confirm', 'checklist', 'ask'].includes(stepKind(step));
      const did = manual ? (answeredBy.get(who) ?? []) : [hostPerson];
      for (const person of did) if (person !== undefined && !excluded.has(person)) excluded.set(person, `${name(person)} ${manual ? 'answered' : 'ran'} step ${who}, so may not approve it (separation of duties: not: [${who}])`);
    }
  }
  const distinct = spec.distinct !== false;
  if (distinct) for (const p of approvedBy) if (!excluded.has(p)) excluded.set(p, `${name(p)} has approved already; each approval must come from a different person (distinct)`);
  return { allowed, excluded, min: spec.min ?? 1, distinct };
}

/** The approving role a person holds (the first of the gate's), for the record: an approval counts for that role. */
export function approvingRole(doc: RunbookDoc, gate: GateDoc, person: string): string | undefined {
  return gate.approvals?.roles.find((r) => holders(doc.roles[r]).includes(person));
}

/** The gate with approvals whose prompt id this is, if any. */
export function approvalGate(doc: RunbookDoc, promptId: string): GateDoc | undefined {
  for (const phase of doc.phases) if (phase.gate?.approvals !== undefined && (phase.gate.id ?? phase.id) === promptId) return phase.gate;
  return undefined;
}
