// The text views of a record: the verification report (`record verify`) and the readable summary (`record show`), with the sign-off table.
import {
  clean,
  formatActor,
  personOf,
  formatAnswer,
  formatAuthorization,
  formatFailureHandling,
  formatMs,
  formatValue,
  metricMark,
  roleName,
  shortKeyId,
  STATUS_HEADLINES,
  statusMark,
} from './format.js';
import type { SignoffRow, SignoffTable } from './signoff.js';
import { describeDuration, describePhaseTiming, describeRehearsal, describeWatch } from './timeline-format.js';
import type { RecordAnswer, RecordGate, RecordPredicate, RecordStep } from './types.js';
import type { CheckedRecord, RunbookCheck, SignatureCheck } from './verify.js';
import { conditionValues, conditionWhy } from '../expr/explain.js';
import { unsignedFileAnswers, type AnswerCheck } from './verify-answers.js';

// ---------------------------------------------------------------------------------------------
// Verification

/** One signature's verdict: its keyid in full (auditors compare it with `deployctl keygen`'s output), the key or role it verified with, or why not. */
export function describeSignature(s: SignatureCheck): string {
  const keyid = s.verifiedKeyId ?? s.keyid;
  const hintDiffers = s.verifiedKeyId !== undefined && s.verifiedKeyId !== s.keyid ? ` (its keyid field says ${shortKeyId(s.keyid)}: only a hint)` : '';
  const head = `signature #${s.index + 1} keyid ${keyid === '' ? '(none)' : clean(keyid, 100)}${hintDiffers}`;
  const annotations = [s.role !== undefined ? `role ${clean(s.role, 64)}` : undefined, s.signer !== undefined ? `signer ${clean(s.signer, 100)}` : undefined, s.signed_at !== undefined ? clean(s.signed_at, 64) : undefined].filter(
    (x): x is string => x !== undefined,
  );
  const claimed = annotations.length > 0 ? ` [${annotations.join(', ')}]` : '';
  switch (s.state) {
    case 'valid':
      if (s.reason !== undefined) return `${head}: valid, key ${clean(s.keyLabel ?? '?', 300)}, but ${s.reason}${claimed}`;
      return `${head}: valid, key ${clean(s.keyLabel ?? '?', 300)}${s.countsFor.length > 0 ? `; signs off for ${s.countsFor.join(', ')}` : ''}${claimed}`;
    case 'duplicate':
      return `${head}: valid, but ${s.reason}${claimed}`;
    case 'tampered':
      return `${head}: INVALID: ${s.reason}${claimed}`;
    case 'unknown-key':
      return `${head}: not counted: ${s.reason}${claimed}`;
  }
}

export function describeRunbookCheck(check: RunbookCheck | undefined): string {
  if (check === undefined) return 'runbook: unknown (no readable statement), not checked';
  const name = `runbook ${clean(check.path, 300)}`;
  const loads = check.problems.length > 0 && check.state !== 'not-found' ? `; it does not load, so role keys were not checked` : '';
  switch (check.state) {
    case 'matches':
      return `${name}: sha256 matches${loads}`;
    case 'changed':
      return `${name}: CHANGED since the run (sha256 now ${check.current?.slice(0, 12)}…, recorded ${check.recorded.slice(0, 12)}…); the role keys it lists do not count, since they may have been added after the run${loads}`;
    case 'not-found':
      return `${name}: not found, not checked (give --runbook PATH to check it and its role keys)`;
    case 'not-followed':
      return `${name}: not checked: the record names it by ${notFollowedWords(check.notFollowed)}, and deployctl follows only a relative path inside this directory from a record (the record chose that name, and the key files beside a runbook elsewhere are nobody's here to vouch for); give --runbook ${clean(check.path, 300)} to check it and its role keys`;
    case 'not-checked':
      return `${name}: unreadable, not checked`;
  }
}

