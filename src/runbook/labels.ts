// How runbook things are named for people: step titles and `[Role · Person]` labels, shared by plan, run and record.
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
