// The task list (listr2): phases as groups, steps as tasks, driven by engine events; it owns the terminal, so prompts go through it.
import { Listr, ListrLogger, type ListrTask } from 'listr2';
import type { EventOf, GateCondition, RunEvent, StepOutcome } from '../engine/events.js';
import { inertOutputLine } from '../inert.js';
import type { RunState } from '../engine/state.js';
import type { Clock, Prompter } from '../ports/types.js';
import { createWatchViews } from './watch-view.js';
import { formatDuration, formatOffset, parseOffset } from '../runbook/duration.js';
import { phaseTitle, roleLabel, stepTitle } from '../runbook/labels.js';
import { gateId, type PhaseDoc, type RunbookDoc, type StepDoc } from '../runbook/types.js';
import { Deferred, deferredIn } from './deferred.js';
import { formatCondition } from './evidence.js';
import { inertTask } from './listr-inert.js';
import { afterForwardGroups, AUTHORIZE_KEY, lateFinallyKey, rollbackKey } from './listr-rollback.js';
import { SCREEN_OPTIONS, screenRenderer } from './listr-screen.js';
import { screenTrim } from './screen-trim.js';
import { createTaskPrompter, type Task } from './listr-prompt.js';
import { answerCredit, teamLine } from './team-lines.js';
import { showAuthorization, showGateEnding, showStepEnding, type Ending, type GateEnding, type Handled } from './task-endings.js';

/** `handled`: what a phase step's failure led to (on_failure), when the run went on past it. */

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


/**
 * A line under a task that is still going: listr2's renderer drops a finished task's output buffer, and writing to it
 * then throws (a joining terminal draws events in bursts, so a late line can find its task finished).
 */
function setOutput(task: Task, line: string): void {
  if (task.task.hasFinalized()) return;
  task.output = line;
}