/** "an absolute path", "a path outside this directory". */
export function notFollowedWords(reason: RunbookCheck['notFollowed']): string {
  return reason === 'absolute' ? 'an absolute path' : 'a path outside this directory';
}

function signoffState(row: SignoffRow): string {
  const first = row.by[0];
  const who = (e: SignoffRow['by'][number]) => clean(e.signer ?? row.primary ?? '?', 100);
  const when = (e: SignoffRow['by'][number]) => (e.signed_at !== undefined ? ` on ${clean(e.signed_at, 64)}` : '');
  switch (row.state) {
    case 'signed':
      return row.by.map((e) => `${e.answer !== undefined ? `signed off by ${who(e)} answering ${clean(e.answer, 64)}` : `signed by ${who(e)}`}${when(e)}, key ${shortKeyId(e.keyid)} (${clean(e.keyLabel ?? '?', 200)})`).join('; ');
    case 'missing':
      return row.listsKeys === false ? 'not signed (and the runbook lists no keys for this role)' : `not signed (deployctl record sign --role ${clean(row.role, 64)} adds a sign-off)`;
    case 'unverified-identity':
      return `unverified identity: ${first ? `${who(first)}${when(first)}, key ${shortKeyId(first.keyid)}${first.verified ? '' : ' (unknown key)'}` : ''}; the runbook lists no keys for ${clean(row.role, 64)}`;
    case 'not-checked':
      return `not checked: claimed by ${first ? who(first) : '?'} (the runbook is not at hand, so its keys are unknown)`;
  }
}

export function renderSignoffTable(table: SignoffTable, indent = '  '): string[] {
  if (table.rows.length === 0) return [`${indent}(no roles known: the runbook and the record content are both unavailable)`];
  const labels = table.rows.map((r) => `${clean(r.title, 100)} (${clean(r.role, 64)})`);
  const width = Math.max(...labels.map((l) => l.length));
  const lines = table.rows.map((row, i) => `${indent}${statusMark(row.state === 'signed' ? 'succeeded' : row.state === 'missing' ? 'not-run' : undefined)} ${labels[i]!.padEnd(width)}  ${signoffState(row)}`);
  for (const note of table.notes) lines.push(`${indent}note: ${clean(note, 400)}`);
  return lines;
}

/** `record verify`: every signature's verdict, the runbook check, the sign-off table, then the overall verdict. */
export function renderVerificationReport(v: CheckedRecord): string {
  const lines = [`record ${clean(v.file, 300)}`];
  for (const s of v.signatures) lines.push(`  ${describeSignature(s)}`);
  if (!v.trustedKeys.some((k) => k.keyClass === 'run')) {
    lines.push("  run keys: none (give the run's public key with --pubkey KEY.pub, or put it in .deployctl/keys/; the role keys a runbook lists only sign off)");
  }
  for (const w of v.warnings) lines.push(`  warning: ${clean(w, 400)}`);
  if (v.verdict === 'invalid') {
    // The runbook digest and the sign-offs would be read from a payload no trusted signature vouches for.
    lines.push('  runbook and sign-offs: not shown, since nothing vouches for the payload they would be read from');
    lines.push(verdictLine(v));
    // The first failure is the verdict's own words; a changed signature is already named in its own line above.
    for (const f of v.failures.slice(1).filter((f) => !f.startsWith('signature #'))) lines.push(`  - ${clean(f, 400)}`);
    for (const p of v.statementProblems.slice(0, 10)) lines.push(`    ${clean(p.message, 300)}`);
    return lines.join('\n');
  }
  lines.push(`  ${describeRunbookCheck(v.runbook)}`);
  for (const p of v.runbook?.problems ?? []) lines.push(`    ${clean(p, 300)}`);
  if ((v.answers ?? []).length > 0) lines.push('  answers:', ...v.answers.map((a) => `    ${describeAnswer(a, v.statement!.predicate)}`));
  const unsigned = unsignedFileAnswers(v.statement!.predicate);
  if (unsigned.length > 0) {
    const ids = unsigned.slice(0, 20).map((k) => clean(k, 100)).join(', ') + (unsigned.length > 20 ? `, … (${unsigned.length} in all)` : '');
    lines.push(`  answers file: ${ids}: taken from the answers file by the operator ${clean(v.statement!.predicate.operator, 100)} on the roles' behalf, not signed (no person at the running terminal vouched for them with their key; the run key vouches for them with the record)`);
  }
  lines.push('  sign-offs:', ...renderSignoffTable(v.signoffs, '    '));
  lines.push(verdictLine(v));
  return lines.join('\n');
}

