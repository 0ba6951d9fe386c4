// Prompts asked through the task list's own tasks (listr2's inquirer adapter), so the task list keeps the terminal.
import { inert } from '../inert.js';
import type { ListrInquirerPromptAdapter } from '@listr2/prompt-adapter-inquirer';
import type { ListrTaskWrapper } from 'listr2';
import { faultPoint } from '../faults.js';
import { discardTypeAhead, promptInput } from '../ports/terminal.js';
import { PromptAbortedError, PromptCancelledError, type PromptAnswer, type PromptOptions, type Prompter, type PromptRequest } from '../ports/types.js';
import { matchesPattern } from '../runbook/pattern.js';

// listr2's task type carries renderer generics we never vary.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Task = ListrTaskWrapper<unknown, any, any>;

/**
 * A prompter whose questions are drawn under the task that asked. `taskOf(id)` resolves with that task once listr2
 * has started it. Waiting for it never outlasts the run's interrupt: a question whose task is not on screen yet must
 * not swallow the first Ctrl-C (it did, when a rollback's confirm waited behind a phase that never started).
 */
export function createTaskPrompter(taskOf: (id: string) => Promise<Task>, signal: AbortSignal | undefined): Prompter {
  return {
    async ask(request: PromptRequest, options: PromptOptions = {}): Promise<PromptAnswer> {
      const closed = options.signal;
      const task = await untilAborted(taskOf(request.id), signal);
      if (closed?.aborted) throw new PromptCancelledError();
      // Loaded on the first question: a run without a terminal never needs inquirer.
      const { ListrInquirerPromptAdapter: Adapter } = await import('@listr2/prompt-adapter-inquirer');
      if (signal?.aborted) throw new PromptAbortedError();
      faultPoint('at-prompt');
      discardTypeAhead();
      const adapter = task.prompt(Adapter);
      const cancel = () => adapter.cancel();
      signal?.addEventListener('abort', cancel, { once: true });
      // A question with a deadline (a rollback authorization) closes when it passes: not an interrupt.
      closed?.addEventListener('abort', cancel, { once: true });
      const keys = promptInput(cancel);
      try {
        return await askWith(adapter, request, keys.input);
      } catch (error) {
        if (closed?.aborted === true && signal?.aborted !== true) throw new PromptCancelledError();
        if (error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError')) throw new PromptAbortedError();
        throw error;
      } finally {
        keys.dispose();
        signal?.removeEventListener('abort', cancel);
        closed?.removeEventListener('abort', cancel);
      }
    },
  };
}

/** `promise`, or a PromptAbortedError as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(new PromptAbortedError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new PromptAbortedError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

async function askWith(adapter: ListrInquirerPromptAdapter, request: PromptRequest, keys: NodeJS.ReadableStream): Promise<PromptAnswer> {
  const { checkbox, confirm, input, select } = await import('@inquirer/prompts');
  // Questions, items and choices come from the runbook: inert like everything else the terminal shows.
  const message = inert(`${request.who} ${request.message}`);
  const context = { input: keys };
  switch (request.kind) {
    case 'confirm':
      return adapter.run(confirm, { message, default: false }, context);
    case 'checklist':
      return (await adapter.run(checkbox, {
        message,
        choices: request.items.map((item) => ({ value: item, name: inert(item), checked: request.ticked?.includes(item) ?? false })),
        instructions: ' (space to tick, a to tick all, enter when done)',
        loop: false,
      }, context)) as string[];
    case 'ask': {
      // An ask step's pattern (issue 12): the whole answer must match; inquirer shows the sentence and asks again.
      const { pattern } = request;
      const validate = (value: string) => {
        if (value.trim() === '') return 'an answer is required';
        return pattern === undefined || matchesPattern(pattern, value.trim()) ? true : `the answer must match ${pattern} (the whole of it): try again`;
      };
      return adapter.run(input, { message, validate }, context);
    }
    case 'decide':
      return (await adapter.run(select, {
        message,
        choices: request.choices.map((c) => ({ value: c.value, name: inert(c.label), ...(c.disabled !== undefined ? { disabled: inert(c.disabled) } : {}) })),
      }, context)) as string;
  }
}
