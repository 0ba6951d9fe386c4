// The task list (listr2): phases as groups, steps as tasks, driven by engine events; it owns the terminal, so prompts go through it.
import type { ListrInquirerPromptAdapter } from '@listr2/prompt-adapter-inquirer';
import { Listr, ListrLogger, type ListrTask, type ListrTaskWrapper } from 'listr2';
import type { RunEvent, StepOutcome } from '../engine/events.js';
import { faultPoint } from '../faults.js';
import { inert, inertOutputLine } from '../inert.js';
import type { RunState } from '../engine/state.js';
import { discardTypeAhead, promptInput } from '../ports/terminal.js';
import { PromptAbortedError, type PromptAnswer, type Prompter, type PromptRequest } from '../ports/types.js';
import { formatDuration, formatOffset, parseOffset } from '../runbook/duration.js';
import { phaseTitle, roleLabel, stepTitle } from '../runbook/labels.js';
import { gateId, type RunbookDoc, type StepDoc } from '../runbook/types.js';

// listr2's task type carries renderer generics we never vary.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Task = ListrTaskWrapper<unknown, any, any>;

class Deferred<T> {
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  settled = false;
  constructor() {
    this.promise = new Promise<T>((resolve) => {
      this.resolve = (value) => {
        if (this.settled) return;
        this.settled = true;
        resolve(value);
      };
    });
  }
}

/** The deferred kept under `id`, created on first use: whichever comes first, the event or the task, finds the same one. */
function deferredIn<T>(map: Map<string, Deferred<T>>, id: string): Deferred<T> {
  let d = map.get(id);
  if (d === undefined) {
    d = new Deferred<T>();
    map.set(id, d);
  }
  return d;
}

type Ending = { kind: 'outcome'; outcome: StepOutcome } | { kind: 'not-run' };
type GateEnding = { kind: 'decided'; decision: 'go' | 'no-go'; note?: string } | { kind: 'not-run' };

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
  /**
   * The run's interrupt signal. Ctrl-C at a prompt arrives as a keypress (the prompt reads a raw terminal), but
   * SIGTERM, or SIGINT sent with kill, only aborts this: an open prompt must then close, or the run waits forever.
   */
  signal?: AbortSignal;
}

/**
 * Every string handed to listr2 (titles, skip and failure messages, output lines) passes through here on its way
 * in: runbook titles, reasons, answers and output are untrusted, and listr2 writes them to the terminal as they are.
 * One line each (a reason with a newline would break the task list's layout anyway).
 */
const shown = inert;

