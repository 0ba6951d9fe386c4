// `deployctl status [RUN_ID]`: the communication plan's status update for a run, now, read from its journal (from any terminal).
import * as path from 'node:path';
import type { Io } from '../cli/io.js';
import { CliError, ExitCode } from '../errors.js';
import { foldEvents, inFlightSteps, isRunResumable, type RunState } from '../engine/state.js';
import { formatStatusUpdate, openIssuesFromState, statusView } from '../notify/messages.js';
import { hostLocks, isRunId, liveHostLocks, stateDirAt } from '../ports/state-dir.js';
import { readLocalRun } from '../ports/state/local.js';
import { openStateStore, resolveState } from '../ports/state/location.js';
import type { JournalRead, StateStore } from '../ports/state/store.js';
import { formatDuration, parseDuration } from '../runbook/duration.js';
import { roleLabel, stepTitle } from '../runbook/labels.js';
import { checkedInvocation, runHints, type HintContext } from './run-hints.js';
import { gateId, type RunbookDoc } from '../runbook/types.js';
import { loadRunbook } from '../runbook/load.js';
import { inert } from '../inert.js';

export interface StatusPorts {
  io: Io;
  env: NodeJS.ProcessEnv;
  cwd: string;
  now: () => number;
}

export interface StatusOptions {
  /** Where runs are kept: a postgres:// URL or a directory (default: $DEPLOYCTL_STATE, else the local state directory). */
  state?: string;
}

export async function statusCommand(runId: string | undefined, ports: StatusPorts, options: StatusOptions = {}): Promise<number> {
  if (runId !== undefined && !isRunId(runId)) throw new CliError(`'${runId}' is not a run id (they look like 20261126T151500123Z-3f9a1c)`, { hint: 'deployctl status with no argument shows the running deployment' });
  const store = await openStateStore(resolveState(options.state, ports.env, ports.cwd).location);
  try {
    return await statusFrom(store, runId, ports, options);
  } finally {
    await store.close();
  }
}

