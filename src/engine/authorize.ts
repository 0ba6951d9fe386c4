// Before deployctl rolls back on its own, the runbook's `rollback.authorize` role may say no; without an answer in time, the default happens.
import { PromptAbortedError, PromptCancelledError } from '../ports/types.js';
import { formatDuration } from '../runbook/duration.js';
import { authorizeTimeoutMs } from '../runbook/failure-policy.js';
import type { Actor } from './events.js';
import { messages } from './messages.js';
import { phasesToRollBack } from './predicates.js';
import type { RunContext } from './run-context.js';

/** A person's own `on_failure: ask` choice of rollback: it authorizes the rollback when they hold the authorizing role. */
export interface ChosenRollback {
  by: Actor;
  stepId: string;
}

/**
 * Whether the rollback may go ahead: 'rollback' at once without `rollback:` in the runbook. Otherwise the answer an
 * earlier session recorded; else the answers file (`rollback: rollback | abort`); else the role at the prompt, which
 * closes after `rollback.timeout` (through the clock port) with the default; without a terminal, the default at once
 * (waiting would only delay it: nobody can answer). 'interrupted' on Ctrl-C at the question: a resume asks again.
 */
export async function authorizeRollback(run: RunContext, reason: string, chosen?: ChosenRollback): Promise<'rollback' | 'abort' | 'interrupted'> {
  const policy = run.doc.rollback;
  // A rollback already under way (cut short by a crash) was authorized before it started.
  if (policy === undefined || run.state.rollback !== undefined) return 'rollback';
  const earlier = run.state.authorization?.decision;
  if (earlier !== undefined) return earlier;
  const { deps } = run;
  const role = policy.authorize;
  const fallback = policy.default ?? 'rollback';
  const authorizer = run.actorFor(role);
  // Nobody decided: the role and the operator, never a person who did not act.
  const nobody: Actor = { role, operator: authorizer.operator };
  const decide = (decision: 'rollback' | 'abort', by: Actor, answeredFrom: 'prompt' | 'answers-file' | 'chosen' | 'timeout' | 'no-terminal', note?: string) => {
    run.emit({ kind: 'rollback-authorized', at: run.now(), decision, by, answeredFrom, ...(note !== undefined ? { note } : {}) });
    return decision;
  };
  if (chosen !== undefined && chosen.by.role === role) return decide('rollback', chosen.by, 'chosen', messages.authorizeChosen(chosen.stepId));

  const phases = phasesToRollBack(run.doc, run.state).map((p) => p.id);
  const timeoutMs = authorizeTimeoutMs(run.doc);
  run.emit({ kind: 'rollback-requested', at: run.now(), reason, phases, authorize: role, timeoutMs, default: fallback });
  const given = deps.answers.get('rollback');
  if (given === 'rollback' || given === 'abort') return decide(given, authorizer, 'answers-file');
  if (deps.prompter === undefined) return decide(fallback, nobody, 'no-terminal', messages.authorizeNoTerminal(fallback));

  const closed = new AbortController();
  const timer = deps.clock.setTimer(timeoutMs, () => closed.abort());
  try {
    const choice = await deps.prompter.ask(
      {
        kind: 'decide',
        id: 'rollback',
        who: run.whoFor(role),
        message: messages.authorizeQuestion(reason, phases, formatDuration(timeoutMs), fallback === 'rollback' ? 'roll back' : 'do not roll back'),
        // The default first: Enter without reading does what the timeout would.
        choices: [
          { value: 'rollback', label: messages.authorizeChoiceRollback(phases) },
          { value: 'abort', label: messages.authorizeChoiceAbort() },
        ].sort((a, b) => (a.value === fallback ? -1 : b.value === fallback ? 1 : 0)),
      },
      { signal: closed.signal },
    );
    return decide(choice === 'abort' ? 'abort' : 'rollback', authorizer, 'prompt');
  } catch (error) {
    if (error instanceof PromptCancelledError) return decide(fallback, nobody, 'timeout', messages.authorizeTimedOut(formatDuration(timeoutMs), fallback));
    if (error instanceof PromptAbortedError) return 'interrupted';
    throw error;
  } finally {
    timer.cancel();
  }
}