/**
 * One answer as `record verify` shows it: `✔ qa-ready: answered by Elif Yilmaz (QA Lead, key verified) in deployctl
 * join: yes`, or plainly on whose behalf it was given, or why its signature does not hold.
 */
export function describeAnswer(check: AnswerCheck, p: RecordPredicate): string {
  const a = check.answer;
  const role = a.role !== undefined ? clean(p.roles[a.role]?.title ?? a.role, 100) : 'the operator';
  const who = a.person !== undefined ? personOf(p, a.person) : `the operator ${clean(a.operator ?? '?', 100)}`;
  const backup = a.role !== undefined && a.person !== undefined && p.roles[a.role]?.backup === a.person ? ' backup' : '';
  const keyState = check.state === 'verified' ? 'key verified' : check.state === 'not-checked' ? 'key not checked' : check.state === 'unsigned' ? 'not signed' : 'SIGNATURE DOES NOT HOLD';
  const credit =
    a.on_behalf_of !== undefined
      ? `answered by ${who} on behalf of ${role} · ${personOf(p, a.on_behalf_of)} (${check.state === 'verified' && a.person !== undefined ? `${who}'s key verified` : keyState})`
      : a.person === undefined
        ? `answered by ${who} (${role}, ${keyState}${check.state === 'verified' ? ': a run key' : ''})`
        : `answered by ${who} (${role}${backup}, ${keyState})`;
  const via = a.via === 'terminal' ? 'at the running terminal' : a.via === 'join' ? 'in deployctl join' : 'with deployctl answer';
  const value = typeof a.answer === 'boolean' || typeof a.answer === 'string' || (Array.isArray(a.answer) && a.answer.every((x) => typeof x === 'string')) ? formatAnswer(a.answer as boolean | string | string[]) : formatValue(a.answer);
  const mark = check.state === 'verified' ? '✔' : check.state === 'forged' ? '✖' : '?';
  const why = check.state !== 'verified' && check.reason !== undefined ? ` — ${clean(check.reason, 300)}` : '';
  const head = `${mark} ${clean(a.prompt_id, 100)}${a.slot > 1 ? ` (slot ${a.slot})` : ''}`;
  if (a.via === 'answers-file') {
    // Nobody answered at a prompt: the running terminal's person vouched, with their key, for what the file said.
    const vouched = a.on_behalf_of !== undefined ? `${who} on behalf of ${role} · ${personOf(p, a.on_behalf_of)} (${check.state === 'verified' ? `${who}'s key verified` : keyState})` : `${who} (${role}, ${keyState})`;
    return `${head}: taken from the answers file ${answersFileWords(a)}, vouched for by ${vouched}: ${value}${why}`;
  }
  return `${head}: ${credit} ${via}: ${value}${why}`;
}

/** `answers.yaml (sha256 3f9a1c2b7d4e…)`. */
export function answersFileWords(a: Pick<RecordAnswer, 'answers_file'>): string {
  return a.answers_file !== undefined ? `${clean(a.answers_file.path, 200)} (sha256 ${a.answers_file.sha256.slice(0, 12)}…)` : '(unnamed)';
}

