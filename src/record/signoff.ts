// Sign-offs: the one rule for which role a signature signs off for (the key that verified it must be allowed for its annotated role), used by `record sign` and by the table.
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
  /** Signed off by answering this `signoff: true` step, not by a signature on the record (`index` is then -1). */
  answer?: string;
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
 * Whether a signature by `keyId` counts as a sign-off for role `roleId`: the one rule `record sign` applies before it
 * signs and the sign-off table applies afterwards, so the table never shows a sign-off that `record sign` would refuse.
 * `keyId` is the key that verified the signature (undefined: no trusted key verified it, so nobody knows whose it is).
 */
export type SignoffDecision =
  /** The runbook lists this key for the role. */
  | { counts: true; as: 'signed' }
  /** The role lists no keys and the runbook gives this key to no other role: a claim nothing proves. */
  | { counts: true; as: 'unverified-identity' }
  /** The runbook is not at hand: its keys are unknown. */
  | { counts: true; as: 'not-checked' }
  | { counts: false; why: 'unknown-role' }
  /** The role lists keys, and this is not one of them. */
  | { counts: false; why: 'not-listed' }
  /** The role lists no keys, but the runbook gives this key to other roles: it cannot claim one that lists none. */
  | { counts: false; why: 'listed-for-other'; roles: string[] };

export function decideSignoff(roles: readonly SignoffRole[], roleId: string, keyId: string | undefined): SignoffDecision {
  const role = roles.find((r) => r.id === roleId);
  if (role === undefined) return { counts: false, why: 'unknown-role' };
  if (role.keys === undefined) return { counts: true, as: 'not-checked' };
  if (role.keys.length > 0) return keyId !== undefined && role.keys.some((k) => k.keyId === keyId) ? { counts: true, as: 'signed' } : { counts: false, why: 'not-listed' };
  const others = rolesListingKey(roles, keyId);
  return others.length > 0 ? { counts: false, why: 'listed-for-other', roles: others } : { counts: true, as: 'unverified-identity' };
}

/**
 * Every role, signed or not. A signature signs off for the role it is annotated with, when decideSignoff says that key
 * may: the key proves who signed, the annotation says for which role (editing it can only move a sign-off between roles
 * that key may sign for, or drop it). A key signs once: only its first signature counts, as `record sign` adds one.
 * Without the runbook, annotated signatures are "not checked".
 */
export function evaluateSignoffs(roles: readonly SignoffRole[], signatures: readonly SignatureFacts[]): SignoffTable {
  const notes: string[] = [];
  // The first valid signature of each key, and signatures no trusted key verified (a claim, for roles that list no keys).
  const candidates = signatures.filter((s) => s.state === 'valid' || s.state === 'unknown-key');
  const byRole = new Map<string, { decision: SignoffDecision; s: SignatureFacts }[]>();
  for (const s of candidates) {
    if (s.role === undefined) continue;
    const decision = decideSignoff(roles, s.role, s.state === 'valid' ? s.verifiedKeyId : undefined);
    if (decision.counts) {
      const list = byRole.get(s.role) ?? [];
      list.push({ decision, s });
      byRole.set(s.role, list);
    } else if (roles.length > 0) {
      notes.push(`signature #${s.index + 1} is annotated role '${s.role}', but ${refusalReason(decision, s.role)}: it counts for no role`);
    }
  }
  const rows = roles.map((role): SignoffRow => {
    const base = { role: role.id, title: role.title, ...(role.primary !== undefined ? { primary: role.primary } : {}), ...(role.keys !== undefined ? { listsKeys: role.keys.length > 0 } : {}) };
    const found = byRole.get(role.id) ?? [];
    const signed = found.filter((f) => f.decision.counts && f.decision.as === 'signed');
    if (signed.length > 0) return { ...base, state: 'signed', by: signed.map((f) => entry(f.s)) };
    const claimed = uniqueByKey(found.map((f) => f.s));
    if (claimed.length === 0) return { ...base, state: 'missing', by: [] };
    return { ...base, state: role.keys === undefined ? 'not-checked' : 'unverified-identity', by: claimed.map(entry) };
  });
  return { rows, notes };
}

/** Why decideSignoff refused, as the end of a sentence about role `roleId`. */
export function refusalReason(decision: Extract<SignoffDecision, { counts: false }>, roleId: string): string {
  switch (decision.why) {
    case 'unknown-role':
      return `${roleId} is not a role of the runbook`;
    case 'not-listed':
      return `its key is not one the runbook lists for ${roleId}`;
    case 'listed-for-other':
      return `its key is the one the runbook lists for ${decision.roles.join(', ')}, and ${roleId} lists no keys: a key given to one role cannot claim a role that lists none`;
  }
}

/** The roles whose listed keys include `keyId`. */
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
