// Errors that reach the user: each carries its exit code and a hint naming the fix (DESIGN.md "Exit codes").

export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  noGo: 3,
  rolledBack: 4,
  interrupted: 130,
} as const;

/** An expected failure: printed once at the process boundary as `deployctl: message` plus the hint, never a stack. */
export class CliError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;
  /** Extra lines printed before the message (e.g. one line per runbook problem). */
  readonly details: readonly string[];

  constructor(message: string, options: { exitCode?: number; hint?: string; details?: readonly string[] } = {}) {
    super(message);
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? ExitCode.usage;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }
}

export function isCliError(error: unknown): error is CliError {
  return error instanceof CliError;
}