function verdictLine(v: CheckedRecord): string {
  if (v.verdict === 'valid') {
    const p = v.statement!.predicate;
    const changed = v.runbook?.state === 'changed' ? '; the runbook has changed since' : '';
    const signoffs = v.signoffCount > 0 ? `, ${v.signoffCount} sign-off${v.signoffCount === 1 ? '' : 's'}` : '';
    return `VALID: signed by ${v.validCount} run key${v.validCount === 1 ? '' : 's'}${signoffs}; run ${clean(p.run_id, 128)} of ${clean(p.runbook.name, 64)}, ${p.status}${changed}`;
  }
  return `INVALID: ${clean(v.failures[0] ?? 'the record does not verify', 400)}`;
}

// ---------------------------------------------------------------------------------------------
// Show

const BAR = '!'.repeat(72);

/** `record show`: whether it verified (loudly when not), then the run, phase by phase, gates, metrics, escalations, notifications, rollback, sign-offs. */
export function renderRecordSummary(v: CheckedRecord): string {
  const lines: string[] = [];
  if (v.verdict === 'valid') {
    const keys = v.signatures.filter((s) => s.state === 'valid' && s.keyClass === 'run').map((s) => `${clean(s.keyLabel ?? '?', 200)} (${shortKeyId(s.verifiedKeyId ?? s.keyid)})`);
    lines.push(`✔ VERIFIED record ${clean(v.file, 300)}`, `  signed with: ${keys.join('; ')}`);
  } else {
    lines.push(BAR, `!!! UNVERIFIED RECORD: ${clean(v.file, 300)} does not verify.`, '!!! What follows may be forged or altered: do not rely on it.');
    for (const f of v.failures) lines.push(`!!!   ${clean(f, 300)}`);
    lines.push(BAR);
  }
  lines.push(`  ${describeRunbookCheck(v.runbook)}`);
  for (const w of v.warnings) lines.push(`  warning: ${clean(w, 400)}`);
  const statement = v.statement;
  if (statement === undefined) {
    lines.push('', 'The payload is not a readable deployment record:');
    for (const p of v.statementProblems.slice(0, 10)) lines.push(`  ${clean(p.message, 300)}`);
    return lines.join('\n');
  }
  const p = statement.predicate;
  const rehearsal = describeRehearsal(p);
  lines.push('', `${clean(p.runbook.title ?? p.runbook.name, 200)} · runbook ${clean(p.runbook.name, 64)}${rehearsal !== undefined ? ' · REHEARSAL' : ''}`);
  const facts: [string, string][] = [
    ['status', `${STATUS_HEADLINES[p.status] ?? clean(p.status)} (exit ${p.exit_code})${p.reason !== undefined ? `: ${clean(p.reason, 300)}` : ''}`],
    ['run', clean(p.run_id, 128)],
    ['runbook', `${clean(p.runbook.path, 300)} (sha256 ${p.runbook.sha256.slice(0, 12)}…)`],
    ['operator', `${clean(p.operator, 100)} on ${clean(p.host, 100)} (deployctl ${clean(p.tool.version, 64)})`],
    ['started', clean(p.started_at, 64)],
    ['ended', clean(p.ended_at, 64)],
    ['duration', describeDuration(p)],
    ...(p.t0 !== undefined ? [['T', clean(p.t0, 64)] as [string, string]] : []),
    ...(rehearsal !== undefined ? [['rehearsal', rehearsal] as [string, string]] : []),
  ];
  if (p.resumes.length > 0) facts.push(['resumed', p.resumes.map((r) => `${clean(r.at, 64)} by ${clean(r.by, 100)}`).join(', ')]);
  const vars = Object.entries(p.vars);
  if (vars.length > 0) facts.push(['vars', vars.map(([k, val]) => `${clean(k, 64)}=${clean(String(val), 100)}`).join(', ')]);
  for (const [label, value] of facts) lines.push(`  ${label.padEnd(9)} ${value}`);

  lines.push('', 'Phases');
  for (const phase of p.phases) {
    const took = phase.started_at !== undefined && phase.ended_at !== undefined ? `, ${formatMs(Date.parse(phase.ended_at) - Date.parse(phase.started_at))}` : '';
    lines.push(`  ${statusMark(phase.status)} ${phase.at !== undefined ? `${phase.at}  ` : ''}${clean(phase.title, 200)} (${clean(phase.id, 64)}): ${phase.status}${took}`);
    const timing = describePhaseTiming(p, phase);
    if (timing !== undefined) lines.push(`      ${timing}`);
    for (const step of phase.steps) lines.push(...stepLines(step, p, '      '));
    if (phase.gate !== undefined) lines.push(...gateLines(phase.gate, p, '      '));
    if (phase.finally !== undefined && phase.finally.length > 0) {
      lines.push('      finally:');
      for (const step of phase.finally) lines.push(...stepLines(step, p, '      '));
    }
  }

  lines.push('', 'Success metrics');
  if (p.success_metrics.length === 0) lines.push('  (none defined)');
  const titleWidth = Math.max(0, ...p.success_metrics.map((m) => clean(m.title, 80).length));
  for (const m of p.success_metrics) {
    const actual = formatValue(m.actual, m.unit);
    const source = m.source !== undefined ? ` (source: ${clean(m.source, 100)})` : '';
    const notMeasured = m.not_measured !== undefined ? `, NOT MEASURED: ${clean(m.not_measured, 300)}` : '';
    lines.push(`  ${metricMark(m)} ${clean(m.title, 80).padEnd(titleWidth)}  target ${clean(m.target, 40)}, actual ${actual}${source}${notMeasured}${m.error !== undefined ? ` (${clean(m.error, 200)})` : ''}`);
  }

  lines.push('', 'Escalations');
  if (p.escalations.length === 0) lines.push('  none');
  for (const e of p.escalations) {
    const to = e.to.map((t) => `${clean(t.title, 100)}${t.person !== undefined ? ` (${clean(t.person, 100)})` : ''}`).join(', ');
    lines.push(`  ${clean(e.at, 64)}  ${clean(e.rule, 200)} → ${to}: ${clean(e.reason, 300)}${e.step_id !== undefined ? ` (step ${clean(e.step_id, 64)})` : ''}`);
  }

  lines.push('', 'Notifications');
  if (p.notifications.length === 0) lines.push('  none');
  for (const n of p.notifications) {
    lines.push(`  ${clean(n.at, 64)}  ${clean(n.kind, 64)} → ${clean(n.channel, 64)}: ${n.delivered ? 'delivered' : `NOT delivered${n.error !== undefined ? ` (${clean(n.error, 200)})` : ''}`}${n.attempts > 1 ? `, ${n.attempts} attempts` : ''}`);
  }

  lines.push('', 'Rollback');
  if (p.rollback_authorization !== undefined) lines.push(`  ${formatAuthorization(p.rollback_authorization, p)}`);
  if (p.rollback === null) lines.push(p.rollback_authorization !== undefined ? '  nothing was rolled back' : '  not needed');
  else {
    const r = p.rollback;
    lines.push(`  ${statusMark(r.status)} ${r.status}: ${clean(r.reason, 300)} (started ${clean(r.started_at, 64)}${r.ended_at !== undefined ? `, ended ${clean(r.ended_at, 64)}` : ''})`);
    for (const step of r.steps) lines.push(...stepLines(step, p, '      '));
  }

  // A sign-off vouches for content; on content nothing vouches for, there is nothing to count.
  if (v.verdict === 'valid') lines.push('', 'Sign-offs', ...renderSignoffTable(v.signoffs));
  else lines.push('', 'Sign-offs', '  not shown: sign-offs count only on a record a run key has made valid');
  return lines.join('\n');
}

