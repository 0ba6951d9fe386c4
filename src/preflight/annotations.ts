// GitHub Actions annotations: one `::error file=…,line=…,title=…::message` workflow command per failed check, escaped as the runner expects.
import type { CheckResult, PreflightReport } from './types.js';

/** Whether to print workflow commands: GitHub sets GITHUB_ACTIONS=true in every job. */
export function wantsGithubAnnotations(env: NodeJS.ProcessEnv): boolean {
  return env['GITHUB_ACTIONS'] === 'true';
}

/** Message data: `%`, CR and LF are percent-encoded (actions/toolkit `escapeData`). */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Property values: as data, plus `:` and `,`, which separate the properties (actions/toolkit `escapeProperty`). */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function annotation(check: CheckResult, runbookPath: string): string {
  const properties = [
    `file=${escapeProperty(runbookPath)}`,
    `line=${check.position.line}`,
    `col=${check.position.col}`,
    `title=${escapeProperty(`preflight ${check.phase}/${check.id} failed: [${check.ownerTitle}] ${check.title}`)}`,
  ];
  const details = check.failures.map((f) => f.message).filter((m) => m !== check.reason);
  const message = [check.reason ?? 'failed', ...details.map((m) => `- ${m}`)].join('\n');
  return `::error ${properties.join(',')}::${escapeData(message)}`;
}

/** One line per failed check, in runbook order. */
export function githubAnnotations(report: PreflightReport): string[] {
  return report.checks.filter((c) => c.status === 'failed').map((c) => annotation(c, report.runbook.path));
}
