// The run's hold on its state: the runbook's lock (the state's and the host's), and effects written ahead in the journal.
import * as os from 'node:os';
import { CliError, ExitCode } from '../errors.js';
import { acquireLock, hostLocks } from '../ports/state-dir.js';
import type { JournalWriter, LockRequest, LockResult, StateStore } from '../ports/state/store.js';
import type { RunPorts } from './run.js';

type HeldLock = Extract<LockResult, { ok: true }>;

/**
 * One run of a runbook at a time: the state's lock (a lock file, or an advisory lock every machine on the same
 * database sees), and a host-wide one, so a run from another directory (another checkout, or runbooks/ itself) cannot
 * deploy the same runbook at the same time. Throws when either is held.
 */
export async function lockRunbook(store: StateStore, name: string, info: LockRequest, ports: Pick<RunPorts, 'cwd' | 'env' | 'clock'>, statusCommand = 'deployctl status'): Promise<HeldLock> {
  const refuse = (lock: Extract<LockResult, { ok: false }>): never => {
    const h = lock.holder;
    const where = h?.cwd !== undefined && h.cwd !== ports.cwd ? `, from ${h.cwd}` : '';
    const elsewhere = h !== undefined && h.host !== os.hostname();
    throw new CliError(
      h ? `another run of ${name} is in progress: run ${h.runId} by ${h.user} on ${h.host} (pid ${h.pid}) since ${h.since}${where}` : `another run of ${name} holds ${lock.where}`,
      {
        exitCode: ExitCode.usage,
        // A dead holder on this host is taken over by itself; one on another host sharing a directory cannot be
        // checked from here; one on another host sharing a database releases the lock when its session ends.
        hint: `wait for it to finish (${statusCommand} shows it)${
          elsewhere && lock.file !== undefined
            ? `; if pid ${h!.pid} is no longer running on ${h!.host}, remove ${lock.file}`
            : elsewhere
              ? `; if ${h!.host} crashed, the database releases its lock as soon as it sees the connection gone (about a minute at most)`
              : ''
        }`,
      },
    );
  };
  const state = await store.lock(name, info, ports.clock.now());
  if (!state.ok) return refuse(state);
  let host: ReturnType<typeof acquireLock>;
  try {
    host = acquireLock(hostLocks(ports.env), name, info, ports.clock.now());
  } catch (error) {
    await state.release();
    throw error;
  }
  if (!host.ok) {
    await state.release();
    return refuse({ ok: false, holder: host.holder, where: host.file, file: host.file });
  }
  const replacedStale = state.replacedStale ?? host.replacedStale;
  return {
    ok: true,
    release: async () => {
      host.release();
      await state.release();
    },
    setRunId: async (runId) => {
      await state.setRunId(runId);
      host.setRunId(runId);
    },
    ...(replacedStale !== undefined ? { replacedStale } : {}),
    lost: state.lost,
  };
}

/** `effect`, run only once every journal entry before it is stored; `refused` when the store has failed. */
export function writeAhead<Request, Result>(journal: JournalWriter | undefined, effect: (request: Request) => Promise<Result>, refused: () => Result): (request: Request) => Promise<Result> {
  if (journal === undefined) return effect;
  return async (request) => ((await journal.flushed()) ? effect(request) : refused());
}

export const notRun = () => ({ exitCode: null, signal: null, timedOut: false, interrupted: true, durationMs: 0 });
export const notSent = () => ({ ok: false as const, error: 'not sent: the state store failed', durationMs: 0, timedOut: false });