function stepLines(step: RecordStep, p: RecordPredicate, indent: string): string[] {
  const who = step.actor !== undefined ? formatActor(step.actor, p) : roleName(p, step.owner);
  const details: string[] = [step.status];
  if (step.duration_ms !== undefined) details.push(formatMs(step.duration_ms));
  if (step.attempts > 1) details.push(`${step.attempts} attempts`);
  if (step.exit_code !== undefined && step.exit_code !== null && step.exit_code !== 0) details.push(`exit code ${step.exit_code}`);
  if (step.timed_out) details.push('timed out');
  if (step.metrics !== undefined) details.push(`p95 ${formatValue(step.metrics.p95_ms)} ms, errors ${formatValue(step.metrics.error_rate * 100)}%`);
  if (step.check !== undefined) details.push(`${step.check.source === 'prometheus' ? 'read' : clean(step.check.query, 100)} ${formatValue(step.check.result)} at ${clean(step.check.evaluated_at, 64)}`);
  if (step.warmup !== undefined && step.warmup.requests > 0) details.push(`${step.warmup.requests} warm-up request${step.warmup.requests === 1 ? '' : 's'} not counted`);
  if (step.answer !== undefined) details.push(`answer: ${formatAnswer(step.answer)}`);
  if (step.resumed_from !== undefined) details.push(`carried over from ${clean(step.resumed_from, 128)}`);
  const lines = [`${indent}${statusMark(step.status)} ${clean(step.id, 64)}  ${clean(step.title, 120)}  [${who}]  ${details.join(', ')}`];
  if (step.reason !== undefined && step.status !== 'succeeded') lines.push(`${indent}    reason: ${clean(step.reason, 400)}`);
  if (step.check?.source === 'prometheus') lines.push(`${indent}    query: ${clean(step.check.query, 400)}${step.check.expect !== undefined ? `; expect ${clean(step.check.expect, 200)}` : ''}`);
  for (const failure of step.failures ?? []) if (failure !== step.reason) lines.push(`${indent}    - ${clean(failure, 400)}`);
  if (step.on_failure !== undefined) lines.push(`${indent}    ${formatFailureHandling(step.on_failure, p)}`);
  if (step.watch !== undefined) lines.push(...describeWatch(step.watch, p).map((line) => `${indent}    ${line}`));
  return lines;
}

