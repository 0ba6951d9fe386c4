// Where trust in a record comes from: run keys (`.deployctl/keys/*.pub`, `--pubkey`) make a record valid; the role keys a runbook lists only sign off.
import type { KeyObject } from 'node:crypto';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { listDirectory, readFileLimited, realPath, statPath } from '../ports/fs.js';
import { stateDir } from '../ports/state-dir.js';
import { loadRunbook } from '../runbook/load.js';
import { formatProblem } from '../runbook/problem.js';
import type { SchemaValidator } from '../runbook/schema.js';
import type { RunbookDoc } from '../runbook/types.js';
import { loadPublicKey } from './keys.js';
import type { SignoffRole } from './signoff.js';

/**
 * What a trusted key may vouch for. `run`: the record itself (a run key's signature is what makes a record valid).
 * `signoff`: a role's sign-off, counted only on a record a run key has already made valid. A later kind (signed
 * answers, keys per person) gets its own class here and its own check in verify.ts.
 */
export type KeyClass = 'run' | 'signoff';

/** Where trust comes from, besides `./.deployctl/keys/*.pub`. */
export interface TrustOptions {
  /** `--pubkey` files: run keys, trusted to make the record valid (they count for a role only as the runbook lists them). */
  pubkeys?: readonly string[];
  /** `--runbook`: the runbook whose role keys count for sign-offs, instead of the file the record names. */
  runbook?: string;
}

/** The surroundings: relative paths resolve from `cwd`; `env` may move the state dir; tests inject the schema validator. */
export interface RecordEnv {
  cwd: string;
  env: NodeJS.ProcessEnv;
  validate?: SchemaValidator;
}

/** One distinct trusted public key and every way it is known (`--pubkey k.pub`, `role qa: keys/qa.pub`). */
export interface TrustedKeyInfo {
  keyId: string;
  key: KeyObject;
  sources: string[];
}

/** The runbook a record is checked against: its digest now, its roles and their keys. */
export interface RunbookTrust {
  /** As shown: the record's subject name, or the `--runbook` argument. */
  path: string;
  abs: string;
  found: boolean;
  /** Hex sha256 of the bytes now, when the file could be read. */
  sha256?: string;
  /** Present when the runbook loaded. */
  roles?: SignoffRole[];
  /** The role keys: sign-off keys only, never run keys. */
  keys: TrustedKeyInfo[];
  /** With people: (issue 14): each person's name and keys, which check their signed answers. */
  people?: Map<string, { name: string; keys: TrustedKeyInfo[] }>;
  /** Each role's holders (person ids with people:). */
  holders?: Map<string, string[]>;
  /** `signoff: true` steps: step id → the role whose sign-off it is. */
  signoffSteps?: Map<string, string>;
  /** With people: the runbook itself (its gates' `approvals:` rules are checked against the record's answers). */
  doc?: RunbookDoc;
  /** Why it did not load (one line each). */
  problems: string[];
  warnings: string[];
}

export interface Trust {
  /** The run keys: `--pubkey` files and `.deployctl/keys/*.pub`. Only these make a record valid. */
  runKeys: TrustedKeyInfo[];
  explicitRunbook?: RunbookTrust;
  warnings: string[];
  /** Runbooks already loaded, by absolute path (`record list` checks many records of one runbook). */
  runbooks: Map<string, RunbookTrust>;
  env: RecordEnv;
}

export type PrepareTrustResult = { ok: true; trust: Trust } | { ok: false; message: string; hint?: string; details: string[] };

