// The local adapter of the state port: the `.deployctl/` directory (journal files, lock files, claim files, the records directory), the format earlier versions wrote and read.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunEvent } from '../../engine/events.js';
import { parseJournalEntries } from '../../engine/journal.js';
import { writeNewFile } from '../fs.js';
import {
  acquireLock,
  findSealedRecord,
  isHolderAlive,
  isRunId,
  journalPath,
  listRunIds,
  lockHolder,
  openJournal,
  readJournalText,
  recordFilesNewestFirst,
  type StateDir,
} from '../state-dir.js';
import { chainedLine, checkChain, hashLine } from './chain.js';
import { subscribeToDirectory } from './local-subscribe.js';
import {
  isPromptId,
  StateStoreError,
  type ClaimResult,
  type JournalRead,
  type JournalWriter,
  type LockHolder,
  type LockRequest,
  type LockResult,
  type PromptClaim,
  type RecordChange,
  type RecordToSave,
  type RecordUpdate,
  type RecordUpdateOptions,
  type RunListing,
  type StateStore,
  type StateUpdate,
  type StoredClaim,
  type StoredRecord,
  type SubscribeOptions,
  type Subscription,
} from './store.js';
import { parseClaim } from './claims.js';
import { updateRecordFile } from './record-update-local.js';

/** The state directory `dir`; `shown` names it in messages (relative to where the command runs). */
export function directoryStateStore(dir: StateDir, shown: string = dir.root): StateStore {
  const show = (file: string) => (shown === dir.root ? file : path.join(shown, path.relative(dir.root, file)));
  const runDir = (runId: string) => path.join(dir.runsDir, runId);
  const claimsDir = (runId: string) => path.join(runDir(runId), 'claims');
  const requireRun = (runId: string) => {
    if (!isRunId(runId) || !fs.existsSync(journalPath(dir, runId))) throw new StateStoreError(`no run ${runId} in ${show(dir.runsDir)}`);
  };

  return {
    where: shown,
    directory: dir.root,

    async listRuns(): Promise<RunListing[]> {
      return listRunIds(dir).map((runId) => ({ runId }));
    },

    async readRun(runId: string): Promise<JournalRead | undefined> {
      return readLocalRun(dir, runId, show);
    },

    async openJournal(runId: string): Promise<JournalWriter> {
      // The head of the chain: the newest complete event already there (a resumed run), else the run's start.
      const existing = readLocalRun(dir, runId, show);
      let head = existing?.chain.head ?? checkChain(runId, [], () => '').head;
      const log = openJournal(dir, runId);
      return {
        where: show(journalPath(dir, runId)),
        append(event: RunEvent, durable: boolean) {
          const line = chainedLine(event, head);
          log.append(`${line}\n`, durable);
          head = hashLine(line);
        },
        // Every append above was written (and the durable ones fsync'd) before it returned.
        flushed: () => Promise.resolve(true),
        failure: undefined,
        get head() {
          return head;
        },
        async close() {
          log.close();
        },
      };
    },

    async lock(name: string, info: LockRequest, now: number): Promise<LockResult> {
      const result = acquireLock(dir, name, info, now);
      if (!result.ok) return { ok: false, holder: result.holder, where: show(result.file), file: show(result.file) };
      return {
        ok: true,
        release: async () => result.release(),
        setRunId: async (runId) => result.setRunId(runId),
        ...(result.replacedStale !== undefined ? { replacedStale: result.replacedStale } : {}),
        // A lock file cannot be lost from under its holder.
        lost: new AbortController().signal,
      };
    },

    async lockHolder(name: string): Promise<LockHolder | undefined> {
      const info = lockHolder(dir, name);
      // A holder on another host (a shared directory) cannot be checked from here: taken as there.
      return info === undefined ? undefined : { info, live: isHolderAlive(info) };
    },

    async claim(runId: string, claim: PromptClaim): Promise<ClaimResult> {
      requireRun(runId);
      if (!isPromptId(claim.promptId)) throw new StateStoreError(`'${claim.promptId}' is not a prompt id`);
      const file = path.join(claimsDir(runId), `${claim.promptId}.json`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      try {
        // Whole or not at all, and never over an existing claim: link(2) refuses a name that exists.
        writeNewFile(file, `${JSON.stringify(claim)}\n`, 0o644);
        return { won: true, claim };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      return { won: false, winner: readClaimFile(file, claim.promptId) };
    },

    async readClaim(runId: string, promptId: string): Promise<StoredClaim | undefined> {
      if (!isPromptId(promptId)) return undefined;
      const file = path.join(claimsDir(runId), `${promptId}.json`);
      return fs.existsSync(file) ? readClaimFile(file, promptId) : undefined;
    },

    async readClaims(runId: string): Promise<StoredClaim[]> {
      return listClaimFiles(claimsDir(runId)).map((name) => readClaimFile(path.join(claimsDir(runId), name), name.slice(0, -'.json'.length)));
    },

    async subscribe(runId: string, options: SubscribeOptions, listener: (update: StateUpdate) => void): Promise<Subscription> {
      requireRun(runId);
      return subscribeToDirectory({ runId, runDir: runDir(runId), claimsDir: claimsDir(runId), options, listener, readClaim: (name) => readClaimFile(path.join(claimsDir(runId), name), name.slice(0, -'.json'.length)) });
    },

    // The record was sealed into this directory's records/ (or where --out put it): it is kept where it was written.
    async saveRecord(record: RecordToSave): Promise<string> {
      return record.file;
    },

    async listRecords(): Promise<StoredRecord[]> {
      return recordFilesNewestFirst(dir.recordsDir).map((entry) => ({ name: entry.name, where: entry.file, time: entry.time, file: entry.file }));
    },

    async findSealedRecord(runId: string, status: string): Promise<string | undefined> {
      return findSealedRecord(dir, runId, status);
    },

    async updateRecord<T>(name: string, change: (current: Uint8Array) => RecordChange<T>, options: RecordUpdateOptions): Promise<RecordUpdate<T>> {
      return updateRecordFile(dir.recordsDir, name, change, options, show);
    },

    async close() {},
  };
}

/** Read and check one run's journal file; undefined when it has none. */
export function readLocalRun(dir: StateDir, runId: string, show: (file: string) => string = (f) => f): JournalRead | undefined {
  if (!isRunId(runId)) return undefined;
  const text = readJournalText(dir, runId);
  if (text === undefined) return undefined;
  const parsed = parseJournalEntries(text);
  const file = show(journalPath(dir, runId));
  const chain = checkChain(runId, parsed.entries, (e) => `line ${e.position} of ${file}`);
  return { runId, events: parsed.entries.map((e) => e.event), lastSeq: parsed.entries.length, skipped: parsed.skipped.length, tornTail: parsed.tornTail, chain };
}

/** `*.json` claim files, oldest name first (dot files are writeNewFile's temporaries). */
function listClaimFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => n.endsWith('.json') && !n.startsWith('.') && isPromptId(n.slice(0, -'.json'.length))).sort();
}

function readClaimFile(file: string, promptId: string): StoredClaim {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    return { ok: false, promptId, problem: `cannot read the claim ${file}: ${(error as Error).message}` };
  }
  return parseClaim(text, promptId, `the claim ${file}`);
}
