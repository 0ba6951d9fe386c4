// `record export`: the record as the team's own deployment record in Markdown (timeline, per-role steps, gates, metrics table, sign-off table), or the predicate as JSON.
import { conditionValues, conditionWhy } from '../expr/explain.js';
import { code, fence, inline, table } from '../reporters/markdown.js';
import { formatDuration } from '../runbook/duration.js';
import { formatAnswer, formatAuthorization, formatFailureHandling, formatMs, formatValue, metricMark, personOf, shortKeyId, STATUS_HEADLINES, statusMark } from './format.js';
import type { AnswerCheck } from './verify-answers.js';
import { answersFileWords, describeRunbookCheck } from './show.js';
import type { SignoffRow } from './signoff.js';
import type { RecordGate, RecordPhase, RecordPredicate, RecordStep } from './types.js';
import type { CheckedRecord } from './verify.js';
import { describeDuration, describeRehearsal, describeWatch, phaseTimingCells } from './timeline-format.js';

/** The decoded predicate, pretty-printed. */
export function renderRecordJson(v: CheckedRecord): string {
  return `${JSON.stringify(v.statement?.predicate ?? null, null, 2)}\n`;
}

export function renderRecordMarkdown(v: CheckedRecord): string {
  const p = v.statement!.predicate;
  const out: string[] = [];
  out.push(`# ${p.rehearsal === true ? 'Rehearsal' : 'Deployment'} record: ${inline(p.runbook.title ?? p.runbook.name)}`, '');
  const rehearsal = describeRehearsal(p);
  if (rehearsal !== undefined) out.push(`> **${inline(rehearsal)}**`, '');
  if (v.verdict !== 'valid') {
    out.push('> **⚠ UNVERIFIED**: this record does not verify; its content may be forged or altered.', '>');
    for (const f of v.failures) out.push(`> - ${inline(f)}`);
    out.push('');
  }
  const headline = STATUS_HEADLINES[p.status];
  out.push(`**Status**: ${statusMark(p.status === 'succeeded')} **${headline}** (exit ${p.exit_code})${p.reason !== undefined ? `: ${inline(p.reason)}` : ''}`, '');
  const facts: [string, string][] = [
    ['Runbook', `${code(p.runbook.name)} (${code(p.runbook.path)}, sha256 ${code(p.runbook.sha256)})`],
    ['Run', code(p.run_id)],
    ['Operator', `${inline(p.operator)} on ${inline(p.host)} (deployctl ${inline(p.tool.version)})`],
    ['Started', inline(p.started_at)],
    ['Ended', inline(p.ended_at)],
    ['Duration', inline(describeDuration(p))],
    ...(p.t0 !== undefined ? [['T', inline(p.t0)] as [string, string]] : []),
    ...(p.resumes.length > 0 ? [['Resumed', inline(p.resumes.map((r) => `${r.at} by ${r.by}`).join(', '))] as [string, string]] : []),
    ['Verification', v.verdict === 'valid' ? `✔ verified, signed by ${v.validCount} run key${v.validCount === 1 ? '' : 's'}; ${inline(describeRunbookCheck(v.runbook))}` : '✖ **UNVERIFIED**'],
  ];
  out.push(...facts.map(([label, value]) => `- **${label}**: ${value}`), '');

  out.push('## Timeline', '');
  const took = (phase: RecordPhase) => (phase.started_at !== undefined && phase.ended_at !== undefined ? formatMs(Date.parse(phase.ended_at) - Date.parse(phase.started_at)) : '—');
  const planned = p.phases.some((phase) => phase.planned_start !== undefined || phase.planned_end !== undefined);
  out.push(
    ...(planned
      ? // The timeline's plan against what happened, on T's clock (T+10m…).
        table(
          ['When', 'Phase', 'Status', 'Planned start', 'Planned end', 'Started', 'Ended', 'Duration', 'Overrun'],
          p.phases.map((phase) => {
            const [plannedStart, plannedEnd, started, ended, overrun] = phaseTimingCells(p, phase);
            return [phase.at ?? '—', phase.title, `${statusMark(phase.status)} ${phase.status}`, plannedStart!, plannedEnd!, started!, ended!, took(phase), overrun!];
          }),
        )
      : table(
          ['When', 'Phase', 'Status', 'Started', 'Duration'],
          p.phases.map((phase) => [phase.at ?? '—', phase.title, `${statusMark(phase.status)} ${phase.status}`, phase.started_at ?? '—', took(phase)]),
        )),
    '',
  );

  for (const phase of p.phases) out.push(...renderPhase(phase, p));

  const gates = p.phases.flatMap((phase) => (phase.gate === undefined ? [] : [{ phase, gate: phase.gate }]));
  out.push('## Go/No-Go', '');
  if (gates.length === 0) out.push('_The runbook has no gate._', '');
  for (const { phase, gate } of gates) out.push(...renderGate(gate, phase, p));

  out.push('## Success metrics', '');
  const sourced = p.success_metrics.some((m) => m.source !== undefined);
  if (p.success_metrics.length === 0) out.push('_No success metrics defined._', '');
  else {
    out.push(
      ...table(
        // The Source column only when a metric names one (a runbook reading figures from Prometheus and from probes).
        ['Metric', 'Target', 'Actual', ...(sourced ? ['Source'] : []), '✔/✖'],
        // Not measured (no evidence: its probes never ran) is neither a pass nor a failure, and says why.
        p.success_metrics.map((m) => [
          m.title,
          m.target,
          `${formatValue(m.actual, m.unit)}${m.error !== undefined ? ` (${m.error})` : ''}`,
          ...(sourced ? [m.source ?? '—'] : []),
          m.not_measured !== undefined && m.ok === null ? `${metricMark(m)} not measured: ${m.not_measured}` : m.ok === null ? '?' : statusMark(m.ok),
        ]),
      ),
      '',
    );
  }

  out.push('## Escalations', '');
  if (p.escalations.length === 0) out.push('_None._', '');
  else {
    out.push(
      ...table(
        ['When', 'Situation', 'Escalated to', 'Reason'],
        p.escalations.map((e) => [e.at, e.rule, e.to.map((t) => `${t.title}${t.person !== undefined ? ` (${t.person})` : ''}`).join(', '), `${e.reason}${e.step_id !== undefined ? ` (step ${e.step_id})` : ''}`]),
      ),
      '',
    );
  }

  out.push('## Notifications', '');
  if (p.notifications.length === 0) out.push('_None sent._', '');
  else {
    out.push(
      ...table(
        ['When', 'Message', 'Channel', 'Delivered'],
        p.notifications.map((n) => [n.at, n.kind, n.channel, n.delivered ? `✔${n.attempts > 1 ? ` (${n.attempts} attempts)` : ''}` : `✖ ${n.error ?? ''}`.trim()]),
      ),
      '',
    );
  }

  out.push('## Rollback', '');
  if (p.rollback_authorization !== undefined) out.push(`Authorization: ${inline(formatAuthorization(p.rollback_authorization, p))}`, '');
  if (p.rollback === null) out.push(p.rollback_authorization !== undefined ? '_Nothing was rolled back._' : '_Not needed._', '');
  else {
    const r = p.rollback;
    out.push(`${statusMark(r.status)} **${r.status === 'succeeded' ? 'Rolled back' : 'ROLLBACK FAILED'}**: ${inline(r.reason)} (started ${inline(r.started_at)}${r.ended_at !== undefined ? `, ended ${inline(r.ended_at)}` : ''})`, '');
    for (const step of r.steps) out.push(stepItem(step, p, true));
    if (r.steps.length > 0) out.push('');
  }

  const answers = v.answers ?? [];
  if (answers.length > 0) {
    // Who answered each prompt, and whether their signature holds (issue 14).
    out.push('## Answers', '');
    out.push(...table(['Prompt', 'Answer', 'Answered by', 'Signature'], answers.map((a) => answerCells(a, p))), '');
  }

  out.push('## Sign-off', '');
  out.push('This deployment record signed off by:', '');
  out.push(...table(['Role', 'Name', 'Date', 'Signature'], v.signoffs.rows.map(signoffCells)));
  for (const note of v.signoffs.notes) out.push('', `_${inline(note)}_`);
  const recordSigs = v.signatures.filter((s) => s.state === 'valid' && s.keyClass === 'run' && s.countsFor.length === 0 && s.role === undefined);
  if (recordSigs.length > 0) {
    out.push('', `Record signed by: ${recordSigs.map((s) => `${code(shortKeyId(s.verifiedKeyId ?? s.keyid))}${s.signer !== undefined ? ` (${inline(s.signer)}${s.signed_at !== undefined ? `, ${inline(s.signed_at)}` : ''})` : ''}`).join(', ')}`);
  }
  return `${out.join('\n')}\n`;
}

