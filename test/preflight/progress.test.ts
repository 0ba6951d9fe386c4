// Progress on stderr: one plain line per finished check (duration, failure reason), colour only when asked, a spinner only when given one.
import { describe, expect, it } from 'vitest';
import { createProgressReporter, loadColours, type Paint, type Spinner } from '../../src/preflight/progress.js';
import type { CheckResult, PreflightEvent, PreflightReport } from '../../src/preflight/types.js';

const base: CheckResult = {
  id: 'pf-health',
  phase: 'preflight',
  phaseTitle: 'Pre-flight',
  owner: 'qa',
  ownerTitle: 'QA Lead',
  who: '[QA Lead · Elif]',
  title: 'Health',
  kind: 'http',
  manual: false,
  status: 'passed',
  failures: [],
  durationMs: 412,
  attempts: 1,
  retriedAfter: [],
  position: { line: 1, col: 1 },
};

const started: PreflightEvent = {
  kind: 'preflight-started',
  runbook: { name: 'demo', title: 'Demo', path: 'runbooks/demo.yaml', sha256: '' },
  phases: 1,
  automated: 2,
  manual: 1,
  concurrency: 8,
  ids: ['pf-health', 'backup', 'brief'],
};

const report: PreflightReport = {
  runbook: started.kind === 'preflight-started' ? started.runbook : ({} as never),
  startedAt: 0,
  durationMs: 2100,
  concurrency: 8,
  status: 'failed',
  summary: { total: 3, passed: 1, failed: 1, skipped: 1, manual: 1 },
  phases: [{ id: 'preflight', title: 'Pre-flight' }],
  checks: [{ ...base, id: 'backup', status: 'failed' }],
};

function collect(paint?: Paint, spinner?: Spinner) {
  const lines: string[] = [];
  const reporter = createProgressReporter({ write: (l) => lines.push(l), ...(paint ? { paint } : {}), ...(spinner ? { spinner } : {}) });
  return { lines, reporter };
}

describe('progress lines', () => {
  it('prints a header, a line per finished check, retries, and a summary; nothing for a start', () => {
    const { lines, reporter } = collect();
    reporter.onEvent(started);
    reporter.onEvent({ kind: 'check-finished', result: { ...base, id: 'brief', kind: 'confirm', manual: true, status: 'skipped', reason: 'manual, not run in CI', durationMs: 0 } });
    reporter.onEvent({ kind: 'check-started', id: 'pf-health', attempt: 1, title: 'Health' });
    reporter.onEvent({ kind: 'check-started', id: 'backup', attempt: 1, title: 'Backup' });
    reporter.onEvent({ kind: 'check-retrying', id: 'backup', attempt: 2, delayMs: 2000, reason: 'exit code 1: disk full' });
    reporter.onEvent({ kind: 'check-finished', result: base });
    reporter.onEvent({
      kind: 'check-finished',
      result: {
        ...base,
        id: 'backup',
        kind: 'run',
        status: 'failed',
        durationMs: 2100,
        attempts: 2,
        reason: 'exit code 1: disk full',
        failures: [{ message: 'exit code 1, expected 0', metric: 'exit_code', measured: 1, expected: { equals: 0 } }],
      },
    });
    reporter.onEvent({ kind: 'preflight-finished', report });
    expect(lines).toEqual([
      'deployctl preflight demo (Demo), runbooks/demo.yaml: 2 checks in 1 phase, 8 at a time; 1 manual step is not run in CI',
      '  SKIP  brief      [QA Lead · Elif] Health: manual, not run in CI',
      '  retry backup: attempt 2 in 2.0s, after: exit code 1: disk full',
      '  PASS  pf-health  [QA Lead · Elif] Health  (412 ms)',
      '  FAIL  backup     [QA Lead · Elif] Health  (2.1s, 2 attempts): exit code 1: disk full',
      'preflight FAILED: 1 passed, 1 failed, 1 skipped (1 manual) of 3 in 2.1s',
      '  failed: backup',
    ]);
  });

  it('lists failed expectations the reason does not already say under the FAIL line', () => {
    const { lines, reporter } = collect();
    reporter.onEvent({
      kind: 'check-finished',
      result: {
        ...base,
        status: 'failed',
        reason: 'p95 612 ms > max 500 ms',
        failures: [{ message: 'p95 612 ms > max 500 ms', metric: 'p95_ms' }, { message: 'timeout after 5s (×2)' }],
      },
    });
    expect(lines).toEqual(['  FAIL  pf-health  [QA Lead · Elif] Health  (412 ms): p95 612 ms > max 500 ms', '          - timeout after 5s (×2)']);
  });

  it('has no escape codes without colour, and has them with colour', async () => {
    const plain = collect();
    plain.reporter.onEvent({ kind: 'check-finished', result: base });
    expect(plain.lines.join('\n')).not.toMatch(/\x1b\[/);
    const coloured = collect(await loadColours());
    coloured.reporter.onEvent({ kind: 'check-finished', result: base });
    expect(coloured.lines.join('\n')).toMatch(/\x1b\[32mPASS/);
  });

  it('spins while checks run and stops when none is left', () => {
    const calls: string[] = [];
    const spinner: Spinner = {
      text: '',
      start: () => calls.push('start'),
      stop: () => calls.push('stop'),
    };
    const { reporter } = collect(undefined, spinner);
    reporter.onEvent({ kind: 'check-started', id: 'a', attempt: 1, title: 'A' });
    reporter.onEvent({ kind: 'check-started', id: 'b', attempt: 1, title: 'B' });
    expect(spinner.text).toBe('running 2 checks: a, b');
    reporter.onEvent({ kind: 'check-finished', result: { ...base, id: 'a' } });
    expect(spinner.text).toBe('running 1 check: b');
    reporter.onEvent({ kind: 'check-finished', result: { ...base, id: 'b' } });
    expect(calls).toEqual(['start', 'stop']);
  });
});
