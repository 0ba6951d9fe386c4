// A separate process that uses the state store (bundled by buildStateClient for the concurrency tests and the latency bench): open, claim, append, subscribe, told what to do by one JSON argument; prints one JSON line per result.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openStateStore, resolveState } from '../../src/ports/state/location.js';
import type { RunEvent } from '../../src/engine/events.js';

type Command =
  | { op: 'open'; state: string; goFile?: string }
  | { op: 'claim'; state: string; runId: string; promptId: string; by: string; goFile: string }
  | { op: 'append'; state: string; runId: string; count: number; gapMs: number }
  | { op: 'subscribe'; state: string; runId: string; count: number };

/** Wall-clock time with sub-millisecond resolution, comparable between processes on one machine. */
const now = () => performance.timeOrigin + performance.now();

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

/** Resolves when `file` exists (inotify on its directory, no polling). */
function appears(file: string): Promise<void> {
  return new Promise((resolve) => {
    const watcher = fs.watch(path.dirname(file), () => {
      if (fs.existsSync(file)) {
        watcher.close();
        resolve();
      }
    });
    if (fs.existsSync(file)) {
      watcher.close();
      resolve();
    }
  });
}

async function main(): Promise<void> {
  const command = JSON.parse(process.argv[2] ?? '{}') as Command;
  // Opening creates or migrates the schema: openers wait for one signal, so they really open at once.
  if (command.op === 'open' && command.goFile !== undefined) {
    print({ ready: true });
    await appears(command.goFile);
  }
  const store = await openStateStore(resolveState(command.state, {}, process.cwd()).location);
  try {
    switch (command.op) {
      case 'open':
        print({ ok: true });
        return;
      case 'claim': {
        // Every claimer is connected and waiting before any claims: they really race when the go file appears.
        print({ ready: true });
        await appears(command.goFile);
        const result = await store.claim(command.runId, { promptId: command.promptId, by: command.by, answer: true, at: Date.now() });
        print(result.won ? { won: true, by: command.by } : { won: false, by: command.by, winner: result.winner.ok ? result.winner.claim.by : result.winner.problem });
        return;
      }
      case 'append': {
        const journal = await store.openJournal(command.runId, { runbook: 'bench' }, (error) => {
          throw error;
        });
        for (let i = 0; i < command.count; i++) {
          await new Promise((resolve) => setTimeout(resolve, command.gapMs));
          const event: RunEvent = { kind: 'step-started', at: now(), stepId: `s${i}`, phaseId: 'p', stepKind: 'run', attempt: 1, rollback: false };
          journal.append(event, true);
          await journal.flushed();
        }
        await journal.close();
        print({ appended: command.count });
        return;
      }
      case 'subscribe': {
        let seen = 0;
        let finished!: () => void;
        const done = new Promise<void>((resolve) => (finished = resolve));
        const subscription = await store.subscribe(command.runId, { claims: false }, (update) => {
          if (update.kind !== 'event') return;
          print({ seq: update.seq, kind: update.event.kind, sentAt: update.event.at, receivedAt: now() });
          if (++seen >= command.count) finished();
        });
        print({ ready: true });
        await done;
        await subscription.close();
        return;
      }
    }
  } finally {
    await store.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  },
);