function answerCells(check: AnswerCheck, p: RecordPredicate): string[] {
  const a = check.answer;
  const role = a.role !== undefined ? (p.roles[a.role]?.title ?? a.role) : 'operator';
  const who = a.person !== undefined ? personOf(p, a.person) : `operator ${a.operator ?? '?'}`;
  const credit = a.on_behalf_of !== undefined ? `${who} on behalf of ${role} · ${personOf(p, a.on_behalf_of)}` : `${who} (${role}${a.role !== undefined && p.roles[a.role]?.backup === a.person ? ' backup' : ''})`;
  const value = typeof a.answer === 'boolean' || typeof a.answer === 'string' || (Array.isArray(a.answer) && a.answer.every((x) => typeof x === 'string')) ? formatAnswer(a.answer as boolean | string | string[]) : formatValue(a.answer);
  const signature =
    check.state === 'verified' ? `✔ ${shortKeyId(check.keyId ?? a.signature?.keyid ?? '')}` : check.state === 'forged' ? `✖ ${check.reason ?? 'does not verify'}` : `${check.state} ${check.reason ?? ''}`.trim();
  return [`${a.prompt_id}${a.slot > 1 ? ` (slot ${a.slot})` : ''}`, value, a.via === 'answers-file' ? `vouched for by ${credit}, from the answers file ${answersFileWords(a)}` : `${credit}, ${a.via === 'terminal' ? 'at the running terminal' : a.via === 'join' ? 'deployctl join' : 'deployctl answer'}`, signature];
}

