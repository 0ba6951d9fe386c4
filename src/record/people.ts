// People and identity: the runbook's `people:` with their public keys, the per-user key directory, and who is at this terminal (`--as`, `--key`, `$DEPLOYCTL_KEY`).
import type { KeyObject } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { listDirectory } from '../ports/fs.js';
import type { Problem } from '../runbook/problem.js';
import { didYouMean } from '../runbook/suggest.js';
import type { RoleDoc, RunbookDoc } from '../runbook/types.js';
import type { Locator } from '../runbook/yaml.js';
import { loadPrivateKey, loadPublicKey } from './keys.js';

export interface PersonKey {
  /** As shown to people: relative to the working directory when inside it. */
  path: string;
  keyId: string;
  key: KeyObject;
}

export interface Person {
  id: string;
  name: string;
  contact?: string;
  keys: PersonKey[];
}

/** The runbook's people, by id, each with the keys that loaded. */
export type People = ReadonlyMap<string, Person>;

/**
 * Load every person's public keys (paths relative to the runbook's directory `sourceDir`). A key that does not load is
 * left out here: `checkPeopleKeys` is what refuses it, at validate time.
 */
export function loadPeople(doc: RunbookDoc, sourceDir: string, cwd: string = process.cwd()): People {
  const people = new Map<string, Person>();
  for (const [id, person] of Object.entries(doc.people ?? {})) {
    const keys: PersonKey[] = [];
    for (const file of person.keys ?? []) {
      const abs = path.resolve(sourceDir, file);
      const loaded = loadPublicKey(abs);
      if (loaded.ok) keys.push({ path: shownPath(cwd, abs), keyId: loaded.keyId, key: loaded.key });
    }
    people.set(id, { id, name: person.name, ...(person.contact !== undefined ? { contact: person.contact } : {}), keys });
  }
  return people;
}

/** `validate`: each key a person lists must be there and be an Ed25519 public key (issue 14: "keys that are not there"). */
export function checkPeopleKeys(doc: RunbookDoc, locate: Locator, sourceDir: string): Problem[] {
  const problems: Problem[] = [];
  /** Whose each key is: a key two people list would sign for either of them. */
  const owner = new Map<string, string>();
  for (const [id, person] of Object.entries(doc.people ?? {})) {
    (person.keys ?? []).forEach((file, i) => {
      const loaded = loadPublicKey(path.resolve(sourceDir, file));
      const pos = locate.value(['people', id, 'keys', i]);
      if (loaded.ok) {
        const first = owner.get(loaded.keyId);
        if (first !== undefined && first !== id) {
          problems.push({ file: locate.file, line: pos.line, col: pos.col, code: 'shared-person-key', message: `key ${i + 1} of ${id} (${file}) is also ${first}'s key: an answer signed with it could be either's; give each person a key of their own` });
        }
        owner.set(loaded.keyId, first ?? id);
        return;
      }
      // Not there yet (people make their pairs once the runbook names them): a warning of validate, like a role key.
      if (loaded.error.code === 'missing') return;
      const fix = loaded.error.hint ?? 'list the .pub file deployctl keygen wrote';
      problems.push({ file: locate.file, line: pos.line, col: pos.col, code: 'bad-person-key', message: `key ${i + 1} of ${id} (${file}): ${loaded.error.message}; ${fix}` });
    });
  }
  return problems;
}

/** A person's name for display: `Elif Yilmaz`; a name that is no person id (a runbook without people) as it is. */
export function personName(doc: Pick<RunbookDoc, 'people'>, idOrName: string): string {
  return doc.people !== undefined && Object.hasOwn(doc.people, idOrName) ? doc.people[idOrName]!.name : idOrName;
}

/** Whether `personId` holds role `role` (its primary or its backup). */
export function holdsRole(role: RoleDoc | undefined, personId: string): 'primary' | 'backup' | undefined {
  if (role === undefined) return undefined;
  if (role.primary === personId) return 'primary';
  if (role.backup === personId) return 'backup';
  return undefined;
}

/** Where a person keeps their private keys: `$XDG_CONFIG_HOME/deployctl/keys`, else `~/.config/deployctl/keys`. */
export function personalKeysDir(env: NodeJS.ProcessEnv): string {
  const xdg = env['XDG_CONFIG_HOME'];
  const base = xdg !== undefined && path.isAbsolute(xdg) ? xdg : path.join(env['HOME'] ?? os.homedir(), '.config');
  return path.join(base, 'deployctl', 'keys');
}

export interface Identity {
  person: Person;
  privateKey: KeyObject;
  keyId: string;
  /** The private key file, as shown. */
  keyFile: string;
  /** A warning to show (a key file readable by others). */
  warning?: string;
}

export interface IdentityRequest {
  /** `--as`. */
  as?: string;
  /**
   * `--key`. For `join` and `answer` it is the person's key: one that is not theirs is impersonation. For `run` it
   * signs the record, and is the person's key only when it is one of theirs.
   */
  key?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  people: People;
  /** `--key` and $DEPLOYCTL_KEY name the person's key (join, answer): one that is not theirs is refused. */
  strictKey: boolean;
}

export type IdentityResult =
  | { ok: true; identity: Identity }
  /** Nobody: no --as, and no key held here belongs to a person of the runbook. */
  | { ok: true; identity: undefined; looked: string[] }
  | { ok: false; code: 'unknown-person' | 'not-their-key' | 'no-key' | 'ambiguous' | 'bad-key'; message: string; hint: string; keyId?: string; person?: string };

interface Candidate {
  file: string;
  from: string;
}

/**
 * Who is at this terminal, and their private key. With `--as`, that person, with the first of `--key`,
 * `$DEPLOYCTL_KEY`, `<personal keys>/<id>.key` and any other key there that is one of theirs. Without it, the one
 * person whose key is held here (the same places); nobody when no key held here is a person's.
 */