/** Load `--pubkey` files, `--runbook` and the local keys directory. A bad `--pubkey` or `--runbook` is the caller's mistake (exit 2). */
export function prepareTrust(options: TrustOptions, env: RecordEnv): PrepareTrustResult {
  const runKeys: TrustedKeyInfo[] = [];
  const warnings: string[] = [];
  for (const file of options.pubkeys ?? []) {
    const loaded = loadPublicKey(path.resolve(env.cwd, file));
    if (!loaded.ok) {
      return { ok: false, message: `--pubkey ${file}: ${loaded.error.message}`, details: [], ...(loaded.error.hint !== undefined ? { hint: loaded.error.hint } : {}) };
    }
    addKey(runKeys, loaded.keyId, loaded.key, `--pubkey ${file}`);
  }
  const keysDir = stateDir(env.env, env.cwd).keysDir;
  // No local keys: fine.
  const names = (listDirectory(keysDir) ?? []).filter((n) => n.endsWith('.pub')).sort();
  for (const name of names) {
    const file = path.join(keysDir, name);
    const shown = displayPath(env.cwd, file);
    const loaded = loadPublicKey(file);
    if (!loaded.ok) warnings.push(`ignored ${shown}: ${loaded.error.message}`);
    else addKey(runKeys, loaded.keyId, loaded.key, shown);
  }
  const trust: Trust = { runKeys, warnings, runbooks: new Map(), env };
  if (options.runbook !== undefined) {
    const runbook = locateRunbook(trust, options.runbook);
    if (!runbook.found) return { ok: false, message: `--runbook ${runbook.problems[0] ?? `${options.runbook}: no such file`}`, hint: 'give the runbook file the record was made from', details: [] };
    if (runbook.roles === undefined) {
      return { ok: false, message: `--runbook ${options.runbook} does not load, so its roles and keys are unknown`, hint: `deployctl validate ${options.runbook} says what to fix`, details: runbook.problems };
    }
    trust.explicitRunbook = runbook;
  }
  return { ok: true, trust };
}

export function addKey(into: TrustedKeyInfo[], keyId: string, key: KeyObject, source: string): void {
  const existing = into.find((k) => k.keyId === keyId);
  if (existing === undefined) into.push({ keyId, key, sources: [source] });
  else if (!existing.sources.includes(source)) existing.sources.push(source);
}

