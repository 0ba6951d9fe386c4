// `run`'s earlier runs of the same runbook, read from the state store: which one `--resume` continues, and refusing a new run over an unfinished one.
import * as path from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { foldEvents, isRunResumable, type RunState } from '../engine/state.js';
import { isRunId } from '../ports/state-dir.js';
import type { StateStore } from '../ports/state/store.js';
import { inert } from '../inert.js';
import type { LoadedRunbook } from '../runbook/load.js';
import { checkedInvocation, runHints, withNote, type HintContext, type RunHints } from './run-hints.js';

/**
 * An earlier run of this runbook that did not finish (aborted mid-rollback, interrupted, crashed) is not forgotten:
 * a new run would start from the top over a half-done deployment. Only the newest run counts: one that ended after
 * it settled the older one. Exit 2 with both ways on, in a terminal or not (nothing waits for an answer).
 */
export async function refuseIfUnfinished(store: StateStore, file: string, name: string, hints: RunHints, context: HintContext): Promise<void> {
  for (const { runId, runbook } of await store.listRuns()) {
    if (runbook !== undefined && runbook !== name) continue;
    const read = await store.readRun(runId);
    if (read === undefined) continue;
    const state = foldEvents(read.events);
    if (state.runbook?.name !== name || state.dryRun) continue;
    if (!isRunResumable(state)) return;
    const where =
      state.rollback !== undefined && state.rollback.status === undefined
        ? 'it stopped in the middle of its rollback'
        : state.finished !== undefined
          ? `it was ${state.finished.status}${state.finished.reason !== undefined ? ` (${state.finished.reason})` : ''}`
          : 'it stopped without finishing';
    // Continuing is the unfinished run's own command line (as its journal keeps it); starting another is this one with
    // --new: pasting either deploys what was asked for (its --var, --answers, --state…), never the runbook's defaults.
    const resume = runHints(checkedInvocation(state.invocation, file), context).resume(runId);
    throw new CliError(`run ${runId} of ${name} did not finish: ${inert(where)}; nothing was run`, {
      exitCode: ExitCode.usage,
      hint: withNote(`continue it with: ${inert(resume)}
or leave it unfinished and start another with: ${hints.startNew()}`, hints, ''),
    });
  }
}

export function notARunId(text: string): CliError {
  return new CliError(`'${text}' is not a run id (they look like 20261126T151500123Z-3f9a1c)`, { hint: 'deployctl record list shows the runs and their ids' });
}

export interface RunToResume {
  runId: string;
  state: RunState;
  /** The run had ended, but deployctl stopped before sealing its record (a crash after run-finished): only seal it. */
  sealOnly?: boolean;
}

export async function findRunToResume(store: StateStore, runbook: LoadedRunbook, which: string | true, cwd: string, forceOld = false): Promise<RunToResume> {
  const { doc, source } = runbook;
  if (which !== true && !isRunId(which)) throw notARunId(which);
  const runsWhere = store.directory !== undefined ? path.join(store.where, 'runs') : store.where;
  const candidates = which === true ? (await store.listRuns()).filter((r) => r.runbook === undefined || r.runbook === doc.name).map((r) => r.runId) : [which];
  for (const runId of candidates) {
    const read = await store.readRun(runId);
    if (read === undefined) {
      if (which !== true) throw new CliError(`no run ${runId} in ${runsWhere}`, { hint: 'deployctl record list and deployctl status show the runs there' });
      continue;
    }
    const state = foldEvents(read.events);
    if (state.runbook?.name !== doc.name) {
      if (which !== true) throw new CliError(`run ${runId} is a run of ${state.runbook?.name ?? 'an unknown runbook'}, not of ${doc.name}`);
      continue;
    }
    if (state.dryRun) continue;
    // What a resume skips and decides comes from the journal: one changed after it was written is not resumed from.
    if (read.chain.status === 'broken') {
      throw new CliError(`the journal of run ${runId} does not verify: it was changed after it was written; nothing was run`, {
        details: read.chain.problems.map((p) => `  ${inert(p)}`),
        hint: `deployctl will not resume from it. deployctl status ${runId} shows what it says; start a new run without --resume`,
      });
    }
    const record = state.finished !== undefined ? await store.findSealedRecord(runId, state.finished.status) : undefined;
    // Only the newest run is a candidate: resuming an older, interrupted run after a newer one ended would put its
    // old vars (an old version) back on top of the newer deployment.
    const sealOnly = state.finished !== undefined && !isRunResumable(state) && record === undefined;
    if (!isRunResumable(state) && !sealOnly) {
      const shown = record !== undefined ? `; its record is ${path.isAbsolute(record) ? path.relative(cwd, record) || record : record}` : '';
      const named = which === true ? `the newest run of ${doc.name}, ${runId},` : `run ${runId}`;
      throw new CliError(`${named} already ended (${state.finished?.status ?? 'aborted'})${shown}; there is nothing to resume`, {
        hint: which === true ? 'start a new run without --resume; to continue an older run on purpose, name it: --resume <run-id>' : 'start a new run without --resume',
      });
    }
    if (state.runbook.sha256 !== source.sha256) {
      throw new CliError(`the runbook changed since run ${runId} started (sha256 ${state.runbook.sha256.slice(0, 12)}… then, ${source.sha256.slice(0, 12)}… now): resuming would run a different plan`, {
        hint: 'restore the runbook as it was, or start a new run without --resume',
      });
    }
    if (which !== true && !sealOnly) await refuseIfSuperseded(store, runId, state, forceOld);
    return sealOnly ? { runId, state, sealOnly } : { runId, state };
  }
  throw new CliError(`no run of ${doc.name} to resume in ${runsWhere}`, { hint: 'start a new run without --resume' });
}

/**
 * `--resume ID` of a run a newer run of the same runbook followed: continuing it would put its vars (an old version)
 * over the newer deployment. Only with --force-old, and the refusal names both runs' vars so the operator sees what
 * would be deployed over what.
 */
async function refuseIfSuperseded(store: StateStore, runId: string, state: RunState, forceOld: boolean): Promise<void> {
  const newer = await newerRunOf(store, runId, state.runbook!.name);
  if (newer === undefined) return;
  const differing = [...new Set([...Object.keys(state.vars), ...Object.keys(newer.state.vars)])].filter((k) => state.vars[k] !== newer.state.vars[k]);
  const varsOf = (s: RunState) => (differing.length === 0 ? 'the same vars' : differing.map((k) => `${k}=${s.vars[k] === undefined ? '(unset)' : String(s.vars[k])}`).join(', '));
  const both = `run ${runId} (${varsOf(state)}) is older than run ${newer.runId} of ${state.runbook!.name} (${varsOf(newer.state)}), started after it`;
  if (forceOld) return;
  throw new CliError(inert(`${both}: resuming the older run would put its deployment over the newer one's; nothing was run`), {
    exitCode: ExitCode.usage,
    hint: 'to continue the older run on purpose all the same, add --force-old to this command; deployctl status shows the newer run',
  });
}

/** The newest run of `name` started after `runId` (listRuns is newest first), dry runs aside. */
async function newerRunOf(store: StateStore, runId: string, name: string): Promise<{ runId: string; state: RunState } | undefined> {
  for (const listed of await store.listRuns()) {
    if (listed.runId === runId) return undefined;
    if (listed.runbook !== undefined && listed.runbook !== name) continue;
    const read = await store.readRun(listed.runId);
    if (read === undefined) continue;
    const state = foldEvents(read.events);
    if (state.runbook?.name === name && !state.dryRun) return { runId: listed.runId, state };
  }
  return undefined;
}
