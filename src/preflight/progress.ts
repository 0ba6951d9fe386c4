// Human progress on stderr: a line per check as it finishes (duration, and why it failed), a spinner only on a terminal.
import { formatDuration } from '../runbook/duration.js';
import type { CheckResult, PreflightEvent, PreflightReport } from './types.js';
import { messages } from './messages.js';

/** The little of ora the reporter uses; undefined without a terminal. */
export interface Spinner {
  text: string;
  start(): unknown;
  stop(): unknown;
}

export interface ProgressOptions {
  /** One line to stderr (without a newline). */
  write: (line: string) => void;
  /** Colours (see `loadColours`); plain text when absent. */
  paint?: Paint;
  spinner?: Spinner;
}

export interface ProgressReporter {
  onEvent(event: PreflightEvent): void;
  /** Stop the spinner (on every way out, errors included). */
  stop(): void;
}

export interface Paint {
  pass(text: string): string;
  fail(text: string): string;
  skip(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const plain: Paint = { pass: (t) => t, fail: (t) => t, skip: (t) => t, dim: (t) => t, bold: (t) => t };

/** Colours for a terminal that wants them; chalk is imported only then, off the start-up path of CI runs. */
export async function loadColours(): Promise<Paint> {
  const { Chalk } = await import('chalk');
  const chalk = new Chalk({ level: 1 });
  return { pass: (t) => chalk.green(t), fail: (t) => chalk.red.bold(t), skip: (t) => chalk.yellow(t), dim: (t) => chalk.dim(t), bold: (t) => chalk.bold(t) };
}

/** Failing conditions shown under a FAIL line, beyond the reason itself. */
const MAX_DETAIL_LINES = 5;

export function createProgressReporter(options: ProgressOptions): ProgressReporter {
  const paint = options.paint ?? plain;
  const running = new Map<string, string>();
  const { spinner } = options;
  let spinning = false;
  let idWidth = 0;

  const updateSpinner = () => {
    if (spinner === undefined) return;
    if (running.size === 0) {
      if (spinning) spinner.stop();
      spinning = false;
      return;
    }
    const ids = [...running.keys()];
    spinner.text = `running ${ids.length} check${ids.length === 1 ? '' : 's'}: ${ids.slice(0, 4).join(', ')}${ids.length > 4 ? `, +${ids.length - 4}` : ''}`;
    if (!spinning) spinner.start();
    spinning = true;
  };

  const formatters: { [K in PreflightEvent['kind']]: (event: Extract<PreflightEvent, { kind: K }>) => string[] } = {
    'preflight-started': (e) => {
      idWidth = Math.min(24, Math.max(0, ...e.ids.map((id) => id.length)));
      const title = e.runbook.title !== undefined ? ` (${e.runbook.title})` : '';
      const manual = e.manual > 0 ? `; ${e.manual} manual step${e.manual === 1 ? ' is' : 's are'} not run in CI` : '';
      const lines = [
        `${paint.bold('deployctl preflight')} ${e.runbook.name}${title}, ${e.runbook.path}: ${e.automated} check${e.automated === 1 ? '' : 's'} in ${e.phases} phase${e.phases === 1 ? '' : 's'}, ${e.concurrency} at a time${manual}`,
      ];
      if (e.automated === 0) lines.push(`warning: ${messages.nothingAutomated}`);
      return lines;
    },
    'check-started': (e) => {
      running.set(e.id, e.title);
      return [];
    },
    'check-retrying': (e) => [paint.dim(`  retry ${e.id}: attempt ${e.attempt} in ${formatDuration(e.delayMs)}, after: ${oneLine(e.reason)}`)],
    'check-finished': (e) => {
      running.delete(e.result.id);
      return checkLines(e.result, paint, idWidth);
    },
    'preflight-finished': (e) => summaryLines(e.report, paint),
  };

  return {
    onEvent(event) {
      const format = formatters[event.kind] as (e: PreflightEvent) => string[];
      const lines = format(event);
      for (const line of lines) options.write(line);
      updateSpinner();
    },
    stop() {
      if (spinning) spinner?.stop();
      spinning = false;
    },
  };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ⏎ ');
}

export function checkLines(result: CheckResult, paint: Paint = plain, idWidth = 0): string[] {
  const label = `${result.id.padEnd(idWidth)}  ${paint.dim(`${result.who} ${result.title}`)}`;
  switch (result.status) {
    case 'passed': {
      const tries = result.attempts > 1 ? `, ${result.attempts} attempts` : '';
      return [`  ${paint.pass('PASS')}  ${label}  (${formatDuration(result.durationMs)}${tries})`];
    }
    case 'skipped':
      return [`  ${paint.skip('SKIP')}  ${label}: ${oneLine(result.reason ?? 'skipped')}`];
    case 'failed': {
      const tries = result.attempts > 1 ? `, ${result.attempts} attempts` : '';
      const lines = [`  ${paint.fail('FAIL')}  ${label}  (${formatDuration(result.durationMs)}${tries}): ${oneLine(result.reason ?? 'failed')}`];
      // The reason already says `exit code 1: …`; list only what it does not.
      const extra = result.failures.filter((f) => f.metric !== 'exit_code' && !(result.reason ?? '').includes(f.message)).map((f) => f.message);
      for (const message of extra.slice(0, MAX_DETAIL_LINES)) lines.push(`          - ${oneLine(message)}`);
      if (extra.length > MAX_DETAIL_LINES) lines.push(`          - … ${extra.length - MAX_DETAIL_LINES} more (see --json or --junit)`);
      return lines;
    }
  }
}

export function summaryLines(report: PreflightReport, paint: Paint = plain): string[] {
  const { summary: s } = report;
  const headline =
    report.status === 'passed' ? paint.pass('PASSED') : report.status === 'failed' ? paint.fail('FAILED') : paint.fail('INTERRUPTED');
  const manual = s.manual > 0 ? ` (${s.manual} manual)` : '';
  const lines = [`preflight ${headline}: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped${manual} of ${s.total} in ${formatDuration(report.durationMs)}`];
  const failed = report.checks.filter((c) => c.status === 'failed');
  if (failed.length > 0) lines.push(`  failed: ${failed.map((c) => c.id).join(', ')}`);
  return lines;
}