export function createListrReporter(doc: RunbookDoc, options: ListrReporterOptions): ListrReporter {
  const steps = new Map<string, Deferred<Ending>>();
  const gates = new Map<string, Deferred<GateEnding>>();
  const tasks = new Map<string, Deferred<Task>>();
  const phases = new Map<string, Deferred<boolean>>();
  /** `authorize`: the rollback waits for the `rollback.authorize` role first (its question is drawn in the Rollback group). */
  const rollbackStart = new Deferred<{ phases: string[]; authorize?: EventOf<'rollback-requested'> } | undefined>();
  const authorization = new Deferred<EventOf<'rollback-authorized'> | undefined>();
  /** The phase whose `finally:` steps run after it stopped (failed, NO-GO, rolled back); undefined when none does. */
  const lateFinally = new Deferred<string | undefined>();
  /** The task key of each step's latest start. */
  const activeKey = new Map<string, string>();
  /** Phases whose group has ended (phase-finished, or ended in an earlier session). */
  const endedPhases = new Set<string>();
  /** Why the phases not yet reached will not run (a rollback has begun), once the forward path is over. */
  let forwardOver: string | undefined;

  /** Who answered each step's or gate's prompt, when the line should say (a team run, issue 14). */
  const credits = new Map<string, string>();
  const taskFor = (id: string) => deferredIn(tasks, id);
  const stepEnding = (id: string) => deferredIn(steps, id);
  const gateEnding = (id: string) => deferredIn(gates, id);
  const phaseStart = (id: string) => deferredIn(phases, id);

  /**
   * The forward path is over (a rollback began, or the run ended): phases not reached are skipped at once, and steps
   * and gates still waiting in a phase's group will not run. The task list then reaches the Rollback group while the
   * rollback runs, so its steps show live and its prompts are drawn (a rollback's confirm once waited forever behind
   * the spinner of a phase that was never going to start).
   */
  const endForward = (why: string) => {
    forwardOver ??= why;
    for (const phase of doc.phases) {
      phaseStart(phase.id).resolve(false);
      endPhaseGroup(phase, why);
    }
  };
  /** What is left of a phase's group will not run there. */
  const endPhaseGroup = (phase: PhaseDoc, why?: string) => {
    endedPhases.add(phase.id);
    for (const step of [...(phase.steps ?? []), ...(phase.finally ?? [])]) stepEnding(step.id).resolve({ kind: 'not-run', ...(why ? { why } : {}) });
    if (phase.gate) gateEnding(gateId(phase)).resolve({ kind: 'not-run', ...(why ? { why } : {}) });
  };

  // A resumed run: what an earlier session finished is shown as such, never re-run.
  const resumed = options.resumed;
  if (resumed !== undefined) {
    for (const id of resumed.phases.keys()) phaseStart(id).resolve(true);
    const resumedOutcome = (o: StepOutcome, handled: Handled | undefined): Ending => ({
      kind: 'outcome',
      outcome: { ...o, resumedFrom: o.resumedFrom ?? 'an earlier session' },
      ...(handled !== undefined ? { handled } : {}),
    });
    for (const [id, s] of resumed.steps) {
      if (s.outcome === undefined || s.outcome.status === 'interrupted') continue;
      const late = s.finally === true && resumed.phases.get(s.phaseId)?.status === 'failed';
      stepEnding(s.rollback ? rollbackKey(id) : late ? lateFinallyKey(id) : id).resolve(resumedOutcome(s.outcome, s.failure));
      if (late) lateFinally.resolve(s.phaseId);
    }
    for (const [id, g] of resumed.gates) {
      if (g.decision !== undefined) gateEnding(id).resolve({ kind: 'decided', decision: g.decision });
    }
    if (resumed.rollback !== undefined) {
      // Resumed mid-rollback: the engine finishes it without announcing it again.
      rollbackStart.resolve({ phases: resumed.rollback.phases });
      endForward('the run is rolling back');
    }
  }

  /**
   * The default renderer replaces a skipped or failed task's title with the message, so the message repeats it;
   * the plain renderer prints both, so there the message is only what happened.
   */
  const defaultRenderer = options.interactive && options.screen !== false;
  const said = (title: string, what: string) => (defaultRenderer ? `${title}: ${what}` : what);

  /** Task keys of failed steps the run went on past (on_failure continue or gate). */
  const goesOn = new Set<string>();
  /** Phase steps that failed and wait for what their failure leads to (failure-handled): their task shows the question. */
  const awaitingHandling = new Map<string, StepOutcome>();
  const settleAwaiting = () => {
    for (const [key, outcome] of awaitingHandling) stepEnding(key).resolve({ kind: 'outcome', outcome });
    awaitingHandling.clear();
  };
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
        const shown = showStepEnding(title, ending, { said, plain: !defaultRenderer, ...(options.answersFile !== undefined ? { answersFile: options.answersFile } : {}), ...(credits.has(key) ? { credit: credits.get(key)! } : {}) });
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
        const shown = showGateEnding(id, task.title, ending, evaluated.get(id) ?? [], { said, dryRun: options.dryRun === true, ...(options.answersFile !== undefined ? { answersFile: options.answersFile } : {}), ...(credits.has(id) ? { credit: credits.get(id)! } : {}) });
        if (shown.kind === 'title') task.title = shown.title;
        else if (shown.kind === 'skip') task.skip(shown.message);
        else throw new Error(shown.message);
      },
      rendererOptions: { outputBar: Infinity, persistentOutput: false },
    } as ListrTask;
  };

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
          task.skip(said(title, forwardOver !== undefined ? `not run (${forwardOver})` : 'not run'));
          return;
        }
        // A failed step or a NO-GO ends the phase (the engine stops there too), and the phase shows ✖.
        const list = task.newListr(children.map(inertTask), { concurrent: false, exitOnError: true });
        if (defaultRenderer) keepToScreen(list);
        return list;
      },
    } as ListrTask;
  });

  /** Each gate's conditions as last evaluated: the NO-GO line names those that did not hold, with their values. */
  const evaluated = new Map<string, GateCondition[]>();
  // While a frame is taller than the screen, the oldest finished steps of the phase on screen leave it.
  const { keep: keepToScreen, makeRoom } = screenTrim();

  phaseTasks.push(
    ...afterForwardGroups({
      doc,
      stepTask,
      rollbackStart: rollbackStart.promise,
      lateFinally: lateFinally.promise,
      authorization: authorization.promise,
      defaultRenderer,
      said,
      taskFor,
      ...(options.answersFile !== undefined ? { answersFile: options.answersFile } : {}),
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

  /** Steps started and not yet finished, by task key. */
  const running = new Set<string>();
  // Feedback at once for the first Ctrl-C or SIGTERM: stopping a process tree may take the whole kill grace period,
  // and whatever the CLI writes to stderr meanwhile is held back by listr2 until the task list ends.
  options.signal?.addEventListener(
    'abort',
    () => {
      const signal = typeof options.signal?.reason === 'string' ? options.signal.reason : 'interrupt';
      for (const key of running) {
        void taskFor(key).promise.then((task) => (task.output = `${signal}: stopping this step and its process tree… (Ctrl-C again to stop at once)`));
      }
    },
    { once: true },
  );

  const keyOf = (stepId: string) => activeKey.get(stepId) ?? stepId;
  /** A prompt's task: the step or gate its id starts with (`qa-ready.refused` → qa-ready). */
  const promptKey = (promptId: string) => keyOf(promptId.includes('.') ? promptId.slice(0, promptId.indexOf('.')) : promptId);
  const show = (key: string, line: string) => void taskFor(key).promise.then((task) => setOutput(task, line));
  /** Plain mode: the last quarter of each step's progress printed (a retry starts over). */
  const quartersShown = new Map<string, number>();
  // A watch at work shows its window: ticks done of planned, the last tick's values, the time to the next tick.
  const watchViews = createWatchViews({ show: (id, text) => show(keyOf(id), text), countdown: defaultRenderer, ...(options.clock !== undefined ? { clock: options.clock } : {}), ...(resumed !== undefined ? { resumed } : {}) });

  const onEvent = (event: RunEvent) => {
    switch (event.kind) {
      case 'phase-started':
        phaseStart(event.phaseId).resolve(true);
        break;
      case 'phase-finished': {
        const phase = doc.phases.find((p) => p.id === event.phaseId);
        if (phase !== undefined) endPhaseGroup(phase);
        break;
      }
      case 'step-started': {
        // A `finally:` step of a phase whose group has ended (it stopped) runs in the Finally group.
        const late = event.finally === true && (endedPhases.has(event.phaseId) || forwardOver !== undefined);
        const key = event.rollback ? rollbackKey(event.stepId) : late ? lateFinallyKey(event.stepId) : event.stepId;
        if (late) lateFinally.resolve(event.phaseId);
        activeKey.set(event.stepId, key);
        running.add(key);
        quartersShown.delete(key);
        break;
      }
      // The engine runs ahead of listr2: a step's first lines often arrive before listr2 has started its task, so they
      // wait for the task rather than being dropped (a step that prints one line and then works for minutes showed nothing).
      case 'step-output':
        show(keyOf(event.stepId), inertOutputLine(event.line));
        break;
      case 'step-progress': {
        const key = keyOf(event.stepId);
        if (!defaultRenderer) {
          // Plain lines stay: one per quarter, not one per sample (290 of 546 lines of a phase65 log were `N/M samples`).
          const quarter = event.total > 0 ? Math.floor((event.done * 4) / event.total) : 0;
          if (quarter <= (quartersShown.get(key) ?? 0) || event.done >= event.total) break;
          quartersShown.set(key, quarter);
        }
        show(key, `${event.done}/${event.total} ${event.unit}`);
        break;
      }
      case 'step-retrying':
        quartersShown.delete(keyOf(event.stepId));
        show(keyOf(event.stepId), `attempt ${event.attempt} in ${formatDuration(event.delayMs)}: ${event.reason}`);
        break;
      case 'escalation': {
        const key = event.stepId !== undefined ? keyOf(event.stepId) : undefined;
        const d = key !== undefined ? tasks.get(key) : undefined;
        const line = `⚠ ${event.rule}: escalated to ${event.to.map((t) => (t.person ? `${t.title} · ${t.person}` : t.title)).join(', ')}`;
        if (d?.settled) void d.promise.then((task) => setOutput(task, line));
        break;
      }
      case 'watch-started':
      case 'watch-tick':
        watchViews.onEvent(event);
        break;
      case 'step-finished': {
        const key = keyOf(event.stepId);
        running.delete(key);
        watchViews.onEvent(event);
        // A phase step's failure is followed by what it leads to (its owner may be asked, under its task).
        if (!event.rollback && event.finally !== true && (event.outcome.status === 'failed' || event.outcome.status === 'inconclusive')) {
          awaitingHandling.set(key, event.outcome);
          break;
        }
        stepEnding(key).resolve({ kind: 'outcome', outcome: event.outcome });
        break;
      }
      case 'failure-handled': {
        const key = keyOf(event.stepId);
        const outcome = awaitingHandling.get(key);
        if (outcome === undefined) break;
        awaitingHandling.delete(key);
        stepEnding(key).resolve({ kind: 'outcome', outcome, handled: { action: event.action, ...(event.gateId !== undefined ? { gateId: event.gateId } : {}) } });
        break;
      }
      case 'interrupted':
        settleAwaiting();
        break;
      case 'gate-evaluated':
        evaluated.set(event.gateId, event.conditions);
        // A holding condition is its name: its whole expression (three wrapped lines for a ternary at 80 columns) pushed
        // the phase off a 24-line screen. The failing ones keep their values, the evidence a decision needs.
        show(event.gateId, event.conditions.map((c) => (c.ok ? `✔ ${c.name}` : formatCondition(c))).join('\n'));
        break;
      case 'gate-skipped':
        gateEnding(event.gateId).resolve({ kind: 'skipped', why: event.reason });
        break;
      case 'gate-decided':
        gateEnding(event.gateId).resolve({
          kind: 'decided',
          decision: event.decision,
          ...(event.note !== undefined ? { note: event.note } : {}),
          ...(event.reason !== undefined ? { reason: event.reason } : {}),
          ...(event.answeredFrom === 'answers-file' ? { fromFile: true } : {}),
        });
        break;
      // A team run (issue 14): whom the run waits for, and who answered at another terminal.
      case 'prompt-opened':
      case 'prompt-offered':
      case 'prompt-answered':
      case 'answer-refused':
      case 'prompt-closed': {
        const line = teamLine(doc, event);
        if (line !== undefined) show(promptKey(event.promptId), line);
        const credit = event.kind === 'prompt-answered' && !event.promptId.includes('.') ? answerCredit(doc, event, options.joined === true) : undefined;
        if (credit !== undefined) credits.set(promptKey(event.promptId), credit);
        break;
      }
      case 'rollback-requested':
        settleAwaiting();
        rollbackStart.resolve({ phases: event.phases, authorize: event });
        endForward('the run is about to roll back');
        break;
      case 'rollback-authorized':
        authorization.resolve(event);
        break;
      case 'rollback-started':
        settleAwaiting();
        rollbackStart.resolve({ phases: event.phases });
        endForward('the run is rolling back');
        break;
      case 'run-finished':
        watchViews.onEvent(event);
        settleAwaiting();
        authorization.resolve(undefined);
        endForward('the run ended');
        for (const step of doc.phases.flatMap((p) => [...(p.rollback ?? []).map((s) => rollbackKey(s.id)), ...(p.finally ?? []).map((s) => lateFinallyKey(s.id))])) {
          stepEnding(step).resolve({ kind: 'not-run' });
        }
        rollbackStart.resolve(undefined);
        lateFinally.resolve(undefined);
        break;
      default:
        break;
    }
  };

  // Gate conditions (`gate.condition`), in-flight decisions (`step.in-flight`) and follow-up questions
  // (`step.refused`) belong to the task of the gate or step they are about.
  const taskOf = (id: string) => {
    if (id === 'rollback' && doc.rollback !== undefined) return taskFor(AUTHORIZE_KEY).promise;
    const owner = id.includes('.') ? id.slice(0, id.indexOf('.')) : id;
    return taskFor(keyOf(owner)).promise;
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