export function resolveIdentity(request: IdentityRequest): IdentityResult {
  const { people, env } = request;
  const personal = personalKeysDir(env);
  const explicit: Candidate[] = [
    ...(request.key !== undefined ? [{ file: path.resolve(request.cwd, request.key), from: `--key ${request.key}` }] : []),
    ...(env['DEPLOYCTL_KEY'] !== undefined && env['DEPLOYCTL_KEY'] !== '' ? [{ file: path.resolve(request.cwd, env['DEPLOYCTL_KEY']), from: `$DEPLOYCTL_KEY (${env['DEPLOYCTL_KEY']})` }] : []),
  ];
  const inPersonal = (listDirectory(personal) ?? []).filter((n) => n.endsWith('.key')).sort();

  if (request.as !== undefined) {
    const person = people.get(request.as);
    if (person === undefined) {
      const ids = [...people.keys()];
      return {
        ok: false,
        code: 'unknown-person',
        message: `--as ${request.as}: no such person in the runbook's people${didYouMean(request.as, ids) || ` (people: ${ids.join(', ') || 'none'})`}`,
        hint: 'give the id of a person under people: in the runbook',
      };
    }
    const own = new Set(person.keys.map((k) => k.keyId));
    const tried: string[] = [];
    const candidates: Candidate[] = [
      ...(request.strictKey ? explicit.slice(0, 1) : explicit),
      { file: path.join(personal, `${person.id}.key`), from: path.join(personal, `${person.id}.key`) },
      ...inPersonal.filter((n) => n !== `${person.id}.key`).map((n) => ({ file: path.join(personal, n), from: path.join(personal, n) })),
    ];
    for (const [index, candidate] of candidates.entries()) {
      const loaded = loadPrivateKey(candidate.file);
      if (!loaded.ok) {
        // An explicit key that cannot be used is the person's mistake, said as such; the default places may be empty.
        if (index < (request.strictKey ? Math.min(1, explicit.length) : 0)) return { ok: false, code: 'bad-key', message: `${candidate.from}: ${loaded.error.message}`, hint: loaded.error.hint ?? 'give your private key (PKCS#8 PEM) with --key' };
        if (loaded.error.code !== 'missing') tried.push(`${candidate.from} (${loaded.error.message})`);
        else if (index < explicit.length || candidate.file === path.join(personal, `${person.id}.key`)) tried.push(`${candidate.from} (missing)`);
        continue;
      }
      if (own.has(loaded.keyId)) {
        return { ok: true, identity: { person, privateKey: loaded.key, keyId: loaded.keyId, keyFile: shownPath(request.cwd, candidate.file), ...(loaded.warning !== undefined ? { warning: loaded.warning } : {}) } };
      }
      if (request.strictKey && index === 0 && explicit.length > 0) {
        const owner = [...people.values()].find((p) => p.keys.some((k) => k.keyId === loaded.keyId));
        return {
          ok: false,
          code: 'not-their-key',
          message: `${candidate.from} is not a key of ${person.name} (${person.id}): the runbook lists ${person.keys.length === 0 ? 'no keys for them' : person.keys.map((k) => k.path).join(', ')}${owner !== undefined ? `; it is ${owner.name}'s key` : ''}`,
          hint: `answer as the person whose key you hold, or use ${person.name}'s own key`,
          keyId: loaded.keyId,
          person: person.id,
        };
      }
      tried.push(`${candidate.from} (not theirs)`);
    }
    return {
      ok: false,
      code: 'no-key',
      message: `no key of ${person.name} (${person.id}) here: ${person.keys.length === 0 ? `the runbook lists no keys for ${person.id}, so their answers cannot be signed` : `looked at ${tried.length > 0 ? tried.join(', ') : personal}`}`,
      hint: person.keys.length === 0 ? `add their public key under people.${person.id}.keys (deployctl keygen --name ${person.id} makes a pair)` : `give ${person.name}'s private key with --key FILE, or put it at ${path.join(personal, `${person.id}.key`)}`,
    };
  }

  // No --as: the person whose key is held here.
  const byKeyId = new Map<string, Person>();
  for (const person of people.values()) for (const k of person.keys) byKeyId.set(k.keyId, person);
  const found = new Map<string, Identity>();
  const looked: string[] = [];
  for (const candidate of [...explicit, ...inPersonal.map((n) => ({ file: path.join(personal, n), from: path.join(personal, n) }))]) {
    looked.push(candidate.from);
    const loaded = loadPrivateKey(candidate.file);
    if (!loaded.ok) continue;
    const person = byKeyId.get(loaded.keyId);
    if (person === undefined || found.has(person.id)) continue;
    found.set(person.id, { person, privateKey: loaded.key, keyId: loaded.keyId, keyFile: shownPath(request.cwd, candidate.file), ...(loaded.warning !== undefined ? { warning: loaded.warning } : {}) });
    // An explicit key decides: the person it belongs to is who is here.
    if (explicit.some((e) => e.file === candidate.file)) return { ok: true, identity: found.get(person.id)! };
  }
  if (found.size === 1) return { ok: true, identity: [...found.values()][0]! };
  if (found.size > 1) {
    const names = [...found.values()].map((i) => `${i.person.id} (${i.keyFile})`);
    return { ok: false, code: 'ambiguous', message: `keys of ${found.size} people of the runbook are here: ${names.join(', ')}`, hint: `say who you are with --as ${[...found.keys()].join(' or --as ')}` };
  }
  return { ok: true, identity: undefined, looked };
}

function shownPath(cwd: string, file: string): string {
  const relative = path.relative(cwd, file);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}
