// The task list (listr2): phases as groups, steps as tasks, driven by engine events; it owns the terminal, so prompts go through it.
import { Listr, ListrLogger, type ListrTask } from 'listr2';
import type { RunEvent } from '../engine/events.js';
import type { RunState } from '../engine/state.js';
import type { Clock, Prompter } from '../ports/types.js';
import { createWatchViews } from './watch-view.js';
import { formatOffset, parseOffset } from '../runbook/duration.js';
import { phaseTitle, roleLabel, stepTitle } from '../runbook/labels.js';
import { gateId, type PhaseDoc, type RunbookDoc, type StepDoc } from '../runbook/types.js';
import { TaskBoard } from './listr-board.js';
import { eventHandler } from './listr-events.js';
import { inertTask } from './listr-inert.js';
import { afterForwardGroups, AUTHORIZE_KEY } from './listr-rollback.js';
import { SCREEN_OPTIONS, screenRenderer } from './listr-screen.js';
import { screenTrim } from './screen-trim.js';
import { createTaskPrompter, type Task } from './listr-prompt.js';
import { showGateEnding, showStepEnding } from './task-endings.js';

export interface ListrReporter {
  /** Feed every engine event here, in order. */
  onEvent(event: RunEvent): void;
  /** Prompts routed through the task that asked; undefined in non-interactive mode. */
  prompter: Prompter | undefined;
  /** Resolves when the task list has rendered its last frame. */
  run(): Promise<void>;
}

export interface ListrReporterOptions {
  interactive: boolean;
  /** stdout is a terminal (the default renderer); false prints plain lines, prompts still work on the terminal's stdin. */
  screen?: boolean;
  /** State carried over from an earlier session (resume): its finished steps show as done. */
  resumed?: RunState;
  /** Plain mode: colour off. */
  noColor?: boolean;
  /** A dry run: gates say what they would ask, never GO or NO-GO. */
  dryRun?: boolean;
  /** The answers file (`--answers`), named beside each answer taken from it. */
  answersFile?: string;
  /**
   * The terminal's height, against which every frame is measured. A function is read at every frame, so a resized
   * terminal counts (the CLI passes stdout's rows); without it, or when it says nothing, the output stream's rows; 24.
   */
  rows?: number | (() => number | undefined);
  /**
   * The run's interrupt signal. Ctrl-C at a prompt arrives as a keypress (the prompt reads a raw terminal), but
   * SIGTERM, or SIGINT sent with kill, only aborts this: an open prompt must then close, or the run waits forever.
   */
  signal?: AbortSignal;
  /** A joining terminal's view (deployctl join): every answer is credited on its line, the host's own too. */
  joined?: boolean;
  /** The run's clock: a watch's countdown to its next tick reads it (a rehearsal's plan time). */
  clock?: Clock;
}


