// What `run` checks before it starts: the answers it needs, the --var of a resumed run, an orphaned step still running, the signing key.
import * as os from 'node:os';
import type { KeyObject } from 'node:crypto';
import type { Io } from '../cli/io.js';
import { CliError, ExitCode } from '../errors.js';
import { loadAnswers, missingAnswers, type Answers } from '../engine/answers.js';
import { STEP_ENV } from '../engine/execute.js';
import { inFlightSteps, type RunState } from '../engine/state.js';
import { isGroupAlive } from '../ports/exec.js';
import { statPath } from '../ports/fs.js';
import { findProcessesWithEnv } from '../ports/proc.js';
import { journalPath, type StateDir } from '../ports/state-dir.js';
import type { StateStore } from '../ports/state/store.js';
import type { Clock } from '../ports/types.js';
import type { AnswersFileRef } from '../record/answers.js';
import { keyPaths, loadPrivateKey, writeKeyPair } from '../record/keys.js';
import type { LoadedRunbook } from '../runbook/load.js';
import { formatProblem } from '../runbook/problem.js';
import { parseDuration } from '../runbook/duration.js';
import type { RunbookDoc } from '../runbook/types.js';
import { othersAnswer, teamAnswerCommands, type RunTeam } from './run-team.js';
import type { RunToResume } from './run-history.js';
import type { RunOptions } from './run.js';
import { withNote, type RunHints } from './run-hints.js';
import { stepsNeedingInFlightDecision } from '../engine/predicates.js';

/**
 * After a kill -9 the step's process group may outlive deployctl (it runs in its own session). Resuming then would
 * run the step beside itself: refuse until it is gone.
 */
export function refuseIfOrphanStillRuns(doc: LoadedRunbook['doc'], resumed: RunToResume): void {
  if (resumed.state.host !== os.hostname()) return;
  const refuse = (stepId: string, pgid: number): never => {
    throw new CliError(`step '${stepId}' of run ${resumed.runId} is still running (process group ${pgid}) although its deployctl is gone`, {
      exitCode: ExitCode.usage,
      hint: `see what it is (ps -o pid,lstart,args -g ${pgid}); wait for it to end or stop it (kill -TERM -- -${pgid}), then resume. Nothing of ${doc.name} was run`,
    });
  };
  for (const [stepId, step] of resumed.state.steps) {
    if (step.outcome !== undefined || step.pid === undefined || !isGroupAlive(step.pid)) continue;
    refuse(stepId, step.pid);
  }
  // A kill between spawning a step and journaling its pid: the orphan is found by the run and step in its environment.
  const inFlight = inFlightSteps(resumed.state);
  const marked = findProcessesWithEnv(
    [`${STEP_ENV.runId}=${resumed.runId}`],
    inFlight.map((id) => `${STEP_ENV.stepId}=${id}`),
  );
  if (marked[0]?.mark !== undefined) refuse(marked[0].mark.slice(STEP_ENV.stepId.length + 1), marked[0]!.pgid);
}

/** Where a resumed run's journal stopped: its last event's (plan) time, and when that was written (the file's mtime). */
export function journalWrittenAt(dir: StateDir, store: StateStore, runId: string, state: RunState, clock: Clock): { plan: number; real: number } | undefined {
  if (state.lastEventAt === undefined) return undefined;
  // A local journal's mtime is when its last event was written. A database does not say here: the rehearsal then reads
  // on from where its journal stopped, the time it was down not counted (its missed ticks are only those already due).
  const written = store.directory !== undefined ? statPath(journalPath(dir, runId))?.mtimeMs : undefined;
  return { plan: state.lastEventAt, real: written ?? clock.now() };
}

/**
 * `--var` on resume: the command line that crashed, with --resume added, is accepted as it is; a value other than
 * the one the run started with is refused by name, since the finished steps ran with the old one.
 */
export function refuseChangedVars(pairs: readonly string[], given: Record<string, string | number | boolean>, resumed: RunToResume): void {
  for (const pair of pairs) {
    const name = pair.slice(0, pair.indexOf('='));
    const started = resumed.state.vars[name];
    if (started === given[name]) continue;
    const was = started === undefined ? 'no value' : `${name}=${String(started)}`;
    throw new CliError(`--var ${name}=${String(given[name])} differs from the value run ${resumed.runId} started with (${was}): a resumed run keeps the vars it started with`, {
      hint: `resume with --var ${started === undefined ? name : was} or without --var ${name}; to deploy with the new value, start a new run without --resume`,
    });
  }
}

export function parseStatusEvery(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms === 0) {
    throw new CliError(`--status-every ${text} is not a duration`, { hint: 'write a number and a unit, e.g. --status-every 30s or 5m' });
  }
  return ms;
}

export function readAnswers(options: RunOptions, runbook: LoadedRunbook): { answers: Answers; file?: AnswersFileRef } {
  const { doc } = runbook;
  if (options.answers === undefined) return { answers: new Map() };
  const loaded = loadAnswers(options.answers, doc);
  if (!loaded.ok) {
    throw new CliError(`${options.answers} is not a valid answers file for ${doc.name}`, { details: loaded.problems.map(formatProblem) });
  }
  // The file's name and digest go with its answers: a person who vouches for them signs both (src/team/file-answers.ts).
  return { answers: loaded.answers, file: { path: options.answers, sha256: loaded.sha256 } };
}

