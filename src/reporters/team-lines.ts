// What a terminal shows about a team run's prompts (issue 14): whom the run waits for, who answered elsewhere, refusals.
import type { EventOf, RunEvent } from '../engine/events.js';
import { holderName } from '../runbook/labels.js';
import type { RunbookDoc } from '../runbook/types.js';

type TeamEvent = EventOf<'prompt-opened' | 'prompt-offered' | 'prompt-answered' | 'answer-refused' | 'prompt-closed'>;

/** The line shown under the prompt's step or gate, or undefined when there is nothing to say (this terminal asks). */
export function teamLine(doc: RunbookDoc, event: TeamEvent & RunEvent): string | undefined {
  switch (event.kind) {
    case 'prompt-opened':
      return event.hostAnswers ? undefined : waitingLine(doc, event.offeredTo, event.role);
    case 'prompt-offered':
      return `offered to ${names(doc, event.to)} too: ${event.reason} — deployctl join --as ${event.to.join(' / --as ')}`;
    case 'prompt-answered':
      return event.via === 'terminal' || event.via === 'answers-file' ? undefined : answeredLine(doc, event);
    case 'answer-refused':
      return `⚠ an answer claimed by ${event.claimedBy} was refused: ${event.reason}`;
    case 'prompt-closed':
      return `no answer: ${event.reason}`;
  }
}

/** Names of person ids: `Elif Yilmaz or Femi Adeyemi`. */
export function names(doc: RunbookDoc, ids: readonly string[]): string {
  return ids.map((id) => holderName(doc.people, id)).join(' or ');
}

/** `waiting for Elif Yilmaz (QA Lead) — deployctl join --as elif`. */
export function waitingLine(doc: RunbookDoc, offeredTo: readonly string[], role: string | undefined): string {
  const title = role !== undefined ? (doc.roles[role]?.title ?? role) : 'the operator';
  if (offeredTo.length === 0) return `waiting for an answer (${title}): nobody here may give it`;
  return `waiting for ${names(doc, offeredTo)} (${title}) — deployctl join --as ${offeredTo.join(' / --as ')}`;
}

/** `✔ answered by Elif Yilmaz in deployctl join: yes`. */
export function answeredLine(doc: RunbookDoc, event: EventOf<'prompt-answered'>): string {
  const who = event.person !== undefined ? holderName(doc.people, event.person) : `the operator ${event.operator ?? ''}`;
  const behalf = event.onBehalfOf !== undefined ? ` on behalf of ${holderName(doc.people, event.onBehalfOf)}` : '';
  const via = event.via === 'join' ? 'in deployctl join' : event.via === 'answer' ? 'with deployctl answer' : event.via === 'answers-file' ? 'from the answers file' : 'at the running terminal';
  return `✔ answered by ${who}${behalf} ${via}: ${formatTeamAnswer(event.answer)}`;
}

/**
 * Who answered, for the finished step's or gate's line: `answered by Femi Adeyemi with deployctl answer`. Undefined for
 * an answer the running terminal's own person gave there (the title already names them), unless `always` (a joiner's view).
 */
export function answerCredit(doc: RunbookDoc, event: EventOf<'prompt-answered'>, always = false): string | undefined {
  // The answers file: the step's line already says so (`answered from FILE`).
  if (event.via === 'answers-file' && !always) return undefined;
  if (event.via === 'terminal' && event.onBehalfOf === undefined && !always) return undefined;
  const who = event.person !== undefined ? holderName(doc.people, event.person) : `the operator ${event.operator ?? ''}`;
  const behalf = event.onBehalfOf !== undefined ? ` on behalf of ${holderName(doc.people, event.onBehalfOf)}` : '';
  const via = event.via === 'join' ? 'in deployctl join' : event.via === 'answer' ? 'with deployctl answer' : event.via === 'answers-file' ? 'from the answers file' : 'at the running terminal';
  return `answered by ${who}${behalf} ${via}`;
}

/** yes / no, `3 ticked`, or the text. */
export function formatTeamAnswer(answer: unknown): string {
  return typeof answer === 'boolean' ? (answer ? 'yes' : 'no') : Array.isArray(answer) ? `${answer.length} ticked` : JSON.stringify(answer);
}
