// Verify a record file: bounded read, strict envelope, every signature checked over the PAE with trusted keys before the payload is parsed, then the statement, the runbook digest and the sign-offs.
import type { KeyObject } from 'node:crypto';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { listDirectory, notRegularKind, readFileLimited, realPath, statPath } from '../ports/fs.js';
import { stateDir } from '../ports/state-dir.js';
import { loadRunbook } from '../runbook/load.js';
import { formatProblem } from '../runbook/problem.js';
import type { SchemaValidator } from '../runbook/schema.js';
import { parseEnvelope, verifyEnvelope, type Envelope, type EnvelopeProblem, type ParsedEnvelope, type TrustedKey } from './dsse.js';
import { loadPublicKey } from './keys.js';
import { evaluateSignoffs, rolesListingKey, signoffRolesFromPredicate, type SignatureFacts, type SignoffRole, type SignoffTable } from './signoff.js';
import { parseStatement, STATEMENT_PAYLOAD_TYPE, type RecordStatement, type StatementProblem } from './statement.js';

/** A record is a few hundred KiB at most; anything this big is not one, and is refused before it is read whole. */
export const MAX_RECORD_FILE_BYTES = 16 * 1024 * 1024;

/** Where trust comes from, besides `./.deployctl/keys/*.pub`. */
export interface TrustOptions {
  /** `--pubkey` files: trusted to sign the record (they count for a role only if the runbook lists them). */
  pubkeys?: readonly string[];
  /** `--runbook`: the runbook whose role keys to trust, instead of the file the record names. */
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
  keys: TrustedKeyInfo[];
  /** Why it did not load (one line each). */
  problems: string[];
  warnings: string[];
}

export interface Trust {
  base: TrustedKeyInfo[];
  explicitRunbook?: RunbookTrust;
  warnings: string[];
  /** Runbooks already loaded, by absolute path (`record list` checks many records of one runbook). */
  runbooks: Map<string, RunbookTrust>;
  env: RecordEnv;
}

export type PrepareTrustResult = { ok: true; trust: Trust } | { ok: false; message: string; hint?: string; details: string[] };

