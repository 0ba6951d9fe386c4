// `deployctl status [RUN_ID]`: the communication plan's status update for a run, now, read from its journal (from any terminal).
import * as path from 'node:path';
import type { Io } from '../cli/io.js';
import { CliError, ExitCode } from '../errors.js';
import { parseJournal } from '../engine/journal.js';
import { foldEvents, inFlightSteps, isRunResumable, type RunState } from '../engine/state.js';
import { formatStatusUpdate, openIssuesFromState, statusView } from '../notify/messages.js';
import { hostLocks, isAlive, isRunId, listRunIds, liveHostLocks, lockHolder, readJournalText, stateDir, stateDirAt, type StateDir } from '../ports/state-dir.js';
import { formatDuration, parseDuration } from '../runbook/duration.js';
import { deployctlCommand, resumeCommand, roleLabel, stepTitle } from '../runbook/labels.js';
import { gateId, type RunbookDoc } from '../runbook/types.js';
import { loadRunbook } from '../runbook/load.js';
import { inert } from '../inert.js';

export interface StatusPorts {
  io: Io;
  env: NodeJS.ProcessEnv;
  cwd: string;
  now: () => number;
}

export function statusCommand(runId: string | undefined, ports: StatusPorts): number {
  const { io } = ports;
  const dir = stateDir(ports.env, ports.cwd);
  let chosen: { runId: string; state: RunState; cwd: string } | undefined;
  if (runId !== undefined) {
    if (!isRunId(runId)) throw new CliError(`'${runId}' is not a run id (they look like 20261126T151500123Z-3f9a1c)`, { hint: 'deployctl status with no argument shows the running deployment' });
    const text = readJournalText(dir, runId);
    if (text === undefined) throw new CliError(`no run ${runId} in ${dir.runsDir}`, { hint: 'run deployctl status from the directory the run was started in' });
    chosen = { runId, state: foldEvents(parseJournal(text).events), cwd: ports.cwd };
  } else {
    // Each journal read and folded once, whichever of the passes below needs it first.
    const ids = listRunIds(dir);
    const folded = new Map<string, RunState | undefined>();
    const stateOf = (id: string): RunState | undefined => {
      if (!folded.has(id)) {
        const text = readJournalText(dir, id);
        folded.set(id, text === undefined ? undefined : foldEvents(parseJournal(text).events));
      }
      return folded.get(id);
    };
    for (const id of ids) {
      const state = stateOf(id);
      if (state === undefined) continue;
      if (state.finished === undefined && !state.dryRun && isHeldBy(dir, state, id)) {
        chosen = { runId: id, state, cwd: ports.cwd };
        break;
      }
    }
    // Not from here: a deployment started from another directory of this host holds the host-wide lock.
    for (const lock of chosen === undefined ? liveHostLocks(hostLocks(ports.env)) : []) {
      if (lock.stateRoot === undefined || lock.cwd === undefined || !isRunId(lock.runId)) continue;
      const text = readJournalText(stateDirAt(lock.stateRoot), lock.runId);
      if (text === undefined) continue;
      io.out(`(started from ${lock.cwd} by ${lock.user}, pid ${lock.pid})`);
      chosen = { runId: lock.runId, state: foldEvents(parseJournal(text).events), cwd: lock.cwd };
      break;
    }
    if (chosen === undefined) {
      io.out(`No deployment is running${ids.length > 0 ? '' : ` (no runs in ${path.relative(ports.cwd, dir.runsDir) || dir.runsDir})`}.`);
      for (const line of unfinishedRuns(ids, stateOf, ports.now(), deployctlCommand(ports.env))) io.out(line);
      return ExitCode.ok;
    }
  }
  const { state } = chosen;
  const runbookPath = state.runbook?.path;
  const loaded = runbookPath !== undefined ? loadRunbook(path.resolve(chosen.cwd, runbookPath)) : undefined;
  if (loaded === undefined || !loaded.ok) {
    throw new CliError(`cannot read the runbook of run ${chosen.runId} (${runbookPath ?? 'unknown'})`, { hint: 'run deployctl status from the directory the run was started in' });
  }
  const { doc } = loaded.runbook;
  const now = ports.now();
  const every = doc.notify?.status_every !== undefined ? parseDuration(doc.notify.status_every) : undefined;
  const view = statusView(doc, state, openIssuesFromState(state));
  io.out(`Run ${chosen.runId} of ${doc.name}, operator ${state.operator ?? 'unknown'}${state.finished ? `, ended ${state.finished.status}` : ''}`);
  io.out(formatStatusUpdate(doc, state, view, state.finished?.at ?? now, state.finished ? undefined : every !== undefined ? now + every : undefined));
  const waiting = state.finished === undefined ? waitingOn(doc, state, now) : undefined;
  if (waiting !== undefined) io.out(`⏳ Waiting on: ${waiting}`);
  return ExitCode.ok;
}

