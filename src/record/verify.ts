// Verify a record: only run keys make it valid (every signature checked over the PAE before the payload is parsed); then the statement, the runbook digest, and the role keys' sign-offs, which count only on a valid record.
import * as path from 'node:path';
import { verifyEnvelope, type Envelope, type ParsedEnvelope, type TrustedKey } from './dsse.js';
import { clip, parseRecordBytes, readRecordFile, type ReadProblem } from './read.js';
import { addAnswerSignoffs, checkAnswers, type AnswerCheck } from './verify-answers.js';
import { checkApprovals } from './verify-approvals.js';
import { evaluateSignoffs, rolesListingKey, signoffRolesFromPredicate, type SignatureFacts, type SignoffRole, type SignoffTable } from './signoff.js';
import { parseStatement, STATEMENT_PAYLOAD_TYPE, type RecordStatement, type StatementProblem } from './statement.js';
import { addKey, isInsideDirectory, locateRunbook, type KeyClass, type RunbookTrust, type Trust, type TrustedKeyInfo } from './trust.js';

export { MAX_RECORD_FILE_BYTES, readRecordFile, type ReadProblem, type ReadRecordResult } from './read.js';
export { prepareTrust, type KeyClass, type RecordEnv, type RunbookTrust, type Trust, type TrustOptions } from './trust.js';

export interface SignatureCheck extends SignatureFacts {
  /** Why it does not count, in a sentence. */
  reason?: string;
  /** Roles it signs off for (only on a valid record). */
  countsFor: string[];
  /** The class of the trusted key that verified it: a `run` key vouches for the record, a `signoff` (role) key only signs off. */
  keyClass?: KeyClass;
}

export interface RunbookCheck {
  /** As the record names it, or as `--runbook` gave it. */
  path: string;
  /** `not-followed`: the record names it by a path deployctl does not follow from a record (see `notFollowed`). */
  state: 'matches' | 'changed' | 'not-found' | 'not-checked' | 'not-followed';
  /** Why it was not followed: an absolute path, or a relative one that leads outside the working directory. */
  notFollowed?: NotFollowed;
  recorded: string;
  current?: string;
  /** Whether the runbook loaded and still has the recorded digest, so its role keys were used for the sign-offs. */
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
  /** `valid`: a run key signed it, no signature was tampered with, and it is a deployment record. */
  verdict: 'valid' | 'invalid';
  file: string;
  envelope: Envelope;
  signatures: SignatureCheck[];
  /** Distinct run keys with a valid signature (what makes the record valid). */
  validCount: number;
  /** Roles signed off by a key the runbook lists for them (always 0 on an invalid record). */
  signoffCount: number;
  /** Every key the signatures were checked with, and its class. */
  trustedKeys: { keyId: string; sources: string[]; keyClass: KeyClass }[];
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
  /** The runbook that was looked up (its roles are what `record sign` checks a key against). */
  runbookTrust?: RunbookTrust;
  signoffs: SignoffTable;
  /** Each answer people gave, its signature checked (a team's record, issue 14; empty otherwise). */
  answers: AnswerCheck[];
}

export type RecordVerification = UnreadableRecord | CheckedRecord;

/** Read, parse and verify one record file. Never throws on bad input. */
export function verifyRecordFile(file: string, trust: Trust): RecordVerification {
  const read = readRecordFile(file, trust.env.cwd);
  if (!read.ok) return { verdict: 'unreadable', file, problem: read.problem };
  return verifyParsedRecord(file, read.parsed, trust);
}

/** Parse and verify a record that is not a file (a database row); `label` names it. Never throws on bad input. */
export function verifyRecordBytes(label: string, bytes: Uint8Array, trust: Trust): RecordVerification {
  const read = parseRecordBytes(label, bytes);
  if (!read.ok) return { verdict: 'unreadable', file: label, problem: read.problem };
  return verifyParsedRecord(label, read.parsed, trust);
}