export function createListrReporter(doc: RunbookDoc, options: ListrReporterOptions): ListrReporter {
  const steps = new Map<string, Deferred<Ending>>();
  const gates = new Map<string, Deferred<GateEnding>>();
  const tasks = new Map<string, Deferred<Task>>();
  const rollbackStart = new Deferred<{ phases: string[] } | undefined>();
  /** The task key of each step's latest start: a rollback step's prompts belong to its task in the Rollback group. */
  const activeKey = new Map<string, string>();

  const taskFor = (id: string) => deferredIn(tasks, id);
  const stepEnding = (id: string) => deferredIn(steps, id);
  const gateEnding = (id: string) => deferredIn(gates, id);

  const phases = new Map<string, Deferred<boolean>>();
  const phaseStart = (id: string) => deferredIn(phases, id);
  for (const id of options.resumed?.phases.keys() ?? []) phaseStart(id).resolve(true);

  // A resumed run: steps finished in an earlier session are shown as such, never re-run.
  for (const [id, s] of options.resumed?.steps ?? []) {
    if (s.outcome !== undefined && s.outcome.status !== 'interrupted' && !s.rollback) {
      stepEnding(id).resolve({ kind: 'outcome', outcome: { ...s.outcome, resumedFrom: s.outcome.resumedFrom ?? 'an earlier session' } });
    }
  }
  for (const [id, g] of options.resumed?.gates ?? []) {
    if (g.decision !== undefined) gateEnding(id).resolve({ kind: 'decided', decision: g.decision });
  }

  /**
   * The default renderer replaces a skipped or failed task's title with the message, so the message repeats it;
   * the plain renderer prints both, so there the message is only what happened.
   */
  const defaultRenderer = options.interactive && options.screen !== false;
  const said = (title: string, what: string) => shown(defaultRenderer ? `${title}: ${what}` : what);

  const stepTask = (step: StepDoc, rollback: boolean): ListrTask => {
    const title = shown(`${roleLabel(step.owner, doc.roles[step.owner])} ${stepTitle(step)}`);
    const key = rollback ? `rollback:${step.id}` : step.id;
    return {
      title,
      task: async (_ctx, task: Task) => {
        taskFor(key).resolve(task);
        const ending = await stepEnding(key).promise;
        if (ending.kind === 'not-run') {
          task.skip(said(title, 'not run'));
          return;
        }
        const { outcome } = ending;
        const details = [outcome.durationMs > 0 ? formatDuration(outcome.durationMs) : '', outcome.attempts > 1 ? `${outcome.attempts} attempts` : ''].filter((d) => d !== '');
        const suffix = details.length > 0 ? ` (${details.join(', ')})` : '';
        if (outcome.resumedFrom !== undefined) {
          task.skip(said(title, `${outcome.status} in ${outcome.resumedFrom}`));
        } else if (outcome.status === 'skipped') {
          task.skip(said(title, outcome.dryRun ? `would run: ${outcome.command ?? outcome.reason ?? ''}` : (outcome.reason ?? 'skipped')));
        } else if (outcome.status === 'succeeded') {
          task.title = `${title}${suffix}`;
        } else {
          throw new Error(said(`${title}${suffix}`, outcome.reason ?? outcome.status));
        }
      },
      rendererOptions: { outputBar: 5, persistentOutput: false },
    } as ListrTask;
  };

  const phaseTasks: ListrTask[] = doc.phases.map((phase) => {
    const at = phase.at !== undefined ? `${formatOffset(parseOffset(phase.at) ?? 0)}  ` : '';
    const children: ListrTask[] = (phase.steps ?? []).map((step) => stepTask(step, false));
    if (phase.gate) {
      const id = gateId(phase);
      children.push({
        title: shown(`${roleLabel(phase.gate.owner, doc.roles[phase.gate.owner])} Go/no-go: ${phase.gate.title ?? id}`),
        task: async (_ctx, task: Task) => {
          taskFor(id).resolve(task);
          const ending = await gateEnding(id).promise;
          if (ending.kind === 'not-run') task.skip(shown(`go/no-go ${id}: not run`));
          // Keep the `[Role · Person]` title on a NO-GO too: who decided is the point of the line.
          else if (ending.decision === 'no-go') throw new Error(`${task.title}: NO-GO${ending.note ? ` (${shown(ending.note)})` : ''}`);
          else task.title = `${task.title}: GO${ending.note ? ` (${shown(ending.note)})` : ''}`;
        },
        rendererOptions: { outputBar: Infinity, persistentOutput: true },
      } as ListrTask);
    }
    const title = shown(`${at}${phaseTitle(phase)}`);
    return {
      title,
      task: async (_ctx, task: Task) => {
        // A phase the run never reached is one line, not a list of skipped steps.
        if (!(await phaseStart(phase.id).promise)) {
          task.skip(said(title, 'not run'));
          return;
        }
        // A failed step or a NO-GO ends the phase (the engine stops there too), and the phase shows ✖.
        return task.newListr(children, { concurrent: false, exitOnError: true });
      },
    } as ListrTask;
  });

  phaseTasks.push({
    title: 'Rollback',
    task: async (_ctx, task: Task) => {
      const started = await rollbackStart.promise;
      if (started === undefined) {
        task.skip(said('Rollback', 'not needed'));
        return;
      }
      const children = doc.phases
        .filter((p) => started.phases.includes(p.id))
        .reverse()
        .flatMap((p) => (p.rollback ?? []).map((s) => stepTask(s, true)));
      task.title = shown(`Rollback (${started.phases.join(', ')})`);
      return task.newListr(children, { concurrent: false, exitOnError: false });
    },
  } as ListrTask);

  const listr = new Listr(phaseTasks, {
    concurrent: false,
    exitOnError: false,
    registerSignalListeners: false,
    renderer: defaultRenderer ? 'default' : 'simple',
    fallbackRenderer: 'simple',
    rendererOptions: { collapseSubtasks: true, showSkipMessage: true, collapseSkips: true, formatOutput: 'wrap', removeEmptyLines: true },
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

  const onEvent = (event: RunEvent) => {
    switch (event.kind) {
      case 'phase-started':
        phaseStart(event.phaseId).resolve(true);
        break;
      case 'step-started':
        activeKey.set(event.stepId, event.rollback ? `rollback:${event.stepId}` : event.stepId);
        running.add(event.rollback ? `rollback:${event.stepId}` : event.stepId);
        break;
      // The engine runs ahead of listr2: a step's first lines often arrive before listr2 has started its task, so they
      // wait for the task rather than being dropped (a step that prints one line and then works for minutes showed nothing).
      case 'step-output': {
        void taskFor(activeKey.get(event.stepId) ?? event.stepId).promise.then((task) => (task.output = inertOutputLine(event.line)));
        break;
      }
      case 'step-retrying': {
        void taskFor(activeKey.get(event.stepId) ?? event.stepId).promise.then((task) => (task.output = shown(`attempt ${event.attempt} in ${formatDuration(event.delayMs)}: ${event.reason}`)));
        break;
      }
      case 'escalation': {
        const key = event.stepId !== undefined ? (activeKey.get(event.stepId) ?? event.stepId) : undefined;
        const d = key !== undefined ? tasks.get(key) : undefined;
        const line = shown(`⚠ ${event.rule}: escalated to ${event.to.map((t) => (t.person ? `${t.title} · ${t.person}` : t.title)).join(', ')}`);
        if (d?.settled) void d.promise.then((task) => (task.output = line));
        break;
      }
      case 'step-finished':
        running.delete(event.rollback ? `rollback:${event.stepId}` : event.stepId);
        stepEnding(event.rollback ? `rollback:${event.stepId}` : event.stepId).resolve({ kind: 'outcome', outcome: event.outcome });
        break;
      case 'gate-evaluated': {
        const lines = event.conditions.map((c) => shown(`${c.ok ? '✔' : '✖'} ${c.name}: ${c.kind === 'confirm' ? c.text : `${c.text} → ${JSON.stringify(c.value)}`}${c.error ? ` (${c.error})` : ''}`));
        void taskFor(event.gateId).promise.then((task) => (task.output = lines.join('\n')));
        break;
      }
      case 'gate-decided':
        gateEnding(event.gateId).resolve({ kind: 'decided', decision: event.decision, ...(event.note !== undefined ? { note: event.note } : {}) });
        break;
      case 'rollback-started':
        rollbackStart.resolve({ phases: event.phases });
        break;
      case 'run-finished':
        for (const step of doc.phases.flatMap((p) => [...(p.steps ?? []).map((s) => s.id), ...(p.rollback ?? []).map((s) => `rollback:${s.id}`)])) {
          stepEnding(step).resolve({ kind: 'not-run' });
        }
        for (const phase of doc.phases) {
          phaseStart(phase.id).resolve(false);
          if (phase.gate) gateEnding(gateId(phase)).resolve({ kind: 'not-run' });
        }
        rollbackStart.resolve(undefined);
        break;
      default:
        break;
    }
  };

  const prompter: Prompter | undefined = options.interactive
    ? {
        async ask(request: PromptRequest): Promise<PromptAnswer> {
          // Gate conditions (`gate.condition`) and in-flight decisions (`step.in-flight`) belong to the gate's or step's task.
          const owner = request.id.includes('.') ? request.id.slice(0, request.id.indexOf('.')) : request.id;
          const task = await taskFor(activeKey.get(owner) ?? owner).promise;
          // Loaded on the first question: a run without a terminal never needs inquirer.
          const { ListrInquirerPromptAdapter: Adapter } = await import('@listr2/prompt-adapter-inquirer');
          if (options.signal?.aborted) throw new PromptAbortedError();
          faultPoint('at-prompt');
          discardTypeAhead();
          const adapter = task.prompt(Adapter);
          const cancel = () => adapter.cancel();
          options.signal?.addEventListener('abort', cancel, { once: true });
          const keys = promptInput(cancel);
          try {
            return await askWith(adapter, request, keys.input);
          } catch (error) {
            if (error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError')) throw new PromptAbortedError();
            throw error;
          } finally {
            keys.dispose();
            options.signal?.removeEventListener('abort', cancel);
          }
        },
      }
    : undefined;

  return {
    onEvent,
    prompter,
    run: async () => {
      await listr.run();
    },
  };
}

async function askWith(adapter: ListrInquirerPromptAdapter, request: PromptRequest, keys: NodeJS.ReadableStream): Promise<PromptAnswer> {
  const { checkbox, confirm, input, select } = await import('@inquirer/prompts');
  // Questions, items and choices come from the runbook: inert like everything else the terminal shows.
  const message = shown(`${request.who} ${request.message}`);
  const context = { input: keys };
  switch (request.kind) {
    case 'confirm':
      return adapter.run(confirm, { message, default: false }, context);
    case 'checklist':
      return (await adapter.run(checkbox, {
        message,
        choices: request.items.map((item) => ({ value: item, name: shown(item), checked: request.ticked?.includes(item) ?? false })),
        instructions: ' (space to tick, a to tick all, enter when done)',
        loop: false,
      }, context)) as string[];
    case 'ask':
      return adapter.run(input, { message, validate: (value: string) => (value.trim() !== '' ? true : 'an answer is required') }, context);
    case 'decide':
      return (await adapter.run(select, {
        message,
        choices: request.choices.map((c) => ({ value: c.value, name: shown(c.label), ...(c.disabled !== undefined ? { disabled: shown(c.disabled) } : {}) })),
      }, context)) as string;
  }
}