/**
 * The newest run of each runbook here, when it can still be resumed (interrupted, crashed, or aborted): after a
 * kill -9 or a Ctrl-C, "nothing is running" is true but not the whole story.
 */
function unfinishedRuns(ids: readonly string[], stateOf: (id: string) => RunState | undefined, now: number, command = 'deployctl'): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const id of ids) {
    const state = stateOf(id);
    const name = state?.runbook?.name;
    if (state === undefined || name === undefined || state.dryRun) continue;
    // Older unfinished runs are listed too (left behind with `run --new`): resumable by their id, and not forgotten.
    const older = seen.has(name);
    seen.add(name);
    if (!isRunResumable(state)) continue;
    if (lines.length >= 20) break;
    const how = state.finished === undefined ? `stopped without finishing (in flight: ${inFlightSteps(state).join(', ') || 'no step'})` : 'aborted';
    const since = state.startedAt !== undefined ? `, started ${formatDuration(Math.max(0, now - state.startedAt))} ago` : '';
    // From the journal: made inert before it reaches the terminal.
    const newer = older ? ` (a newer run of ${name} started since)` : '';
    lines.push(inert(`Not finished: run ${id} of ${name}, ${how}${since}${newer}. Continue it with: ${resumeCommand(state.runbook?.path ?? name, id, command)}`));
  }
  return lines;
}

/** A run is running while its lock names it and the holder is alive (a crashed run is not running). */
function isHeldBy(dir: StateDir, state: RunState, runId: string): boolean {
  const name = state.runbook?.name;
  const lock = name === undefined ? undefined : lockHolder(dir, name);
  return lock !== undefined && lock.runId === runId && (isAlive(lock.pid) || lock.host !== state.host);
}

/** What the run is doing right now: the step in flight (and whose it is), the go/no-go being decided, or the rollback's authorization. */
function waitingOn(doc: RunbookDoc, state: RunState, now: number): string | undefined {
  const auth = state.authorization;
  if (auth !== undefined && auth.decision === undefined) {
    const at = new Date(auth.requestedAt + auth.timeoutMs).toISOString().slice(11, 16);
    return `${roleLabel(auth.role, doc.roles[auth.role])} to authorize the rollback of ${auth.phases.join(', ')} (without an answer by ${at} UTC: ${auth.default})`;
  }
  for (const [id, step] of state.steps) {
    if (step.startedAt === undefined || step.outcome !== undefined) continue;
    const docStep = doc.phases.flatMap((p) => [...(p.steps ?? []), ...(p.finally ?? []), ...(p.rollback ?? [])]).find((s) => s.id === id);
    const who = docStep ? `${roleLabel(docStep.owner, doc.roles[docStep.owner])} ` : '';
    return `${who}${docStep ? stepTitle(docStep) : id} (step '${id}'${step.rollback ? ', rollback' : ''}), for ${formatDuration(now - step.startedAt)}`;
  }
  for (const phase of doc.phases) {
    if (phase.gate === undefined || state.phases.get(phase.id)?.status !== 'running') continue;
    const gate = state.gates.get(gateId(phase));
    if (gate?.decision === undefined && (phase.steps ?? []).every((s) => state.steps.get(s.id)?.outcome !== undefined)) {
      return `${roleLabel(phase.gate.owner, doc.roles[phase.gate.owner])} go/no-go '${gateId(phase)}'`;
    }
  }
  return undefined;
}
