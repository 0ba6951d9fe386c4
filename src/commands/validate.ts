// `deployctl validate <runbook...> [--json]`: exit 0 when every runbook is valid, 2 with one positioned line per problem.
import * as path from 'node:path';
import type { Io } from '../cli/io.js';
import { ExitCode } from '../errors.js';
import { isRegularFile } from '../ports/fs.js';
import { loadCheckedRunbook, type LoadedRunbook } from '../runbook/load.js';
import { countProblems, formatProblem, type Problem } from '../runbook/problem.js';
import { stepKind } from '../runbook/types.js';
import { escalationWarnings } from '../runbook/warnings.js';

export interface ValidateOptions {
  json?: boolean;
}

export async function validateCommand(files: string[], options: ValidateOptions, io: Io): Promise<number> {
  const problems: Problem[] = [];
  const summaries: string[] = [];
  const warn = (found: Problem) => {
    const warning: Problem = { ...found, severity: 'warning' };
    io.err(formatProblem(warning));
    problems.push(warning);
  };
  for (const file of files) {
    const result = await loadCheckedRunbook(file);
    if (!result.ok) {
      for (const problem of result.problems) problems.push(problem);
      // Warnings of a runbook refused for its meaning: shown now, not only once the errors are fixed.
      for (const found of result.warnings ?? []) warn(found);
      continue;
    }
    const { doc } = result.runbook;
    for (const found of [...(result.runbook.warnings ?? []), ...missingRoleKeys(result.runbook), ...missingPersonKeys(result.runbook), ...escalationWarnings(doc, result.runbook.locate)]) warn(found);
    const steps = doc.phases.flatMap((p) => p.steps ?? []);
    const gates = doc.phases.filter((p) => p.gate !== undefined).length;
    const automated = steps.filter((s) => ['run', 'http'].includes(stepKind(s))).length;
    summaries.push(
      `${file}: valid: ${plural(Object.keys(doc.roles).length, 'role')}, ${plural(doc.phases.length, 'phase')}, ${plural(steps.length, 'step')} (${automated} automated), ${plural(gates, 'gate')}`,
    );
  }
  // Warnings (already on stderr) are in --json too, marked `severity: "warning"`; they do not make a file invalid.
  const errors = problems.filter((p) => p.severity !== 'warning');
  if (options.json) {
    io.out(JSON.stringify(problems, null, 2));
  } else {
    for (const problem of errors) io.out(formatProblem(problem));
    for (const line of summaries) io.out(line);
    if (errors.length > 0) {
      // Each file's list is capped; the count is of every problem, shown or not.
      const count = countProblems(errors);
      io.err(`${count.toLocaleString('en-US')} problem${count === 1 ? '' : 's'} found. Fix ${count === 1 ? 'it' : 'them'} and run deployctl validate again.`);
    }
  }
  return errors.length > 0 ? ExitCode.usage : ExitCode.ok;
}

/**
 * Role key files that are not there: not an error (the runbook runs, and keys are often added once people have
 * made them), but until they are, nobody's sign-off for that role can be verified.
 */
function missingRoleKeys({ doc, locate, source }: LoadedRunbook): Problem[] {
  const warnings: Problem[] = [];
  for (const [id, role] of Object.entries(doc.roles)) {
    (role.keys ?? []).forEach((key, i) => {
      if (isRegularFile(path.resolve(source.dir, key))) return;
      const { line, col } = locate.value(['roles', id, 'keys', i]);
      warnings.push({
        file: source.path,
        line,
        col,
        code: 'role-key-missing',
        severity: 'warning',
        message: `warning: ${key} is not a file (paths are relative to the runbook's directory): sign-offs for role ${id} cannot be verified until it is: the key's holder makes a pair with deployctl keygen and puts the .pub there, or fix the path`,
      });
    });
  }
  return warnings;
}

/**
 * People's key files that are not there: not an error (the demo's people make theirs with runbooks/demo/people.sh,
 * a team's once the runbook names them), but until they are, that person's answers cannot be signed or verified.
 */
function missingPersonKeys({ doc, locate, source }: LoadedRunbook): Problem[] {
  const warnings: Problem[] = [];
  for (const [id, person] of Object.entries(doc.people ?? {})) {
    (person.keys ?? []).forEach((key, i) => {
      if (isRegularFile(path.resolve(source.dir, key))) return;
      const { line, col } = locate.value(['people', id, 'keys', i]);
      warnings.push({
        file: source.path,
        line,
        col,
        code: 'person-key-missing',
        severity: 'warning',
        message: `warning: ${key} is not a file (paths are relative to the runbook's directory): ${id}'s answers cannot be signed or verified until it is: they make a pair with deployctl keygen --name ${id} and put the .pub there, or fix the path`,
      });
    });
  }
  if (warnings.length <= 3) return warnings;
  // A runbook of many people on a fresh clone (phase65: 14) gets one line, not a screenful.
  const names = warnings.slice(0, 3).map((w) => w.message.slice('warning: '.length, w.message.indexOf(' is not a file')));
  const script = path.join(source.dir, 'demo', 'people.sh');
  const demo = isRegularFile(script) ? ` (this runbook's demo people: ${path.relative(process.cwd(), script) || script})` : '';
  return [
    {
      ...warnings[0]!,
      message: `warning: ${warnings.length} people's key files are not there (${names.join(', ')} and ${warnings.length - 3} more; paths are relative to the runbook's directory): their answers cannot be signed or verified until they are: each person makes a pair with deployctl keygen --name ID and puts the .pub there${demo}, or fix the paths`,
    },
  ];
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
