// The plan as a printable Markdown document shaped like a team's own deployment plan: tables, per-role checklists, sign-off.
import { describeCommand, describeConditions, describeExpectations, describeFailure, describeProbe, describeQuery, describeTargets, describeWatch } from './describe.js';
import { cell, code, fence, inline, table } from '../reporters/markdown.js';
import { NO_OFFSET, oneLine, type Plan, type PlanGate, type PlanPhase, type PlanRole, type PlanStep } from './model.js';

export function renderMarkdown(plan: Plan): string {
  const out: string[] = [];
  out.push(`# ${inline(plan.title)}`, '');
  const facts = [`**Runbook**: ${code(plan.name)}`];
  if (plan.target_duration !== null) facts.push(`**Target duration**: ${plan.target_duration}`);
  if (plan.role !== null) facts.push(`**Role**: ${inline(plan.roles[0]?.title ?? plan.role)} only`);
  out.push(facts.join(' · '), '');
  if (plan.description !== null) out.push(inline(oneLine(plan.description)), '');

  out.push('## Roles', '');
  const withContact = plan.roles.some((r) => r.contact !== null);
  out.push(
    ...table(
      ['Role', 'Primary', 'Backup', 'Escalates to', ...(withContact ? ['Contact'] : [])],
      plan.roles.map((r) => [
        r.title,
        r.primary ?? '—',
        r.backup ?? '—',
        r.escalates_to.map((t) => t.title).join(', ') || '—',
        ...(withContact ? [r.contact ?? ''] : []),
      ]),
    ),
    '',
  );

  out.push('## Timeline', '');
  out.push(...table(['When', 'Phase', 'Owner roles'], plan.timeline.map((t) => [t.at, t.title, t.owners.map((o) => o.title).join(', ')])), '');

  for (const phase of plan.phases) out.push(...renderPhase(phase, plan.roles));
  if (plan.phases.length === 0) out.push('_This role owns no step, gate or rollback step in this runbook._', '');

  const gates = plan.phases.flatMap((p) => (p.gate === null ? [] : [{ phase: p, gate: p.gate }]));
  out.push('## Go/No-Go', '');
  if (gates.length === 0) out.push(plan.role === null ? '_This runbook has no gate._' : '_This role decides no gate._', '');
  for (const { phase, gate } of gates) out.push(...renderGate(gate, phase));

  out.push('## Success metrics', '');
  out.push(...table(['Metric', 'Target', 'Actual'], plan.success_metrics.map((m) => [m.title, m.target, '___']), { raw: [2] }), '');

  out.push('## Escalation matrix', '');
  const withAction = plan.escalation.some((r) => r.action !== null || r.severity !== null);
  out.push(
    ...table(
      ['Situation', 'Trigger', 'Escalate to', ...(withAction ? ['Action'] : [])],
      plan.escalation.map((rule) => [
        rule.name,
        triggerCell(rule.after, rule.on, rule.when),
        describeTargets(rule) || '—',
        ...(withAction ? [[rule.severity === null ? '' : `(${rule.severity})`, rule.action ?? ''].filter(Boolean).join(' ')] : []),
      ]),
      { raw: [1] },
    ),
    '',
  );

  out.push('## Communication plan', '');
  if (plan.notify === null) {
    out.push('_No notifications configured._', '');
  } else {
    if (plan.notify.status_every !== null) out.push(`**Status update**: every ${plan.notify.status_every}`, '');
    for (const c of plan.notify.channels) {
      const where = c.kind === 'file' ? `file ${code(c.target)}` : c.target;
      out.push(`- **${inline(c.id)}**: ${where}${c.if === null ? '' : ` (only if ${code(oneLine(c.if))})`}`);
    }
    if (plan.notify.channels.length > 0) out.push('');
  }
  if (plan.secrets.length > 0) out.push(`**Secrets** (from the environment, masked everywhere): ${plan.secrets.map(code).join(', ')}`, '');

  out.push('## Rollback procedure', '');
  const withRollback = plan.phases.filter((p) => p.rollback.length > 0).reverse();
  if (withRollback.length === 0) out.push(plan.role === null ? '_This runbook has no rollback steps._' : '_This role owns no rollback step._', '');
  else out.push('When a step fails (or a gate set to roll back decides NO-GO), these run, newest phase first:', '');
  if (plan.rollback !== null && withRollback.length > 0) {
    out.push(`Before rolling back on its own, deployctl asks the **${inline(plan.rollback.authorize.title)}** to authorize it; without an answer in ${plan.rollback.timeout}: **${plan.rollback.default}**.`, '');
  }
  for (const phase of withRollback) {
    out.push(`### ${inline(phase.title)} (phase ${code(phase.id)})`, '');
    for (const step of phase.rollback) out.push(...stepItems(step, `**${inline(step.owner_title)}**: `));
    out.push('');
  }

  out.push('## Sign-off', '');
  out.push('This deployment plan approved by:', '');
  out.push(...table(['Role', 'Name', 'Date', 'Signature'], plan.roles.map((r) => [r.title, '', '', ''])));
  return `${out.join('\n')}\n`;
}

