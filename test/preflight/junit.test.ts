// The JUnit report: its structure and counts, names and times, and escaping that survives any text a check can produce.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { failureBody, renderJunit, testcaseName, xmlAttr, xmlText } from '../../src/preflight/junit.js';
import { MANUAL_NOT_RUN } from '../../src/preflight/messages.js';
import type { CheckResult, PreflightReport } from '../../src/preflight/types.js';
import { XMLLINT_MISSING, assertWellFormed, hasXmllint, xpath } from './xml-helpers.js';

const NASTY = 'a < b && c > "d" \'e\' ]]> \u001b[31mred\u001b[0m \u0000nul \u0007bell \ud800lone \uffff tab\tcr\rend';

function check(overrides: Partial<CheckResult>): CheckResult {
  return {
    id: 'c',
    phase: 'preflight',
    phaseTitle: 'Pre-flight',
    owner: 'qa',
    ownerTitle: 'QA Lead',
    who: '[QA Lead · Elif]',
    title: 'A check',
    kind: 'run',
    manual: false,
    status: 'passed',
    failures: [],
    durationMs: 1234,
    attempts: 1,
    retriedAfter: [],
    position: { line: 3, col: 7 },
    ...overrides,
  };
}

const report: PreflightReport = {
  runbook: { name: 'demo', path: 'runbooks/demo & co.yaml', sha256: 'ab'.repeat(32) },
  startedAt: Date.UTC(2026, 10, 26, 10, 0, 0),
  durationMs: 2500,
  concurrency: 8,
  status: 'failed',
  summary: { total: 5, passed: 1, failed: 2, skipped: 2, manual: 1 },
  phases: [
    { id: 'preflight', title: 'Pre-flight <checks>' },
    { id: 'smoke', title: 'Smoke' },
  ],
  checks: [
    check({ id: 'status', title: 'Production status' }),
    check({
      id: 'backup',
      title: 'Backup',
      status: 'failed',
      reason: `exit code 1: ${NASTY}`,
      failureType: 'exit-code',
      exitCode: 1,
      command: './backup.sh --to "s3://b"',
      failures: [{ message: 'exit code 1, expected 0', metric: 'exit_code', measured: 1, expected: { equals: 0 } }],
      output: { stdout: 'line 1\nline 2\n', stderr: `oops ${NASTY}\n` },
      attempts: 3,
      retriedAfter: ['exit code 1: first', 'exit code 1: second'],
    }),
    check({ id: 'brief', title: 'Brief the team', kind: 'confirm', manual: true, status: 'skipped', reason: MANUAL_NOT_RUN, durationMs: 0 }),
    check({
      id: 'health',
      phase: 'smoke',
      kind: 'http',
      title: 'Health',
      status: 'failed',
      reason: 'error_rate 0.05 > max 0.001 (5% > 0.1%); status 500, expected 200 (×1)',
      failureType: 'threshold',
      command: 'GET http://x/health ×20',
      metrics: { samples: 20, errors: 1, error_rate: 0.05, success_rate: 0.95, p50_ms: 3, p95_ms: 9, p99_ms: 9, max_ms: 9, mean_ms: 4, statuses: { '200': 19, '500': 1 } },
      failures: [{ message: 'error_rate 0.05 > max 0.001 (5% > 0.1%)', metric: 'error_rate', measured: 0.05, expected: { max: 0.001 } }, { message: 'status 500, expected 200 (×1)' }],
    }),
    check({ id: 'later', phase: 'smoke', title: 'Conditional', status: 'skipped', reason: "if: vars.env == 'prod' was false", durationMs: 0 }),
  ],
};

let dir = '';
let file = '';
let xml = '';
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-junit-'));
  file = path.join(dir, 'report.xml');
  xml = renderJunit(report);
  fs.writeFileSync(file, xml);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('xml escaping', () => {
  it.each([
    ['a & b < c > d', 'a &amp; b &lt; c &gt; d'],
    ['\u001b[0m', '\\u001b[0m'],
    ['nul\u0000', 'nul\\u0000'],
    ['keep\ttab\nnewline', 'keep\ttab\nnewline'],
    ['cr\r', 'cr&#13;'],
    ['\ud83d\ude00 paired', '\ud83d\ude00 paired'],
    ['lone \udc00', 'lone \\udc00'],
  ])('text %j → %j', (input, expected) => {
    expect(xmlText(input)).toBe(expected);
  });

  it.each([
    ['say "hi" & \'bye\'', 'say &quot;hi&quot; &amp; &apos;bye&apos;'],
    ['two\nlines\tand tab', 'two&#10;lines&#9;and tab'],
  ])('attribute %j → %j', (input, expected) => {
    expect(xmlAttr(input)).toBe(expected);
  });
});

describe('renderJunit', () => {
  it('names a testcase [Role] title (id)', () => {
    expect(testcaseName(report.checks[0]!)).toBe('[QA Lead] Production status (status)');
  });

  it('has one testsuite per preflight phase and one testcase per step, with counts per suite', () => {
    expect(xml.match(/<testsuite /g)).toHaveLength(2);
    expect(xml.match(/<testcase /g)).toHaveLength(5);
    expect(xml).toContain('<testsuites name="deployctl preflight demo" tests="5" failures="2" errors="0" skipped="2" time="2.500" timestamp="2026-11-26T10:00:00">');
    expect(xml).toContain('<testsuite name="preflight" tests="3" failures="1" errors="0" skipped="1"');
    expect(xml).toContain('<testsuite name="smoke" tests="2" failures="1" errors="0" skipped="1"');
    expect(xml).toContain('<testcase classname="preflight" name="[QA Lead] Production status (status)" time="1.234"/>');
    expect(xml).toContain(`<skipped message="${MANUAL_NOT_RUN}"/>`);
  });

  it('carries the measured value and the expectation in the failure message, and the output tail in its body', () => {
    expect(xml).toContain('<failure message="error_rate 0.05 &gt; max 0.001 (5% &gt; 0.1%); status 500, expected 200 (×1)" type="threshold">');
    const body = failureBody(report.checks[1]!, report.runbook.path);
    expect(body).toContain('command: ./backup.sh --to "s3://b"');
    expect(body).toContain('  - exit code 1, expected 0');
    expect(body).toContain('attempt 2 failed: exit code 1: second');
    expect(body).toContain('stdout (last 2 lines):\n  line 1\n  line 2');
    expect(body).toContain('step at runbooks/demo & co.yaml:3:7');
  });

  it('is well-formed XML whatever the checks printed (xmllint --noout)', (ctx) => {
    if (!hasXmllint()) return ctx.skip(XMLLINT_MISSING);
    assertWellFormed(file);
  });

  it('round-trips attribute values and counts through a real XML parser', (ctx) => {
    if (!hasXmllint()) return ctx.skip(XMLLINT_MISSING);
    expect(xpath(file, 'count(//testcase)')).toBe('5');
    expect(xpath(file, 'count(//testcase/failure)')).toBe('2');
    expect(xpath(file, 'count(//testcase/skipped)')).toBe('2');
    expect(xpath(file, 'string(//testcase[@name="[QA Lead] Backup (backup)"]/failure/@message)')).toBe(
      `exit code 1: ${NASTY.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\uffff]|\ud800/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}`,
    );
    expect(xpath(file, 'string(//testsuite[@name="preflight"]/properties/property[@name="phase.title"]/@value)')).toBe('Pre-flight <checks>');
  });
});
