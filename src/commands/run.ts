// `deployctl run <runbook>`: load, check answers, lock, journal, execute with the task list, then write and verify the signed record.
import * as os from 'node:os';
import * as path from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { Io } from '../cli/io.js';
import { CliError, ExitCode, maskError } from '../errors.js';
import { faultPoint } from '../faults.js';
import { missingAnswers, type Answers } from '../engine/answers.js';
import { definedEnv } from '../engine/context.js';
import { journalPolicy, type RunEvent } from '../engine/events.js';
import { executeRun, type InFlightDecision, type RunResult } from '../engine/execute.js';
import { messages } from '../engine/messages.js';
import { StopCause } from '../engine/run-context.js';
import { createMasker, type Masker } from '../engine/secrets.js';
import { stepsNeedingInFlightDecision } from '../engine/predicates.js';
import { applyEvent, initialRunState, type RunState } from '../engine/state.js';
import { resolveVars } from '../engine/vars.js';
import { systemClock } from '../ports/clock.js';
import { execCommand } from '../ports/exec.js';
import { sendHttp } from '../ports/http.js';
import { appendToFile } from '../ports/fs.js';
import { fileFailure, isFileFailure } from '../ports/fs-failure.js';
import { packageVersion } from '../ports/version.js';
import { createNotifier } from '../notify/notifier.js';
import { currentUser, isRunId, newRunId, removeRecordTemporaries, type StateDir } from '../ports/state-dir.js';
import { openStateStore, resolveState, stateSecrets } from '../ports/state/location.js';
import type { StateStore } from '../ports/state/store.js';
import { lockRunbook, notRun, notSent, writeAhead } from './run-state.js';
import { invocationOf, runHints, withNote, type RunHints } from './run-hints.js';
import type { Clock, Exec, HttpSend } from '../ports/types.js';
import { evaluateSuccessMetrics, metricVerdict } from '../record/success-metrics.js';
import { createListrReporter } from '../reporters/listr.js';
import { formatDryRun } from '../reporters/summary.js';
import { loadCheckedRunbook, type LoadedRunbook } from '../runbook/load.js';
import { formatProblem } from '../runbook/problem.js';
import { answersVouchedFor, maskEvent, openHostDesk, parseWait, resolveRunTeam, type RunTeam } from './run-team.js';
import type { HostDesk } from '../team/desk.js';
import type { AnswersFileRef } from '../record/answers.js';
import { deployctlCommand } from './run-hints.js';
import { findRunToResume, notARunId, refuseIfUnfinished, type RunToResume } from './run-history.js';
import { parseT0, parseTimeScale, promptsAsWaits, runTime, type RunTime } from './run-time.js';
import { journalWrittenAt, parseStatusEvery, readAnswers, refuseChangedVars, refuseIfOrphanStillRuns, requireAnswers, resolveSigningKey } from './run-checks.js';
import { sealAndReport } from './run-seal.js';

export interface RunOptions {
  var?: string[];
  answers?: string;
  operator?: string;
  dryRun?: boolean;
  /** true: the newest unfinished run of this runbook; a string: that run id. */
  resume?: string | boolean;
  /** Start a new run although an earlier run of this runbook did not finish (it stays resumable by its id). */
  new?: boolean;
  inFlight?: InFlightDecision;
  nonInteractive?: boolean;
  key?: string;
  out?: string;
  /** This run's status-update cadence, overriding the runbook's `notify.status_every` (e.g. `30s`). */
  statusEvery?: string;
  /** `--time-scale N`: a rehearsal, every wait the plan makes divided by N (src/commands/run-time.ts). */
  timeScale?: string;
  /** `--t0 TIME`: the run's T (ISO-8601). */
  t0?: string;
  /** Where runs are kept: a postgres:// URL or a directory (default: $DEPLOYCTL_STATE, else the local state directory). */
  state?: string;
  /** With people: who is at this terminal (a person id); default: the one person whose key is held here. */
  as?: string;
  /** With people and no terminal: how long a prompt other people answer waits for their join/answer (default: not at all). */
  wait?: string;
  /** `--resume ID` of a run a newer run of the runbook followed: continue it all the same. */
  forceOld?: boolean;
}

