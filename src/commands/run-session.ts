// One session of a run, wired while it holds the runbook's lock: the journal, the write-ahead effects, the task list, the notifier, the answer desk, and the one emit that feeds them all, masked and in order.
import * as path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { missingAnswers, type Answers } from '../engine/answers.js';
import { definedEnv } from '../engine/context.js';
import { journalPolicy, type RunEvent } from '../engine/events.js';
import { messages } from '../engine/messages.js';
import { StopCause } from '../engine/run-context.js';
import type { Masker } from '../engine/secrets.js';
import { applyEvent, initialRunState, type RunState } from '../engine/state.js';
import { ExitCode } from '../errors.js';
import { faultPoint } from '../faults.js';
import { createNotifier, type Notifier } from '../notify/notifier.js';
import { appendToFile } from '../ports/fs.js';
import { isFileFailure } from '../ports/fs-failure.js';
import type { StateDir } from '../ports/state-dir.js';
import type { JournalWriter, StateStore } from '../ports/state/store.js';
import type { Exec, HttpSend } from '../ports/types.js';
import type { AnswersFileRef } from '../record/answers.js';
import { evaluateSuccessMetrics, metricVerdict } from '../record/success-metrics.js';
import { createListrReporter, type ListrReporter } from '../reporters/listr.js';
import type { LoadedRunbook } from '../runbook/load.js';
import type { HostDesk } from '../team/desk.js';
import type { RunToResume } from './run-history.js';
import { deployctlCommand, type RunHints } from './run-hints.js';
import { notRun, notSent, writeAhead } from './run-state.js';
import { maskEvent, openHostDesk, type RunTeam } from './run-team.js';
import type { RunTime } from './run-time.js';
import type { RunOptions, RunPorts } from './run.js';

/** A run that holds its runbook's lock: everything decided before it starts. */
export interface LockedRun {
  file: string;
  runbook: LoadedRunbook;
  options: RunOptions;
  ports: RunPorts;
  dir: StateDir;
  /** The run's state; undefined for a dry run, which keeps none. */
  store: StateStore | undefined;
  /** Aborted when the lock can no longer be trusted (its database connection was lost). */
  lost: AbortSignal | undefined;
  interactive: boolean;
  dryRun: boolean;
  statusEveryMs: number | undefined;
  answers: Answers;
  /** `--answers`: the file as given and the sha256 of its bytes (a person at this terminal vouches for its answers). */
  answersFile?: AnswersFileRef;
  resumed: RunToResume | undefined;
  runId: string;
  vars: Record<string, string | number | boolean>;
  operator: string;
  secretValues: string[];
  masker: Masker;
  signingKey: KeyObject | undefined;
  /** With people: the people and who is at this terminal. */
  team: RunTeam | undefined;
  /** --wait: without a terminal, how long other people's prompts wait for their answers. */
  waitMs: number | undefined;
  hints: RunHints;
  time: RunTime;
}

export interface RunSession {
  /** The run's stop: the user's interrupt, or the state lost under it. */
  signal: AbortSignal;
  /** Aborted when the state failed under the run (it then ends 1, not 130). */
  stateLost: AbortSignal;
  journal: JournalWriter | undefined;
  /** The effects, each waiting for its journal entry to be stored first. */
  exec: Exec;
  send: HttpSend;
  reporter: ListrReporter;
  notifier: Notifier;
  /** With people: every prompt goes through it (offered, claimed, signed, journaled). */
  desk: HostDesk | undefined;
  emit: (event: RunEvent) => void;
  /** The run as the journal and the record hold it: the masked events, folded. */
  recorded: () => RunState;
  /** A dry run: the messages a real run would send. */
  dryRunMessages: string[];
}

