// The journal's hash chain: each stored event carries `prev`, the sha256 of the event line before it, so an edited, removed or inserted event shows on read.
//
// The same rule on both backends: the line hashed is the event's JSON exactly as stored (a file line without its
// newline, a row's `line` column). The first event links to a value derived from the run id, so a journal cannot be
// passed off as another run's. Journals written before the chain existed have no `prev` at all: they still load,
// reported as unchained; a journal resumed by this version is chained from its first new event on.
//
// What the chain shows and what it does not: an edit anywhere but the last event breaks the link after it, and so
// does a removal or an insertion. It does not stop someone who rewrites every event after their edit, nor show an edit
// of the newest event; the head hash (the hash of the newest event) is what signed answers and records can pin.
import { createHash } from 'node:crypto';
import { parseJournalLine, type JournalEntry } from '../../engine/journal.js';
import type { RunEvent } from '../../engine/events.js';

export function hashLine(line: string): string {
  return `sha256:${createHash('sha256').update(line, 'utf8').digest('hex')}`;
}

/** What the first event of a run links to. */
export function genesisHash(runId: string): string {
  return hashLine(`deployctl journal ${runId}`);
}

/** The stored line of `event`, linked to `prev` (without a newline). */
export function chainedLine(event: RunEvent, prev: string): string {
  return JSON.stringify({ ...event, prev });
}

export interface ChainCheck {
  /**
   * `intact`: every event links to the one before it. `unchained`: no event carries a link (a journal from before
   * the chain existed). `broken`: some link does not hold; `problems` say where.
   */
  status: 'intact' | 'unchained' | 'broken';
  /** Events at the start written without links by an earlier version (then chained from the next one on). */
  unchainedPrefix: number;
  /** The hash of the newest event: what the next event links to. */
  head: string;
  /** One sentence per broken link, naming where. */
  problems: string[];
}

/**
 * Check the links of `entries` (in journal order). `where(entry)` names an entry in messages ("line 12", "row 12").
 * Never throws.
 */
export function checkChain(runId: string, entries: readonly JournalEntry[], where: (entry: JournalEntry) => string): ChainCheck {
  let head = genesisHash(runId);
  let unchainedPrefix = 0;
  let chainedFrom: JournalEntry | undefined;
  const problems: string[] = [];
  for (const [index, entry] of entries.entries()) {
    if (entry.prev === undefined) {
      if (chainedFrom === undefined) unchainedPrefix = index + 1;
      else problems.push(`${where(entry)} carries no hash link, although the journal is hash-chained from ${where(chainedFrom)} on (an event inserted by hand?)`);
    } else {
      chainedFrom ??= entry;
      if (entry.prev !== head) {
        problems.push(
          index === 0
            ? `${where(entry)} is the first event but does not link to the start of run ${runId} (a journal of another run, or its first events removed?)`
            : `${where(entry)} does not link to the event before it (${where(entries[index - 1]!)}): an event was edited, removed or inserted there`,
        );
      }
    }
    head = hashLine(entry.line);
  }
  const status = problems.length > 0 ? 'broken' : chainedFrom === undefined && entries.length > 0 ? 'unchained' : 'intact';
  return { status, unchainedPrefix: chainedFrom === undefined ? 0 : unchainedPrefix, head, problems };
}

/** A row of a table-backed journal: its line, and the hash stored beside it (checked against the line). */
export interface StoredRow {
  seq: number;
  line: string;
  hash: string;
}

/** Rows of a table in seq order → entries, the rows that are not events, and the problems with seq and stored hashes. */
export function entriesFromRows(rows: readonly StoredRow[]): { entries: JournalEntry[]; skipped: number[]; problems: string[] } {
  const entries: JournalEntry[] = [];
  const skipped: number[] = [];
  const problems: string[] = [];
  let expected = 1;
  for (const row of rows) {
    if (row.seq !== expected) problems.push(row.seq > expected ? `${row.seq - 1 === expected ? `row ${expected} is` : `rows ${expected}–${row.seq - 1} are`} missing (removed?)` : `row ${row.seq} appears out of order`);
    expected = row.seq + 1;
    if (hashLine(row.line) !== row.hash) problems.push(`row ${row.seq}'s stored hash does not match its content (edited after it was written?)`);
    const entry = parseJournalLine(row.line, row.seq);
    if (entry === undefined) {
      skipped.push(row.seq);
      problems.push(`row ${row.seq} is not a journal event (unreadable JSON or a missing field)`);
    } else entries.push(entry);
  }
  return { entries, skipped, problems };
}
