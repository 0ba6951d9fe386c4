// How runbook things are named for people: step titles and `[Role · Person]` labels, shared by plan, run and record.
import { shellQuote } from '../expr/template.js';
import { stepKind, type PhaseDoc, type RoleDoc, type StepDoc } from './types.js';

/** A step's title: its own, else what it asks or confirms, else its id. */
export function stepTitle(step: StepDoc): string {
  if (step.title !== undefined) return step.title;
  switch (stepKind(step)) {
    case 'confirm':
      return step.confirm!;
    case 'ask':
      return step.ask!;
    case 'checklist':
      return step.checklist!.length === 1 ? step.checklist![0]! : `${step.checklist![0]} (+${step.checklist!.length - 1} more)`;
    default:
      return step.id;
  }
}

export function phaseTitle(phase: PhaseDoc): string {
  return phase.title ?? phase.id;
}

/** `QA Lead · Carol`, or `QA Lead` when the role names nobody; the id of a role the runbook does not declare. */
export function roleName(roleId: string, role: RoleDoc | undefined): string {
  if (role === undefined) return roleId;
  return role.primary ? `${role.title} · ${role.primary}` : role.title;
}

/** `[QA Lead · Carol]`, or `[QA Lead]` when the role names nobody. */
export function roleLabel(roleId: string, role: RoleDoc | undefined): string {
  return `[${roleName(roleId, role)}]`;
}

/**
 * How the operator reaches deployctl where they are: `npx deployctl` when this process was started by npm (npx,
 * `npm exec`, `npm run`: npm sets npm_command / npm_execpath / npm_lifecycle_event for what it runs), else
 * `deployctl` (installed on the PATH). A hint that says `deployctl` to someone without it on the PATH does not work.
 */
export function deployctlCommand(env: Readonly<Record<string, string | undefined>>): string {
  const viaNpm = env['npm_command'] !== undefined || env['npm_execpath'] !== undefined || env['npm_lifecycle_event'] !== undefined;
  return viaNpm ? 'npx deployctl' : 'deployctl';
}

/** The command that continues a run of the runbook `file` (that very run, when its id is given), as an operator would type it. */
export function resumeCommand(file: string, runId?: string, command = 'deployctl'): string {
  return `${command} run ${shellQuote(file)} --resume${runId !== undefined ? ` ${shellQuote(runId)}` : ''}`;
}
