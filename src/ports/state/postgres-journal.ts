// The writer of a run's journal on PostgreSQL: events queue in order and go out in batches behind the run, synchronously committed when the journal policy says fsync.
import type { RunEvent } from '../../engine/events.js';
import { chainedLine, hashLine } from './chain.js';
import { SCHEMA } from './postgres-schema.js';
import type { Query } from './postgres.js';
import { StateStoreError, type JournalWriter } from './store.js';

/**
 * The writer of one run's journal: events queue in order and go out in batches (one INSERT each), so append() never
 * waits. A batch holding an `fsync` event commits synchronously; one of `write` events only (output-free progress:
 * phase starts, notifications) commits with synchronous_commit off: stored, and on disk with the next synchronous
 * commit, as the journal policy asks.
 */
export class PostgresJournal implements JournalWriter {
  private queue: { seq: number; line: string; hash: string; durable: boolean }[] = [];
  private stored: number;
  private enqueued: number;
  private waiters: { seq: number; resolve: (ok: boolean) => void }[] = [];
  private draining = false;
  private synchronous = true;
  private closed = false;
  failure: Error | undefined;

  constructor(
    private readonly query: Query,
    private readonly runId: string,
    readonly where: string,
    private chainHead: string,
    lastSeq: number,
    private readonly onFailure: (error: Error) => void,
  ) {
    this.stored = lastSeq;
    this.enqueued = lastSeq;
  }

  append(event: RunEvent, durable: boolean): void {
    if (this.closed || this.failure !== undefined) return;
    const line = chainedLine(event, this.chainHead);
    const hash = hashLine(line);
    this.chainHead = hash;
    this.enqueued++;
    this.queue.push({ seq: this.enqueued, line, hash, durable });
    if (!this.draining) void this.drain();
  }

  get head(): string {
    return this.chainHead;
  }

  flushed(): Promise<boolean> {
    if (this.failure !== undefined) return Promise.resolve(false);
    if (this.stored >= this.enqueued) return Promise.resolve(true);
    return new Promise((resolve) => this.waiters.push({ seq: this.enqueued, resolve }));
  }

  async close(): Promise<void> {
    await this.flushed();
    this.closed = true;
    if (!this.synchronous && this.failure === undefined) await this.query('SET synchronous_commit TO on').catch(() => undefined);
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0 && this.failure === undefined) {
        const batch = this.queue.splice(0);
        const durable = batch.some((b) => b.durable);
        if (durable !== this.synchronous) {
          await this.query(`SET synchronous_commit TO ${durable ? 'on' : 'off'}`);
          this.synchronous = durable;
        }
        await this.query(`INSERT INTO ${SCHEMA}.events (run_id, seq, line, hash) SELECT $1, s, l, h FROM unnest($2::bigint[], $3::text[], $4::text[]) AS t (s, l, h)`, [
          this.runId,
          batch.map((b) => b.seq),
          batch.map((b) => b.line),
          batch.map((b) => b.hash),
        ]);
        this.stored = batch[batch.length - 1]!.seq;
        this.settle(true);
      }
    } catch (error) {
      const conflict = (error as { cause?: { code?: string } }).cause?.code === '23505';
      this.failure = conflict
        ? new StateStoreError(`another process appended to the journal of ${this.where}: a run's journal has one writer, the holder of its runbook's lock; stopping`)
        : (error as Error);
      this.queue = [];
      this.settle(false);
      this.onFailure(this.failure);
    } finally {
      this.draining = false;
    }
  }

  private settle(ok: boolean): void {
    const ready = ok ? this.waiters.filter((w) => w.seq <= this.stored) : this.waiters;
    this.waiters = ok ? this.waiters.filter((w) => w.seq > this.stored) : [];
    for (const waiter of ready) waiter.resolve(ok);
  }
}
