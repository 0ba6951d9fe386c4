// Sign-offs: which runbook roles a record's signatures count for (by the key that verified them, never by the unsigned `role` annotation).
import type { RecordPredicate } from './types.js';

/** One key a runbook lists under a role's `keys:`. */
export interface RoleKeyRef {
  /** The path as shown to people (relative to the working directory). */
  path: string;
  /** Its keyid when it loaded; undefined when the file is missing or not an Ed25519 public key. */
  keyId?: string;
  /** Why it did not load. */
  error?: string;
}

/** A role as the sign-off table needs it. */
export interface SignoffRole {
  id: string;
  title: string;
  primary?: string;
  /** Undefined: the runbook is not at hand, so nobody knows what the role lists. */
  keys?: RoleKeyRef[];
}

/** What the table needs to know about one signature: its verdict, which key verified it, and the unsigned annotations. */
export interface SignatureFacts {
  index: number;
  /** The keyid the signature claims (an unauthenticated hint). */
  keyid: string;
  /** `valid`: verified with a trusted key, first of that key; `duplicate`: the same key again; the rest do not count. */
  state: 'valid' | 'duplicate' | 'unknown-key' | 'tampered';
  /** The keyid of the trusted key that verified it. */
  verifiedKeyId?: string;
  /** How that key is known (file, role). */
  keyLabel?: string;
  role?: string;
  signer?: string;
  signed_at?: string;
}

export type SignoffState = 'signed' | 'missing' | 'unverified-identity' | 'not-checked';

export interface SignoffEntry {
  index: number;
  /** The keyid of the key that verified it, else the claimed one. */
  keyid: string;
  keyLabel?: string;
  signer?: string;
  signed_at?: string;
  /** Whether the signature verified with a trusted key (always true for `signed`). */
  verified: boolean;
}

export interface SignoffRow {
  role: string;
  title: string;
  primary?: string;
  state: SignoffState;
  /** The signatures behind the state (one per key). */
  by: SignoffEntry[];
  /** Whether the runbook lists keys for this role (undefined: runbook not at hand). */
  listsKeys?: boolean;
}

export interface SignoffTable {
  rows: SignoffRow[];
  /** Things an auditor should know: annotations that disagree with the keys, roles the runbook does not have. */
  notes: string[];
}

/** The roles to show: the runbook's when it is at hand (with their keys), else those the record names (keys unknown). */
export function signoffRolesFromPredicate(predicate: RecordPredicate | undefined): SignoffRole[] {
  if (predicate === undefined) return [];
  return Object.entries(predicate.roles).map(([id, role]) => ({ id, title: role.title, ...(role.primary !== undefined ? { primary: role.primary } : {}) }));
}

/**
 * Every role, signed or not. A role with `keys:` is signed when a signature verified with one of those keys, whatever its
 * annotation says. A role without keys can only be claimed: a signature annotated with it shows as "unverified identity".
 * Without the runbook, annotated signatures are "not checked".
 */
export function evaluateSignoffs(roles: readonly SignoffRole[], signatures: readonly SignatureFacts[]): SignoffTable {
  const notes: string[] = [];
  const counted = signatures.filter((s) => s.state === 'valid');
  const rows = roles.map((role): SignoffRow => {
    const base = { role: role.id, title: role.title, ...(role.primary !== undefined ? { primary: role.primary } : {}) };
    if (role.keys === undefined) {
      const claimed = uniqueByKey(signatures.filter((s) => s.role === role.id && s.state !== 'tampered'));
      return { ...base, state: claimed.length > 0 ? 'not-checked' : 'missing', by: claimed.map(entry) };
    }
    if (role.keys.length > 0) {
      const listed = new Set(role.keys.flatMap((k) => (k.keyId === undefined ? [] : [k.keyId])));
      const by = counted.filter((s) => s.verifiedKeyId !== undefined && listed.has(s.verifiedKeyId));
      return { ...base, listsKeys: true, state: by.length > 0 ? 'signed' : 'missing', by: by.map(entry) };
    }
    const claimed = uniqueByKey(signatures.filter((s) => s.role === role.id && (s.state === 'valid' || s.state === 'unknown-key')));
    return { ...base, listsKeys: false, state: claimed.length > 0 ? 'unverified-identity' : 'missing', by: claimed.map(entry) };
  });

  const byId = new Map(roles.map((r) => [r.id, r]));
  for (const s of signatures) {
    if (s.role === undefined || s.state === 'tampered' || s.state === 'duplicate') continue;
    const role = byId.get(s.role);
    if (role === undefined) {
      if (roles.length > 0) notes.push(`signature #${s.index + 1} is annotated role '${s.role}', which is not a role of the runbook: it counts for no role`);
      continue;
    }
    if (role.keys === undefined || role.keys.length === 0) continue;
    const listed = role.keys.some((k) => k.keyId !== undefined && k.keyId === s.verifiedKeyId);
    if (listed) continue;
    const countedFor = s.verifiedKeyId === undefined ? [] : roles.filter((r) => r.keys?.some((k) => k.keyId === s.verifiedKeyId)).map((r) => r.id);
    notes.push(
      `signature #${s.index + 1} is annotated role '${s.role}' but its key is not one the runbook lists for ${s.role}: it does not count for ${s.role}` +
        (countedFor.length > 0 ? ` (it counts for ${countedFor.join(', ')}, whose keys include it)` : ''),
    );
  }
  return { rows, notes };
}

/** The roles whose listed keys include `keyId`: what a signature by that key signs off for. */
export function rolesListingKey(roles: readonly SignoffRole[], keyId: string | undefined): string[] {
  if (keyId === undefined) return [];
  return roles.filter((r) => r.keys?.some((k) => k.keyId === keyId)).map((r) => r.id);
}

function uniqueByKey(signatures: SignatureFacts[]): SignatureFacts[] {
  const seen = new Set<string>();
  return signatures.filter((s) => {
    const key = s.verifiedKeyId ?? `claimed:${s.keyid}:${s.index}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function entry(s: SignatureFacts): SignoffEntry {
  return {
    index: s.index,
    keyid: s.verifiedKeyId ?? s.keyid,
    verified: s.state === 'valid' || s.state === 'duplicate',
    ...(s.keyLabel !== undefined ? { keyLabel: s.keyLabel } : {}),
    ...(s.signer !== undefined ? { signer: s.signer } : {}),
    ...(s.signed_at !== undefined ? { signed_at: s.signed_at } : {}),
  };
}