function gateLines(gate: RecordGate, p: RecordPredicate, indent: string): string[] {
  // A gate whose if: was false was skipped on purpose: it says so, not "not decided".
  if (gate.decision === null && gate.skipped !== undefined) return [`${indent}↓ gate ${clean(gate.id, 64)}: SKIPPED (${clean(gate.skipped, 300)})`];
  const decision = gate.decision === null ? 'NOT DECIDED' : gate.decision.toUpperCase();
  const by = gate.decided_by !== undefined ? ` by ${formatActor(gate.decided_by, p)}` : '';
  const at = gate.decided_at !== undefined ? ` at ${clean(gate.decided_at, 64)}` : '';
  const from = gate.answered_from !== undefined ? ` (${gate.answered_from === 'answers-file' ? 'from the answers file' : gate.answered_from})` : '';
  const lines = [`${indent}${statusMark(gate.decision)} gate ${clean(gate.id, 64)}: ${decision}${by}${at}${from}`];
  for (const c of gate.conditions) {
    const what = c.kind === 'confirm' ? `attested: ${clean(c.text, 200)}` : clean(c.text, 200);
    lines.push(`${indent}    ${statusMark(c.ok)} ${clean(c.name, 64)} = ${formatValue(c.value)}   ${what}${c.error !== undefined ? ` (error: ${clean(c.error, 200)})` : ''}`);
    const why = conditionWhy(c);
    if (why !== undefined) lines.push(`${indent}        because ${clean(why, 400)}`);
    // The values behind it: the parts of the condition that explain its value, as evaluated.
    for (const v of conditionValues(c)) lines.push(`${indent}        ${clean(v.text, 200)} = ${'error' in v ? `error: ${clean(v.error, 200)}` : clean(v.value, 200)}`);
  }
  if (gate.reason !== undefined) lines.push(`${indent}    reason for NO-GO: ${clean(gate.reason, 400)}`);
  if (gate.note !== undefined) lines.push(`${indent}    note: ${clean(gate.note, 400)}`);
  return lines;
}