function signoffCells(row: SignoffRow): string[] {
  const first = row.by[0];
  if (row.state === 'missing' || first === undefined) return [row.title, '', '', ''];
  const name = `${first.signer ?? row.primary ?? ''}${first.answer !== undefined ? ` (answering ${first.answer})` : ''}`;
  const date = first.signed_at ?? '';
  const key = `${shortKeyId(first.keyid)}${row.by.length > 1 ? ` (+${row.by.length - 1})` : ''}`;
  const signature = row.state === 'signed' ? `✔ ${key}` : row.state === 'unverified-identity' ? `${key} (unverified identity)` : `${key} (not checked)`;
  return [row.title, name, date, signature];
}

function renderPhase(phase: RecordPhase, p: RecordPredicate): string[] {
  const out = [`## ${phase.at !== undefined ? `${phase.at} · ` : ''}${inline(phase.title)}`, ''];
  const took = phase.started_at !== undefined && phase.ended_at !== undefined ? `, ${formatDuration(Date.parse(phase.ended_at) - Date.parse(phase.started_at))}` : '';
  out.push(`_Phase ${code(phase.id)}: ${statusMark(phase.status)} ${phase.status}${took}_`, '');
  const owners = [...new Set(phase.steps.map((s) => s.owner))];
  for (const owner of owners) {
    const role = p.roles[owner];
    out.push(`#### ${inline(role?.title ?? owner)}${role?.primary !== undefined ? ` (${inline(personOf(p, role.primary))})` : ''}`, '');
    for (const step of phase.steps.filter((s) => s.owner === owner)) {
      out.push(stepItem(step, p, false));
      if (step.watch !== undefined) out.push(...describeWatch(step.watch, p).map((line) => `  - ${inline(line.trim())}`));
    }
    out.push('');
  }
  if (phase.gate !== undefined) out.push(`_Gate ${code(phase.gate.id)}: ${phase.gate.decision === null ? 'not decided' : `**${phase.gate.decision.toUpperCase()}**`} (see Go/No-Go below)._`, '');
  if (phase.finally !== undefined && phase.finally.length > 0) {
    out.push('#### Finally (however the phase ended)', '');
    for (const step of phase.finally) out.push(stepItem(step, p, true));
    out.push('');
  }
  return out;
}