/** Without a terminal, every answer the run can still need must be in --answers before anything runs. */
export function requireAnswers(options: RunOptions, doc: RunbookDoc, answers: Answers, resumed: RunState | undefined, team: RunTeam | undefined, waitMs: number | undefined, command: string): void {
  // A run resumed during its rollback only finishes the rollback: nothing forward is asked again.
  const rolling = resumed?.rollback?.phases;
  // …and the finally steps of the phase that stopped, which run after the rollback.
  const stopped = doc.phases.filter((p) => resumed?.phases.get(p.id)?.status === 'failed').flatMap((p) => (p.finally ?? []).map((s) => s.id));
  const rollbackSteps =
    rolling !== undefined ? new Set([...doc.phases.filter((p) => rolling.includes(p.id)).flatMap((p) => (p.rollback ?? []).map((s) => s.id)), ...stopped]) : undefined;
  const settled = (key: string): boolean => {
    if (resumed === undefined) return false;
    const id = key.includes('.') ? key.slice(0, key.indexOf('.')) : key;
    if (rollbackSteps !== undefined && !rollbackSteps.has(id)) return true;
    const outcome = resumed.steps.get(id)?.outcome;
    return (outcome !== undefined && outcome.status !== 'interrupted') || resumed.gates.get(id)?.decision !== undefined;
  };
  const needed = missingAnswers(doc, answers).filter((k) => !settled(k.key));
  // With people: the prompts other people answer wait for their join/answer under --wait; without it they fail closed.
  const others = team !== undefined ? needed.filter((k) => othersAnswer(doc, k.key, team)) : [];
  const missing = waitMs !== undefined ? needed.filter((k) => !others.includes(k)) : needed;
  if (missing.length === 0) return;
  const answerLines = waitMs === undefined && others.length > 0 ? teamAnswerCommands(doc, others, command, options.state) : [];
  // At column 0 and one line each (a multi-line prompt would spill out of its comment): pasted as they are, they are valid YAML.
  const lines = missing.map((k) => `${k.example.padEnd(40)} # ${k.kind} by ${k.owner}: ${k.text.replace(/\s+/g, ' ')}`);
  throw new CliError(
    options.answers === undefined
      ? `no terminal to ask on, and ${missing.length} step(s) and gate(s) need a person's answer: give them with --answers FILE`
      : `${options.answers} does not answer ${missing.length} step(s) and gate(s) this run needs; nothing was run`,
    {
      details: [],
      hint:
        `add these lines to the answers file (each answer is recorded as given by the owning role):\n${lines.join('\n')}` +
        (answerLines.length > 0
          ? `\nor, for the ${others.length} that other people answer, run with --wait DURATION (e.g. --wait 30m) and have them answer while it waits:\n${answerLines.join('\n')}`
          : ''),
    },
  );
}

export function resolveSigningKey(keyOption: string | undefined, env: NodeJS.ProcessEnv, dir: StateDir, io: Io): KeyObject {
  const explicit = keyOption ?? env['DEPLOYCTL_KEY'];
  const file = explicit ?? keyPaths(dir.keysDir, 'deployctl').keyPath;
  if (explicit === undefined) {
    const created = writeKeyPair(dir.keysDir, 'deployctl');
    if (created.ok) io.err(`deployctl: created a signing key ${created.keyPath} (public half ${created.pubPath}, keyid ${created.keyId}); records of this run are signed with it`);
  }
  const loaded = loadPrivateKey(file);
  if (!loaded.ok) {
    throw new CliError(`cannot use signing key ${file}: ${loaded.error.message}`, {
      hint: loaded.error.hint ?? 'give a PKCS#8 Ed25519 key with --key, or create one with deployctl keygen',
    });
  }
  if (loaded.warning) io.err(`deployctl: warning: ${loaded.warning}`);
  return loaded.key;
}

/**
 * Before a resumed run starts, under the lock: its orphan must be gone, a session from another host is warned about,
 * and a step in flight that is not idempotent needs a decision, which without a terminal only --in-flight gives.
 */
export function refuseUnsafeResume(doc: LoadedRunbook['doc'], resumed: RunToResume, { interactive, inFlight, hints, io }: { interactive: boolean; inFlight: RunOptions['inFlight']; hints: RunHints; io: Io }): void {
  refuseIfOrphanStillRuns(doc, resumed);
  if (resumed?.state.host !== undefined && resumed.state.host !== os.hostname()) {
    // A shared store: the crashed session ran elsewhere, where its steps' processes cannot be seen from here.
    io.err(`deployctl: warning: run ${resumed.runId} was started on ${resumed.state.host}; from ${os.hostname()} deployctl cannot see whether a step it started there is still running: check that host before answering what was in flight`);
  }
  if (!interactive && inFlight === undefined) {
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
}
