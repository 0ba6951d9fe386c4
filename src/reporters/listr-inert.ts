// Everything the task list hands listr2 (titles, output lines, skip messages, failures) made inert on its way in: listr2 writes them to the terminal as they are.
import type { ListrTask } from 'listr2';
import { inert, inertOutputLine } from '../inert.js';
import type { Task } from './listr-prompt.js';

/**
 * A task definition whose title, and everything its task function sets on listr2's task (title, output, skip
 * messages) or throws (the failure message), has its control characters shown as visible escapes. Runbook titles,
 * role names, reasons, answers and output are untrusted; this is the one place they pass on their way to listr2.
 */
export function inertTask(definition: ListrTask): ListrTask {
  const run = definition.task as (ctx: unknown, task: Task) => unknown;
  return {
    ...definition,
    ...(typeof definition.title === 'string' ? { title: inert(definition.title) } : {}),
    task: async (ctx: unknown, task: Task) => {
      try {
        return await run(ctx, inertView(task));
      } catch (error) {
        if (error instanceof Error) error.message = inert(error.message);
        throw error;
      }
    },
  } as ListrTask;
}

/** listr2's task, seen through a proxy that makes what is set on it inert; everything else is the task itself. */
function inertView(task: Task): Task {
  return new Proxy(task, {
    set: (target, property, value: unknown) => {
      if (typeof value === 'string' && property === 'title') return Reflect.set(target, property, inert(value));
      // Output keeps its lines (a gate's evidence) and tabs; every other control character is escaped.
      if (typeof value === 'string' && property === 'output') return Reflect.set(target, property, value.split('\n').map(inertOutputLine).join('\n'));
      return Reflect.set(target, property, value);
    },
    get: (target, property) => {
      if (property === 'skip') return (message?: string) => target.skip(message === undefined ? undefined : inert(message));
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
