// The team tests' shared setup: a team in a temp directory (people with real Ed25519 key pairs, their runbook `people:` entries), and the suite that runs a team's end-to-end tests on both state backends (local directory, real PostgreSQL) with the built CLI and real tmux terminals.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { writeKeyPair } from '../../src/record/keys.js';
import { readJournal, runCli, spawnCli, type CliProcess, type CliResult } from './cli.js';
import { BIN, terminalEnv } from './interactive.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { startTmux, TMUX, type TmuxSession } from './tmux.js';

export interface TeamDir {
  /** The working directory: runbooks and keys/ live here. */
  dir: string;
  /** $HOME for the commands: its .config/deployctl/keys holds every person's private key. */
  home: string;
  /** The personal key directory under `home`. */
  personalKeys: string;
  /** The private key file of person `id`. */
  key(id: string): string;
  /** The public key file of person `id` (relative to dir: `keys/<id>.pub`). */
  pub(id: string): string;
  /** Write a file relative to dir. */
  write(name: string, text: string): string;
  /** Environment for the CLI: HOME pointing at `home`, XDG unset. */
  env(extra?: Record<string, string | undefined>): Record<string, string | undefined>;
  remove(): void;
}

/** A directory with a key pair for each of `people` (ids): `keys/<id>.pub` and `<home>/.config/deployctl/keys/<id>.key`. */
export function makeTeam(people: readonly string[], prefix = 'deployctl-team-'): TeamDir {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const home = path.join(dir, 'home');
  const personalKeys = path.join(home, '.config', 'deployctl', 'keys');
  for (const id of people) {
    const made = writeKeyPair(personalKeys, id);
    if (!made.ok) throw new Error(made.error.message);
    fs.mkdirSync(path.join(dir, 'keys'), { recursive: true });
    fs.renameSync(made.pubPath, path.join(dir, 'keys', `${id}.pub`));
  }
  return {
    dir,
    home,
    personalKeys,
    key: (id) => path.join(personalKeys, `${id}.key`),
    pub: (id) => path.join('keys', `${id}.pub`),
    write(name, text) {
      const file = path.join(dir, name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      return file;
    },
    env: (extra = {}) => ({ HOME: home, XDG_CONFIG_HOME: undefined, DEPLOYCTL_KEY: undefined, ...extra }),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** The people of the team tests, by id: the names their runbooks give and their assertions read. Other ids are `Person <id>`. */
export const NAMES: Readonly<Record<string, string>> = {
  ana: 'Ana Torres',
  elif: 'Elif Yilmaz',
  femi: 'Femi Adeyemi',
  iris: 'Iris Moreau',
  chen: 'Chen Wei',
};

/** A runbook's `people:` block (no trailing newline) for ids, keys at keys/<id>.pub; `more[id]` adds fields to that person's entry (e.g. `contact: "@femi"`). */
export function peopleYaml(ids: readonly string[], more: Readonly<Record<string, string>> = {}): string {
  const entry = (id: string) => [`name: ${NAMES[id] ?? `Person ${id}`}`, `keys: [keys/${id}.pub]`, ...(more[id] !== undefined ? [more[id]] : [])].join(', ');
  return ['people:', ...ids.map((id) => `  ${id}: { ${entry(id)} }`)].join('\n');
}

/** The state backends every team test runs on: the local directory (no database), and a fresh database in the test run's real PostgreSQL. */
export const STATE_BACKENDS = [
  ['the local directory', (): TestDatabase | undefined => undefined],
  ['PostgreSQL', (): TestDatabase | undefined => createTestDatabase()],
] as const;

/** A team's directory on one state backend, with the built CLI and real terminals (tmux) run in it as the team's people. */
export interface TeamRun extends Omit<TeamDir, 'env' | 'remove'> {
  /** The database on PostgreSQL; undefined on the local directory. */
  readonly db: TestDatabase | undefined;
  /** `DEPLOYCTL_STATE` set to the database on PostgreSQL; nothing on the local directory. */
  stateEnv(): Record<string, string>;
  /** Environment for the CLI: the team's HOME and the state (cliEnv adds CI=true). */
  env(extra?: Record<string, string | undefined>): Record<string, string | undefined>;
  /** Run the CLI in the team's directory to its end (SIGKILLed after 60 s). */
  cli(args: readonly string[], extra?: Record<string, string | undefined>): Promise<CliResult>;
  /** Start the CLI in the team's directory and return at once. */
  /** `timeoutMs`: when the process is killed (60 s by default); longer than any `--wait` it is given. */
  spawn(args: readonly string[], timeoutMs?: number): CliProcess;
  /** The CLI in a real terminal (tmux) of `size`, as a person's shell has it (terminalEnv: no CI); killed after each test. */
  terminal(args: readonly string[], size?: { width: number; height: number }): Promise<TmuxSession>;
  /** The run's journal events, from wherever the state is. */
  events(runId: string): Record<string, any>[];
}

export interface TeamSuite {
  /** Person ids: each gets a real key pair (makeTeam). */
  people: readonly string[];
  /** Files written into the team's directory before the tests (runbooks, answers files). */
  files: Readonly<Record<string, string>>;
  /** Per-test timeout of the block. */
  timeout: number;
}

/**
 * `describe.each(STATE_BACKENDS)` named `<title>, state in <backend>`: per backend, one team directory (makeTeam with `suite.files`
 * written, removed afterwards) and one database, set up before `body`'s own hooks run; terminals are killed after each test.
 */
export function describeTeam(title: string, suite: TeamSuite, body: (team: TeamRun) => void): void {
  describe.each(STATE_BACKENDS)(`${title}, state in %s`, { timeout: suite.timeout }, (_name, database) => {
    let dir: TeamDir | undefined;
    let db: TestDatabase | undefined;
    let sessions: TmuxSession[] = [];
    const team = (): TeamDir => {
      if (dir === undefined) throw new Error('the team directory is made in beforeAll: use it inside hooks and tests only');
      return dir;
    };
    const stateEnv = (): Record<string, string> => (db !== undefined ? { DEPLOYCTL_STATE: db.url } : {});
    const env = (extra: Record<string, string | undefined> = {}) => team().env({ ...stateEnv(), ...extra });

    beforeAll(() => {
      dir = makeTeam(suite.people);
      for (const [name, text] of Object.entries(suite.files)) dir.write(name, text);
      db = database();
    });
    const killTerminals = async () => {
      await Promise.all(sessions.map((s) => s.kill()));
      sessions = [];
    };
    afterEach(killTerminals);
    // Also a terminal a beforeAll started when no test ran after it.
    afterAll(async () => {
      await killTerminals();
      dir?.remove();
    });

    body({
      get dir() {
        return team().dir;
      },
      get home() {
        return team().home;
      },
      get personalKeys() {
        return team().personalKeys;
      },
      get db() {
        return db;
      },
      key: (id) => team().key(id),
      pub: (id) => team().pub(id),
      write: (name, text) => team().write(name, text),
      stateEnv,
      env,
      cli: (args, extra = {}) => runCli(args, { cwd: team().dir, env: env(extra), timeoutMs: 60_000 }),
      spawn: (args, timeoutMs) => spawnCli(args, { cwd: team().dir, env: env(), ...(timeoutMs !== undefined ? { timeoutMs } : {}) }),
      async terminal(args, size = { width: 160, height: 30 }) {
        if (!fs.existsSync(TMUX)) throw new Error(`these tests need tmux at ${TMUX} (apt-get install tmux)`);
        const session = await startTmux({ command: [process.execPath, BIN, ...args], cwd: team().dir, env: { ...terminalEnv(team().dir), HOME: team().home, ...stateEnv() }, ...size });
        sessions.push(session);
        return session;
      },
      events: (runId) =>
        db === undefined
          ? readJournal(team().dir, runId)
          : db
              .psql(`SELECT line FROM deployctl.events WHERE run_id = '${runId}' ORDER BY seq`)
              .split('\n')
              .filter((l) => l !== '')
              .map((l) => JSON.parse(l) as Record<string, any>),
    });
  });
}
