// `deployctl keygen [--out DIR] [--name NAME]`: create an Ed25519 signing key pair; never overwrites a key.
import * as path from 'node:path';
import type { Io } from '../cli/io.js';
import { ExitCode } from '../errors.js';
import { writeKeyPair } from '../record/keys.js';
import { stateDir } from '../ports/state-dir.js';

export interface KeygenOptions {
  /** Directory for the pair; default `./.deployctl/keys` (DESIGN "Default locations"). */
  out?: string;
  /** File name without extension; default `deployctl`. */
  name?: string;
}

export const DEFAULT_KEY_NAME = 'deployctl';

export function keygenCommand(options: KeygenOptions, io: Io): number {
  const dir = options.out ?? path.relative(process.cwd(), stateDir(io.env).keysDir);
  const name = options.name ?? DEFAULT_KEY_NAME;
  const result = writeKeyPair(dir, name);
  if (!result.ok) {
    io.err(`deployctl: ${result.error.message}`);
    if (result.error.hint !== undefined) io.err(`  ${result.error.hint}`);
    return result.error.code === 'write-failed' ? ExitCode.failed : ExitCode.usage;
  }
  io.out(`private key: ${result.keyPath} (mode 0600; keep it secret, never commit it)`);
  io.out(`public key:  ${result.pubPath}`);
  io.out(`key id:      ${result.keyId}`);
  const example = path.relative('runbooks', result.pubPath);
  io.out(`To let this key sign off for a role, list its .pub under that role's keys: in the runbook, as a path relative to the runbook's own directory (for a runbook in runbooks/: ${example}).`);
  return ExitCode.ok;
}
