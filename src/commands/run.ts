// `deployctl run <runbook>`: load, check answers, lock, journal, execute with the task list, then write and verify the signed record.
import * as os from 'node:os';
import * as path from 'node:path';
import type { Io } from '../cli/io.js';
import { CliError, ExitCode, maskError } from '../errors.js';
import { faultPoint } from '../faults.js';
import { definedEnv } from '../engine/context.js';
import { executeRun, type InFlightDecision, type RunResult } from '../engine/execute.js';
import { createMasker, type Masker } from '../engine/secrets.js';
import { resolveVars } from '../engine/vars.js';
import { systemClock } from '../ports/clock.js';
import { execCommand } from '../ports/exec.js';
import { sendHttp } from '../ports/http.js';
import { fileFailure, isFileFailure } from '../ports/fs-failure.js';
import { packageVersion } from '../ports/version.js';
import { currentUser, isRunId, newRunId, removeRecordTemporaries } from '../ports/state-dir.js';
import { openStateStore, resolveState, stateSecrets } from '../ports/state/location.js';
import { lockRunbook } from './run-state.js';
import { invocationOf, runHints } from './run-hints.js';
import type { Clock, Exec, HttpSend } from '../ports/types.js';
import { formatDryRun } from '../reporters/summary.js';
import { loadCheckedRunbook, type LoadedRunbook } from '../runbook/load.js';
import { formatProblem } from '../runbook/problem.js';
import { answersVouchedFor, parseWait, resolveRunTeam } from './run-team.js';
import { deployctlCommand } from './run-hints.js';
import { findRunToResume, notARunId, refuseIfUnfinished } from './run-history.js';
import { parseT0, parseTimeScale, promptsAsWaits, runTime } from './run-time.js';
import { journalWrittenAt, parseStatusEvery, readAnswers, refuseChangedVars, refuseUnsafeResume, requireAnswers, resolveSigningKey } from './run-checks.js';
import { openRunSession, type LockedRun } from './run-session.js';
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

/** Everything that happens while this process holds the runbook's lock. */
async function runLocked(run: LockedRun): Promise<number> {
  const { file, runbook, options, ports, dir, store, interactive, dryRun, answers, resumed, runId, vars, operator, secretValues, masker, signingKey, time, hints } = run;
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
  if (resumed) refuseUnsafeResume(doc, resumed, { interactive, inFlight: options.inFlight, hints, io });

  const { signal, stateLost, journal, exec, send, reporter, notifier, desk, emit, recorded, dryRunMessages } = await openRunSession(run);

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
            answers: answersVouchedFor(answers, run.answersFile, { team: run.team, doc, runId, journal, clock, emit, state: () => recorded().team, masker }),
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
    if (stateLost.aborted && result.exitCode === ExitCode.interrupted) result = { ...result, exitCode: ExitCode.failed };

    // What is printed comes from the masked events, never from the engine's own (unmasked) state.
    if (dryRun) {
      io.out(formatDryRun(doc, recorded()));
      if (dryRunMessages.length > 0) {
        io.out(`\nMessages a real run would send on this path (none was sent; their figures come from the real run):\n${dryRunMessages.map((m) => `  ${m}`).join('\n')}`);
      }
      return result.exitCode;
    }

    // Still under the lock: a resume started meanwhile must not take this finished, not yet sealed run for one a crash cut short.
    return sealAndReport({ file, runbook, dir, store: store!, runId, state: recorded(), result, masker, env, signingKey: signingKey!, operator, options, ports, clock, hints, people: run.team?.people });
  }
}