function stepItem(step: RecordStep, p: RecordPredicate, withOwner: boolean): string {
  const box = step.status === 'succeeded' ? '[x]' : '[ ]';
  const owner = withOwner ? `**${inline(p.roles[step.owner]?.title ?? step.owner)}**: ` : '';
  const details: string[] = [`${statusMark(step.status)} ${step.status}`];
  const a = step.actor;
  if (a?.answered_by !== undefined && a.on_behalf_of === undefined && p.people !== undefined && Object.hasOwn(p.people, a.answered_by)) details.push(`answered by ${inline(personOf(p, a.answered_by))} (${inline(p.roles[step.owner]?.title ?? step.owner)}), signed`);
  else if (a?.answered_by !== undefined) details.push(`answered by ${inline(personOf(p, a.answered_by))} on behalf of ${inline(a.on_behalf_of !== undefined ? personOf(p, a.on_behalf_of) : (p.roles[step.owner]?.title ?? step.owner))}`);
  else if (step.actor?.person !== undefined) details.push(`by ${inline(step.actor.person)}`);
  if (step.duration_ms !== undefined) details.push(formatMs(step.duration_ms));
  if (step.attempts > 1) details.push(`${step.attempts} attempts`);
  if (step.exit_code !== undefined && step.exit_code !== null && step.exit_code !== 0) details.push(`exit code ${step.exit_code}`);
  if (step.metrics !== undefined) details.push(`p95 ${formatValue(step.metrics.p95_ms)} ms, errors ${formatValue(step.metrics.error_rate * 100)}%`);
  if (step.check !== undefined) details.push(`${code(step.check.query)} = ${formatValue(step.check.result)} at ${inline(step.check.evaluated_at)}`);
  if (step.warmup !== undefined && step.warmup.requests > 0) details.push(`${step.warmup.requests} warm-up request${step.warmup.requests === 1 ? '' : 's'} not counted`);
  if (step.answer !== undefined) details.push(`answer: ${inline(formatAnswer(step.answer))}`);
  const reason = step.reason !== undefined && step.status !== 'succeeded' ? `: ${inline(step.reason)}` : '';
  const handling = step.on_failure !== undefined ? ` (${inline(formatFailureHandling(step.on_failure, p))})` : '';
  return `- ${box} ${owner}${inline(step.title)} — ${details.join(', ')}${reason}${handling}`;
}

function renderGate(gate: RecordGate, phase: RecordPhase, p: RecordPredicate): string[] {
  const owner = p.roles[gate.owner];
  if (gate.decision === null && gate.skipped !== undefined) return [`### ${inline(gate.id)}: ↓ SKIPPED`, '', `Not asked: ${inline(gate.skipped)}.`, ''];
  const decision = gate.decision === null ? 'NOT DECIDED' : gate.decision.toUpperCase();
  const out = [`### ${inline(gate.id)}: ${statusMark(gate.decision)} ${decision}`, ''];
  const d = gate.decided_by;
  const roleTitle = d !== undefined ? inline(p.roles[d.role]?.title ?? d.role) : inline(owner?.title ?? gate.owner);
  const by =
    d === undefined
      ? roleTitle
      : d.answered_by !== undefined
        ? d.on_behalf_of === undefined && p.people !== undefined && Object.hasOwn(p.people, d.answered_by)
          ? `${inline(personOf(p, d.answered_by))}** (${roleTitle}, signed)**`
          : `${inline(personOf(p, d.answered_by))}** on behalf of **${roleTitle}${d.on_behalf_of !== undefined ? ` (${inline(personOf(p, d.on_behalf_of))})` : ''}`
        : `${roleTitle}${d.person !== undefined ? ` (${inline(personOf(p, d.person))})` : ''}`;
  const from = gate.answered_from === 'answers-file' ? ', from the answers file' : gate.answered_from === 'automatic' ? ', automatically' : '';
  out.push(
    gate.decision === null
      ? `After phase **${inline(phase.title)}**; owned by **${by}**; not decided.`
      : `After phase **${inline(phase.title)}**; decided by **${by}**${gate.decided_at !== undefined ? ` at ${inline(gate.decided_at)}` : ''}${from}.`,
    '',
  );
  if (gate.conditions.length === 0) {
    out.push('_The gate was not reached: no condition was evaluated._', '');
    return out;
  }
  out.push(...fence(`GO = ${gate.conditions.map((c) => c.name).join(' AND ')}`), '');
  for (const c of gate.conditions) {
    const what = c.kind === 'confirm' ? `${inline(c.text)} _(attested)_` : c.kind === 'implicit' ? `${inline(c.text)} _(implicit: on_failure: gate)_` : code(c.text);
    const why = conditionWhy(c);
    out.push(`- ${statusMark(c.ok)} **${inline(c.name)}** = ${code(formatValue(c.value))}: ${what}${c.error !== undefined ? ` (error: ${inline(c.error)})` : ''}${why !== undefined ? ` — ${inline(why)}` : ''}`);
    for (const v of conditionValues(c)) out.push(`  - ${code(v.text)} = ${'error' in v ? `error: ${inline(v.error)}` : code(v.value)}`);
  }
  if (gate.reason !== undefined) out.push('', `Reason for NO-GO: ${inline(gate.reason)}`);
  if (gate.note !== undefined) out.push('', `Note: ${inline(gate.note)}`);
  out.push('');
  return out;
}

// Markdown text helpers (the same rules as the plan's Markdown: one line, markup characters escaped).