function renderPhase(phase: PlanPhase, roles: PlanRole[]): string[] {
  const out = [`## ${phase.at === NO_OFFSET ? '' : `${phase.at} · `}${inline(phase.title)}`, ''];
  const notes = [`Phase ${code(phase.id)}`];
  if (phase.preflight) notes.push('pre-flight: `deployctl preflight` runs its automated steps');
  if (phase.go_live) notes.push('go-live: the ALL-CLEAR goes out when it completes');
  out.push(`_${notes.join('; ')}_`, '');
  if (phase.description !== null) out.push(inline(oneLine(phase.description)), '');
  for (const role of roles) {
    const steps = phase.steps.filter((s) => s.owner === role.id);
    const gate = phase.gate?.owner === role.id ? phase.gate : null;
    if (steps.length === 0 && gate === null) continue;
    out.push(`#### ${inline(role.title)}${role.primary === null ? '' : ` (${inline(role.primary)})`}`, '');
    for (const step of steps) out.push(...stepItems(step, ''));
    if (gate !== null) out.push(`- [ ] Decide GO / NO-GO: **${inline(gate.title)}** (see Go/No-Go below)`);
    out.push('');
  }
  if (phase.finally.length > 0) {
    out.push('**Finally** (however the phase ends: completed, failed, NO-GO or rolled back):', '');
    for (const step of phase.finally) out.push(...stepItems(step, `**${inline(step.owner_title)}**: `));
    out.push('');
  }
  if (phase.rollback.length > 0) out.push(`_Rollback steps: ${phase.rollback.map((s) => code(s.id)).join(', ')} (see Rollback procedure)._`, '');
  return out;
}

/** One `- [ ]` line per thing to tick; a checklist step gives one per item; scripts follow as indented code blocks. */
function stepItems(step: PlanStep, prefix: string): string[] {
  const failure = describeFailure(step);
  const only = `${step.if === null ? '' : ` _(only if ${code(oneLine(step.if))})_`}${failure === undefined ? '' : ` _(${inline(failure)})_`}`;
  const action = step.action;
  switch (action.kind) {
    case 'checklist':
      return action.items.map((item) => `- [ ] ${prefix}${inline(item)}${only}`);
    case 'confirm':
      return [`- [ ] ${prefix}${inline(action.text)}${only}`];
    case 'ask':
      return [`- [ ] ${prefix}${inline(action.text)} Answer: ________${only}`];
    case 'http': {
      const details = describeExpectations(step);
      return [`- [ ] ${prefix}${inline(step.title)}: ${code(describeProbe(action))}${details.length > 0 ? `, ${inline(details.join(', '))}` : ''}${only}`];
    }
    case 'prometheus': {
      const details = describeExpectations(step);
      return [`- [ ] ${prefix}${inline(step.title)}: ${code(describeQuery(action))}${details.length > 0 ? `, ${inline(details.join(', '))}` : ''}${only}`];
    }
    case 'watch':
      return [
        `- [ ] ${prefix}${inline(step.title)}: watch ${inline(describeWatch(action))}${only}`,
        ...action.checks.flatMap((check) => stepItems(check, '').map((line) => `  ${line}`)),
      ];
    case 'run': {
      const command = describeCommand(action);
      const policy = describeConditions(step).filter((c) => !c.startsWith('only if') && !c.startsWith('on failure:'));
      const lines = [`- [ ] ${prefix}${inline(step.title)}: ${code(command.line)}${policy.length > 0 ? ` (${inline(policy.join(', '))})` : ''}${only}`];
      for (const script of command.scripts) lines.push(...fence(script, '  '));
      return lines;
    }
  }
}

function renderGate(gate: PlanGate, phase: PlanPhase): string[] {
  const out = [`### ${inline(gate.title)}`, ''];
  out.push(
    `Gate ${code(gate.id)} after phase **${inline(phase.title)}**, decided by **${inline(gate.owner_title)}**${gate.person === null ? '' : ` (${inline(gate.person)})`}. On NO-GO: **${gate.on_no_go}**.`,
    '',
  );
  out.push(...fence(gate.formula, ''), '');
  for (const c of gate.conditions) {
    out.push(
      c.kind === 'cel'
        ? `- [ ] **${c.name}**: ${code(oneLine(c.expression))}`
        : c.kind === 'implicit'
          ? `- [ ] **${c.name}**: no failure left to this gate by ${c.steps.map(code).join(', ')} _(implicit: on_failure: gate)_`
          : `- [ ] **${c.name}**: ${inline(c.text)} _(attested by the ${inline(gate.owner_title)})_`,
    );
  }
  out.push('');
  return out;
}

function triggerCell(after: string | null, on: string[], when: string | null): string {
  const parts: string[] = [];
  if (after !== null) parts.push(`after ${after}`);
  if (on.length > 0) parts.push(`on ${on.join(', ')}`);
  if (when !== null) parts.push(`when ${code(oneLine(when))}`);
  return parts.map(cell).join('; ');
}