/** Open the journal and wire the session's parts to one emit; the desk, when there are people, has started. */
export async function openRunSession(run: LockedRun): Promise<RunSession> {
  const { runbook, options, ports, store, interactive, dryRun, statusEveryMs, answers, resumed, runId, operator, masker, signingKey, time, hints } = run;
  const { io, env } = ports;
  const { clock } = time;
  const { doc } = runbook;

  // The store can fail under a running run (the database gone, the lock's session lost): the run stops then, as on an
  // interrupt, and every effect waits for its journal entry to be stored first (write-ahead), so the journal a resume
  // reads never lags behind what was done.
  const stateLost = new AbortController();
  const stopForState = (error: unknown) => {
    if (stateLost.signal.aborted) return;
    io.err(`\ndeployctl: ${(error as Error).message}: stopping the run; the journal keeps every event stored until now`);
    // The run's reason says so (not "aborted at gate …"), and it ends 1, not 130: no signal stopped it.
    stateLost.abort(new StopCause(messages.stateLost(store?.directory === undefined ? 'database' : 'directory', (error as Error).message), ExitCode.failed));
  };
  if (run.lost?.aborted) stopForState(run.lost.reason);
  run.lost?.addEventListener('abort', () => stopForState(run.lost!.reason), { once: true });
  const signal = AbortSignal.any([ports.signal, stateLost.signal]);
  const journal = store === undefined ? undefined : await store.openJournal(runId, { runbook: doc.name }, stopForState);
  const exec = writeAhead(journal, ports.exec, notRun);
  const send = writeAhead(journal, ports.send, notSent);
  const reporter = createListrReporter(doc, {
    interactive,
    screen: ports.screen,
    rows: ports.rows,
    signal,
    dryRun,
    ...(options.answers !== undefined ? { answersFile: options.answers } : {}),
    ...(resumed ? { resumed: resumed.state } : {}),
    clock,
  });
  if (interactive && options.answers !== undefined) {
    const lacking = missingAnswers(doc, answers).length;
    io.err(
      `deployctl: answers from ${options.answers} are used (${answers.size} given)${lacking > 0 ? `; the ${lacking} it lacks are asked here` : '; it answers every question, so nothing is asked here'}`,
    );
  }
  // Everything the run says, as the journal and the record will hold it: masked, in order, from the engine and the notifier.
  let recorded: RunState = resumed?.state ?? initialRunState;
  const dryRunMessages: string[] = [];
  /** The first write the journal refused (a full disk): the run stops at the engine's next event, and says why. */
  let journalFailure: unknown;
  const notifier = createNotifier({
    doc,
    clock,
    deliveryClock: time.stepClock,
    send,
    appendFile: appendToFile,
    resolvePath: (f) => path.resolve(ports.cwd, f),
    env: definedEnv(env),
    // The notifier also emits from its timers, where a throw would escape as an uncaught exception: a journal that
    // cannot be written is remembered there and stops the run at the engine's next event.
    emit: (event) => {
      try {
        emit(event);
      } catch (error) {
        if (!isFileFailure(error)) throw error;
        journalFailure ??= error;
      }
    },
    mask: (text) => masker.mask(text),
    dryRun,
    print: (text) => dryRunMessages.push(text),
    ...(statusEveryMs !== undefined ? { statusEveryMs } : {}),
    ...(resumed ? { initialState: resumed.state } : {}),
    resumeCommand: hints.resume(runId),
    successMetrics: (state, now) => evaluateSuccessMetrics(doc, state, env, now).map((m) => ({ title: m.title, verdict: metricVerdict(m) })),
  });
  // With people, every prompt goes through the answer desk (issue 14): offered, claimed, signed, journaled.
  let desk: HostDesk | undefined;
  const emit = (event: RunEvent) => {
    if (journalFailure !== undefined) throw journalFailure;
    const masked = maskEvent(masker, event);
    if (masked.kind === 'step-started') faultPoint('before-step-started');
    if (masked.kind === 'step-finished') faultPoint('before-step-finished');
    const policy = journalPolicy(masked);
    if (policy !== 'skip') journal?.append(masked, policy === 'fsync');
    if (masked.kind === 'step-started') faultPoint('after-step-started');
    if (masked.kind === 'step-finished') faultPoint('after-step-finished');
    recorded = applyEvent(recorded, masked);
    reporter.onEvent(masked);
    notifier.onEvent(masked);
    // Last: the desk announces the session (team-host) right after the run's start.
    desk?.onEvent(masked);
  };
  if (run.team !== undefined && store !== undefined && journal !== undefined) {
    desk = openHostDesk({
      team: run.team,
      doc,
      runId,
      store,
      journal,
      operator,
      signingKey: signingKey!,
      terminal: reporter.prompter,
      emit,
      clock,
      signal,
      masker,
      initial: resumed?.state.team,
      waitMs: run.waitMs,
      command: deployctlCommand(env),
      state: options.state,
    });
    await desk.start();
  }

  return { signal, stateLost: stateLost.signal, journal, exec, send, reporter, notifier, desk, emit, recorded: () => recorded, dryRunMessages };
}
