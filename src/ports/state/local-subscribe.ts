// Live updates from a run directory: inotify (fs.watch) on the run's directory and its claims, then read what was added; no polling.
//
// Latency: the kernel queues an inotify event when the writer's write(2) returns; Node delivers it on the next turn
// of the event loop and the new bytes are read at once: an event reaches a subscriber in another process in under a
// millisecond at p95, even on a loaded machine (bench/state-latency.mjs measures it against a PostgreSQL NOTIFY).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseJournalLine } from '../../engine/journal.js';
import { genesisHash, hashLine } from './chain.js';
import { StateStoreError, type StateUpdate, type StoredClaim, type SubscribeOptions, type Subscription } from './store.js';

interface DirectoryWatch {
  runId: string;
  runDir: string;
  claimsDir: string;
  options: SubscribeOptions;
  listener: (update: StateUpdate) => void;
  /** Read the claim file `name` (`<prompt id>.json`) of the claims directory. */
  readClaim: (name: string) => StoredClaim;
}

export async function subscribeToDirectory({ runId, runDir, claimsDir, options, listener, readClaim }: DirectoryWatch): Promise<Subscription> {
  const journal = path.join(runDir, 'journal.jsonl');
  const wantEvents = options.events !== false;
  const wantClaims = options.claims !== false;
  const afterSeq = options.afterSeq ?? 0;
  // The journal as read so far: bytes consumed, the unfinished last line, the events seen, the chain's head.
  let offset = 0;
  let partial = Buffer.alloc(0);
  let seq = 0;
  let head = genesisHash(runId);
  let chained = false;
  const seenClaims = new Set<string>();
  let closed = false;

  const deliver = (update: StateUpdate) => {
    if (closed) return;
    try {
      listener(update);
    } catch {
      // A listener's own bug must not stop the watch.
    }
  };

  const readJournal = () => {
    let fd: number;
    try {
      fd = fs.openSync(journal, 'r');
    } catch {
      return;
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size < offset) {
        deliver({ kind: 'problem', message: `${journal} became shorter while being watched (${offset} → ${size} bytes): it was truncated or replaced, not appended to` });
        offset = size;
        partial = Buffer.alloc(0);
        return;
      }
      if (size === offset) return;
      const chunk = Buffer.alloc(size - offset);
      let read = 0;
      while (read < chunk.length) {
        const n = fs.readSync(fd, chunk, read, chunk.length - read, offset + read);
        if (n === 0) break;
        read += n;
      }
      offset += read;
      let text = Buffer.concat([partial, chunk.subarray(0, read)]);
      for (let nl = text.indexOf(0x0a); nl !== -1; nl = text.indexOf(0x0a)) {
        takeLine(text.subarray(0, nl).toString('utf8'));
        text = text.subarray(nl + 1);
      }
      partial = Buffer.from(text);
    } finally {
      fs.closeSync(fd);
    }
  };

  const takeLine = (line: string) => {
    if (line.trim() === '') return;
    const entry = parseJournalLine(line, seq + 1);
    // A torn write cut short by a crash, then ended by the next writer's newline: skipped, as every read skips it.
    if (entry === undefined) return;
    seq++;
    if (entry.prev !== undefined) {
      if (entry.prev !== head) deliver({ kind: 'problem', message: `event ${seq} of ${journal} does not link to the event before it: an event was edited, removed or inserted there` });
      chained = true;
    } else if (chained) {
      deliver({ kind: 'problem', message: `event ${seq} of ${journal} carries no hash link, although the journal is hash-chained before it` });
    }
    const hash = hashLine(line);
    head = hash;
    if (wantEvents && seq > afterSeq) deliver({ kind: 'event', seq, event: entry.event, hash });
  };

  const readClaims = () => {
    let names: string[];
    try {
      names = fs.readdirSync(claimsDir);
    } catch {
      return;
    }
    // Dot files are writeNewFile's temporaries: a claim appears under its name only whole.
    for (const name of names.filter((n) => n.endsWith('.json') && !n.startsWith('.') && !seenClaims.has(n)).sort()) {
      seenClaims.add(name);
      deliver({ kind: 'claim', claim: readClaim(name) });
    }
  };

  let watchClaims = () => {};
  // One reader at a time; a change seen while reading means one more read after it.
  let reading = false;
  let again = false;
  const update = () => {
    if (closed) return;
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      do {
        again = false;
        readJournal();
        watchClaims();
        if (wantClaims) readClaims();
      } while (again && !closed);
    } finally {
      reading = false;
    }
  };

  // Watch first, then read what is already there: nothing appended in between is missed.
  const watchers: fs.FSWatcher[] = [];
  const watch = (dir: string) => {
    const watcher = fs.watch(dir, { persistent: true }, () => update());
    watcher.on('error', (error) => deliver({ kind: 'problem', message: `stopped watching ${dir}: ${error.message}` }));
    watchers.push(watcher);
  };
  // The claims directory comes with the first claim (or a subscriber that may create it); it is watched once it is there.
  let claimsWatched = false;
  watchClaims = () => {
    if (!wantClaims || claimsWatched || !fs.existsSync(claimsDir)) return;
    claimsWatched = true;
    try {
      watch(claimsDir);
    } catch (error) {
      deliver({ kind: 'problem', message: `cannot watch ${claimsDir}: ${(error as Error).message}` });
    }
  };
  try {
    watch(runDir);
  } catch (error) {
    throw new StateStoreError(`cannot watch ${runDir}: ${(error as Error).message}`);
  }
  if (wantClaims) {
    try {
      fs.mkdirSync(claimsDir, { recursive: true });
    } catch {
      // Not ours to create: watched when a claimer creates it (the run's directory watch sees it appear).
    }
  }
  update();

  return {
    async close() {
      closed = true;
      for (const watcher of watchers) watcher.close();
    },
  };
}