export interface RunPorts {
  io: Io;
  env: NodeJS.ProcessEnv;
  /** Whether a person can answer prompts: stdin and stdout are terminals. */
  terminal: boolean;
  /** Whether stdout is a terminal: the live task list; otherwise plain lines (`run … | tee log` still prompts). */
  screen: boolean;
  /** The terminal's height now (undefined when unknown): read at each redraw, so a resized terminal counts. */
  rows: () => number | undefined;
  /** This process's id, recorded when a run is resumed. */
  pid: number;
  signal: AbortSignal;
  exec: Exec;
  send: HttpSend;
  clock: Clock;
  cwd: string;
}

export function defaultRunPorts(io: Io, signal: AbortSignal): RunPorts {
  return {
    io,
    env: process.env,
    terminal: process.stdin.isTTY === true,
    screen: process.stdout.isTTY === true,
    rows: () => process.stdout.rows,
    pid: process.pid,
    signal,
    exec: execCommand,
    send: sendHttp,
    clock: systemClock,
    cwd: process.cwd(),
  };
}

/** Non-interactive when asked, when stdin is not a terminal, or in CI (DESIGN.md): nothing then ever waits on stdin. */
export function isInteractive(options: Pick<RunOptions, 'nonInteractive'>, ports: Pick<RunPorts, 'terminal' | 'env'>): boolean {
  return options.nonInteractive !== true && ports.terminal && ports.env['CI'] !== 'true';
}

export async function runCommand(file: string, options: RunOptions, ports: RunPorts): Promise<number> {
  const { env } = ports;
  const loaded = await loadCheckedRunbook(file);
  if (!loaded.ok) {
    const [first] = loaded.problems;
    if (loaded.problems.length === 1 && first !== undefined && (first.code === 'missing' || first.code === 'unreadable' || first.code === 'too-large')) throw new CliError(first.message);
    throw new CliError(`${file} is not a valid runbook`, { details: loaded.problems.map(formatProblem), hint: `fix the problems above (deployctl validate ${file} lists them)` });
  }
  // The secrets are known as soon as the runbook is: from here on no message may carry one, an error message
  // included (a refused --var value, a path, a reason).
  // The state's password too: steps inherit $DEPLOYCTL_STATE.
  const secretValues = [...(loaded.runbook.doc.secrets ?? []).map((name) => env[name]).filter((v): v is string => v !== undefined && v !== ''), ...stateSecrets(options.state, env)];
  const masker = createMasker(secretValues);
  try {
    return await runLoaded(file, loaded.runbook, options, ports, secretValues, masker);
  } catch (error) {
    throw maskError(error, masker.mask);
  }
}

