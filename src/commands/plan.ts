// `deployctl plan <runbook> [--format text|markdown|json] [--role ROLE]`: print what a run would do. No side effects at all.
import type { Io } from '../cli/io.js';
import { CliError, ExitCode } from '../errors.js';
import { createMasker } from '../engine/secrets.js';
import { filterPlanByRole, findRole } from '../plan/filter.js';
import { renderMarkdown } from '../plan/markdown.js';
import { invalidRunbookMessage, unknownRoleMessage } from '../plan/messages.js';
import { buildPlan, type Plan } from '../plan/model.js';
import { plainStyle, terminalStyle, wantsColour } from '../plan/style.js';
import { renderText } from '../plan/text.js';
import { loadCheckedRunbook } from '../runbook/load.js';
import { countProblems, formatProblem } from '../runbook/problem.js';

export type PlanFormat = 'text' | 'markdown' | 'json';

export interface PlanOptions {
  format?: PlanFormat;
  role?: string;
}

/** Exit 0 with the plan on stdout; a runbook problem or an unknown role is a CliError (exit 2), printed at the boundary. */
export async function planCommand(file: string, options: PlanOptions, io: Io): Promise<number> {
  const loaded = await loadCheckedRunbook(file);
  if (!loaded.ok) {
    const { message, hint } = invalidRunbookMessage(file, countProblems(loaded.problems));
    throw new CliError(message, { exitCode: ExitCode.usage, hint, details: loaded.problems.map(formatProblem) });
  }
  for (const warning of loaded.runbook.warnings ?? []) io.err(formatProblem(warning));
  // A plan shows var defaults resolved into commands and URLs: a value that is also one of the runbook's secrets
  // (in the environment now) is masked, in every format, like everything a run prints.
  const { doc } = loaded.runbook;
  const secretValues = (doc.secrets ?? []).map((name) => io.env[name]).filter((v): v is string => v !== undefined && v !== '');
  let plan: Plan = secretValues.length > 0 ? createMasker(secretValues).maskDeep(buildPlan(doc)) : buildPlan(doc);
  if (options.role !== undefined) {
    const role = findRole(plan, options.role);
    if (role === undefined) {
      const { message, hint } = unknownRoleMessage(options.role, plan.roles);
      throw new CliError(message, { exitCode: ExitCode.usage, hint });
    }
    plan = filterPlanByRole(plan, role);
  }
  io.out(renderPlan(plan, options.format ?? 'text', wantsColour(io.isTTY, io.env)));
  return ExitCode.ok;
}

export function renderPlan(plan: Plan, format: PlanFormat, colour = false): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(plan, null, 2)}\n`;
    case 'markdown':
      return renderMarkdown(plan);
    case 'text':
      return renderText(plan, colour ? terminalStyle() : plainStyle);
  }
}
