// The state port: a run's journal, the per-runbook lock, prompt claims, live updates and sealed records, behind one interface with two adapters (the local `.deployctl/` directory, PostgreSQL).
//
// Design note (issue 14 item 6; DESIGN.md "People, identity, and more than one terminal", bullet "State").
//
// Who writes what
// - A run's journal has one writer: the process holding the runbook's lock (the host, `deployctl run`). It appends
//   events in order; each stored event carries the hash of the one before it (chain.ts), and every read checks the
//   chain and reports what does not hold. Reads never throw on bad data: a tampered row or line is a problem to show.
// - Everyone else (`deployctl join`, `deployctl answer`) writes claims: at most one per (run, prompt id), and the first
//   one stored wins, atomically (a unique row; a file created with link(2), which refuses a name that exists). A claim
//   may land before its prompt opens. The store does not judge claims: the claimer checks its own answer first (key,
//   role), the host checks each claim it reads and journals what it accepted or refused. So answers are decided in one
//   place, and the journal keeps a single writer.
// - The host waits on other people's prompts with subscribe(run, { claims: true }): the claims already there, then each
//   new one as it lands. A joiner draws the live run from subscribe(run, { afterSeq }) (the events after those it has)
//   and claims the prompts it answers. Updates are pushed, never polled: LISTEN/NOTIFY on PostgreSQL (a trigger
//   notifies after each insert commits; the subscriber then reads the new rows), inotify (fs.watch) on the run's
//   directory locally. Measured in bench/state-latency.mjs (append in one process to delivery in another): p95 under
//   1 ms locally, about 30 ms on PostgreSQL with fsync on at load 21 on 2 cores; the target is 100 ms.
// - The lock: one run of a runbook at a time, naming its holder. Locally an O_EXCL lock file, taken over from a process
//   that died on this host. On PostgreSQL an advisory lock held by the holder's session, so a crashed host releases it
//   (its connection ends; TCP keepalives end a silent one), plus a row naming the holder. When the holder's connection
//   is lost, `lost` fires and the run stops: another host may take the lock from then on.
// - Durability (the journal policy of engine/events.ts): append() returns at once. Locally it writes, and fsyncs the
//   events that need it, before returning (as before). On PostgreSQL the rows go out in order behind it; flushed()
//   resolves when everything appended so far is committed, the `fsync` events with a synchronous commit. The run
//   command awaits flushed() before every effect (a step's command, an HTTP request), so nothing happens that the
//   journal could not show after a crash: the journal is written ahead of what it describes, on both backends.
// - Sealed records are stored too (a table; locally the records directory), so `record list --state …` shows the
//   team's history wherever it ran. Private keys never go into a store.
// - For signed answers: JournalRead.chain.head and each live event's `hash` are "the hash of the journal so far" an
//   answer signs over. `join` finds the live runs with listRuns() and lockHolder(runbook).live.
// - Claims that do not count (issue 14): a prompt's claims are slots, `<prompt>` then `<prompt>~2`, `~3`… (src/team/
//   prompts.ts). The first claim of a slot wins it here, as above; the host and every claimer judge a slot's claim with
//   one rule (src/team/judge.ts) and go on to the next slot past one that does not count (forged, a person without the
//   role). So a forged claim is journaled as refused and never blocks a prompt: the next valid claim takes the next
//   slot. A signature covers its slot, so a valid answer cannot be replayed into another.
import type { RunEvent } from '../../engine/events.js';
import { CliError, ExitCode } from '../../errors.js';
import type { LockHolder as FileLockHolder } from '../file-lock.js';
import type { LockInfo } from '../state-dir.js';
import type { ChainCheck } from './chain.js';

export type { LockInfo };

export interface StateStore {
  /** Where the state is, for messages: `.deployctl` or `postgres://ana@db.example/deploy` (never a password). */
  readonly where: string;
  /** The local state directory, when the store is one: a host-wide lock names it so `status` from elsewhere finds the run. */
  readonly directory?: string;

  /** Every run, newest first. */
  listRuns(): Promise<RunListing[]>;
  /** A run's journal, read and checked; undefined when there is no such run. */
  readRun(runId: string): Promise<JournalRead | undefined>;
  /** Append to a run's journal, creating the run when it is new. Only the holder of its runbook's lock may. */
  openJournal(runId: string, run: { runbook: string }, onFailure: (error: Error) => void): Promise<JournalWriter>;

