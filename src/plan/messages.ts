// Every sentence `deployctl plan` says to the user, each naming the fix.
import { didYouMean } from '../runbook/suggest.js';
import type { PlanRole } from './model.js';

export function invalidRunbookMessage(file: string, count: number): { message: string; hint: string } {
  return {
    message: `${file} has ${count} problem${count === 1 ? '' : 's'}; no plan can be made from it`,
    hint: `Fix ${count === 1 ? 'it' : 'them'} and run deployctl validate ${file} again.`,
  };
}

export function unknownRoleMessage(wanted: string, roles: PlanRole[]): { message: string; hint: string } {
  const ids = roles.map((r) => r.id);
  return {
    message: `--role '${wanted}' is not a role of this runbook${didYouMean(wanted, ids)}`,
    hint: `Roles: ${roles.map((r) => `${r.id} (${r.title})`).join(', ')}.`,
  };
}
