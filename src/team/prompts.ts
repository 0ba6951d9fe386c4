// Prompts of a team run (issue 14): which role a prompt belongs to, who may answer it, and its claim slots.
//
// Claims and slots. A prompt's answers are claims in the state store, one per slot: slot 1 is stored under the prompt
// id itself (`qa-ready`), slot k > 1 under `qa-ready~k`. The store lets the first claim of a slot win. An asking reads
// its slots in order from where it starts, and the first slot holding a VALID claim answers it: a claim that does not
// count (forged, a person without the role, a bad answer) is refused, journaled, and the next slot is read. So a
// forged claim never blocks a prompt: whoever answers next takes the next slot. A signature covers its slot (src/
// record/answers.ts), so a valid answer cannot be replayed into another slot. Each asking starts after every slot an
// earlier asking of the same prompt used (a confirm asked again after "no"), so an old answer never answers a new
// question. Keys with `~x` and a random suffix hold attempts a claimer refused itself (impersonation), kept so the
// host journals them; they are in no slot.
import { randomBytes } from 'node:crypto';
import type { PromptRequest } from '../ports/types.js';
import { matchesPattern } from '../runbook/pattern.js';
import { gateId, isConfirmCondition, stepKind, type RoleDoc, type RunbookDoc, type StepDoc } from '../runbook/types.js';

/** The claim key of `slot` of a prompt. */
export function slotKey(promptId: string, slot: number): string {
  return slot === 1 ? promptId : `${promptId}~${slot}`;
}

export type ParsedKey = { kind: 'slot'; promptId: string; slot: number } | { kind: 'attempt'; promptId: string };

/** A claim key read back: a slot of a prompt, or a refused attempt (`<prompt>~x<hex>`). */
export function parseClaimKey(key: string): ParsedKey {
  const tilde = key.lastIndexOf('~');
  if (tilde === -1) return { kind: 'slot', promptId: key, slot: 1 };
  const promptId = key.slice(0, tilde);
  const rest = key.slice(tilde + 1);
  if (/^[1-9][0-9]{0,8}$/.test(rest) && Number(rest) >= 2) return { kind: 'slot', promptId, slot: Number(rest) };
  return { kind: 'attempt', promptId };
}

/** A key for an attempt that is in no slot. */
export function attemptKey(promptId: string): string {
  return `${promptId}~x${randomBytes(6).toString('hex')}`;
}

/** Every step of the runbook by id (forward, finally and rollback steps). */
export function stepsById(doc: RunbookDoc): Map<string, StepDoc> {
  const steps = new Map<string, StepDoc>();
  for (const phase of doc.phases) for (const step of [...(phase.steps ?? []), ...(phase.finally ?? []), ...(phase.rollback ?? [])]) steps.set(step.id, step);
  return steps;
}

/**
 * The role a prompt belongs to: the owner of the step or gate its id starts with (`qa-ready.refused` is qa-ready's,
 * `go-no-go.reason` the gate's). A prompt that names its role says so itself (PromptRequest.role).
 */
export function roleOfPrompt(doc: RunbookDoc, promptId: string): string | undefined {
  const head = promptId.includes('.') ? promptId.slice(0, promptId.indexOf('.')) : promptId;
  const step = stepsById(doc).get(head);
  if (step !== undefined) return step.owner;
  return doc.phases.find((p) => p.gate !== undefined && gateId(p) === head)?.gate?.owner;
}