export function displayPath(cwd: string, file: string): string {
  const relative = path.relative(cwd, file);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

/** A relative path that stays inside `cwd`, symlinks resolved: the only runbook names a record may choose by itself. */
export function isInsideDirectory(cwd: string, name: string): boolean {
  if (path.isAbsolute(name)) return false;
  const inside = (root: string, target: string) => {
    const relative = path.relative(root, target);
    return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
  };
  if (!inside(cwd, path.resolve(cwd, name))) return false;
  const realCwd = realPath(cwd);
  const realTarget = realPath(path.resolve(cwd, name));
  if (realCwd === undefined || realTarget === undefined) return true; // Not there: nothing will be read from it.
  return inside(realCwd, realTarget);
}

/** Find and load a runbook (cached); only a regular file is read, so a name in a record cannot point the reader at a FIFO or a device. */
/** People's key files that cannot be used: one by one up to three, then one line (phase65 on a fresh clone lists 15). */
function peopleKeyWarnings(unusable: readonly { id: string; shown: string; why: string }[]): string[] {
  if (unusable.length <= 3) return unusable.map((u) => `people.${u.id} lists ${u.shown}, which cannot be used: ${u.why}`);
  const named = unusable.slice(0, 3).map((u) => `people.${u.id}: ${u.shown}`);
  return [
    `${unusable.length} people's key files cannot be used (${named.join(', ')} and ${unusable.length - 3} more; the first: ${unusable[0]!.why}): the answers and sign-offs of those people cannot be verified until they are there: each person makes a pair with deployctl keygen --name ID and puts the .pub there, or fix the paths`,
  ];
}

export function locateRunbook(trust: Trust, name: string): RunbookTrust {
  const abs = path.resolve(trust.env.cwd, name);
  const cached = trust.runbooks.get(abs);
  if (cached !== undefined) return { ...cached, path: name };
  const result: RunbookTrust = { path: name, abs, found: false, keys: [], problems: [], warnings: [] };
  trust.runbooks.set(abs, result);
  const info = statPath(abs);
  if (info === undefined) return result;
  if (!info.isFile) {
    result.problems.push(`${name} is not a regular file (a directory, a FIFO or a device)`);
    return result;
  }
  result.found = true;
  const loaded = loadRunbook(abs);
  const source = loaded.ok ? loaded.runbook.source : loaded.source;
  if (source !== undefined) result.sha256 = source.sha256;
  else {
    try {
      const read = readFileLimited(abs, 4 * 1024 * 1024);
      if (read.ok) result.sha256 = createHash('sha256').update(read.bytes).digest('hex');
    } catch {
      // Unreadable: the digest stays unknown.
    }
  }
  if (!loaded.ok) {
    result.problems.push(...loaded.problems.slice(0, 20).map(formatProblem));
    return result;
  }
  const { doc } = loaded.runbook;
  const roles: SignoffRole[] = [];
  // People's keys (issue 14): they check answers, and sign off for the roles their person holds.
  const people = new Map<string, { name: string; keys: TrustedKeyInfo[] }>();
  const unusable: { id: string; shown: string; why: string }[] = [];
  for (const [id, person] of Object.entries(doc.people ?? {})) {
    const keys: TrustedKeyInfo[] = [];
    for (const keyPath of person.keys ?? []) {
      const keyAbs = path.resolve(loaded.runbook.source.dir, keyPath);
      const key = loadPublicKey(keyAbs);
      if (key.ok) addKey(keys, key.keyId, key.key, `people.${id}: ${displayPath(trust.env.cwd, keyAbs)}`);
      else unusable.push({ id, shown: displayPath(trust.env.cwd, keyAbs), why: key.error.message });
    }
    people.set(id, { name: person.name, keys });
  }
  result.warnings.push(...peopleKeyWarnings(unusable));
  if (doc.people !== undefined) {
    result.people = people;
    result.holders = new Map(Object.entries(doc.roles).map(([id, role]) => [id, [role.primary, role.backup].filter((p): p is string => p !== undefined)]));
    result.doc = doc;
    result.signoffSteps = new Map(doc.phases.flatMap((p) => [...(p.steps ?? []), ...(p.finally ?? [])]).filter((s) => s.signoff === true).map((s) => [s.id, s.owner]));
  }
  for (const [id, role] of Object.entries(doc.roles)) {
    const keys = (role.keys ?? []).map((keyPath) => {
      const keyAbs = path.resolve(loaded.runbook.source.dir, keyPath);
      const shown = displayPath(trust.env.cwd, keyAbs);
      const key = loadPublicKey(keyAbs);
      if (!key.ok) {
        result.warnings.push(`role ${id} lists ${shown}, which cannot be used: ${key.error.message}`);
        return { path: shown, error: key.error.message };
      }
      addKey(result.keys, key.keyId, key.key, `role ${id}: ${shown}`);
      return { path: shown, keyId: key.keyId };
    });
    // The keys of the people who hold the role sign off for it too.
    for (const holder of doc.people !== undefined ? [role.primary, role.backup] : []) {
      for (const k of (holder !== undefined ? people.get(holder)?.keys : undefined) ?? []) {
        addKey(result.keys, k.keyId, k.key, `role ${id} (${holder}): ${k.sources[0]!.replace(/^people\.[^:]+: /, '')}`);
        if (!keys.some((r) => r.keyId === k.keyId)) keys.push({ path: k.sources[0]!, keyId: k.keyId });
      }
    }
    const primary = role.primary !== undefined ? (doc.people?.[role.primary]?.name ?? role.primary) : undefined;
    roles.push({ id, title: role.title, ...(primary !== undefined ? { primary } : {}), keys });
  }
  result.roles = roles;
  return result;
}

/** A `--pubkey` that is a key a loaded runbook lists for a role: which file, which role, which runbook. */
export interface RoleKeyAsRunKey {
  pubkey: string;
  role: string;
  runbook: string;
}

/**
 * The first `--pubkey` that a runbook read so far (`--runbook`, or the runbook a verified record names) lists under
 * `roles.<id>.keys`. Such a key only signs off: trusted as a run key, anyone holding it could re-sign a changed record
 * and have it verify VALID. Call after the records were verified (that is when their runbooks are read).
 */
export function roleKeyGivenAsRunKey(trust: Trust): RoleKeyAsRunKey | undefined {
  const runbooks = [...(trust.explicitRunbook !== undefined ? [trust.explicitRunbook] : []), ...trust.runbooks.values()];
  for (const runKey of trust.runKeys) {
    const given = runKey.sources.find((s) => s.startsWith('--pubkey '));
    if (given === undefined) continue;
    for (const runbook of runbooks) {
      const listed = runbook.keys.find((k) => k.keyId === runKey.keyId);
      const source = listed?.sources.find((s) => s.startsWith('role '));
      if (source === undefined) continue;
      return { pubkey: given.slice('--pubkey '.length), role: source.slice('role '.length, source.indexOf(':')), runbook: runbook.path };
    }
  }
  return undefined;
}