/** Load `--pubkey` files, `--runbook` and the local keys directory. A bad `--pubkey` or `--runbook` is the caller's mistake (exit 2). */
export function prepareTrust(options: TrustOptions, env: RecordEnv): PrepareTrustResult {
  const base: TrustedKeyInfo[] = [];
  const warnings: string[] = [];
  for (const file of options.pubkeys ?? []) {
    const loaded = loadPublicKey(path.resolve(env.cwd, file));
    if (!loaded.ok) {
      return { ok: false, message: `--pubkey ${file}: ${loaded.error.message}`, details: [], ...(loaded.error.hint !== undefined ? { hint: loaded.error.hint } : {}) };
    }
    addKey(base, loaded.keyId, loaded.key, `--pubkey ${file}`);
  }
  const keysDir = stateDir(env.env, env.cwd).keysDir;
  // No local keys: fine.
  const names = (listDirectory(keysDir) ?? []).filter((n) => n.endsWith('.pub')).sort();
  for (const name of names) {
    const file = path.join(keysDir, name);
    const shown = displayPath(env.cwd, file);
    const loaded = loadPublicKey(file);
    if (!loaded.ok) warnings.push(`ignored ${shown}: ${loaded.error.message}`);
    else addKey(base, loaded.keyId, loaded.key, shown);
  }
  const trust: Trust = { base, warnings, runbooks: new Map(), env };
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

function addKey(into: TrustedKeyInfo[], keyId: string, key: KeyObject, source: string): void {
  const existing = into.find((k) => k.keyId === keyId);
  if (existing === undefined) into.push({ keyId, key, sources: [source] });
  else if (!existing.sources.includes(source)) existing.sources.push(source);
}

function displayPath(cwd: string, file: string): string {
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
    roles.push({ id, title: role.title, ...(role.primary !== undefined ? { primary: role.primary } : {}), keys });
  }
  result.roles = roles;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface ReadProblem {
  code: 'missing' | 'unreadable' | 'not-a-file' | 'empty' | 'too-large' | 'not-json' | 'not-envelope';
  /** One sentence naming the file and what is wrong with it. */
  message: string;
  /** The envelope's problems, one per line. */
  details: string[];
}

export type ReadRecordResult = { ok: true; parsed: ParsedEnvelope; bytes: Uint8Array } | { ok: false; problem: ReadProblem };

/** Read and strictly parse a record file. Never throws on a bad file; never looks inside the payload. */
export function readRecordFile(file: string, cwd: string): ReadRecordResult {
  const fail = (code: ReadProblem['code'], message: string, details: string[] = []): ReadRecordResult => ({ ok: false, problem: { code, message, details } });
  let bytes: Uint8Array;
  try {
    const read = readFileLimited(path.resolve(cwd, file), MAX_RECORD_FILE_BYTES);
    if (!read.ok) return fail('too-large', `${file} is ${read.size} bytes, more than the ${MAX_RECORD_FILE_BYTES / 1024 / 1024} MiB a record may be: it is not a deployment record`);
    bytes = read.bytes;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail('missing', `${file}: no such file`);
    if (code === 'EISDIR') return fail('unreadable', `${file} is a directory, not a record file`);
    if (code === 'ENOTREG') return fail('not-a-file', `${file} is ${notRegularKind(error)}, not a regular file: it is not a record file`);
    if (code === 'EACCES' || code === 'EPERM') return fail('unreadable', `${file}: permission denied`);
    return fail('unreadable', `cannot read ${file}: ${(error as Error).message}`);
  }
  if (isBlank(bytes)) {
    return fail('empty', `${file} is empty: it is not a deployment record (was it truncated while being copied?)`);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (error) {
    const truncated = /end of (JSON )?input|Unterminated/i.test((error as Error).message);
    return fail('not-json', `${file} is not JSON${truncated ? ' (it ends too early: truncated?)' : ''}: it is not a deployment record`, [clip((error as Error).message)]);
  }
  const parsed = parseEnvelope(value);
  if (!parsed.ok) {
    return fail('not-envelope', `${file} is not a DSSE envelope (payloadType, payload, signatures): it is not a deployment record`, parsed.problems.slice(0, 10).map(formatEnvelopeProblem));
  }
  return { ok: true, parsed: parsed.parsed, bytes };
}

/** Empty, or only JSON whitespace. */
function isBlank(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return false;
  return true;
}

function formatEnvelopeProblem(problem: EnvelopeProblem): string {
  return clip(problem.message);
}

function clip(text: string): string {
  const one = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return one.length > 200 ? `${one.slice(0, 200)}…` : one;
}

// ---------------------------------------------------------------------------------------------
// Verifying

export interface SignatureCheck extends SignatureFacts {
  /** Why it does not count, in a sentence. */
  reason?: string;
  /** Roles whose listed keys include the key that verified it. */
  countsFor: string[];
}

export interface RunbookCheck {
  /** As the record names it, or as `--runbook` gave it. */
  path: string;
  state: 'matches' | 'changed' | 'not-found' | 'not-checked';
  recorded: string;
  current?: string;
  /** Whether the runbook loaded, so role keys were checked. */
  rolesChecked: boolean;
  /** Why it did not load. */
  problems: string[];
}

export interface UnreadableRecord {
  verdict: 'unreadable';
  file: string;
  problem: ReadProblem;
}

export interface CheckedRecord {
  /** `valid`: a trusted key signed it, no signature was tampered with, and it is a deployment record. */
  verdict: 'valid' | 'invalid';
  file: string;
  envelope: Envelope;
  signatures: SignatureCheck[];
  /** Distinct trusted keys with a valid signature. */
  validCount: number;
  trustedKeys: { keyId: string; sources: string[] }[];
  /** Why it is invalid (empty when valid). */
  failures: string[];
  warnings: string[];
  /**
   * The statement. Authentic only when `verdict` is `valid`; otherwise it was read from the unverified payload so that
   * `show` can display it under a warning, and may be forged.
   */
  statement?: RecordStatement;
  statementProblems: StatementProblem[];
  runbook?: RunbookCheck;
  signoffs: SignoffTable;
}

export type RecordVerification = UnreadableRecord | CheckedRecord;

/** Read, parse and verify one record file. Never throws on bad input. */
export function verifyRecordFile(file: string, trust: Trust): RecordVerification {
  const read = readRecordFile(file, trust.env.cwd);
  if (!read.ok) return { verdict: 'unreadable', file, problem: read.problem };
  return verifyParsedRecord(file, read.parsed, trust);
}

interface Attempt {
  runbook: RunbookTrust | undefined;
  keys: TrustedKeyInfo[];
  result: Exclude<ReturnType<typeof verifyEnvelope>, { status: 'malformed' }>;
  statement?: RecordStatement;
  statementProblems: StatementProblem[];
  failures: string[];
}

export function verifyParsedRecord(file: string, parsed: ParsedEnvelope, trust: Trust): CheckedRecord {
  // Role keys come from the runbook the record names. Before verification that name is only a hint (like the keyid):
  // it chooses which keys to try, and nothing else is read from the payload until a signature verifies.
  // The record itself is untrusted, so the runbook it names is looked up only inside the working directory: a name
  // such as /tmp/evil.yaml or ../x would let whoever wrote the record choose the keys that vouch for it.
  const hint = trust.explicitRunbook === undefined ? peekSubjectName(parsed.payload) : undefined;
  const located = (name: string | undefined) => (name !== undefined && isInsideDirectory(trust.env.cwd, name) ? locateRunbook(trust, name) : undefined);
  let attempt = attemptVerify(parsed, trust, trust.explicitRunbook ?? located(hint));
  const verifiedName = attempt.statement?.subject[0].name;
  if (trust.explicitRunbook === undefined && attempt.result.status === 'verified' && verifiedName !== undefined && verifiedName !== hint) {
    attempt = attemptVerify(parsed, trust, located(verifiedName));
  }
  // A runbook edited since the run cannot vouch: its role keys may have been added afterwards. Check again without
  // them; the runbook still shows as CHANGED, and its sign-offs as not checked.
  const changed = attempt.runbook !== undefined && attempt.statement !== undefined && attempt.runbook.sha256 !== undefined && attempt.runbook.sha256 !== attempt.statement.subject[0].digest.sha256;
  if (changed) {
    const { roles: _roles, ...withoutRoles } = attempt.runbook!;
    void _roles;
    attempt = attemptVerify(parsed, trust, { ...withoutRoles, keys: [] });
    if (attempt.result.status !== 'verified') {
      attempt.failures.unshift(`the runbook ${attempt.runbook?.path ?? ''} changed since the run, so its role keys do not count, and no other trusted key signed the record; give the signer's key with --pubkey, or restore the runbook`);
    }
  }

  const { result, runbook } = attempt;
  const trustedIds = new Set(attempt.keys.map((k) => k.keyId));
  const roles = runbook?.roles;
  const signatures: SignatureCheck[] = result.signatures.map((v) => {
    const state: SignatureCheck['state'] = v.valid ? (v.duplicateOf === undefined ? 'valid' : 'duplicate') : trustedIds.has(v.keyid) ? 'tampered' : 'unknown-key';
    const check: SignatureCheck = {
      index: v.index,
      keyid: v.keyid,
      state,
      countsFor: state === 'valid' && roles !== undefined ? rolesListingKey(roles, v.verifiedKeyId) : [],
      ...(v.verifiedKeyId !== undefined ? { verifiedKeyId: v.verifiedKeyId } : {}),
      ...(v.keyLabel !== undefined ? { keyLabel: v.keyLabel } : {}),
      ...(v.role !== undefined ? { role: v.role } : {}),
      ...(v.signer !== undefined ? { signer: v.signer } : {}),
      ...(v.signed_at !== undefined ? { signed_at: v.signed_at } : {}),
    };
    if (state === 'duplicate') check.reason = `the same key as signature #${(v.duplicateOf ?? 0) + 1}: counted once`;
    else if (state === 'tampered') check.reason = `its keyid names a trusted key, but it does not verify with it: the record or this signature was changed`;
    else if (!v.valid) check.reason = v.reason ?? 'it does not verify with any trusted key';
    return check;
  });

  const failures = [...attempt.failures];
  const tampered = signatures.filter((s) => s.state === 'tampered');
  for (const s of tampered) failures.push(`signature #${s.index + 1} (${s.keyid}) does not verify with the trusted key its keyid names: the record or the signature was changed`);

  let statement = attempt.statement;
  let statementProblems = attempt.statementProblems;
  if (statement === undefined && result.status !== 'verified') {
    // For display under an UNVERIFIED banner only.
    const untrusted = parseStatement(parsed.payload, trust.env.validate);
    if (untrusted.ok) statement = untrusted.statement;
    else statementProblems = untrusted.problems;
  }

  const warnings = [...trust.warnings, ...(runbook?.warnings ?? [])];
  const runbookCheck = statement !== undefined ? checkRunbook(statement, runbook) : undefined;
  const signoffRoles = roles ?? signoffRolesFromPredicate(statement?.predicate);
  const signoffs = evaluateSignoffs(signoffRoles, signatures);

  return {
    verdict: failures.length === 0 && result.status === 'verified' && attempt.statement !== undefined ? 'valid' : 'invalid',
    file,
    envelope: parsed.envelope,
    signatures,
    validCount: result.validCount,
    trustedKeys: attempt.keys.map((k) => ({ keyId: k.keyId, sources: k.sources })),
    failures,
    warnings,
    ...(statement !== undefined ? { statement } : {}),
    statementProblems,
    ...(runbookCheck !== undefined ? { runbook: runbookCheck } : {}),
    signoffs,
  };
}

function attemptVerify(parsed: ParsedEnvelope, trust: Trust, runbook: RunbookTrust | undefined): Attempt {
  const keys: TrustedKeyInfo[] = [];
  for (const k of [...trust.base, ...(runbook?.keys ?? [])]) for (const source of k.sources) addKey(keys, k.keyId, k.key, source);
  const trusted: TrustedKey[] = keys.map((k) => ({ key: k.key, label: k.sources.join(', ') }));
  const result = verifyEnvelope(parsed.envelope, trusted);
  if (result.status === 'malformed') {
    // parseEnvelope already accepted this envelope; verifyEnvelope parses it the same way.
    throw new Error(`verifyEnvelope rejected an envelope parseEnvelope accepted: ${JSON.stringify(result.problems)}`);
  }
  const failures: string[] = [];
  if (result.status !== 'verified') {
    if (keys.length === 0) failures.push('no trusted public key to check the signatures with');
    else {
      const tampered = result.signatures.some((v) => !v.valid && keys.some((k) => k.keyId === v.keyid));
      failures.push(
        tampered
          ? `no signature verifies with a trusted key (${keys.length} tried): a signature's own key is trusted here and does not verify it, so the record was changed`
          : `no signature verifies with a trusted key (${keys.length} tried): it was signed by a key not trusted here; if the record comes from another machine or directory, give its signer's public key with --pubkey (a run signs with that directory's .deployctl/keys/deployctl.pub)`,
      );
    }
    return { runbook, keys, result, statementProblems: [], failures };
  }
  if (result.payloadType !== STATEMENT_PAYLOAD_TYPE) {
    failures.push(`the signed payloadType is '${clip(result.payloadType)}', not ${STATEMENT_PAYLOAD_TYPE}: not a deployment record`);
    return { runbook, keys, result, statementProblems: [], failures };
  }
  const parsedStatement = parseStatement(result.payload!, trust.env.validate);
  if (!parsedStatement.ok) {
    failures.push('the signed payload is not a valid deployment record statement');
    return { runbook, keys, result, statementProblems: parsedStatement.problems, failures };
  }
  return { runbook, keys, result, statement: parsedStatement.statement, statementProblems: [], failures };
}

function checkRunbook(statement: RecordStatement, runbook: RunbookTrust | undefined): RunbookCheck {
  const subject = statement.subject[0];
  const recorded = subject.digest.sha256;
  const base = { path: runbook?.path ?? subject.name, recorded, rolesChecked: runbook?.roles !== undefined, problems: runbook?.problems ?? [] };
  if (runbook === undefined || !runbook.found) return { ...base, state: 'not-found' };
  if (runbook.sha256 === undefined) return { ...base, state: 'not-checked' };
  return { ...base, state: runbook.sha256 === recorded ? 'matches' : 'changed', current: runbook.sha256 };
}

/**
 * The runbook path from the end of a statement deployctl encoded (keys sorted, so `subject` comes last), read as an
 * unauthenticated hint without parsing the untrusted payload; undefined when the tail is not in that shape.
 */
export function peekSubjectName(payload: Uint8Array): string | undefined {
  const start = Math.max(0, payload.byteLength - 32 * 1024);
  const tail = Buffer.from(payload.buffer, payload.byteOffset + start, payload.byteLength - start).toString('utf8');
  const match = /"subject":\[\{"digest":\{"sha256":"[0-9a-f]{64}"\},"name":("(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*")\}\]\}$/.exec(tail);
  if (match === null) return undefined;
  try {
    const name = JSON.parse(match[1]!) as unknown;
    return typeof name === 'string' && name.length > 0 && name.length <= 4096 && !name.includes('\u0000') ? name : undefined;
  } catch {
    return undefined;
  }
}
