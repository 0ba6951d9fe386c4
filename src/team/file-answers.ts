// Answers taken from `--answers` in a team run (issue 14): the running terminal's person vouches for each with their own key, signed over the file's name and sha256, so the record shows who vouched for every answer the file gave.
//
// Nobody answered these at a prompt: the engine read them from the file. When the person at the running terminal is
// known by their key (`--as`, `--key`, $DEPLOYCTL_KEY, the personal key directory), each answer the run takes from the
// file is signed by that key as `via: answers-file` with the file's path and digest, and journaled as an answer
// (`prompt-answered`) like any other. Without a person key (no people:, or nobody of them at this terminal), answers
// from the file stay what they were in the first release: the operator's, on the role's behalf, unsigned.
import type { KeyObject } from 'node:crypto';
import type { Answers, AnswerValue } from '../engine/answers.js';
import type { RunEvent } from '../engine/events.js';
import type { TeamState } from '../engine/state.js';
import type { Clock } from '../ports/types.js';
import { signAnswer, type AnswersFileRef } from '../record/answers.js';
import type { RunbookDoc } from '../runbook/types.js';
import { holders, roleOfPrompt } from './prompts.js';

export interface VouchOptions {
  doc: RunbookDoc;
  runId: string;
  /** The person at the running terminal, and their key. */
  person: string;
  privateKey: KeyObject;
  file: AnswersFileRef;
  /** The journal's head as this process appended it: the answer came after it. */
  journalHead: () => string;
  clock: Clock;
  /** The run's event bus (journal, reporter, record). */
  emit: (event: RunEvent) => void;
  /** The run's team state so far: the answer takes the prompt's next slot. */
  team: () => TeamState | undefined;
  /** The answer as the record will hold it (secrets masked): what is signed, so no secret reaches the record. */
  mask: (answer: AnswerValue) => AnswerValue;
}

/**
 * The answers file as the engine reads it, each answer signed and journaled the first time the run takes it (every
 * read of an answer in the engine is a take: a manual step, a gate's condition, decision or reason, a rollback
 * authorization, an `on_failure: ask` choice, a watch without data).
 */
export function vouchedAnswers(answers: Answers, options: VouchOptions): Answers {
  const taken = new Set<string>();
  const vouch = (key: string, value: AnswerValue) => {
    if (taken.has(key)) return;
    taken.add(key);
    const { doc, person, clock } = options;
    const at = clock.now();
    const slot = options.team()?.prompts.get(key)?.nextSlot ?? 1;
    const answer = options.mask(value);
    const signature = signAnswer(
      { run_id: options.runId, prompt_id: key, slot, answer, at: new Date(at).toISOString(), journal_head: options.journalHead(), person, via: 'answers-file', answers_file: options.file },
      options.privateKey,
    );
    const role = roleOfPrompt(doc, key) ?? (key === 'rollback' ? doc.rollback?.authorize : undefined);
    const holding = role !== undefined ? holders(doc.roles[role]) : [];
    // For a role this person does not hold: on its holder's behalf (the role's id when it names nobody).
    const onBehalfOf = role !== undefined && !holding.includes(person) ? (holding[0] ?? role) : undefined;
    options.emit({
      kind: 'prompt-answered',
      at,
      promptId: key,
      slot,
      ...(role !== undefined ? { role } : {}),
      answer,
      person,
      ...(onBehalfOf !== undefined ? { onBehalfOf } : {}),
      via: 'answers-file',
      answersFile: options.file,
      signature,
      answeredAt: at,
    });
  };
  return {
    get size() {
      return answers.size;
    },
    has: (key) => answers.has(key),
    get(key) {
      const value = answers.get(key);
      if (value !== undefined) vouch(key, value);
      return value;
    },
    forEach: (fn, thisArg) => answers.forEach(fn, thisArg),
    entries: () => answers.entries(),
    keys: () => answers.keys(),
    values: () => answers.values(),
    [Symbol.iterator]: () => answers[Symbol.iterator](),
  };
}
