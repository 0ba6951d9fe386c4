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

/**
 * The error with every sentence it will print passed through `mask`: a message may quote a --var value, an answer or
 * a reason, and secrets never reach the terminal. A CliError is rebuilt; another Error has its message and stack masked.
 */
export function maskError(error: unknown, mask: (text: string) => string): unknown {
  if (error instanceof CliError) {
    return new CliError(mask(error.message), { exitCode: error.exitCode, details: error.details.map(mask), ...(error.hint !== undefined ? { hint: mask(error.hint) } : {}) });
  }
  if (error instanceof Error) {
    error.message = mask(error.message);
    if (error.stack !== undefined) error.stack = mask(error.stack);
  }
  return error;
}
