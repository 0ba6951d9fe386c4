// Where the state lives: `--state`, else $DEPLOYCTL_STATE, else the local directory; opens the matching adapter (PostgreSQL's only when asked for, so `pg` loads only then).
import * as path from 'node:path';
import { ExitCode } from '../../errors.js';
import { stateDir, stateDirAt, type StateDir } from '../state-dir.js';
import { directoryStateStore } from './local.js';
import { StateStoreError, type StateStore } from './store.js';

export type StateLocation =
  | { kind: 'directory'; dir: StateDir; shown: string }
  | {
      kind: 'postgres';
      /** The URL as given, password included: only ever handed to the driver. */
      url: string;
      /** The URL with its password masked: the only form printed. */
      shown: string;
    };

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;
const ANY_URL = /^([a-z][a-z0-9+.-]*):\/\//i;

/**
 * Resolve `--state` (or $DEPLOYCTL_STATE): a `postgres://` or `postgresql://` URL (a Unix socket too:
 * `postgres:///deploy?host=/run/postgresql`), else a directory. Without either, $DEPLOYCTL_STATE_DIR or `./.deployctl`.
 * Keys and the local copy of each record stay in the local directory whatever the state is (`localDir`).
 */
export function resolveState(option: string | undefined, env: NodeJS.ProcessEnv, cwd: string): { location: StateLocation; localDir: StateDir } {
  const spec = option ?? (env['DEPLOYCTL_STATE'] !== undefined && env['DEPLOYCTL_STATE'] !== '' ? env['DEPLOYCTL_STATE'] : undefined);
  const from = option !== undefined ? '--state' : 'DEPLOYCTL_STATE';
  if (spec === undefined) {
    const dir = stateDir(env, cwd);
    return { location: { kind: 'directory', dir, shown: shownPath(cwd, dir.root) }, localDir: dir };
  }
  if (POSTGRES_URL.test(spec)) return { location: { kind: 'postgres', url: spec, shown: maskUrl(spec) }, localDir: stateDir(env, cwd) };
  const scheme = ANY_URL.exec(spec);
  if (scheme !== null) {
    throw new StateStoreError(`${from} ${maskUrl(spec)}: deployctl keeps state in PostgreSQL (postgres://…) or in a directory, not in ${scheme[1]}://`, 'give a postgres://user@host/database URL, or a directory path', ExitCode.usage);
  }
  if (spec.trim() === '') throw new StateStoreError(`${from} is empty`, 'give a postgres://user@host/database URL, or a directory path', ExitCode.usage);
  const dir = stateDirAt(path.resolve(cwd, spec));
  return { location: { kind: 'directory', dir, shown: shownPath(cwd, dir.root) }, localDir: dir };
}

/** Open the store at `location` (for PostgreSQL: connect, and create or migrate its schema). */
export async function openStateStore(location: StateLocation): Promise<StateStore> {
  if (location.kind === 'directory') return directoryStateStore(location.dir, location.shown);
  const { openPostgresStore } = await import('./postgres.js');
  return openPostgresStore(location.url, location.shown);
}

/**
 * The URL without its secrets: the password of `user:password@` and any `password=` parameter become `***`. Works on
 * text that is not a valid URL too (it is what error messages quote).
 */
export function maskUrl(text: string): string {
  // Greedy up to the authority's last `@`: a password with a raw `@` in it is masked whole.
  return text.replace(/(\/\/[^/@:?#\s]*):[^/?#\s]*@/g, '$1:***@').replace(/([?&]password=)[^&#\s]*/gi, '$1***');
}

/**
 * The passwords of the state URLs a command can see (`--state`, $DEPLOYCTL_STATE): secrets of the run like the
 * runbook's own, masked in everything it prints, journals and records. Steps inherit $DEPLOYCTL_STATE (a step may run
 * deployctl itself), so what they print may hold it.
 */
export function stateSecrets(option: string | undefined, env: NodeJS.ProcessEnv): string[] {
  return [option, env['DEPLOYCTL_STATE']].flatMap((spec) => (spec !== undefined && ANY_URL.test(spec) ? urlSecrets(spec) : []));
}

/** The password of a URL as written and decoded, if it has one: the driver's error messages are cleaned of both. */
export function urlSecrets(url: string): string[] {
  const raw = /^[a-z][a-z0-9+.-]*:\/\/[^/@:?#]*:([^/?#]*)@/i.exec(url)?.[1] ?? /[?&]password=([^&#]*)/i.exec(url)?.[1];
  if (raw === undefined || raw === '') return [];
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // Not percent-encoded as it should be: the raw form is the secret.
  }
  return [...new Set([raw, decoded])];
}

function shownPath(cwd: string, dir: string): string {
  const relative = path.relative(cwd, dir);
  return relative === '' ? dir : relative.startsWith('..') ? dir : relative;
}
