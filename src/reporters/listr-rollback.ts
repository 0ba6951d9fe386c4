// The task list's groups after the forward path: the Rollback (its authorization first), then the `finally:` steps of a phase that stopped.
import type { ListrTask } from 'listr2';
import type { EventOf } from '../engine/events.js';
import { formatDuration } from '../runbook/duration.js';
import { phaseTitle, roleLabel } from '../runbook/labels.js';
import type { RunbookDoc, StepDoc } from '../runbook/types.js';
import { inertTask } from './listr-inert.js';
import type { Task } from './listr-prompt.js';
import { showAuthorization } from './task-endings.js';

/**
 * Task keys: a step's own id in its phase group (its `finally:` steps too, when they run as the phase completes),
 * `rollback:<id>` in the Rollback group, `finally:<id>` in the group of a phase's `finally:` steps run after the phase
 * stopped (after its rollback). Step ids are unique in a runbook, so the prefixes only tell the groups apart.
 */
export const rollbackKey = (id: string) => `rollback:${id}`;
export const lateFinallyKey = (id: string) => `finally:${id}`;
/** The rollback authorization's task, first in the Rollback group (its question's id is `rollback`). */
export const AUTHORIZE_KEY = 'rollback:authorize';

export interface AfterForward {
  doc: RunbookDoc;
  stepTask: (step: StepDoc, key: string) => ListrTask;
  /** The rollback's phases once it is asked for or starts (`authorize`: it waits for the role first); undefined: none. */
  rollbackStart: Promise<{ phases: string[]; authorize?: EventOf<'rollback-requested'> } | undefined>;
  /** The phase whose `finally:` steps run after it stopped; undefined when none does. */
  lateFinally: Promise<string | undefined>;
  authorization: Promise<EventOf<'rollback-authorized'> | undefined>;
  defaultRenderer: boolean;
  said: (title: string, what: string) => string;
  taskFor: (key: string) => { resolve(task: Task): void };
  answersFile?: string;
}

export function afterForwardGroups(a: AfterForward): ListrTask[] {
  const { doc, said } = a;
  /** The `rollback.authorize` role's answer: authorized (the steps follow) or not (they do not run). */
  const authorizeTask = (request: EventOf<'rollback-requested'>): ListrTask => {
    const title = `${roleLabel(request.authorize, doc.roles[request.authorize], doc.people)} Authorize the rollback (default in ${formatDuration(request.timeoutMs)}: ${request.default})`;
    return {
      ...(a.defaultRenderer ? {} : { title }),
      task: async (_ctx, task: Task) => {
        task.title = title;
        a.taskFor(AUTHORIZE_KEY).resolve(task);
        const shown = showAuthorization(title, await a.authorization, { said, ...(a.answersFile !== undefined ? { answersFile: a.answersFile } : {}) });
        if (shown.kind === 'title') task.title = shown.title;
        else if (shown.kind === 'skip') task.skip(shown.message);
        else throw new Error(shown.message);
      },
    } as ListrTask;
  };

  const rollback = {
    title: 'Rollback',
    task: async (_ctx, task: Task) => {
      const started = await a.rollbackStart;
      if (started === undefined) {
        task.skip(said('Rollback', 'not needed'));
        return;
      }
      const children = doc.phases
        .filter((p) => started.phases.includes(p.id))
        .reverse()
        .flatMap((p) => (p.rollback ?? []).map((s) => a.stepTask(s, rollbackKey(s.id))));
      if (started.authorize !== undefined) children.unshift(authorizeTask(started.authorize));
      task.title = `Rollback (${started.phases.join(', ')})`;
      return task.newListr(children.map(inertTask), { concurrent: false, exitOnError: false });
    },
  } as ListrTask;

  // A phase's `finally:` steps run after it stopped: their own group, after the rollback they follow.
  const lateFinally = {
    // No title until it has steps: the many runs without one show nothing of it.
    task: async (_ctx, task: Task) => {
      const phaseId = await a.lateFinally;
      const phase = doc.phases.find((p) => p.id === phaseId);
      if (phase === undefined) return;
      task.title = `Finally: ${phaseTitle(phase)}`;
      return task.newListr(
        (phase.finally ?? []).map((s) => inertTask(a.stepTask(s, lateFinallyKey(s.id)))),
        { concurrent: false, exitOnError: false },
      );
    },
  } as ListrTask;

  return [rollback, lateFinally];
}
