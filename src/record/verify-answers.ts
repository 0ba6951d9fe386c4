// `record verify` for a team's record (issue 14): each answer's signature checked against the runbook's people (or the run key for the operator's), and the sign-offs its `signoff: true` answers give.
import { openSignedAnswer, sameAnswer } from './answers.js';
import type { SignoffEntry, SignoffTable } from './signoff.js';
import type { TrustedKeyInfo, RunbookTrust } from './trust.js';
import type { RecordAnswer, RecordPredicate } from './types.js';

export interface AnswerCheck {
  index: number;
  answer: RecordAnswer;
  /**
   * `verified`: signed by a key the runbook lists for the person it names (or, for the operator, by a run key), over
   * exactly what the record says. `forged`: the signature or the statement does not hold. `not-checked`: the runbook
   * (with its people's keys) is not at hand, or has changed since. `unsigned`: no signature.
   */
  state: 'verified' | 'forged' | 'not-checked' | 'unsigned';
  /** Why it is forged or not checked. */
  reason?: string;
  /** The key that verified it, as the runbook names it (`people.elif: keys/elif.pub`). */
  keyLabel?: string;
  keyId?: string;
}

/**
 * Check every answer of a record. `runbook` is the runbook whose digest the record names (undefined when it is not at
 * hand or has changed since: person signatures are then not checked); `runKeys` check the operator's answers.
 */
export function checkAnswers(predicate: RecordPredicate, runbook: RunbookTrust | undefined, runKeys: readonly TrustedKeyInfo[]): AnswerCheck[] {
  return (predicate.answers ?? []).map((answer, index): AnswerCheck => {
    const base = { index, answer };
    if (answer.signature === undefined) return { ...base, state: 'unsigned', reason: 'it carries no signature' };
    let keys: readonly TrustedKeyInfo[];
    if (answer.person !== undefined) {
      if (runbook?.people === undefined) return { ...base, state: 'not-checked', reason: 'the runbook with its people’s keys is not at hand (give it with --runbook)' };
      const person = runbook.people.get(answer.person);
      if (person === undefined) return { ...base, state: 'forged', reason: `${answer.person} is no person of the runbook` };
      keys = person.keys;
    } else {
      keys = runKeys;
    }
    const opened = openSignedAnswer(answer.signature, keys.map((k) => k.key));
    if (!opened.ok) {
      return {
        ...base,
        state: 'forged',
        reason: opened.code === 'bad-signature' ? `its signature does not verify with ${answer.person !== undefined ? `${answer.person}'s keys in the runbook` : 'a run key'}: forged or altered` : opened.reason,
      };
    }
    const s = opened.statement;
    const mismatch =
      s.run_id !== predicate.run_id
        ? `it was signed for run ${s.run_id}`
        : s.prompt_id !== answer.prompt_id || s.slot !== answer.slot
          ? `it was signed for ${s.prompt_id} slot ${s.slot}`
          : !sameAnswer(s.answer, answer.answer)
            ? `it was signed for the answer ${JSON.stringify(s.answer).slice(0, 80)}, not the one recorded`
            : (s.person ?? null) !== (answer.person ?? null) || (s.operator ?? null) !== (answer.operator ?? null)
              ? 'it was signed by someone other than the record names'
              : s.via !== answer.via
                ? `it was given through ${s.via}, not ${answer.via}`
                : JSON.stringify(s.answers_file ?? null) !== JSON.stringify(answer.answers_file ?? null)
                  ? `it was signed for the answers file ${s.answers_file !== undefined ? `${s.answers_file.path} (sha256 ${s.answers_file.sha256.slice(0, 12)}…)` : '(none)'}, not the one recorded`
                  : undefined;
    if (mismatch !== undefined) return { ...base, state: 'forged', reason: `${mismatch}: the record was altered` };
    // Whoever answered for a role holds it, or the record says on whose behalf (a delegated role).
    const holders = answer.role !== undefined ? runbook?.holders?.get(answer.role) : undefined;
    if (holders !== undefined && answer.on_behalf_of === undefined && answer.person !== undefined && !holders.includes(answer.person)) {
      return { ...base, state: 'forged', reason: `${answer.person} does not hold role ${answer.role}, and the record does not say on whose behalf` };
    }
    const key = keys.find((k) => k.keyId === opened.keyId);
    return { ...base, state: 'verified', keyId: opened.keyId, ...(key !== undefined ? { keyLabel: key.sources.join(', ') } : {}) };
  });
}

/**
 * The sign-offs given by answering: a `signoff: true` step answered yes by the role's primary or backup, their
 * signature verified. Added to the table's row for the role (a role signed off either way shows both).
 */
export function addAnswerSignoffs(table: SignoffTable, checks: readonly AnswerCheck[], runbook: RunbookTrust | undefined): SignoffTable {
  if (runbook?.signoffSteps === undefined || runbook.signoffSteps.size === 0) return table;
  const rows = table.rows.map((row) => {
    const given = checks.filter((c) => {
      const a = c.answer;
      // An answer from the answers file is vouched for, not given at the prompt: it signs nothing off.
      return c.state === 'verified' && a.via !== 'answers-file' && runbook.signoffSteps!.get(a.prompt_id) === row.role && a.answer === true && a.person !== undefined && a.on_behalf_of === undefined && (runbook.holders?.get(row.role) ?? []).includes(a.person);
    });
    if (given.length === 0) return row;
    const entries = given.map(
      (c): SignoffEntry => ({
        index: -1,
        keyid: c.keyId!,
        ...(c.keyLabel !== undefined ? { keyLabel: c.keyLabel } : {}),
        signer: runbook.people?.get(c.answer.person!)?.name ?? c.answer.person!,
        signed_at: c.answer.answered_at,
        verified: true,
        answer: c.answer.prompt_id,
      }),
    );
    return { ...row, state: 'signed' as const, by: row.state === 'signed' ? [...row.by, ...entries] : entries };
  });
  return { ...table, rows };
}

/**
 * The answers the run took from its `--answers` file that carry no signature: without a person key at the running
 * terminal (a run without people:, or nobody of them there), the operator passed the file on the roles' behalf, and the
 * record's run key is all that vouches for them. Said plainly by `record verify`, never a failure.
 */
export function unsignedFileAnswers(predicate: RecordPredicate): string[] {
  const keys: string[] = [];
  for (const phase of predicate.phases) {
    for (const step of [...phase.steps, ...(phase.finally ?? [])]) {
      if (step.answered_from === 'answers-file') keys.push(step.id);
      if (step.on_failure?.answered_from === 'answers-file') keys.push(`${step.id}.on_failure`);
      if (step.watch?.decisions.some((d) => d.answered_from === 'answers-file') === true) keys.push(`${step.id}.inconclusive`);
    }
    if (phase.gate?.answered_from === 'answers-file') keys.push(phase.gate.id);
  }
  for (const step of predicate.rollback?.steps ?? []) if (step.answered_from === 'answers-file') keys.push(step.id);
  if (predicate.rollback_authorization?.answered_from === 'answers-file') keys.push('rollback');
  const signed = new Set((predicate.answers ?? []).filter((a) => a.via === 'answers-file' && a.signature !== undefined).map((a) => a.prompt_id));
  return [...new Set(keys)].filter((k) => !signed.has(k));
}
