// confirm, checklist and ask: a person answers at a prompt, or the answers file does when there is no terminal.
import { messages } from '../engine/messages.js';
import { matchesPattern } from '../runbook/pattern.js';
import type { StepDoc } from '../runbook/types.js';
import { stepKind } from '../runbook/types.js';
import type { StepResult, StepRunContext } from './types.js';

export async function runManualStep(ctx: StepRunContext): Promise<StepResult> {
  const { step } = ctx;
  const kind = stepKind(step);
  if (ctx.dryRun) {
    return { status: 'skipped', dryRun: true, reason: messages.wouldAsk(ctx.who, step.id) };
  }
  let answer: boolean | string | string[];
  let answeredFrom: 'prompt' | 'answers-file';
  // An answers file given is an answers file used, at a terminal too: only what it lacks is asked.
  const given = ctx.answers.get(step.id);
  if (given !== undefined) {
    answeredFrom = 'answers-file';
    answer = given;
  } else if (ctx.prompter !== undefined) {
    answeredFrom = 'prompt';
    if (kind === 'confirm') answer = await askConfirm(ctx, step);
    else if (kind === 'checklist') answer = await askChecklist(ctx, step);
    else answer = await askText(ctx, step);
  } else {
    return { status: 'failed', reason: missingAnswerSentence(step) };
  }
  return judge(step, answer, answeredFrom);
}

/**
 * An ask step with a `pattern:` asks again until the answer matches (issue 12): a prompter that validates as the person
 * types (the terminal one) never returns a bad answer, and any other is asked once more.
 */
async function askText(ctx: StepRunContext, step: StepDoc): Promise<string> {
  const prompter = ctx.prompter!;
  for (;;) {
    const answer = await prompter.ask({ kind: 'ask', id: step.id, role: step.owner, who: ctx.who, message: step.ask!, ...(step.pattern !== undefined ? { pattern: step.pattern } : {}) });
    const text = typeof answer === 'string' ? answer.trim() : '';
    if (step.pattern === undefined || matchesPattern(step.pattern, text)) return typeof answer === 'string' ? answer : '';
  }
}

/**
 * "No" fails the step, and with it the run — after the deploy, that is a rollback. One stray Enter (the prompt's
 * default is No) must not do that: ask before failing; "no" asks the question again.
 */
async function askConfirm(ctx: StepRunContext, step: StepDoc): Promise<boolean> {
  const prompter = ctx.prompter!;
  for (;;) {
    if ((await prompter.ask({ kind: 'confirm', id: step.id, role: step.owner, who: ctx.who, message: step.confirm! })) === true) return true;
    const fail = await prompter.ask({
      kind: 'confirm',
      id: `${step.id}.refused`,
      role: step.owner,
      who: ctx.who,
      message: messages.confirmRefused(step.confirm!, ctx.ifFailed ?? messages.ifFailedStops()),
    });
    if (fail === true) return false;
  }
}

/**
 * An item left unticked fails the step, and with it the run: at 5 a.m. a stray Enter must not do that. Ask before
 * failing; "no" reopens the list with the ticks kept.
 */
async function askChecklist(ctx: StepRunContext, step: StepDoc): Promise<string[]> {
  const prompter = ctx.prompter!;
  const items = step.checklist!;
  let ticked: string[] = [];
  for (;;) {
    ticked = (await prompter.ask({ kind: 'checklist', id: step.id, role: step.owner, who: ctx.who, message: step.title ?? messages.checklistQuestion(), items, ticked })) as string[];
    const missing = items.filter((item) => !ticked.includes(item));
    if (missing.length === 0) return ticked;
    const fail = await prompter.ask({
      kind: 'confirm',
      id: `${step.id}.unticked`,
      role: step.owner,
      who: ctx.who,
      message: messages.checklistUnticked(missing, ctx.ifFailed ?? messages.ifFailedStops()),
    });
    if (fail === true) return ticked;
  }
}

function judge(step: StepDoc, answer: boolean | string | string[], answeredFrom: 'prompt' | 'answers-file'): StepResult {
  const base = { answer, answeredFrom } as const;
  switch (stepKind(step)) {
    case 'confirm':
      return answer === true ? { ...base, status: 'succeeded' } : { ...base, status: 'failed', reason: messages.notConfirmed(step.confirm!) };
    case 'checklist': {
      const ticked = Array.isArray(answer) ? answer : answer === true ? step.checklist! : [];
      const missing = step.checklist!.filter((item) => !ticked.includes(item));
      return missing.length === 0
        ? { ...base, answer: ticked, status: 'succeeded' }
        : { ...base, answer: ticked, status: 'failed', reason: messages.notTicked(missing) };
    }
    default: {
      const text = typeof answer === 'string' ? answer.trim() : '';
      return text !== '' ? { ...base, answer: text, status: 'succeeded' } : { ...base, status: 'failed', reason: messages.noAnswerGiven() };
    }
  }
}

function missingAnswerSentence(step: StepDoc): string {
  return messages.missingAnswer(step.id, stepKind(step) === 'ask' ? `${step.id}: "…"` : `${step.id}: true`);
}
