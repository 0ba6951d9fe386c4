// Shared by the interactive e2e tests: fresh work dirs with fixtures, a person's terminal environment, records read back.
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTmux, type TmuxSession } from './tmux.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = path.join(ROOT, 'bin/deployctl.js');
export const FIXTURES = path.join(ROOT, 'test/fixtures/interactive');
export const OPERATOR = 'e2e-operator';
/** The machine is shared and noisy: waits are generous, and each is a poll with a deadline, never a fixed sleep. */
export const WAIT = { timeoutMs: 30_000 };
/** A stack frame as Node prints it. */
export const STACK_FRAME = /^\s+at .*(\(|file:|node:).*:\d+:\d+\)?$/m;

/** A prompt line as inquirer draws it: `? <who> <message>`. */
export const prompt = (text: string) => new RegExp(`^\\? .*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm');

export interface Terminals {
  workdir(...fixtures: string[]): string;
  run(dir: string, args: string[], size?: { width: number; height: number }, env?: Record<string, string>): Promise<TmuxSession>;
  cleanup(): Promise<void>;
}

/** What a person's shell would have, minus CI: TERM of a real terminal emulator, a UTF-8 locale, our operator name. */
export function terminalEnv(dir: string): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: dir,
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
    PS1: '$ ',
    DEPLOYCTL_OPERATOR: OPERATOR,
    // Host locks of this work dir only: test files running at once (or another checkout's) must not make runs of the
    // same runbook name wait for each other ('another run of interactive-happy is in progress').
    DEPLOYCTL_LOCK_DIR: path.join(dir, '.deployctl-host-locks'),
  };
}

export function terminals(): Terminals {
  let sessions: TmuxSession[] = [];
  let dirs: string[] = [];
  return {
    workdir(...fixtures) {
      const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'deployctl-interactive-')));
      dirs.push(dir);
      for (const f of fixtures) copyFileSync(path.join(FIXTURES, f), path.join(dir, f));
      return dir;
    },
    async run(dir, args, size = { width: 120, height: 40 }, env = {}) {
      const session = await startTmux({ command: [process.execPath, BIN, ...args], cwd: dir, env: { ...terminalEnv(dir), ...env }, ...size });
      sessions.push(session);
      return session;
    },
    async cleanup() {
      await Promise.all(sessions.map((s) => s.kill()));
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      sessions = [];
      dirs = [];
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RecordPredicate = Record<string, any>;

/** The signed records in `.deployctl/records/`, oldest first. */
export function readRecords(dir: string): RecordPredicate[] {
  const recordsDir = path.join(dir, '.deployctl/records');
  if (!existsSync(recordsDir)) return [];
  return readdirSync(recordsDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const envelope = JSON.parse(readFileSync(path.join(recordsDir, f), 'utf8')) as { payload: string };
      return (JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as { predicate: RecordPredicate }).predicate;
    });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function stepOf(record: RecordPredicate, id: string): any {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const all = [...record['phases'].flatMap((p: any) => [...p.steps, ...(p.finally ?? [])]), ...(record['rollback']?.steps ?? [])];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const step = all.find((s: any) => s.id === id);
  if (!step) throw new Error(`no step ${id} in the record`);
  return step;
}