async function runLoaded(file: string, runbook: LoadedRunbook, options: RunOptions, ports: RunPorts, secretValues: string[], masker: Masker): Promise<number> {
  const { io, env, clock } = ports;
  const { doc } = runbook;
  for (const warning of runbook.warnings ?? []) io.err(formatProblem(warning));
  const interactive = isInteractive(options, ports);
  const statusEveryMs = options.statusEvery !== undefined ? parseStatusEvery(options.statusEvery) : undefined;
  const dryRun = options.dryRun === true;
  // The run's state (journal, lock, records) in the store; keys and the local copy of the record in `dir`.
  const { location, localDir: dir } = resolveState(options.state, env, ports.cwd);
  // Every command this run prints for a person to paste: this command line, quoted, with its state (no password).
  const hintContext = { state: options.state, env };
  const hints = runHints(invocationOf(file, options), hintContext);

  if (dryRun && options.resume !== undefined && options.resume !== false) throw new CliError('--dry-run and --resume do not go together: a dry run has nothing to resume');
  if (options.new === true && options.resume !== undefined && options.resume !== false) throw new CliError('--new and --resume do not go together: --new starts another run, --resume continues one');
  if (options.forceOld === true && typeof options.resume !== 'string') throw new CliError('--force-old goes with --resume RUN_ID: it continues that older run on purpose');

  // The options' own mistakes first, each in its own words: without a terminal, the list of answers a run needs
  // would otherwise bury them.
  const resuming = options.resume !== undefined && options.resume !== false;
  if (typeof options.resume === 'string' && !isRunId(options.resume)) throw notARunId(options.resume);
  if (options.timeScale !== undefined) parseTimeScale(options.timeScale);
  if (options.t0 !== undefined) parseT0(options.t0);
  // Checked now (their own mistakes first); on resume, compared with the run's own vars once it is found.
  const newVars = resolveVars(doc, options.var ?? []);
  const { answers, file: answersFile } = readAnswers(options, runbook);
  // With people: who is at this terminal; they are the operator unless --operator says otherwise.
  const team = dryRun ? undefined : resolveRunTeam(doc, runbook.source, options, env, ports.cwd, io);
  const waitMs = parseWait(options.wait, doc, interactive);
  const operator = options.operator ?? env['DEPLOYCTL_OPERATOR'] ?? team?.identity?.person.id ?? currentUser();
  if (masker.unmaskable > 0) io.err(`deployctl: warning: ${masker.unmaskable} secret value(s) are shorter than 3 characters and cannot be masked reliably`);

  // Lock first, then read what to resume: a session that is still finishing must not be resumed from a stale view.
  const provisionalRunId = typeof options.resume === 'string' ? options.resume : newRunId(clock.now());
  const store = dryRun ? undefined : await openStateStore(location);
  try {
    const lock = store === undefined ? undefined : await lockRunbook(store, doc.name, { runId: resuming && options.resume === true ? 'resume' : provisionalRunId, runbook: file, ...(store.directory !== undefined ? { stateRoot: store.directory } : {}), cwd: ports.cwd }, ports, hints.status());
    try {
      if (lock?.ok) faultPoint('after-lock');
      if (lock?.ok && lock.replacedStale) io.err(`deployctl: took over a stale lock left by pid ${lock.replacedStale.pid} (run ${lock.replacedStale.runId}), which is no longer running`);
      const resumed = resuming ? await findRunToResume(store!, runbook, options.resume as string | true, ports.cwd, options.forceOld === true) : undefined;
      if (!resuming && !dryRun && options.new !== true) await refuseIfUnfinished(store!, file, doc.name, hints, hintContext);
      if (resumed) refuseChangedVars(options.var ?? [], newVars, resumed);
      // What a resumed run already has (finished steps, decided gates) needs no answer now.
      if (!interactive && !dryRun && !resumed?.sealOnly) requireAnswers(options, doc, answers, resumed?.state, team, waitMs, deployctlCommand(env));
      // Only now, when the run will go: a refused run (the lock, the answers) leaves no new key behind.
      const signingKey = dryRun ? undefined : resolveSigningKey(options.key, env, dir, io);
      const runId = resumed?.runId ?? provisionalRunId;
      if (resumed && lock?.ok) await lock.setRunId(runId);
      const vars = resumed ? resumed.state.vars : newVars;
      const time = runTime(options, resumed?.state, clock, resumed !== undefined ? journalWrittenAt(dir, store!, resumed.runId, resumed.state, clock) : undefined);
      return await runLocked({ file, runbook, options, ports, dir, store, lost: lock?.lost, interactive, dryRun, statusEveryMs, answers, ...(answersFile !== undefined ? { answersFile } : {}), resumed, runId, vars, operator, secretValues, masker, signingKey, time, hints, team, waitMs });
    } finally {
      // A lock whose connection is gone was released with it.
      if (lock?.ok) await lock.release().catch(() => undefined);
    }
  } finally {
    await store?.close();
  }
}

