// A team in a temp directory: people with real Ed25519 key pairs (public halves beside the runbook, private halves in each person's own key directory), for the tests of identity, signed answers, join and answer.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeKeyPair } from '../../src/record/keys.js';

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

/** `people:` lines for ids (`Name` = the id capitalised), keys at keys/<id>.pub. */
export function peopleYaml(ids: readonly string[]): string {
  return `people:\n${ids.map((id) => `  ${id}: { name: ${id[0]!.toUpperCase()}${id.slice(1)} Person, keys: [keys/${id}.pub] }`).join('\n')}\n`;
}
