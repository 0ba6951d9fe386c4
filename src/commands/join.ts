// `deployctl join [--run RUN_ID] --as P` (issue 14): another terminal's view of a live run, the host's task list drawn from the state store's subscription, asking only this person's prompts; the first valid answer wins, and every other terminal shows who answered.
import type { Io } from '../cli/io.js';
import { CliError, ExitCode } from '../errors.js';
import type { RunEvent } from '../engine/events.js';
import { applyEvent, initialRunState, type RunState } from '../engine/state.js';
import type { Subscription } from '../ports/state/store.js';
import { PromptAbortedError, PromptCancelledError, type PromptRequest } from '../ports/types.js';
import { signAnswer } from '../record/answers.js';
import { createListrReporter } from '../reporters/listr.js';
import { deployctlCommand } from './run-hints.js';
import { claimPrompt } from '../team/claimer.js';
import { judgeClaim } from '../team/judge.js';
import { joinerIdentity, openLiveRun, type TeamCommandOptions, type TeamPorts } from '../team/live-run.js';
import { roleOfPrompt } from '../team/prompts.js';

export interface JoinPorts extends TeamPorts {
  io: Io;
  /** Ctrl-C / SIGTERM. */
  signal: AbortSignal;
  /** stdin and stdout are a terminal. */
  terminal: boolean;
}

export async function joinCommand(options: TeamCommandOptions, ports: JoinPorts): Promise<number> {
  if (!ports.terminal) {
    throw new CliError('deployctl join draws the run and asks its questions at a terminal, and this is none', { hint: 'answer from a script with: deployctl answer STEP_ID --as PERSON --yes (or --value V)' });
  }
  const run = await openLiveRun(options, ports, `${deployctlCommand(ports.env)} join`);
  let subscription: Subscription | undefined;
  try {
    const identity = await joinerIdentity(run, options, ports, 'join', null);
    const me = identity.person;
    ports.io.err(`deployctl: joined run ${run.runId} of ${run.doc.name} as ${me.name} (${me.id}); you are asked the prompts of the roles you hold. Ctrl-C leaves (the run goes on).`);

    const reporter = createListrReporter(run.doc, { interactive: true, screen: true, signal: ports.signal, joined: true });
    // Drawn from the whole journal, as the subscription delivers it from its first event.
    let state: RunState = initialRunState;
    let head = run.head;
    /** The prompts asked here now, each with what closes its question. */
    const asking = new Map<string, AbortController>();
    let failure: unknown;
    const leave = new AbortController();

    const ask = (promptId: string, slot: number, request: PromptRequest) => {
      if (asking.has(promptId)) return;
      const close = new AbortController();
      asking.set(promptId, close);
      const role = request.role ?? roleOfPrompt(run.doc, promptId);
      void (async () => {
        try {
          const answer = await reporter.prompter!.ask(request, { signal: close.signal });
          const at = Date.now();
          await claimPrompt({
            store: run.store,
            runId: run.runId,
            startSlot: slot,
            claimFor: (k) => ({
              promptId: k === 1 ? promptId : `${promptId}~${k}`,
              by: me.id,
              answer,
              at,
              proof: signAnswer({ run_id: run.runId, prompt_id: promptId, slot: k, answer, at: new Date(at).toISOString(), journal_head: head, person: me.id, via: 'join' }, identity.privateKey),
            }),
            judge: (stored, k) => judgeClaim(stored, { promptId, slot: k, ...(role !== undefined ? { role } : {}), request }, { runId: run.runId, doc: run.doc, people: run.people, host: state.team?.host }),
          });
          // Won or lost, the host's journal says who answered; the task list shows it from there.
        } catch (error) {
          // Closed: someone else answered (PromptCancelledError), or Ctrl-C here (PromptAbortedError).
          if (error instanceof PromptCancelledError) return;
          if (error instanceof PromptAbortedError) {
            if (ports.signal.aborted) leave.abort();
            return;
          }
          failure ??= error;
          leave.abort();
        } finally {
          if (asking.get(promptId) === close) asking.delete(promptId);
        }
      })();
    };

    /** Ask what is open and offered to this person (the task list draws it under its step or gate). */
    const askOpen = () => {
      for (const [promptId, prompt] of state.team?.prompts ?? []) {
        if (prompt.open && prompt.offeredTo.includes(me.id) && prompt.request !== undefined) ask(promptId, prompt.slot, prompt.request);
      }
    };
    let caughtUp = false;
    const onEvent = (event: RunEvent, hash: string) => {
      state = applyEvent(state, event);
      head = hash;
      reporter.onEvent(event);
      if (event.kind === 'prompt-answered' || event.kind === 'prompt-closed') {
        // Closed now, so that the prompt asked again (the next approval) is asked here again too.
        asking.get(event.promptId)?.abort();
        asking.delete(event.promptId);
      }
      if (event.kind === 'run-finished') leave.abort();
      if (caughtUp && (event.kind === 'prompt-opened' || event.kind === 'prompt-offered')) askOpen();
    };
    subscription = await run.store.subscribe(run.runId, { afterSeq: 0, events: true, claims: false }, (update) => {
      if (update.kind === 'event') onEvent(update.event, update.hash);
      else if (update.kind === 'problem') ports.io.err(`deployctl: warning: ${update.message}`);
    });
    caughtUp = true;
    askOpen();
    const rendering = reporter.run();
    const stop = () => leave.abort();
    ports.signal.addEventListener('abort', stop, { once: true });
    await new Promise<void>((resolve) => (leave.signal.aborted ? resolve() : leave.signal.addEventListener('abort', () => resolve(), { once: true })));
    for (const close of asking.values()) close.abort();
    if (state.finished !== undefined) await rendering;
    if (failure !== undefined) throw failure;
    if (state.finished !== undefined) {
      ports.io.err(`deployctl: run ${run.runId} ended: ${state.finished.status}`);
      return ExitCode.ok;
    }
    ports.io.err(`deployctl: left run ${run.runId}; it goes on (join again with: ${deployctlCommand(ports.env)} join --run ${run.runId} --as ${me.id})`);
    return ExitCode.interrupted;
  } finally {
    await subscription?.close();
    await run.store.close();
  }
}