export function createListrReporter(doc: RunbookDoc, options: ListrReporterOptions): ListrReporter {
  const board = new TaskBoard(doc);
  const { taskFor, stepEnding, gateEnding, phaseStart, credits } = board;
  const resumed = options.resumed;
  if (resumed !== undefined) board.restore(resumed);

  /**
   * The default renderer replaces a skipped or failed task's title with the message, so the message repeats it;
   * the plain renderer prints both, so there the message is only what happened.
   */
  const defaultRenderer = options.interactive && options.screen !== false;
  const said = (title: string, what: string) => (defaultRenderer ? `${title}: ${what}` : what);
  const answersFile = options.answersFile !== undefined ? { answersFile: options.answersFile } : {};

  /** Task keys of failed steps the run went on past (on_failure continue or gate). */
  const goesOn = new Set<string>();
  const stepTask = (step: StepDoc, key: string): ListrTask => {
    const title = `${roleLabel(step.owner, doc.roles[step.owner], doc.people)} ${stepTitle(step)}`;
    return {
      // On screen, a step appears when it starts: a phase of twenty pending steps would push the step at work, and
      // its prompt, out of a 24-line terminal. The plain renderer prints titles as they start anyway.
      ...(defaultRenderer ? {} : { title }),
      task: async (_ctx, task: Task) => {
        task.title = title;
        taskFor(key).resolve(task);
        const ending = await stepEnding(key).promise;
        if (ending.kind === 'not-run') {
          task.skip(said(title, ending.why !== undefined ? `not run (${ending.why})` : 'not run'));
          return;
        }
        const shown = showStepEnding(title, ending, { said, plain: !defaultRenderer, ...answersFile, ...(credits.has(key) ? { credit: credits.get(key)! } : {}) });
        if (shown.kind === 'title') task.title = shown.title;
        else if (shown.kind === 'skip') task.skip(shown.message);
        else {
          if (shown.goesOn) goesOn.add(key);
          throw new Error(shown.message);
        }
      },
      // A failure the run goes on past does not end its phase's list.
      exitOnError: () => !goesOn.has(key),
      rendererOptions: { outputBar: 5, persistentOutput: false },
    } as ListrTask;
  };

  const gateTask = (phase: PhaseDoc): ListrTask => {
    const id = gateId(phase);
    const title = `${roleLabel(phase.gate!.owner, doc.roles[phase.gate!.owner], doc.people)} Go/no-go: ${phase.gate!.title ?? id}`;
    return {
      ...(defaultRenderer ? {} : { title }),
      task: async (_ctx, task: Task) => {
        task.title = title;
        taskFor(id).resolve(task);
        const ending = await gateEnding(id).promise;
        const shown = showGateEnding(id, task.title, ending, board.evaluated.get(id) ?? [], { said, dryRun: options.dryRun === true, ...answersFile, ...(credits.has(id) ? { credit: credits.get(id)! } : {}) });
        if (shown.kind === 'title') task.title = shown.title;
        else if (shown.kind === 'skip') task.skip(shown.message);
        else throw new Error(shown.message);
      },
      rendererOptions: { outputBar: Infinity, persistentOutput: false },
    } as ListrTask;
  };

  // While a frame is taller than the screen, the oldest finished steps of the phase on screen leave it.
  const { keep: keepToScreen, makeRoom } = screenTrim();

  const phaseTasks: ListrTask[] = doc.phases.map((phase) => {
    const at = phase.at !== undefined ? `${formatOffset(parseOffset(phase.at) ?? 0)}  ` : '';
    const children: ListrTask[] = [
      ...(phase.steps ?? []).map((step) => stepTask(step, step.id)),
      ...(phase.gate ? [gateTask(phase)] : []),
      ...(phase.finally ?? []).map((step) => stepTask(step, step.id)),
    ];
    const title = `${at}${phaseTitle(phase)}`;
    return {
      title,
      task: async (_ctx, task: Task) => {
        // A phase the run never reached is one line, not a list of skipped steps.
        if (!(await phaseStart(phase.id).promise)) {
          task.skip(said(title, board.forwardOver !== undefined ? `not run (${board.forwardOver})` : 'not run'));
          return;
        }
        // A failed step or a NO-GO ends the phase (the engine stops there too), and the phase shows ✖.
        const list = task.newListr(children.map(inertTask), { concurrent: false, exitOnError: true });
        if (defaultRenderer) keepToScreen(list);
        return list;
      },
    } as ListrTask;
  });

  phaseTasks.push(
    ...afterForwardGroups({
      doc,
      stepTask,
      rollbackStart: board.rollbackStart.promise,
      lateFinally: board.lateFinally.promise,
      authorization: board.authorization.promise,
      defaultRenderer,
      said,
      taskFor,
      ...answersFile,
    }),
  );

  // Every definition through inertTask: nothing from the runbook, a reason or an output reaches the terminal raw.
  const listr = new Listr(phaseTasks.map(inertTask), {
    concurrent: false,
    exitOnError: false,
    registerSignalListeners: false,
    renderer: defaultRenderer ? screenRenderer({ makeRoom, ...(options.rows !== undefined ? { rows: options.rows } : {}) }) : 'simple',
    fallbackRenderer: 'simple',
    rendererOptions: SCREEN_OPTIONS,
    // Plain lines all go to stdout, failures too (listr2 sends those to stderr): `run … | tee run.log` keeps the
    // whole story, in order.
    fallbackRendererOptions: { timestamp: undefined, logger: new ListrLogger({ useIcons: true, toStderr: [] }) },
    ...(defaultRenderer ? {} : { fallbackRendererCondition: () => true }),
  } as ConstructorParameters<typeof Listr>[1]);

  // Feedback at once for the first Ctrl-C or SIGTERM: stopping a process tree may take the whole kill grace period,
  // and whatever the CLI writes to stderr meanwhile is held back by listr2 until the task list ends.
  options.signal?.addEventListener(
    'abort',
    () => {
      const signal = typeof options.signal?.reason === 'string' ? options.signal.reason : 'interrupt';
      for (const key of board.running) {
        void taskFor(key).promise.then((task) => (task.output = `${signal}: stopping this step and its process tree… (Ctrl-C again to stop at once)`));
      }
    },
    { once: true },
  );

  // A watch at work shows its window: ticks done of planned, the last tick's values, the time to the next tick.
  const watchViews = createWatchViews({ show: (id, text) => board.show(board.keyOf(id), text), countdown: defaultRenderer, ...(options.clock !== undefined ? { clock: options.clock } : {}), ...(resumed !== undefined ? { resumed } : {}) });
  const onEvent = eventHandler(board, { doc, defaultRenderer, joined: options.joined === true, watchViews });

  // Gate conditions (`gate.condition`), in-flight decisions (`step.in-flight`) and follow-up questions
  // (`step.refused`) belong to the task of the gate or step they are about.
  const taskOf = (id: string) => {
    if (id === 'rollback' && doc.rollback !== undefined) return taskFor(AUTHORIZE_KEY).promise;
    const owner = id.includes('.') ? id.slice(0, id.indexOf('.')) : id;
    return taskFor(board.keyOf(owner)).promise;
  };
  const prompter = options.interactive ? createTaskPrompter(taskOf, options.signal) : undefined;

  return {
    onEvent,
    prompter,
    run: async () => {
      await listr.run();
    },
  };
}
