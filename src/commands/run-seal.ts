// The end of `run`: build the record from the state, seal and verify it, write it atomically, print the summary.
import * as path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { ExitCode } from '../errors.js';
import type { RunResult } from '../engine/execute.js';
import { collectTicks } from '../engine/watch-state.js';
import type { Masker } from '../engine/secrets.js';
import type { RunState } from '../engine/state.js';
import { fileFailure, isFileFailure } from '../ports/fs-failure.js';
import type { StateDir } from '../ports/state-dir.js';
import type { StateStore } from '../ports/state/store.js';
import { withNote, type RunHints } from './run-hints.js';
import type { Clock } from '../ports/types.js';
import { buildRecordPredicate } from '../record/build.js';
import type { RecordSuccessMetric } from '../record/types.js';
import { recordFileName, sealRecord, type SealedRecord } from '../record/seal.js';
import { formatRunSummary } from '../reporters/summary.js';
import type { LoadedRunbook } from '../runbook/load.js';
import type { People } from '../record/people.js';
import { maskPredicate } from './run-team.js';
import type { RunOptions, RunPorts } from './run.js';

export interface SealInputs {
  file: string;
  runbook: LoadedRunbook;
  dir: StateDir;
  store: StateStore;
  runId: string;
  state: RunState;
  result: RunResult;
  masker: Masker;
  env: NodeJS.ProcessEnv;
  signingKey: KeyObject;
  operator: string;
  options: RunOptions;
  ports: RunPorts;
  /** The run's clock: the record's end is on it (a rehearsal's plan time). */
  clock: Clock;
  hints: RunHints;
  people: People | undefined;
}

/** Seal the record of the run as `state` holds it, then print the summary; returns the exit code. */
export async function sealAndReport({ file, runbook, dir, store, runId, state, result, masker, env, signingKey, operator, options, ports, clock, hints, people }: SealInputs): Promise<number> {
  const { io } = ports;
  const { doc } = runbook;
  const shown = (): RunResult => ({ ...result, state, ...(result.reason !== undefined ? { reason: masker.mask(result.reason) } : {}) });
  let sealed: SealedRecord | undefined;
  let metrics: RecordSuccessMetric[] | undefined;
  // Named, signed and stored at the real time, even for a rehearsal (whose record times are plan times, hours ahead):
  // the newest record by name is the one sealed last.
  const now = ports.clock.now();
  const name = recordFileName(doc.name, runId, now);
  try {
    // The watches' ticks, from the journal (the state keeps their tally only): every tick goes into the record.
    const journal = await store.readRun(runId).catch(() => undefined);
    const ticks = journal === undefined ? undefined : collectTicks(journal.events);
    const predicate = maskPredicate(masker, buildRecordPredicate({ doc, state, env, now: clock.now(), ...(ticks !== undefined ? { ticks } : {}), ...(people !== undefined ? { people } : {}) }));
    metrics = predicate.success_metrics;
    const outPath = options.out ?? path.join(dir.recordsDir, name);
    sealed = sealRecord({ predicate, subject: { name: file, sha256: runbook.source.sha256 }, privateKey: signingKey, outPath, signer: operator, now });
  } catch (error) {
    const journal = store.directory !== undefined ? path.relative(ports.cwd, path.join(store.where, 'runs', runId, 'journal.jsonl')) || path.join(store.where, 'runs', runId, 'journal.jsonl') : `run ${runId} in ${store.where}`;
    const resume = hints.resume(runId);
    if (isFileFailure(error)) {
      // A full disk or a read-only directory: say which file and what to do; the journal lets a resume seal it later.
      const failure = fileFailure(error, ports.cwd, `seal the record with ${resume} (the journal ${journal} holds every event of the run)`);
      io.err(`deployctl: could not write the signed record: ${failure.message}`);
      io.err(`  ${failure.hint}`);
    } else {
      io.err(`deployctl: could not write the signed record: ${(error as Error).message}`);
      io.err(`  the journal (${journal}) still holds every event of the run`);
    }
    io.out(formatRunSummary(doc, shown(), undefined, withNote(resume, hints, '    '), metrics));
    return result.exitCode === ExitCode.ok ? ExitCode.failed : result.exitCode;
  }
  // The store keeps it too (a table, for a team's shared history); locally it already is where the store keeps records.
  try {
    const stored = await store.saveRecord({ name, runId, runbook: doc.name, status: state.finished?.status ?? result.status, sealedAt: now, text: JSON.stringify(sealed.envelope, null, 2) + '\n', file: sealed.path });
    if (stored !== sealed.path) io.err(`deployctl: the record is stored in the state too: ${stored}`);
  } catch (error) {
    io.err(`deployctl: warning: the record is in ${sealed.path}, but could not be stored in the state: ${(error as Error).message}`);
  }
  io.out(formatRunSummary(doc, shown(), { path: path.relative(ports.cwd, sealed.path) || sealed.path, keyId: sealed.keyId }, withNote(hints.resume(runId), hints, '    '), metrics));
  return result.exitCode;
}
