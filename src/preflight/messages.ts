// Every sentence `deployctl preflight` says to a person, in one place; each names the fix.

/** The skip reason of a confirm, checklist or ask step (also the JUnit `<skipped message>`). */
export const MANUAL_NOT_RUN = 'manual, not run in CI';
/** A monitoring window spans hours: it belongs to a real run, not to a CI check. */
export const WATCH_NOT_RUN = 'a monitoring window (watch), run by deployctl run, not in CI';

export const messages = {
  noRunbook: (places: readonly string[]) => ({
    message: 'no runbook to check: none given, and none found in the default places',
    hint: `looked for, in order:\n${places.map((p) => `    ${p}`).join('\n')}\n  give one: deployctl preflight path/to/runbook.yaml (or set DEPLOYCTL_RUNBOOK)`,
  }),
  severalRunbooks: (dir: string, files: readonly string[]) => ({
    message: `${dir} holds ${files.length} runbooks (${files.join(', ')}); deployctl will not guess which one to check`,
    hint: `name it: deployctl preflight ${dir}${files[0]} (or set DEPLOYCTL_RUNBOOK, or add ./deployctl.yaml)`,
  }),
  invalidRunbook: (file: string, count: number) => ({
    message: `${file} is not a valid runbook (${count} problem${count === 1 ? '' : 's'})`,
    hint: `fix the problem${count === 1 ? '' : 's'} above; deployctl validate ${file} lists them`,
  }),
  noPreflightPhase: (file: string) => ({
    message: `${file} marks no phase with 'preflight: true': there is nothing to check`,
    hint: "add 'preflight: true' to the phase that holds the pre-flight checks",
  }),
  badConcurrency: (value: string) => ({
    message: `--concurrency ${value}: expected a whole number from 1 to 256`,
    hint: 'for example --concurrency 4 (the default is 8)',
  }),
  ifFalse: (expression: string, dependsOnSteps: boolean) =>
    `if: ${expression} was false${dependsOnSteps ? ' (preflight evaluates it as if no step had run: checks run independently)' : ''}`,
  ifError: (error: string) => `${error} (preflight evaluates if: as if no step had run: checks run independently, so it cannot be decided here)`,
  interruptedRunning: 'interrupted: the check was stopped (its process tree too)',
  interruptedBeforeStart: 'not run: preflight was interrupted before it started',
  nothingAutomated: 'the preflight phases hold no automated step (run or http): nothing was checked',
  unmaskableSecrets: (count: number) => `warning: ${count} secret value(s) are shorter than 3 characters and cannot be masked reliably; use longer secrets`,
  checking: (file: string, origin: string) => `checking ${file}${origin}`,
  junitWritten: (file: string) => `JUnit report written to ${file}`,
  junitWriteFailed: (file: string, error: string) => ({ message: `could not write the JUnit report ${file}: ${error}`, hint: 'check that the directory exists and is writable' }),
};
