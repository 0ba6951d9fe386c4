// The plan for a terminal: header, roles, timeline, each phase's steps, gate and rollback, then metrics, escalation, notify.
import {
  describeAction,
  describeCommand,
  describeConditions,
  describeExpectations,
  describeOwner,
  describeTargets,
  isTitleRedundant,
} from './describe.js';
import { oneLine, type Plan, type PlanGate, type PlanPhase, type PlanStep } from './model.js';
import { plainStyle, type Style } from './style.js';

const INDENT = '  ';
const DETAIL_INDENT = '      ';
const MAX_OWNER_WIDTH = 34;

export function renderText(plan: Plan, style: Style = plainStyle): string {
  const out: string[] = [];
  out.push(style.heading(plan.title));
  out.push([`runbook ${plan.name}`, plan.target_duration === null ? undefined : `target duration ${plan.target_duration}`].filter(isString).join(' · '));
  if (plan.role !== null) out.push(`Only what ${plan.roles[0]?.title ?? plan.role} (${plan.role}) owns.`);

  section(out, style, 'Roles');
  out.push(
    ...columns(
      plan.roles.map((r) => [
        r.id,
        r.title,
        [r.primary, r.backup === null ? null : `backup ${r.backup}`].filter(isString).join(', ') || '—',
        r.escalates_to.length === 0 ? '' : `escalates to ${r.escalates_to.map((t) => t.title).join(', ')}`,
      ]),
    ),
  );

  section(out, style, 'Timeline');
  out.push(...columns(plan.timeline.map((t) => [t.at, t.title, t.owners.map((o) => o.id).join(', ')])));

  for (const phase of plan.phases) renderPhase(out, phase, style);
  if (plan.phases.length === 0) out.push('', `${plan.role ?? 'This role'} owns nothing in this runbook.`);

  if (plan.success_metrics.length > 0) {
    section(out, style, 'Success metrics');
    out.push(...columns(plan.success_metrics.map((m) => [m.title, m.target])));
  }
  if (plan.rollback !== null) {
    section(out, style, 'Rollback authorization');
    out.push(`${INDENT}before rolling back on its own, deployctl asks ${plan.rollback.authorize.title} (${plan.rollback.authorize.id}); without an answer in ${plan.rollback.timeout}: ${plan.rollback.default}`);
  }
  if (plan.escalation.length > 0) {
    section(out, style, 'Escalation');
    for (const rule of plan.escalation) {
      const why = [rule.severity, rule.action].filter(isString).join(': ');
      out.push(`${INDENT}${rule.name} → ${describeTargets(rule) || '—'}${why === '' ? '' : `  ${style.dim(`(${why})`)}`}`);
      out.push(`${DETAIL_INDENT}${style.dim(rule.trigger)}`);
    }
  }
  if (plan.notify !== null) {
    section(out, style, 'Communication');
    if (plan.notify.status_every !== null) out.push(`${INDENT}status update every ${plan.notify.status_every}`);
    out.push(...columns(plan.notify.channels.map((c) => [c.id, c.kind === 'file' ? `file ${c.target}` : c.target, c.if === null ? '' : `only if ${oneLine(c.if)}`])));
  }
  if (plan.secrets.length > 0) {
    section(out, style, 'Secrets');
    out.push(`${INDENT}${plan.secrets.join(', ')} (from the environment, masked everywhere)`);
  }
  return `${out.join('\n')}\n`;
}

function renderPhase(out: string[], phase: PlanPhase, style: Style): void {
  const when = phase.at === '—' ? '' : `${phase.at} · `;
  section(out, style, `${when}${phase.title}  (${phase.id})${phase.preflight ? '  [preflight phase]' : ''}${phase.go_live ? '  [go-live: the ALL-CLEAR when it completes]' : ''}`);
  out.push(...renderSteps(phase.steps, style));
  if (phase.gate !== null) out.push(...renderGate(phase.gate, style));
  if (phase.finally.length > 0) {
    out.push(`${INDENT}${style.heading('Finally')} ${style.dim('(however the phase ends: completed, failed, NO-GO or rolled back)')}`);
    out.push(...renderSteps(phase.finally, style, INDENT));
  }
  if (phase.rollback.length > 0) {
    out.push(`${INDENT}${style.heading('Rollback')} ${style.dim('(when this or a later phase fails)')}`);
    out.push(...renderSteps(phase.rollback, style, INDENT));
  }
}

function renderSteps(steps: PlanStep[], style: Style, extraIndent = ''): string[] {
  const rows = steps.map((step) => [`[${describeOwner(step.owner_title, step.person)}]`, step.id, step.kind, stepDetail(step)]);
  const widths = columnWidths(rows.map((r) => r.slice(0, 3)));
  // A long name ("Gus (this week's rotation)") overflows its column rather than pushing every row right.
  widths[0] = Math.min(widths[0] ?? 0, MAX_OWNER_WIDTH);
  const lines: string[] = [];
  steps.forEach((step, i) => {
    const [owner, id, kind, detail] = rows[i]!;
    lines.push(`${INDENT}${extraIndent}${style.label(owner!.padEnd(widths[0]!))}  ${id!.padEnd(widths[1]!)}  ${kind!.padEnd(widths[2]!)}  ${detail}`.trimEnd());
    const more = [...describeExpectations(step), ...describeConditions(step)];
    if (more.length > 0) lines.push(`${DETAIL_INDENT}${extraIndent}${style.dim(more.join(' · '))}`);
    if (step.action.kind === 'run') {
      for (const script of describeCommand(step.action).scripts) {
        lines.push(...script.split('\n').map((line) => `${DETAIL_INDENT}${extraIndent}${style.dim('│')} ${line}`.trimEnd()));
      }
    }
    // A watch's checks, each as the step it is, under the watch.
    if (step.action.kind === 'watch') lines.push(...renderSteps(step.action.checks, style, `${extraIndent}${INDENT}`));
  });
  return lines;
}

function stepDetail(step: PlanStep): string {
  const detail = describeAction(step);
  return isTitleRedundant(step, detail) ? detail : `${step.title} — ${detail}`;
}

function renderGate(gate: PlanGate, style: Style): string[] {
  const lines = [
    `${INDENT}${style.heading(`Gate ${gate.id}`)}: ${gate.title}  ${style.label(`[${describeOwner(gate.owner_title, gate.person)}]`)}  on NO-GO: ${gate.on_no_go}`,
  ];
  lines.push(
    ...columns(
      gate.conditions.map((c) => [c.name, c.kind === 'cel' ? oneLine(c.expression) : c.kind === 'implicit' ? `no failure left to this gate by ${c.steps.join(', ')}` : `confirm: ${c.text}`]),
      `${INDENT}${INDENT}`,
    ),
  );
  lines.push(`${INDENT}${INDENT}${style.heading(gate.formula)}`);
  return lines;
}

function section(out: string[], style: Style, title: string): void {
  out.push('', style.heading(title));
}

/** Rows of cells, each column padded to its widest cell; trailing blanks trimmed. */
function columns(rows: string[][], indent = INDENT): string[] {
  const widths = columnWidths(rows);
  return rows.map((row) => `${indent}${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}`.trimEnd());
}

function columnWidths(rows: string[][]): number[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return widths;
}

function isString(value: string | null | undefined): value is string {
  return typeof value === 'string' && value !== '';
}
