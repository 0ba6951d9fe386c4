// Whether a claim on a prompt counts: one function for the host (which takes the answer) and for every claimer (which learns whether it lost to a valid answer or to one that does not count).
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { EventOf } from '../engine/events.js';
import type { StoredClaim } from '../ports/state/store.js';
import type { PromptRequest } from '../ports/types.js';
import { openSignedAnswer, sameAnswer, type SignedAnswer } from '../record/answers.js';
import type { People } from '../record/people.js';
import type { RunbookDoc } from '../runbook/types.js';
import { answerProblem, holders } from './prompts.js';

/** A claim's `by` when the running terminal's operator answers and is nobody of the runbook's. */
export const OPERATOR_PREFIX = 'operator:';

export interface JudgeContext {
  runId: string;
  doc: RunbookDoc;
  people: People;
  /** The session running the deployment (its newest `team-host` event): whose key signs the operator's answers. */
  host: EventOf<'team-host'> | undefined;
  /** The host only: false when an answer holds a secret of the run (it would reach the record). */
  secretFree?: (answer: unknown) => boolean;
}

export interface PromptUnderClaim {
  promptId: string;
  slot: number;
  role?: string;
  /** The question, when known: the answer must fit it. */
  request?: PromptRequest;
  /** Approvals: who may not answer (the operator, holders of a role), each with why. */
  excluded?: ReadonlyMap<string, string>;
  /** Approvals: who may answer besides the role's holders (the people holding an approving role). */
  allowed?: readonly string[];
}

export type Verdict =
  | {
      ok: true;
      answer: unknown;
      person?: string;
      operator?: string;
      onBehalfOf?: string;
      via: 'terminal' | 'join' | 'answer';
      signature: SignedAnswer;
      answeredAt: number;
    }
  | { ok: false; claimedBy: string; reason: string; keyid?: string; impersonation: boolean };

/** The host's public key, from its `team-host` event. */
export function hostKeyOf(host: EventOf<'team-host'> | undefined): KeyObject | undefined {
  if (host === undefined) return undefined;
  try {
    return createPublicKey(host.publicKey);
  } catch {
    return undefined;
  }
}

/**
 * Judge the claim in a prompt's slot: its signature (by a key of the person it names, or the host's key for the
 * operator), that it is for this run, prompt and slot, that its signer may answer (holds the role, or is the running
 * terminal on a `delegate: true` role), and that the answer fits the question. Never throws.
 */
export function judgeClaim(stored: StoredClaim, prompt: PromptUnderClaim, ctx: JudgeContext): Verdict {
  if (!stored.ok) return { ok: false, claimedBy: '?', reason: stored.problem, impersonation: false };
  const { claim } = stored;
  const refuse = (reason: string, impersonation = false, keyid?: string): Verdict => ({ ok: false, claimedBy: claim.by, reason, impersonation, ...(keyid !== undefined ? { keyid } : {}) });
  const proof = claim.proof as SignedAnswer | undefined;
  const keyid = typeof proof?.keyid === 'string' ? proof.keyid.slice(0, 100) : undefined;
  const isOperator = claim.by.startsWith(OPERATOR_PREFIX);
  const person = isOperator ? undefined : ctx.people.get(claim.by);
  if (!isOperator && person === undefined) return refuse(`'${claim.by.slice(0, 64)}' is no person of the runbook`, true, keyid);

  // 1. Whose signature: the person's keys, or the running terminal's key for its operator.
  const hostKey = hostKeyOf(ctx.host);
  const keys = person !== undefined ? person.keys.map((k) => k.key) : hostKey !== undefined ? [hostKey] : [];
  const opened = openSignedAnswer(proof, keys);
  if (!opened.ok) {
    const whose = person !== undefined ? `${person.name}'s key${person.keys.length === 1 ? '' : 's'} (${person.keys.map((k) => k.path).join(', ') || 'none listed'})` : "the running terminal's key";
    return refuse(opened.code === 'bad-signature' ? `its signature does not verify with ${whose}: signed by someone else (impersonation) or altered` : opened.reason, opened.code === 'bad-signature', keyid);
  }
  const s = opened.statement;
  // 2. For this run, this prompt, this slot, this answer, by whom it says.
  if (s.run_id !== ctx.runId) return refuse(`it was signed for run ${s.run_id.slice(0, 40)}, not this one (replayed?)`);
  if (s.prompt_id !== prompt.promptId || s.slot !== prompt.slot) return refuse(`it was signed for ${s.prompt_id.slice(0, 80)} slot ${s.slot}, not ${prompt.promptId} slot ${prompt.slot} (replayed?)`);
  if (!sameAnswer(s.answer, claim.answer)) return refuse('the answer it carries is not the one signed (altered)');
  if (isOperator ? s.operator !== claim.by.slice(OPERATOR_PREFIX.length) || s.person !== undefined : s.person !== claim.by) return refuse('it names someone other than its signer (altered)');
  // Only the running terminal takes answers from its answers file, and never as a claim.
  if (s.via === 'answers-file') return refuse('it says it was taken from an answers file, which only the running terminal does, never through a claim', true, keyid);

  // 3. May they answer it?
  const role = prompt.role !== undefined ? ctx.doc.roles[prompt.role] : undefined;
  const holding = holders(role);
  let onBehalfOf: string | undefined;
  const excluded = person !== undefined ? prompt.excluded?.get(person.id) : undefined;
  if (excluded !== undefined) return refuse(excluded, true, keyid);
  if (prompt.allowed !== undefined) {
    if (person === undefined || !prompt.allowed.includes(person.id)) return refuse(`${person?.name ?? claim.by} may not approve here (approvers: ${prompt.allowed.join(', ') || 'nobody'})`, true, keyid);
  } else if (prompt.role !== undefined && !(person !== undefined && holding.includes(person.id))) {
    const isHost = isOperator ? ctx.host !== undefined && ctx.host.person === undefined && ctx.host.operator === s.operator : ctx.host?.person === person!.id;
    if (!(isHost && role?.delegate === true)) {
      const who = person !== undefined ? `${person.name} (${person.id})` : `the operator ${s.operator ?? ''}`;
      return refuse(`${who} does not hold role ${prompt.role} (${role?.title ?? prompt.role}: ${holding.join(', ') || 'nobody'})${role?.delegate === true ? ' and is not the terminal running the deployment' : ''}`, true, keyid);
    }
    onBehalfOf = role.primary;
  } else if (prompt.role === undefined && person !== undefined && ctx.host?.person !== person.id) {
    // A prompt of no role is the running terminal's.
    return refuse(`${person.name} is not the terminal running the deployment, whose question this is`, true, keyid);
  }

  // 4. Does the answer fit the question?
  const problem = answerProblem(prompt.request, claim.answer);
  if (problem !== undefined) return refuse(`it does not answer the question: ${problem}`);
  if (ctx.secretFree !== undefined && !ctx.secretFree(claim.answer)) return refuse('the answer holds a secret of the run, which must never reach the record: answer without it');

  const answeredAt = Date.parse(s.at);
  return {
    ok: true,
    answer: claim.answer,
    ...(person !== undefined ? { person: person.id } : { operator: s.operator! }),
    ...(onBehalfOf !== undefined ? { onBehalfOf } : {}),
    via: s.via,
    signature: proof!,
    answeredAt: Number.isFinite(answeredAt) ? answeredAt : claim.at,
  };
}
