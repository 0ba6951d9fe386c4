// Things in a valid runbook that do nothing where the author surely meant something: said at validate time, as warnings.
import type { Problem } from './problem.js';
import type { RunbookDoc } from './types.js';
import type { Locator } from './yaml.js';

/**
 * An `after:` (or `when:`) escalation rule without `to:` escalates up each owner's `escalates_to`; for an owner role
 * with none it silently does nothing (issue 11). Say which roles it skips, and the two ways to fix it.
 */
export function escalationWarnings(doc: RunbookDoc, locate: Locator): Problem[] {
  const owners = new Set<string>();
  for (const phase of doc.phases) {
    for (const step of [...(phase.steps ?? []), ...(phase.rollback ?? [])]) owners.add(step.owner);
    if (phase.gate !== undefined) owners.add(phase.gate.owner);
  }
  // The top of an escalation path (a role others escalate to, the CTO) has nobody above it: that its own items climb
  // no further is the path's end, not a rule that does nothing.
  const tops = new Set(Object.values(doc.roles).flatMap((role) => role.escalates_to ?? []));
  const stuck = [...owners].filter((role) => (doc.roles[role]?.escalates_to ?? []).length === 0 && !tops.has(role));
  const warnings: Problem[] = [];
  if (stuck.length === 0) return warnings;
  doc.escalation?.forEach((rule, i) => {
    if (rule.to !== undefined || (rule.after === undefined && rule.when === undefined)) return;
    const trigger = rule.after !== undefined ? `after: ${rule.after}` : 'when:';
    const { line, col } = locate.key(['escalation', i, rule.after !== undefined ? 'after' : 'when']);
    const names = stuck.join(', ');
    const message =
      stuck.length === owners.size
        ? `warning: escalation '${rule.name}' (${trigger}) has no 'to:', so it escalates up each owner's escalates_to, and no role that owns a step or gate has one (${names}): it never escalates anyone; add to: [ROLE] to the rule, or escalates_to to those roles`
        : `warning: escalation '${rule.name}' (${trigger}) has no 'to:', so it escalates up each owner's escalates_to, and ${stuck.length === 1 ? `role ${names} has` : `roles ${names} have`} none: their steps and gates never escalate by it; add to: [ROLE] to the rule, or escalates_to to ${stuck.length === 1 ? 'that role' : 'those roles'}`;
    warnings.push({ file: locate.file, line, col, code: 'escalation-goes-nowhere', severity: 'warning', message });
  });
  return warnings;
}
