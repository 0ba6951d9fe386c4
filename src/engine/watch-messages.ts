// Every sentence a watch says to a person: its verdicts, the owner's question when the data runs out, and its dry run.
import { formatDuration } from '../runbook/duration.js';

const hhmmss = (ms: number) => `${new Date(ms).toISOString().slice(11, 19)} UTC`;

export const watchMessages = {
  /** `every 15m for 3h (12 ticks)`, `every 1h, 20 ticks`. */
  schedule: (everyMs: number, planned: number, windowMs: number | undefined, delayMs: number) =>
    `every ${formatDuration(everyMs)}${windowMs !== undefined ? ` for ${formatDuration(windowMs)} (${planned} ticks)` : `, ${planned} ticks`}${delayMs > 0 ? ` after ${formatDuration(delayMs)}` : ''}`,
  dryRun: (schedule: string, checks: readonly string[]) => `dry run: would watch ${schedule}, each tick checking ${checks.join(', ')}; no tick run`,

  // ---- ticks -----------------------------------------------------------------------------------------------------
  missed: (dueAt: number, reachedAt: number) => `not run: due at ${hhmmss(dueAt)}, reached only at ${hhmmss(reachedAt)} (deployctl was not running, or was busy past it)`,
  everyCheckSkipped: () => 'every check was skipped (their if: was false): no data',
  checkFailed: (checkId: string, reason: string) => `${checkId}: ${reason}`,
  allSkippedIsNoData: () => 'no data',

  // ---- how the step ends -----------------------------------------------------------------------------------------
  tooManyFailures: (failed: number, ticks: number, limit: number, last: string) =>
    `${failed} failing tick${failed === 1 ? '' : 's'} of ${ticks} (failure_limit ${limit}); tick ${last}`,
  ownerChoseFail: (unsettled: number, limit: number) => `${unsettled} ticks without data (inconclusive_limit ${limit}), and the owner chose to stop watching: nobody knows whether the system is well`,
  failedClosed: (unsettled: number, limit: number, key: string) =>
    `${unsettled} ticks without data (inconclusive_limit ${limit}), and no terminal to ask the owner on: failed closed (answer '${key}: continue' in the answers file to keep watching)`,
  noPassingTick: (ticks: number, withoutData: number, keptWatching: boolean) =>
    `the window closed and no tick of ${ticks} passed (${withoutData} without data${keptWatching ? '; the owner chose to keep watching' : ''}): nothing showed the system is well`,
  onlyFailingTicks: (ticks: number, failed: number, limit: number, withoutData: number) =>
    `the window closed and no tick of ${ticks} passed (${failed} failed, within failure_limit ${limit}${withoutData > 0 ? `; ${withoutData} without data` : ''}): nothing showed the system is well`,
  interruptedWaiting: () => 'interrupted while waiting for the next tick (resume continues the same window)',
  interruptedInTick: (n: number) => `interrupted during tick ${n} (resume runs it again if its time has not passed)`,

  // ---- the owner's decision --------------------------------------------------------------------------------------
  inconclusiveQuestion: (stepId: string, unsettled: number, limit: number, lastReason: string) =>
    `Watch '${stepId}': ${unsettled} ticks without data, more than its inconclusive_limit of ${limit} (last: ${lastReason}). Keep watching?`,
  choiceFail: () => 'Stop: the watch is INCONCLUSIVE (the run stops as at a failure)',
  choiceContinue: () => 'Keep watching (the count of ticks without data starts again)',
};
