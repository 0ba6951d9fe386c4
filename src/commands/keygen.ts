// `deployctl keygen [--out DIR] [--name NAME] [--full-name TEXT]`: create an Ed25519 key pair (a run key, or a person's), print the `people:` entry to paste; never overwrites a key.
import * as path from 'node:path';
import type { Io } from '../cli/io.js';
import { ExitCode } from '../errors.js';
import { KEY_NAME_PATTERN, writeKeyPair } from '../record/keys.js';
import { personalKeysDir } from '../record/people.js';
import { stateDir } from '../ports/state-dir.js';

export interface KeygenOptions {
  /** Directory for the pair; default `./.deployctl/keys` for the run key, the personal key directory for a named key. */
  out?: string;
  /** File name without extension, and the person id in the printed `people:` entry; default `deployctl` (the run key). */
  name?: string;
  /** The person's name in the printed `people:` entry (default: NAME). */
  fullName?: string;
}

export const DEFAULT_KEY_NAME = 'deployctl';

/**
 * Where the pair goes without --out. The run key (`deployctl`) in the state directory, as before, where `record
 * verify` trusts every .pub as a run key. A named key is a person's: in their own key directory
 * ($XDG_CONFIG_HOME/deployctl/keys), where `run`, `join` and `answer` find it, and never among the run keys.
 */
function defaultDir(name: string, env: NodeJS.ProcessEnv): string {
  return name === DEFAULT_KEY_NAME ? path.relative(process.cwd(), stateDir(env).keysDir) : personalKeysDir(env);
}

export function keygenCommand(options: KeygenOptions, io: Io): number {
  const name = options.name ?? DEFAULT_KEY_NAME;
  const dir = options.out ?? defaultDir(name, io.env);
  const result = writeKeyPair(dir, name);
  if (!result.ok) {
    io.err(`deployctl: ${result.error.message}`);
    if (result.error.hint !== undefined) io.err(`  ${result.error.hint}`);
    return result.error.code === 'write-failed' ? ExitCode.failed : ExitCode.usage;
  }
  io.out(`private key: ${result.keyPath} (mode 0600; keep it secret, never commit it)`);
  io.out(`public key:  ${result.pubPath}`);
  io.out(`key id:      ${result.keyId}`);
  // A pair made in the personal key directory leaves it: its public half is copied to the repository the runbook is in.
  const personal = path.resolve(dir) === path.resolve(personalKeysDir(io.env));
  const relative = path.relative(process.cwd(), path.resolve(result.pubPath));
  const inside = !personal && !relative.startsWith('..') && !path.isAbsolute(relative);
  const example = path.relative('runbooks', result.pubPath);
  io.out(`To let this key sign off for a role, list its .pub under that role's keys: in the runbook, as a path relative to the runbook's own directory (for a runbook in runbooks/: ${example}).`);
  if (name !== DEFAULT_KEY_NAME && KEY_NAME_PATTERN.test(name) && /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/.test(name)) {
    // The entry names the .pub where the runbook's repository keeps it: copied there when it was made elsewhere.
    const pubInRepo = inside ? example : path.join('keys', `${name}.pub`);
    io.out(
      inside
        ? `To make it ${name}'s key, paste under people: in the runbook (runbooks/):`
        : `To make it ${name}'s key, copy the public half beside the runbook (cp ${result.pubPath} runbooks/${pubInRepo}) and paste under people: in it:`,
    );
    io.out(`  ${name}: { name: ${JSON.stringify(options.fullName ?? name)}, keys: [${pubInRepo}] }`);
  }
  return ExitCode.ok;
}
