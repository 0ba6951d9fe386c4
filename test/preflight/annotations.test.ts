// GitHub workflow commands: one ::error per failed check, escaped by the runner's rules so no value can start another command.
import { describe, expect, it } from 'vitest';
import { annotation, escapeData, escapeProperty, githubAnnotations, wantsGithubAnnotations } from '../../src/preflight/annotations.js';
import type { CheckResult, PreflightReport } from '../../src/preflight/types.js';

const failed: CheckResult = {
  id: 'pf-health',
  phase: 'preflight',
  phaseTitle: 'Pre-flight',
  owner: 'qa',
  ownerTitle: 'QA Lead',
  who: '[QA Lead]',
  title: 'Health: api, web',
  kind: 'http',
  manual: false,
  status: 'failed',
  reason: 'error_rate 0.05 > max 0.001 (5% > 0.1%); status 500, expected 200 (×1)',
  failureType: 'threshold',
  failures: [
    { message: 'error_rate 0.05 > max 0.001 (5% > 0.1%)', metric: 'error_rate', measured: 0.05, expected: { max: 0.001 } },
    { message: 'status 500, expected 200 (×1)' },
  ],
  durationMs: 120,
  attempts: 1,
  retriedAfter: [],
  position: { line: 12, col: 9 },
};

describe('escaping', () => {
  it.each([
    ['100%', '100%25'],
    ['a\r\nb', 'a%0D%0Ab'],
    ['::error::x', '::error::x'],
    ['%0A', '%250A'],
  ])('data %j → %j', (input, expected) => {
    expect(escapeData(input)).toBe(expected);
  });

  it.each([
    ['a:b,c', 'a%3Ab%2Cc'],
    ['50%\n', '50%25%0A'],
    ['title=x::y', 'title=x%3A%3Ay'],
  ])('property %j → %j', (input, expected) => {
    expect(escapeProperty(input)).toBe(expected);
  });
});

describe('annotation', () => {
  it('points at the step in the runbook and carries each failed expectation on its own line', () => {
    expect(annotation(failed, 'runbooks/my,book.yaml')).toBe(
      '::error file=runbooks/my%2Cbook.yaml,line=12,col=9,title=preflight preflight/pf-health failed%3A [QA Lead] Health%3A api%2C web::' +
        'error_rate 0.05 > max 0.001 (5%25 > 0.1%25); status 500, expected 200 (×1)%0A- error_rate 0.05 > max 0.001 (5%25 > 0.1%25)%0A- status 500, expected 200 (×1)',
    );
  });

  it('is one line whatever the reason holds', () => {
    const line = annotation({ ...failed, reason: 'line one\nline two\r\n::warning::injected', failures: [] }, 'r.yaml');
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toContain('line one%0Aline two%0D%0A::warning::injected');
  });

  it('is printed only for failed checks, and only on GitHub Actions', () => {
    const report = { runbook: { path: 'r.yaml' }, checks: [failed, { ...failed, id: 'ok', status: 'passed' }, { ...failed, id: 's', status: 'skipped' }] } as unknown as PreflightReport;
    expect(githubAnnotations(report)).toHaveLength(1);
    expect(wantsGithubAnnotations({ GITHUB_ACTIONS: 'true' })).toBe(true);
    expect(wantsGithubAnnotations({ GITHUB_ACTIONS: 'false' })).toBe(false);
    expect(wantsGithubAnnotations({})).toBe(false);
  });
});