  /** Take the runbook's lock, or learn who holds it. */
  lock(name: string, info: LockRequest, now: number): Promise<LockResult>;
  /** Who holds the runbook's lock now, if anyone, and whether the holder is still there. */
  lockHolder(name: string): Promise<LockHolder | undefined>;

  /** Claim a prompt of a run: the first claim stored wins; every later one learns the winner. */
  claim(runId: string, claim: PromptClaim): Promise<ClaimResult>;
  readClaim(runId: string, promptId: string): Promise<StoredClaim | undefined>;
  readClaims(runId: string): Promise<StoredClaim[]>;

  /**
   * A run's new events and claims as they are stored: first those already there (events after `afterSeq`, every
   * claim), then live. Resolves once the catch-up is delivered and the watch is in place.
   */
  subscribe(runId: string, options: SubscribeOptions, listener: (update: StateUpdate) => void): Promise<Subscription>;

  /** Keep a sealed record (already written to `file` and verified there); returns where the store keeps it. */
  saveRecord(record: RecordToSave): Promise<string>;
  /** Every stored record, newest first. */
  listRecords(): Promise<StoredRecord[]>;
  /** Where the sealed record of how run `runId` ended (`status`) is, if the store has it. */
  findSealedRecord(runId: string, status: string): Promise<string | undefined>;
  /**
   * Replace a stored record's bytes (a co-signed version), atomically and without lost updates: `change` gets the bytes
   * stored now, read under a lock no other updateRecord of that record gets past (on PostgreSQL the row, SELECT … FOR
   * UPDATE, until the transaction ends; locally the record file's lock `.<name>.lock`, the one `record sign` on a file
   * takes), and says what to write, if anything. So two updates at once run one after the other, the second on the
   * bytes the first wrote. Waits up to `waitMs` for another update of the record to finish, then gives up and says
   * who holds it; nothing is written then. What was written is read back (trust what is stored, not what was sent).
   */
  updateRecord<T>(name: string, change: (current: Uint8Array) => RecordChange<T>, options: RecordUpdateOptions): Promise<RecordUpdate<T>>;

  close(): Promise<void>;
}

export interface RunListing {
  runId: string;
  /** The runbook's name, when the store knows it without reading the journal. */
  runbook?: string;
}

export interface JournalRead {
  runId: string;
  events: RunEvent[];
  /** The seq of the newest event (events are numbered from 1): where a subscriber picks up. */
  lastSeq: number;
  /** Lines or rows that are not events (a torn last line after a crash; garbage). */
  skipped: number;
  /** The last line was cut short (a crash while writing). */
  tornTail: boolean;
  /** The hash chain, and every problem with the stored rows (a wrong stored hash, a missing row). */
  chain: ChainCheck;
}

export interface JournalWriter {
  /** For messages: the journal file, or the run in the database. */
  readonly where: string;
  /** Queue (PostgreSQL) or write (local) one event; `durable` events are synced before flushed() resolves. Never waits. */
  append(event: RunEvent, durable: boolean): void;
  /** Resolves true when every event appended so far is stored; false once the store has failed (see `failure`). */
  flushed(): Promise<boolean>;
  /** Why the store stopped taking events, if it did. */
  readonly failure: Error | undefined;
  /** The hash of the newest event appended (stored or queued): "the hash of the journal so far" a signed answer pins. */
  readonly head: string;
  /** Flush, then stop taking events. */
  close(): Promise<void>;
}

export type LockRequest = Omit<LockInfo, 'user' | 'host' | 'pid' | 'since'>;

export type LockResult =
  | {
      ok: true;
      release: () => Promise<void>;
      /** Name the run the lock is for, once it is known (a bare --resume learns its run id after locking). */
      setRunId: (runId: string) => Promise<void>;
      /** A holder that was gone and whose lock was taken over (reported to the user). */
      replacedStale?: LockInfo;
      /** Aborted when the lock can no longer be trusted (the database connection holding it was lost). */
      lost: AbortSignal;
    }
  | {
      ok: false;
      holder: LockInfo | undefined;
      /** How the lock is kept, for messages: the lock file, or `the advisory lock of NAME in postgres://…`. */
      where: string;
      /** The lock file, when removing it by hand can ever be the fix (a holder on another host sharing the directory). */
      file?: string;
    };

export interface LockHolder {
  info: LockInfo;
  /** The holder is still there: alive on this host (or on another host, which cannot be checked from here), or its session still holds the lock. */
  live: boolean;
}

