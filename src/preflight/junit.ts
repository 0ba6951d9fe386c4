// `deployctl preflight --junit FILE`: a JUnit XML report (one testsuite per preflight phase) that Jenkins, GitLab and GitHub test reporters read.
import type { CheckResult, PreflightReport } from './types.js';

/** Lines of each output stream kept in a `<failure>` body: enough to see the error, not a log dump. */
export const OUTPUT_TAIL_LINES = 30;

/**
 * Characters XML 1.0 cannot carry at all (C0 controls but tab, newline and carriage return; U+FFFE, U+FFFF;
 * unpaired surrogates), and those it can but a terminal would act on (DEL, C1 controls, bidi overrides, line and
 * paragraph separators: a report gets `cat`ed too). They are written as a visible `\u001b`, so an ANSI colour
 * code in a command's output shows up instead of making the whole report unreadable.
 */
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff]|[\ud800-\udfff]/gu;

function visible(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** Text content: `&`, `<`, `>` escaped, `\r` kept as a character reference (parsers would turn it into `\n`). */
export function xmlText(text: string): string {
  return text
    .replace(NOT_XML, visible)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r/g, '&#13;');
}

/** An attribute value in double quotes: also `"`, `'`, and tab/newline/CR as references (attribute normalisation would turn them into spaces). */
export function xmlAttr(text: string): string {
  return xmlText(text).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/** `[QA Lead] Pre-deploy smoke: health (pf-health)`: the role, the step's title and its id. */
export function testcaseName(check: CheckResult): string {
  return `[${check.ownerTitle}] ${check.title} (${check.id})`;
}

function attrs(pairs: Record<string, string | number>): string {
  return Object.entries(pairs)
    .map(([name, value]) => ` ${name}="${xmlAttr(String(value))}"`)
    .join('');
}

export function renderJunit(report: PreflightReport): string {
  const { summary } = report;
  const timestamp = new Date(report.startedAt).toISOString().replace(/\.\d{3}Z$/, '');
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  lines.push(
    `<testsuites${attrs({ name: `deployctl preflight ${report.runbook.name}`, tests: summary.total, failures: summary.failed, errors: 0, skipped: summary.skipped, time: seconds(report.durationMs), timestamp })}>`,
  );
  for (const phase of report.phases) {
    const checks = report.checks.filter((c) => c.phase === phase.id);
    const count = (status: CheckResult['status']) => checks.filter((c) => c.status === status).length;
    const time = checks.reduce((max, c) => Math.max(max, c.durationMs), 0);
    lines.push(
      `  <testsuite${attrs({ name: phase.id, tests: checks.length, failures: count('failed'), errors: 0, skipped: count('skipped'), time: seconds(time), timestamp })}>`,
    );
    lines.push('    <properties>');
    lines.push(`      <property${attrs({ name: 'phase.title', value: phase.title })}/>`);
    lines.push(`      <property${attrs({ name: 'runbook', value: report.runbook.path })}/>`);
    lines.push(`      <property${attrs({ name: 'runbook.sha256', value: report.runbook.sha256 })}/>`);
    lines.push('    </properties>');
    for (const check of checks) lines.push(...testcase(check, report.runbook.path));
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}

function testcase(check: CheckResult, runbookPath: string): string[] {
  const open = `    <testcase${attrs({ classname: check.phase, name: testcaseName(check), time: seconds(check.durationMs) })}`;
  if (check.status === 'passed') return [`${open}/>`];
  if (check.status === 'skipped') return [`${open}>`, `      <skipped${attrs({ message: check.reason ?? 'skipped' })}/>`, '    </testcase>'];
  const body = failureBody(check, runbookPath);
  return [
    `${open}>`,
    `      <failure${attrs({ message: check.reason ?? 'failed', type: check.failureType ?? 'error' })}>${xmlText(body)}</failure>`,
    '    </testcase>',
  ];
}

/** What a person reading the CI page needs: what was checked, each expectation against what was measured, the output's last lines. */
export function failureBody(check: CheckResult, runbookPath: string): string {
  const lines: string[] = [];
  lines.push(`${check.who} ${check.title} (${check.id}): FAILED after ${check.attempts} attempt${check.attempts === 1 ? '' : 's'} in ${seconds(check.durationMs)}s`);
  lines.push(`step at ${runbookPath}:${check.position.line}:${check.position.col}`);
  if (check.command !== undefined) lines.push(`${check.kind === 'http' ? 'probe' : 'command'}: ${check.command}`);
  lines.push('failed expectations (measured vs expected):');
  for (const condition of check.failures) lines.push(`  - ${condition.message}`);
  check.retriedAfter.forEach((reason, i) => lines.push(`attempt ${i + 1} failed: ${reason}`));
  if (check.metrics !== undefined) {
    const m = check.metrics;
    const statuses = Object.entries(m.statuses).map(([status, n]) => `${status}×${n}`).join(', ');
    lines.push(`measured: ${m.samples} samples, ${m.errors} errors (error_rate ${m.error_rate}), p50 ${m.p50_ms} ms, p95 ${m.p95_ms} ms, p99 ${m.p99_ms} ms, max ${m.max_ms} ms; statuses ${statuses || 'none'}`);
  }
  if (check.warmup !== undefined && check.warmup.requests > 0) {
    const w = check.warmup;
    lines.push(`warm-up before the samples (not counted): ${w.requests} requests, ${w.failed} failed, slowest ${w.maxMs} ms`);
  }
  for (const stream of ['stderr', 'stdout'] as const) {
    const text = check.output?.[stream] ?? '';
    if (text.trim() === '') continue;
    const tail = text.replace(/\n$/, '').split('\n').slice(-OUTPUT_TAIL_LINES);
    lines.push(`${stream} (last ${tail.length} line${tail.length === 1 ? '' : 's'}):`);
    for (const line of tail) lines.push(`  ${line}`);
  }
  return lines.join('\n');
}
