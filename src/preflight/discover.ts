// Which runbook `deployctl preflight` checks: the argument, else $DEPLOYCTL_RUNBOOK, else ./deployctl.yaml, else the only runbook in ./runbooks/.
import * as path from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { messages } from './messages.js';

/** The little of the file system discovery needs; tests pass a table. */
export interface DiscoverFs {
  isFile(file: string): boolean;
  /** Names in a directory, or undefined when it is not a readable directory. */
  listDir(dir: string): string[] | undefined;
}

export type RunbookOrigin = 'argument' | 'env' | 'deployctl.yaml' | 'runbooks-dir';

export interface FoundRunbook {
  /** As given, or relative to the working directory for a default: it is shown in messages. */
  file: string;
  from: RunbookOrigin;
}

export const DEFAULT_FILE = 'deployctl.yaml';
export const DEFAULT_DIR = 'runbooks';

/** `phase65.yaml` is a runbook; `phase65.answers.yaml` is an answers file, never a runbook. */
export function isRunbookFileName(name: string): boolean {
  return name.endsWith('.yaml') && !name.endsWith('.answers.yaml') && !name.startsWith('.');
}

/** The places looked at, in order, as the "none found" message lists them. */
export function defaultPlaces(): string[] {
  return ['the runbook argument', '$DEPLOYCTL_RUNBOOK', `./${DEFAULT_FILE}`, `the only *.yaml in ./${DEFAULT_DIR}/ (not *.answers.yaml)`];
}

/**
 * Decide the runbook. An explicit choice (argument, non-empty $DEPLOYCTL_RUNBOOK) is taken as it is, so a
 * wrong path is reported as that file's problem; the defaults are only used when they exist.
 */
export function findRunbook(argument: string | undefined, env: NodeJS.ProcessEnv, cwd: string, fs: DiscoverFs): FoundRunbook {
  if (argument !== undefined && argument !== '') return { file: argument, from: 'argument' };
  const fromEnv = env['DEPLOYCTL_RUNBOOK'];
  if (fromEnv !== undefined && fromEnv !== '') return { file: fromEnv, from: 'env' };
  if (fs.isFile(path.join(cwd, DEFAULT_FILE))) return { file: DEFAULT_FILE, from: 'deployctl.yaml' };
  const dir = path.join(cwd, DEFAULT_DIR);
  const names = (fs.listDir(dir) ?? []).filter((name) => isRunbookFileName(name) && fs.isFile(path.join(dir, name))).sort();
  if (names.length === 1) return { file: path.join(DEFAULT_DIR, names[0]!), from: 'runbooks-dir' };
  if (names.length > 1) {
    const { message, hint } = messages.severalRunbooks(`${DEFAULT_DIR}/`, names);
    throw new CliError(message, { exitCode: ExitCode.usage, hint });
  }
  const { message, hint } = messages.noRunbook(defaultPlaces());
  throw new CliError(message, { exitCode: ExitCode.usage, hint });
}

/** `(from $DEPLOYCTL_RUNBOOK)`: said once on stderr so nobody wonders which file was checked. */
export function describeOrigin(from: RunbookOrigin): string {
  switch (from) {
    case 'argument':
      return '';
    case 'env':
      return ' (from $DEPLOYCTL_RUNBOOK)';
    case 'deployctl.yaml':
      return ` (the default ./${DEFAULT_FILE})`;
    case 'runbooks-dir':
      return ` (the only runbook in ./${DEFAULT_DIR}/)`;
  }
}
