// The grammar and meaning of watch steps, target_duration { limit, from, to } and on: overrun: each refusal positioned and naming the fix.
import { describe, expect, it } from 'vitest';
import { parseCheckedRunbookText, parseRunbookText } from '../../src/runbook/load.js';

function runbook(watch: string, extra = '', steps = ''): string {
  return `version: 1
name: demo
roles: { ops: { title: Ops } }
vars: { base: "http://127.0.0.1:1" }
${extra}phases:
  - id: deploy
    steps:
      - { id: ship, owner: ops, run: make }
  - id: monitor
    steps:
      - id: w
        owner: ops
${watch}${steps}`;
}

function problems(text: string) {
  const result = parseRunbookText(text, 'r.yaml');
  return result.ok ? [] : result.problems.map((p) => ({ at: `${p.line}:${p.col}`, code: p.code, message: p.message }));
}

const VALID = `        watch:
          every: 15m
          for: 3h
          checks:
            - { id: health, http: { url: "\${{ vars.base }}/health", samples: 10 }, metrics: { p95_ms: { max: 500 } } }
            - { id: orders, run: "./check-orders \${{ vars.base }}" }
            - { id: errors, prometheus: { url: "\${{ vars.base }}", query: "up" }, expect: result == 1.0, no_data: fail }
            - { id: stats, http: { url: "\${{ vars.base }}/stats", json_path: $.errors }, expect: result < 1.0, if: "steps.ship.ok" }
`;