/**
 * A prompt: a step (`qa-ready`), a gate's condition (`go-no-go.leadership_approved`), a gate's decision or approval
 * (`go-no-go`), `rollback`; a claim's key adds its slot after a `~` (`qa-ready~2`, src/team/prompts.ts).
 */
const PROMPT_ID = /^[A-Za-z0-9_][A-Za-z0-9_.~-]{0,199}$/;

export function isPromptId(text: string): boolean {
  return PROMPT_ID.test(text);
}

export interface PromptClaim {
  promptId: string;
  /** Who answers: a person id, or the operator's name. */
  by: string;
  /** The answer, as JSON. */
  answer: unknown;
  /** When it was given (ms since the epoch). */
  at: number;
  host?: string;
  /** Opaque to the store: what proves who answered (a signed answer), checked by the host. */
  proof?: unknown;
}

/** A claim as read back: stored data is untrusted, and one that cannot be read is reported, not thrown. */
export type StoredClaim = { ok: true; claim: PromptClaim } | { ok: false; promptId: string; problem: string };

export type ClaimResult = { won: true; claim: PromptClaim } | { won: false; winner: StoredClaim };

export interface SubscribeOptions {
  /** Deliver events after this seq (default 0: all of them). */
  afterSeq?: number;
  /** Deliver events (default true). */
  events?: boolean;
  /** Deliver claims (default true). */
  claims?: boolean;
}

export type StateUpdate =
  | { kind: 'event'; seq: number; event: RunEvent; hash: string }
  | { kind: 'claim'; claim: StoredClaim }
  /** Something stored that does not hold (a broken link, an unreadable row): shown, never thrown. */
  | { kind: 'problem'; message: string };

export interface Subscription {
  close(): Promise<void>;
}

export interface RecordToSave {
  /** The record's file name, `<runbook>-<sealed>-<run id>.json`. */
  name: string;
  runId: string;
  runbook: string;
  status: string;
  sealedAt: number;
  /** The sealed envelope, exactly as written to `file`. */
  text: string;
  /** Where it was written (and verified). */
  file: string;
}

export interface StoredRecord {
  name: string;
  /** As shown: the file (local), or `records/<name>` in the database. */
  where: string;
  /** When it was sealed, newest first. */
  time: number;
  /** The local file, when the record is one. */
  file?: string;
  /** The envelope's bytes, when the record is not a local file. */
  bytes?: Uint8Array;
}

export interface RecordUpdateOptions {
  /** How long to wait for another update of the same record to finish. */
  waitMs: number;
  /** What is updating it, in words (`deployctl record sign`): a lock file names it, and so does the database session. */
  what: string;
}

/** What to do with a record's current bytes: `write` replaces them; without it the record stays as it is. */
export interface RecordChange<T> {
  result: T;
  write?: Uint8Array;
}

/** Who holds a record's lock: a process (the lock file), or a database session (pid is the server's backend pid). */
export interface RecordLockHolder {
  what: string;
  pid?: number;
  host?: string;
  since?: string;
}

export type RecordUpdate<T> =
  /** No record of that name in the store (when the update began). */
  | { kind: 'missing'; where: string }
  /**
   * `change` ran on the current bytes. `stored` is what the store holds after the write, read back (absent when
   * nothing was written).
   */
  | { kind: 'done'; result: T; stored?: Uint8Array; /** A lock file left by a process no longer running, taken over. */ tookOverFrom?: FileLockHolder; lock: string }
  /** Another update held the record for the whole wait: nothing was written. `lock` names the lock (file or row). */
  | { kind: 'locked'; lock: string; waitedMs: number; holder?: RecordLockHolder; inDatabase: boolean }
  /** The lock could not be taken, or the write failed (a read-only directory, a full disk): nothing was written. */
  | { kind: 'failed'; stage: 'lock' | 'write'; lock: string; code: string; message: string };

/**
 * A store that cannot do what was asked (unreachable, a newer schema, no such run): a user-facing error, printed once at
 * the boundary like every CliError. Exit 1 by default (the state failed); 2 when the URL itself is wrong.
 */
export class StateStoreError extends CliError {
  constructor(message: string, hint?: string, exitCode: number = ExitCode.failed) {
    super(message, { exitCode, ...(hint !== undefined ? { hint } : {}) });
    this.name = 'StateStoreError';
  }
}