/** The question a prompt id asks, as far as the runbook alone tells (a step, a gate's condition or decision). */
export function requestFromRunbook(doc: RunbookDoc, promptId: string): PromptRequest | undefined {
  const step = stepsById(doc).get(promptId);
  if (step !== undefined) {
    const base = { id: promptId, role: step.owner, who: step.owner };
    switch (stepKind(step)) {
      case 'confirm':
        return { ...base, kind: 'confirm', message: step.confirm! };
      case 'checklist':
        return { ...base, kind: 'checklist', message: step.title ?? step.id, items: step.checklist! };
      case 'ask':
        return { ...base, kind: 'ask', message: step.ask!, ...(step.pattern !== undefined ? { pattern: step.pattern } : {}) };
      default:
        return undefined;
    }
  }
  for (const phase of doc.phases) {
    if (phase.gate === undefined) continue;
    const id = gateId(phase);
    const base = { role: phase.gate.owner, who: phase.gate.owner };
    if (promptId === id && phase.gate.approvals !== undefined) return { ...base, id, kind: 'decide', message: `Approve ${id}?`, choices: [{ value: 'approve', label: 'Approve' }, { value: 'reject', label: 'Reject (NO-GO)' }] };
    if (promptId === id) return { ...base, id, kind: 'decide', message: `go/no-go ${id}`, choices: [{ value: 'go', label: 'GO' }, { value: 'no-go', label: 'NO-GO' }] };
    if (promptId.startsWith(`${id}.`)) {
      const condition = phase.gate.require[promptId.slice(id.length + 1)];
      if (condition !== undefined && isConfirmCondition(condition)) return { ...base, id: promptId, kind: 'confirm', message: condition.confirm };
      if (promptId === `${id}.reason`) return { ...base, id: promptId, kind: 'ask', message: `why NO-GO at ${id}` };
    }
  }
  return undefined;
}

/** The people who hold a role: its primary, then its backup (person ids when the runbook has people). */
export function holders(role: RoleDoc | undefined): string[] {
  return [role?.primary, role?.backup].filter((p): p is string => p !== undefined);
}

/**
 * Whether the person running the deployment may answer a prompt of `roleId` at their terminal: as the role's holder,
 * or on its holder's behalf when the role says `delegate: true`. A prompt of no role is the operator's.
 */
export function hostRight(doc: RunbookDoc, roleId: string | undefined, hostPerson: string | undefined): 'holder' | 'delegate' | 'operator' | undefined {
  if (roleId === undefined) return 'operator';
  const role = doc.roles[roleId];
  if (hostPerson !== undefined && holders(role).includes(hostPerson)) return 'holder';
  return role?.delegate === true ? 'delegate' : undefined;
}

/** Is the answer a well-formed answer to the question? A sentence saying why not, else undefined. */
export function answerProblem(request: PromptRequest | undefined, answer: unknown): string | undefined {
  if (request === undefined) return answer === null || answer === undefined ? 'it answers nothing' : undefined;
  switch (request.kind) {
    case 'confirm':
      return typeof answer === 'boolean' ? undefined : 'a confirmation is yes or no (true or false)';
    case 'checklist': {
      if (!Array.isArray(answer) || !answer.every((a) => typeof a === 'string')) return 'a checklist answer is the list of ticked items';
      const unknown = answer.find((a) => !request.items.includes(a as string));
      if (unknown !== undefined) return `'${String(unknown)}' is not on the checklist`;
      return new Set(answer).size === answer.length ? undefined : 'an item is ticked twice';
    }
    case 'ask': {
      if (typeof answer !== 'string' || answer.trim() === '') return 'the answer is empty';
      if (answer.length > 4000) return 'the answer is longer than 4000 characters';
      if (request.pattern !== undefined && !matchesPattern(request.pattern, answer.trim())) return `the answer does not match ${request.pattern}`;
      return undefined;
    }
    case 'decide': {
      const choice = request.choices.find((c) => c.value === answer);
      if (choice === undefined) return `the choices are ${request.choices.map((c) => c.value).join(', ')}`;
      return choice.disabled !== undefined ? `${choice.value} is not offered: ${choice.disabled}` : undefined;
    }
  }
}

/** Where an answer to `promptId` goes: the open asking's first slot, else after every slot an earlier asking used. */
export function startSlot(prompts: ReadonlyMap<string, { open: boolean; slot: number; nextSlot: number }> | undefined, promptId: string): number {
  const prompt = prompts?.get(promptId);
  return prompt === undefined ? 1 : prompt.open ? prompt.slot : prompt.nextSlot;
}