describe('watch steps', () => {
  it('accepts a watch of run, http and prometheus checks, and expressions over its ticks', () => {
    const extra = `success_metrics:
  - { id: up, title: Uptime, target: "> 99%", actual: "steps.w.uptime", ok: "steps.w.failed_ticks == 0 && steps.w.ticks > 0 && steps.w.last.checks.health.ok && steps.w.checks.health.metrics.samples > 0.0" }
escalation:
  - { name: Late, on: overrun, to: [ops] }
`;
    expect(problems(runbook(VALID, extra))).toEqual([]);
  });

  it.each([
    ['no length', VALID.replace('          for: 3h\n', ''), '14:11', 'watch-length', 'a watch needs its length: for (a duration, e.g. for: 3h) or count (ticks, e.g. count: 12)'],
    ['both for and count', VALID.replace('for: 3h', 'for: 3h\n          count: 4'), '14:11', 'watch-length', 'a watch has for and count: give one of them'],
    ['every of 0', VALID.replace('every: 15m', 'every: 0s'), '14:18', 'zero-duration', 'every of 0 makes no sense'],
    ['a delay as long as the window', VALID.replace('for: 3h', 'for: 3h\n          initial_delay: 3h'), '16:26', 'delay-past-window', 'initial_delay 3h is not shorter than the window (for: 3h): no tick would ever run'],
    ['more than 100000 ticks', VALID.replace('every: 15m', 'every: 1s').replace('for: 3h', 'for: 30h'), '15:16', 'too-many-ticks', 'for 30h every 1s is 108000 ticks; a watch holds at most 100000'],
    ['two checks with one id', VALID.replace('id: orders', 'id: health'), '18:21', 'duplicate-id', "duplicate check id 'health' in watch 'w'"],
    ['a check naming an unknown var', VALID.replace('./check-orders ${{ vars.base }}', './check-orders ${{ vars.bse }}'), '18:59', 'unknown-var', 'vars.bse is not declared'],
    ['expect on a probe without json_path', VALID.replace('metrics: { p95_ms: { max: 500 } } }', 'expect: result < 1.0 }'), '17:84', 'not-a-check', 'expect applies to checks only'],
  ])('refuses %s', (_name, watch, at, code, message) => {
    expect(problems(runbook(watch))).toContainEqual({ at, code, message: expect.stringContaining(message) });
  });

  // Security: a check's run: is a shell command like any step's; its templates are placed with the bash grammar too,
  // or a value with a quote in it would end the quoting it was written inside (the shell check once skipped checks).
  it.each([
    ['inside shell quotes', `"./check-orders '\${{ vars.base }}'"`, '18:51', 'template-in-quotes'],
    ['inside $(( ))', `"echo $(( \${{ vars.base }} ))"`, '18:44', 'template-in-shell-syntax'],
  ])('refuses a check template %s, at its position, as for any step', async (_name, command, at, code) => {
    const result = await parseCheckedRunbookText(runbook(VALID.replace('"./check-orders ${{ vars.base }}"', command)), 'r.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => ({ at: `${p.line}:${p.col}`, code: p.code }))).toEqual([{ at, code }]);
    expect(result.problems[0]!.message).toContain('env: { BASE: "${{ vars.base }}" }');
  });

  it('accepts a check template where the shell reads one word', async () => {
    expect((await parseCheckedRunbookText(runbook(VALID), 'r.yaml')).ok).toBe(true);
  });

  it.each([
    ['retries', 'retries: 2', 'a watch tolerates failing ticks with watch.failure_limit'],
    ['timeout', 'timeout: 1h', 'a watch lasts its window (watch.for or watch.count)'],
    ['idempotent', 'idempotent: true', 'a watch always resumes its window'],
  ])('refuses %s on a watch, saying what to use instead', (key, line, why) => {
    expect(problems(runbook(`        ${line}\n${VALID}`))).toContainEqual({ at: '13:9', code: 'not-for-watch', message: `${key} does not apply to a watch: ${why}` });
  });

  it('refuses a check of a kind a tick cannot run (a person is not a check)', () => {
    const found = problems(runbook(VALID.replace('- { id: orders, run: "./check-orders ${{ vars.base }}" }', '- { id: orders, confirm: Orders look fine }')));
    expect(found.map((p) => p.message)).toContainEqual(expect.stringMatching(/does nothing: give it one of run, http, prometheus/));
  });

  it('refuses a check with two kinds, as "a check does exactly one thing"', () => {
    const found = problems(runbook(VALID.replace('- { id: orders, run: "./check-orders ${{ vars.base }}" }', '- { id: orders, run: "true", http: { url: "http://x" } }')));
    expect(found.map((p) => p.message)).toContainEqual(expect.stringMatching(/has 2 kinds \(run, http\): a check does exactly one thing; split it into 2 checks/));
  });

  it('names the field a step view has when an expression asks for one it has not', () => {
    const extra = 'success_metrics:\n  - { id: up, title: Uptime, target: x, actual: "steps.w.uptme" }\n';
    expect(problems(runbook(VALID, extra))).toContainEqual(expect.objectContaining({ code: 'unknown-step-field', message: expect.stringContaining("a step has no 'uptme'; did you mean 'uptime'?") }));
  });
});

describe('target_duration', () => {
  it('accepts the plain form and { limit, from, to } naming phases in order', () => {
    expect(problems(runbook(VALID, 'target_duration: 20m\n'))).toEqual([]);
    expect(problems(runbook(VALID, 'target_duration: { limit: 20m, from: deploy, to: monitor }\n'))).toEqual([]);
  });

  it.each([
    ['a phase that does not exist', 'target_duration: { limit: 20m, from: deploi }\n', '5:38', 'unknown-phase', "target_duration.from: 'deploi' names no phase; did you mean 'deploy'?"],
    ['phases in the wrong order', 'target_duration: { limit: 20m, from: monitor, to: deploy }\n', '5:51', 'phases-out-of-order', "target_duration runs from 'monitor' to 'deploy', which comes before it: swap them"],
    ['a limit of 0', 'target_duration: { limit: 0m }\n', '5:27', 'zero-duration', 'a target duration of 0 makes no sense: give a positive duration such as 30s'],
  ])('refuses %s', (_name, extra, at, code, message) => {
    expect(problems(runbook(VALID, extra))).toContainEqual({ at, code, message });
  });
});