interface LockedRun {
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

/** Everything that happens while this process holds the runbook's lock. */
async function runLocked(run: LockedRun): Promise<number> {
  const { file, runbook, options, ports, dir, store, interactive, dryRun, statusEveryMs, answers, resumed, runId, vars, operator, secretValues, masker, signingKey, time, hints } = run;
  const { io, env } = ports;
  // Everything the run waits for and records goes by its clock (a rehearsal's runs N times faster); steps keep real time.
  const { clock } = time;
  const { doc } = runbook;
  if (resumed) removeRecordTemporaries(dir, resumed.runId);
  if (resumed?.sealOnly) {
    // Every step already has its outcome in the journal: run nothing again, only seal the record the crash cut short.
    const finished = resumed.state.finished!;
    io.err(
      `deployctl: run ${resumed.runId} had already ended (${finished.status}), but no record of that end is in ${store!.directory !== undefined ? path.relative(ports.cwd, dir.recordsDir) || dir.recordsDir : store!.where} (deployctl stopped while sealing it?); nothing is run again: sealing the record from the journal`,
    );
    const result: RunResult = { status: finished.status, exitCode: finished.exitCode, ...(finished.reason !== undefined ? { reason: finished.reason } : {}), state: resumed.state };
    return sealAndReport({ file, runbook, dir, store: store!, runId, state: resumed.state, result, masker, env, signingKey: signingKey!, operator, options, ports, clock, hints, people: run.team?.people });
  }
  if (resumed) refuseIfOrphanStillRuns(doc, resumed);
  if (resumed?.state.host !== undefined && resumed.state.host !== os.hostname()) {
    // A shared store: the crashed session ran elsewhere, where its steps' processes cannot be seen from here.
    io.err(`deployctl: warning: run ${resumed.runId} was started on ${resumed.state.host}; from ${os.hostname()} deployctl cannot see whether a step it started there is still running: check that host before answering what was in flight`);
  }
  if (resumed && !interactive && options.inFlight === undefined) {
    // Nobody to ask: say so now, before the journal and a record of a session that could do nothing. After the lock:
    // while the other session still runs, its step is not "in flight", it is running, and the lock says so.
    const undecided = stepsNeedingInFlightDecision(doc, resumed.state);
    if (undecided.length > 0) {
      throw new CliError(
        `step '${undecided[0]}' was in flight when run ${resumed.runId} stopped and is not idempotent, so deployctl will not guess whether it completed; nothing was run`,
        {
          exitCode: ExitCode.usage,
          hint: withNote(
            `check whether it completed, then resume with one of:\n  ${hints.resume(resumed.runId, 'done')}    (it completed)\n  ${hints.resume(resumed.runId, 'rerun')}    (run it again)\n  ${hints.resume(resumed.runId, 'abort')}    (stop the run here)`,
            hints,
          ),
        },
      );
    }
  }

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

  {
    let result: RunResult;
    try {
      const rendering = reporter.run();
      try {
        result = await executeRun(
          runbook,
          {
            runId,
            operator,
            host: os.hostname(),
            toolVersion: packageVersion(),
            pid: ports.pid,
            vars,
            dryRun,
            signal,
            invocation: invocationOf(file, options),
            ...(time.rehearsal !== undefined ? { rehearsal: time.rehearsal } : {}),
            ...(time.t0 !== undefined ? { t0: time.t0 } : {}),
            ...(resumed ? { resume: { state: resumed.state, ...(options.inFlight ? { inFlight: options.inFlight } : {}) } } : {}),
          },
          {
            exec,
            send,
            clock,
            stepClock: time.stepClock,
            // With people every prompt goes through the desk; without a terminal, only with --wait (others answer meanwhile).
            prompter: desk !== undefined ? (interactive || run.waitMs !== undefined ? promptsAsWaits(desk.prompter, clock) : undefined) : promptsAsWaits(reporter.prompter, clock),
            // With a person key at this terminal, each answer taken from the file is signed by it.
            answers: answersVouchedFor(answers, run.answersFile, { team: run.team, doc, runId, journal, clock, emit, state: () => recorded.team, masker }),
            env: definedEnv(env),
            secretValues,
            mask: (text) => masker.mask(text),
            masker,
            emit,
          },
        );
      } catch (error) {
        // A bug or a disk that refused the journal, not a run outcome: let the task list finish drawing, keep the
        // journal (everything written before the failure) resumable.
        const storage = isFileFailure(error);
        reporter.onEvent({ kind: 'run-finished', at: clock.now(), status: 'aborted', exitCode: ExitCode.failed, reason: storage ? 'the journal could not be written' : 'internal error' });
        await rendering.catch(() => undefined);
        if (storage && !dryRun) throw fileFailure(error, ports.cwd, `continue the run with ${hints.resume(runId)} (its journal keeps every event written before this)`);
        throw error;
      }
      await rendering;
      await notifier.finish();
    } finally {
      await desk?.close();
      await journal?.close();
    }
    // Stopped because the state failed, not by a signal: not a 130.
    if (stateLost.signal.aborted && result.exitCode === ExitCode.interrupted) result = { ...result, exitCode: ExitCode.failed };

    // What is printed comes from the masked events, never from the engine's own (unmasked) state.
    if (dryRun) {
      io.out(formatDryRun(doc, recorded));
      if (dryRunMessages.length > 0) {
        io.out(`\nMessages a real run would send on this path (none was sent; their figures come from the real run):\n${dryRunMessages.map((m) => `  ${m}`).join('\n')}`);
      }
      return result.exitCode;
    }

    // Still under the lock: a resume started meanwhile must not take this finished, not yet sealed run for one a crash cut short.
    return sealAndReport({ file, runbook, dir, store: store!, runId, state: recorded, result, masker, env, signingKey: signingKey!, operator, options, ports, clock, hints, people: run.team?.people });
  }
}