async function statusFrom(store: StateStore, runId: string | undefined, ports: StatusPorts, options: StatusOptions): Promise<number> {
  const { io } = ports;
  const runsWhere = store.directory !== undefined ? path.join(store.where, 'runs') : store.where;
  let chosen: { runId: string; state: RunState; cwd: string; read: JournalRead } | undefined;
  if (runId !== undefined) {
    const read = await store.readRun(runId);
    if (read === undefined) throw new CliError(`no run ${runId} in ${runsWhere}`, { hint: store.directory !== undefined ? 'run deployctl status from the directory the run was started in' : 'check the run id: deployctl record list shows the runs that ended' });
    chosen = { runId, state: foldEvents(read.events), cwd: ports.cwd, read };
  } else {
    // Each journal read and folded once, whichever of the passes below needs it first.
    const ids = (await store.listRuns()).map((r) => r.runId);
    const folded = new Map<string, { state: RunState; read: JournalRead } | undefined>();
    const readOf = async (id: string) => {
      if (!folded.has(id)) {
        const read = await store.readRun(id);
        folded.set(id, read === undefined ? undefined : { state: foldEvents(read.events), read });
      }
      return folded.get(id);
    };
    for (const id of ids) {
      const found = await readOf(id);
      if (found === undefined) continue;
      if (found.state.finished === undefined && !found.state.dryRun && (await isHeldBy(store, found.state, id))) {
        chosen = { runId: id, ...found, cwd: ports.cwd };
        break;
      }
    }
    // Not from here: a deployment started from another directory of this host holds the host-wide lock. (A shared
    // database is one place for every directory and host: nothing to look for elsewhere.)
    for (const lock of chosen === undefined && store.directory !== undefined ? liveHostLocks(hostLocks(ports.env)) : []) {
      if (lock.stateRoot === undefined || lock.cwd === undefined || !isRunId(lock.runId)) continue;
      const read = readLocalRun(stateDirAt(lock.stateRoot), lock.runId);
      if (read === undefined) continue;
      io.out(`(started from ${lock.cwd} by ${lock.user}, pid ${lock.pid})`);
      chosen = { runId: lock.runId, state: foldEvents(read.events), cwd: lock.cwd, read };
      break;
    }
    if (chosen === undefined) {
      io.out(`No deployment is running${ids.length > 0 ? '' : ` (no runs in ${runsWhere})`}.`);
      const states = new Map<string, RunState | undefined>();
      for (const id of ids) states.set(id, (await readOf(id))?.state);
      for (const line of unfinishedRuns(ids, (id) => states.get(id), ports.now(), { state: options.state, env: ports.env, withOperator: false })) io.out(line);
      return ExitCode.ok;
    }
  }
  const { state } = chosen;
  // Shown all the same (it is what the journal says), under a warning: a resume refuses such a journal.
  if (chosen.read.chain.status === 'broken') {
    io.err(`deployctl: warning: the journal of run ${chosen.runId} does not verify (changed after it was written); what follows may be forged:`);
    for (const problem of chosen.read.chain.problems) io.err(`  ${inert(problem)}`);
  }
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
 * kill -9 or a Ctrl-C, "nothing is running" is true but not the whole story. Its resume command is the run's own
 * command line (its --var, --answers… from the journal) with the --state this status read, so pasting it continues
 * that very deployment. An older unfinished run a newer one followed gets no command: continuing it would deploy its
 * old vars over the newer run (`run --resume ID --force-old` does it on purpose).
 */
function unfinishedRuns(ids: readonly string[], stateOf: (id: string) => RunState | undefined, now: number, context: HintContext): string[] {
  const newest = new Map<string, { id: string; state: RunState }>();
  const lines: string[] = [];
  for (const id of ids) {
    const state = stateOf(id);
    const name = state?.runbook?.name;
    if (state === undefined || name === undefined || state.dryRun) continue;
    // Older unfinished runs are listed too (left behind with `run --new`): not forgotten, but not offered.
    const newer = newest.get(name);
    if (newer === undefined) newest.set(name, { id, state });
    if (!isRunResumable(state)) continue;
    if (lines.length >= 20) break;
    const how = state.finished === undefined ? `stopped without finishing (in flight: ${inFlightSteps(state).join(', ') || 'no step'})` : 'aborted';
    const since = state.startedAt !== undefined ? `, started ${formatDuration(Math.max(0, now - state.startedAt))} ago` : '';
    // From the journal: made inert before it reaches the terminal.
    if (newer !== undefined) {
      lines.push(
        inert(
          `Not finished: run ${id} of ${name}, ${how}${since}; superseded by run ${newer.id}${varsDiffer(state, newer.state)}, started after it: continuing this one would deploy its vars over that run, so deployctl run --resume refuses it without --force-old.`,
        ),
      );
      continue;
    }
    const hints = runHints(checkedInvocation(state.invocation, state.runbook?.path ?? name), context);
    lines.push(inert(`Not finished: run ${id} of ${name}, ${how}${since}. Continue it with: ${hints.resume(id)}`));
    if (hints.note !== undefined) lines.push(`  (${hints.note})`);
  }
  return lines;
}

/** ` (version=6.5.0 there, 6.5.0-errors here)`, for the vars two runs differ in; empty when they agree. */
function varsDiffer(older: RunState, newer: RunState): string {
  const keys = [...new Set([...Object.keys(older.vars), ...Object.keys(newer.vars)])].filter((k) => older.vars[k] !== newer.vars[k]).slice(0, 5);
  if (keys.length === 0) return '';
  const of = (s: RunState) => keys.map((k) => `${k}=${s.vars[k] === undefined ? '(unset)' : String(s.vars[k])}`).join(', ');
  return ` (${of(newer)} there, ${of(older)} here)`;
}

/** A run is running while its lock names it and the holder is there (a crashed run is not running). */
async function isHeldBy(store: StateStore, state: RunState, runId: string): Promise<boolean> {
  const name = state.runbook?.name;
  const holder = name === undefined ? undefined : await store.lockHolder(name);
  return holder !== undefined && holder.info.runId === runId && holder.live;
}

/** What the run is doing right now: the step in flight (and whose it is), the go/no-go being decided, or the rollback's authorization. */
function waitingOn(doc: RunbookDoc, state: RunState, now: number): string | undefined {
  const auth = state.authorization;
  if (auth !== undefined && auth.decision === undefined) {
    const at = new Date(auth.requestedAt + auth.timeoutMs).toISOString().slice(11, 16);
    return `${roleLabel(auth.role, doc.roles[auth.role], doc.people)} to authorize the rollback of ${auth.phases.join(', ')} (without an answer by ${at} UTC: ${auth.default})`;
  }
  for (const [id, step] of state.steps) {
    if (step.startedAt === undefined || step.outcome !== undefined) continue;
    const docStep = doc.phases.flatMap((p) => [...(p.steps ?? []), ...(p.finally ?? []), ...(p.rollback ?? [])]).find((s) => s.id === id);
    const who = docStep ? `${roleLabel(docStep.owner, doc.roles[docStep.owner], doc.people)} ` : '';
    return `${who}${docStep ? stepTitle(docStep) : id} (step '${id}'${step.rollback ? ', rollback' : ''}), for ${formatDuration(now - step.startedAt)}`;
  }
  for (const phase of doc.phases) {
    if (phase.gate === undefined || state.phases.get(phase.id)?.status !== 'running') continue;
    const gate = state.gates.get(gateId(phase));
    if (gate?.decision === undefined && (phase.steps ?? []).every((s) => state.steps.get(s.id)?.outcome !== undefined)) {
      return `${roleLabel(phase.gate.owner, doc.roles[phase.gate.owner], doc.people)} go/no-go '${gateId(phase)}'`;
    }
  }
  return undefined;
}
