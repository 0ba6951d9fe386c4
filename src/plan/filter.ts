// `--role`: narrow a plan to what one role owns (its steps, gates and rollback steps, in the phases where it acts).
import type { Plan, PlanPhase } from './model.js';

/** The role id a user meant: an exact id, else an id or title matched without regard to case. */
export function findRole(plan: Plan, wanted: string): string | undefined {
  if (plan.roles.some((r) => r.id === wanted)) return wanted;
  const lower = wanted.trim().toLowerCase();
  return plan.roles.find((r) => r.id.toLowerCase() === lower || r.title.toLowerCase() === lower)?.id;
}

export function filterPlanByRole(plan: Plan, role: string): Plan {
  const phases = plan.phases.map((phase) => ownedPart(phase, role)).filter(hasAnything);
  const kept = new Set(phases.map((p) => p.id));
  return {
    ...plan,
    role,
    roles: plan.roles.filter((r) => r.id === role),
    timeline: plan.timeline.filter((t) => kept.has(t.phase)).map((t) => ({ ...t, owners: t.owners.filter((o) => o.id === role) })),
    phases,
  };
}

function ownedPart(phase: PlanPhase, role: string): PlanPhase {
  return {
    ...phase,
    steps: phase.steps.filter((s) => s.owner === role),
    gate: phase.gate?.owner === role ? phase.gate : null,
    rollback: phase.rollback.filter((s) => s.owner === role),
    finally: phase.finally.filter((s) => s.owner === role),
  };
}

function hasAnything(phase: PlanPhase): boolean {
  return phase.steps.length > 0 || phase.gate !== null || phase.rollback.length > 0 || phase.finally.length > 0;
}