export function verifyParsedRecord(file: string, parsed: ParsedEnvelope, trust: Trust): CheckedRecord {
  // 1. The record itself. Only run keys can make it valid; the payload is parsed only once one of them verified it.
  const authentic = authenticate(parsed, trust);

  // 2. What it says: authentic when a run key signed it, else read from the unverified payload to be shown under a warning.
  let statement = authentic.statement;
  let statementProblems = authentic.statementProblems;
  if (statement === undefined && !authentic.verified) {
    const untrusted = parseStatement(parsed.payload, trust.env.validate);
    if (untrusted.ok) statement = untrusted.statement;
    else statementProblems = untrusted.problems;
  }

  // 3. The runbook it was made from. Its role keys count for sign-offs only while it has the digest the record names:
  // a runbook edited since could list keys added afterwards.
  const named = trust.explicitRunbook === undefined && statement !== undefined ? runbookNamedBy(trust, statement.subject[0].name) : undefined;
  const runbook = trust.explicitRunbook ?? named?.runbook;
  const signoffRoles = runbook?.roles !== undefined && statement !== undefined && runbook.sha256 === statement.subject[0].digest.sha256 ? runbook.roles : undefined;

  // 4. Every signature, against the run keys and the role keys, each key with its class.
  const roleKeys = signoffRoles !== undefined ? (runbook?.keys ?? []) : [];
  const keys = classifiedKeys(trust.runKeys, roleKeys);
  // When the run keys alone verified every signature (the usual record, before sign-offs), that check is the whole answer.
  const runIds = new Set(trust.runKeys.map((k) => k.keyId));
  const settled = authentic.result.status !== 'malformed' && authentic.result.signatures.every((v) => v.valid) && !roleKeys.some((k) => runIds.has(k.keyId));
  const result = settled
    ? authentic.result
    : verifyEnvelope(
        parsed.envelope,
        keys.map((k): TrustedKey => ({ key: k.key, label: k.sources.join(', ') })),
      );
  if (result.status === 'malformed') {
    // parseEnvelope already accepted this envelope; verifyEnvelope parses it the same way.
    throw new Error(`verifyEnvelope rejected an envelope parseEnvelope accepted: ${JSON.stringify(result.problems)}`);
  }
  const classOf = new Map(keys.map((k) => [k.keyId, k.keyClass]));
  const signatures: SignatureCheck[] = result.signatures.map((v) => {
    const state: SignatureCheck['state'] = v.valid ? (v.duplicateOf === undefined ? 'valid' : 'duplicate') : classOf.has(v.keyid) ? 'tampered' : 'unknown-key';
    const keyClass = v.verifiedKeyId !== undefined ? classOf.get(v.verifiedKeyId) : undefined;
    const check: SignatureCheck = {
      index: v.index,
      keyid: v.keyid,
      state,
      countsFor: [],
      ...(keyClass !== undefined ? { keyClass } : {}),
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

  const failures = authentic.verified ? [...authentic.failures] : [notAuthenticReason(trust.runKeys, signatures, signoffRoles)];
  for (const s of signatures.filter((x) => x.state === 'tampered')) {
    failures.push(`signature #${s.index + 1} (${s.keyid}) does not verify with the trusted key its keyid names: the record or the signature was changed`);
  }

  // 5. Sign-offs, on a valid record only (decideSignoff: the rule record sign applies too). On an invalid record a role
  // key's signature is named for what it is, and counts for nothing.
  // 5a. Answers (issue 14): each signature against the runbook's people at the recorded digest, the operator's against
  // the run keys. A forged one makes the record invalid: the run key vouched for content a person's key does not.
  const answersRunbook = signoffRoles !== undefined ? runbook : undefined;
  const answers = authentic.statement !== undefined ? checkAnswers(authentic.statement.predicate, answersRunbook, trust.runKeys) : [];
  for (const a of answers.filter((c) => c.state === 'forged')) {
    failures.push(`answer to ${a.answer.prompt_id} (slot ${a.answer.slot}) credited to ${a.answer.person ?? `the operator ${a.answer.operator ?? ''}`}: ${a.reason}`);
  }
  const notes: string[] = [];
  // 5b. Separation of duties (issue 14): each gate's `approvals:` rule, re-checked against the answers and who ran
  // each session. A record the run would never have written (a modified deployctl, an edited record re-signed with the
  // run key) does not verify.
  if (authentic.statement !== undefined && answersRunbook?.doc !== undefined) {
    for (const breach of checkApprovals(authentic.statement.predicate, answersRunbook.doc, answers)) failures.push(breach.message);
  } else if (authentic.statement !== undefined && (answersToGates(authentic.statement.predicate) || runbook?.doc?.phases.some((p) => p.gate?.approvals !== undefined) === true)) {
    notes.push('the approvals of its gates (separation of duties) are not checked: the runbook the record was made from is not at hand at the digest it names (give it with --runbook)');
  }
  const validNow = failures.length === 0 && authentic.statement !== undefined;
  const table = addAnswerSignoffs(
    evaluateSignoffs(validNow ? (signoffRoles ?? signoffRolesFromPredicate(statement?.predicate)) : signoffRolesFromPredicate(statement?.predicate), validNow ? signatures : []),
    validNow ? answers : [],
    answersRunbook,
  );
  for (const s of signatures) {
    s.countsFor = table.rows.filter((r) => r.state === 'signed' && r.by.some((b) => b.index === s.index)).map((r) => r.role);
    if (!validNow && s.state === 'valid' && s.keyClass === 'signoff') {
      s.reason = `${roleKeyPhrase(signoffRoles, s.verifiedKeyId)} only signs off on a record a run key has made valid, so it does not make this record valid`;
    }
  }

  const runbookCheck = statement !== undefined ? checkRunbook(statement, runbook, signoffRoles !== undefined, named?.notFollowed) : undefined;
  const valid = validNow;
  return {
    verdict: valid ? 'valid' : 'invalid',
    file,
    envelope: parsed.envelope,
    signatures,
    validCount: authentic.runKeyCount,
    signoffCount: valid ? table.rows.filter((r) => r.state === 'signed').length : 0,
    trustedKeys: keys.map((k) => ({ keyId: k.keyId, sources: k.sources, keyClass: k.keyClass })),
    failures,
    warnings: [...trust.warnings, ...(runbook?.warnings ?? []), ...notes],
    ...(statement !== undefined ? { statement } : {}),
    statementProblems,
    ...(runbookCheck !== undefined ? { runbook: runbookCheck } : {}),
    ...(runbook !== undefined ? { runbookTrust: runbook } : {}),
    signoffs: table,
    answers,
  };
}

/** People answered a gate's prompt (its decision, or its approvals): the runbook's approvals rule applies to them. */
function answersToGates(predicate: RecordStatement['predicate'] | undefined): boolean {
  const gates = new Set((predicate?.phases ?? []).flatMap((p) => (p.gate !== undefined ? [p.gate.id] : [])));
  return (predicate?.answers ?? []).some((a) => gates.has(a.prompt_id));
}

interface Authenticity {
  /** The signatures checked with the run keys alone. */
  result: ReturnType<typeof verifyEnvelope>;
  /** A run key verified a signature. */
  verified: boolean;
  /** Distinct run keys with a valid signature. */
  runKeyCount: number;
  /** Present when verified and the payload is a deployment record statement. */
  statement?: RecordStatement;
  statementProblems: StatementProblem[];
  /** Why a verified payload is still not a record. */
  failures: string[];
}

/** Check the signatures with the run keys alone, and parse the payload only if one verifies. */
function authenticate(parsed: ParsedEnvelope, trust: Trust): Authenticity {
  const result = verifyEnvelope(
    parsed.envelope,
    trust.runKeys.map((k): TrustedKey => ({ key: k.key, label: k.sources.join(', ') })),
  );
  if (result.status !== 'verified') return { result, verified: false, runKeyCount: 0, statementProblems: [], failures: [] };
  const base = { result, verified: true, runKeyCount: result.validCount };
  if (result.payloadType !== STATEMENT_PAYLOAD_TYPE) {
    return { ...base, statementProblems: [], failures: [`the signed payloadType is '${clip(result.payloadType)}', not ${STATEMENT_PAYLOAD_TYPE}: not a deployment record`] };
  }
  const statement = parseStatement(result.payload!, trust.env.validate);
  if (!statement.ok) return { ...base, statementProblems: statement.problems, failures: ['the signed payload is not a valid deployment record statement'] };
  return { ...base, statement: statement.statement, statementProblems: [], failures: [] };
}

interface ClassifiedKey extends TrustedKeyInfo {
  keyClass: KeyClass;
}

/** Run keys first; a role key that is also a run key stays a run key (the auditor trusted it as one). */
function classifiedKeys(runKeys: readonly TrustedKeyInfo[], roleKeys: readonly TrustedKeyInfo[]): ClassifiedKey[] {
  const run: TrustedKeyInfo[] = [];
  for (const k of runKeys) for (const source of k.sources) addKey(run, k.keyId, k.key, source);
  const runIds = new Set(run.map((k) => k.keyId));
  const signoff: TrustedKeyInfo[] = [];
  for (const k of roleKeys) for (const source of k.sources) addKey(runIds.has(k.keyId) ? run : signoff, k.keyId, k.key, source);
  return [...run.map((k) => ({ ...k, keyClass: 'run' as const })), ...signoff.map((k) => ({ ...k, keyClass: 'signoff' as const }))];
}

/** Why no run key vouches for the record, naming the fix. */
function notAuthenticReason(runKeys: readonly TrustedKeyInfo[], signatures: readonly SignatureCheck[], roles: readonly SignoffRole[] | undefined): string {
  const byRoleKey = signatures.find((s) => s.state === 'valid' && s.keyClass === 'signoff');
  const roleNote =
    byRoleKey === undefined
      ? ''
      : `; signature #${byRoleKey.index + 1} verifies only with ${roleKeyPhrase(roles, byRoleKey.verifiedKeyId)}, and a role key only signs off on a record a run key has made valid (if the run itself was signed with that key, trust it as a run key with --pubkey)`;
  if (runKeys.length === 0) {
    return `no run key is trusted here, so nothing can make the record valid${roleNote}; give the public key the run signed with by --pubkey (a run signs with its directory's .deployctl/keys/deployctl.pub)`;
  }
  const tried = `no signature verifies with a run key (${runKeys.length} tried)`;
  if (signatures.some((s) => s.state === 'tampered' && runKeys.some((k) => k.keyId === s.keyid))) {
    return `${tried}: a signature's own key is trusted here and does not verify it, so the record was changed`;
  }
  if (roleNote !== '') return `${tried}${roleNote}`;
  return `${tried}: it was signed by a key not trusted here; if the record comes from another machine or directory, give its run's public key with --pubkey (a run signs with that directory's .deployctl/keys/deployctl.pub)`;
}

/** "role qa's key", or "the key of roles qa, lead". */
function roleKeyPhrase(roles: readonly SignoffRole[] | undefined, keyId: string | undefined): string {
  const ids = roles === undefined ? [] : rolesListingKey(roles, keyId);
  if (ids.length === 0) return 'a role key';
  return ids.length === 1 ? `role ${ids[0]}'s key` : `the key of roles ${ids.join(', ')}`;
}

export type NotFollowed = 'absolute' | 'outside';

/**
 * The runbook a record names, looked up only by a relative path inside the working directory: whoever wrote the record
 * chose the name, and a runbook elsewhere comes with key files beside it that nobody here vouches for. `--runbook` is
 * how a person names one anywhere.
 */
function runbookNamedBy(trust: Trust, name: string): { runbook?: RunbookTrust; notFollowed?: NotFollowed } {
  if (isInsideDirectory(trust.env.cwd, name)) return { runbook: locateRunbook(trust, name) };
  return { notFollowed: path.isAbsolute(name) ? 'absolute' : 'outside' };
}

function checkRunbook(statement: RecordStatement, runbook: RunbookTrust | undefined, rolesChecked: boolean, notFollowed: NotFollowed | undefined): RunbookCheck {
  const subject = statement.subject[0];
  const recorded = subject.digest.sha256;
  const base = { path: runbook?.path ?? subject.name, recorded, rolesChecked, problems: runbook?.problems ?? [] };
  if (notFollowed !== undefined) return { ...base, state: 'not-followed', notFollowed };
  if (runbook === undefined || !runbook.found) return { ...base, state: 'not-found' };
  if (runbook.sha256 === undefined) return { ...base, state: 'not-checked' };
  return { ...base, state: runbook.sha256 === recorded ? 'matches' : 'changed', current: runbook.sha256 };
}
