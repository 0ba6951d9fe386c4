// Meaning checks the grammar cannot express, one runbook per rule: each refusal is positioned and names the fix.
import { describe, expect, it } from 'vitest';
import { parseRunbookText } from '../../src/runbook/load.js';

/** A small valid runbook; `extra` is spliced in before `phases:`, `steps` replaces its one step list. */
function runbook({ extra = '', steps = '      - { id: build, owner: ops, run: make }\n', after = '' } = {}): string {
  return `version: 1
name: demo
roles:
  lead: { title: Lead, escalates_to: [ops] }
  ops: { title: Ops }
${extra}phases:
  - id: prep
    steps:
${steps}${after}`;
}

function problems(text: string) {
  const result = parseRunbookText(text, 'r.yaml');
  return result.ok ? [] : result.problems.map((p) => ({ at: `${p.line}:${p.col}`, code: p.code, message: p.message }));
}

describe('checkMeaning', () => {
  it('accepts the base runbook', () => {
    expect(problems(runbook())).toEqual([]);
  });

  it.each([
    ['a role escalating to itself', runbook().replace('ops: { title: Ops }', 'ops: { title: Ops, escalates_to: [ops] }'), '5:37', 'self-escalation', "role 'ops' escalates to itself"],
    ['a name that is both a var and a secret', runbook({ extra: 'vars: { TOKEN: x }\nsecrets: [TOKEN]\n' }), '6:9', 'secret-var', "'TOKEN' is both a var and a secret"],
    ['a zero status_every', runbook({ extra: 'notify: { status_every: 0m }\n' }), '6:25', 'zero-duration', 'status_every of 0 makes no sense'],
    ['a channel with a webhook and a file', runbook({ extra: 'notify:\n  channels: [{ id: c, webhook: "http://x", file: log }]\n' }), '7:14', 'channel-sink', "channel 'c' has both webhook and file"],
    ['a channel that goes nowhere', runbook({ extra: 'notify:\n  channels: [{ id: c }]\n' }), '7:14', 'channel-sink', "channel 'c' goes nowhere"],
    ['two channels with one id', runbook({ extra: 'notify:\n  channels: [{ id: c, file: a }, { id: c, file: b }]\n' }), '7:40', 'duplicate-id', "duplicate channel id 'c'"],
    ['a channel if: naming no step', runbook({ extra: 'notify:\n  channels: [{ id: c, file: a, if: steps.nope.ok }]\n' }), '7:42', 'unknown-step', 'steps.nope names no step'],
    ['an escalation rule with two triggers', runbook({ extra: 'escalation:\n  - { name: R, after: 5m, on: failure, to: [lead] }\n' }), '7:5', 'escalation-trigger', "escalation 'R' has after and on"],
    ['an escalation rule with no trigger', runbook({ extra: 'escalation:\n  - { name: R, to: [lead] }\n' }), '7:5', 'escalation-trigger', "escalation 'R' has no trigger"],
    ['an escalation when: that does not parse', runbook({ extra: 'escalation:\n  - { name: R, when: "steps.build.ok &&& true", to: [lead] }\n' }), '7:40', 'bad-cel', 'invalid CEL expression'],
    ['two success metrics with one id', runbook({ extra: 'success_metrics:\n  - { id: m, title: A, target: x }\n  - { id: m, title: B, target: y }\n' }), '8:11', 'duplicate-id', "duplicate success metric id 'm'"],
    ['a success metric naming an unknown run field', runbook({ extra: 'success_metrics:\n  - { id: m, title: A, target: x, ok: "run.nope == 1" }\n' }), '7:44', 'unknown-run-field', 'run.nope does not exist'],
    ['a field a step does not have', runbook({ extra: 'success_metrics:\n  - { id: m, title: A, target: x, ok: "steps.build.okay" }\n' }), '7:52', 'unknown-step-field', "steps.build.okay: a step has no 'okay'"],
    ['a misspelt step field, indexed', runbook({ extra: "success_metrics:\n  - { id: m, title: A, target: x, ok: \"steps['build'].statuz == 'failed'\" }\n" }), '7:55', 'unknown-step-field', "did you mean 'status'?"],
    ['a success metric naming no step', runbook({ extra: 'success_metrics:\n  - { id: m, title: A, target: x, actual: steps.nope.duration_ms }\n' }), '7:49', 'unknown-step', 'steps.nope names no step'],
    ['a zero timeout', runbook({ steps: '      - { id: build, owner: ops, run: make, timeout: 0s }\n' }), '9:54', 'zero-duration', 'a timeout of 0 makes no sense'],
    ['a retry_delay without retries', runbook({ steps: '      - { id: build, owner: ops, run: make, retry_delay: 1s }\n' }), '9:45', 'delay-without-retries', 'retry_delay without retries has no effect'],
    ['an http metric on a run step', runbook({ steps: '      - { id: build, owner: ops, run: make, metrics: { p95_ms: { max: 1 } } }\n' }), '9:56', 'metric-needs-http', "p95_ms is measured by http probes only; this step is 'run'"],
    ['a threshold whose min is above its max', runbook({ steps: '      - { id: build, owner: ops, run: make, metrics: { duration_ms: { min: 5, max: 1 } } }\n' }), '9:69', 'min-over-max', 'min 5 is above max 1'],
    ['an http url that is not http', runbook({ steps: '      - { id: build, owner: ops, http: { url: "ftp://x" } }\n' }), '9:47', 'bad-url', "url must start with http:// or https://, got 'ftp://x'"],
    ['more concurrency than samples', runbook({ steps: '      - { id: build, owner: ops, http: { url: "http://x", samples: 2, concurrency: 5 } }\n' }), '9:84', 'concurrency-over-samples', 'concurrency 5 is more than samples 2'],
    ['a zero request timeout', runbook({ steps: '      - { id: build, owner: ops, http: { url: "http://x", timeout: 0ms } }\n' }), '9:68', 'zero-duration', 'a request timeout of 0'],
    ['a header template naming no var', runbook({ steps: '      - { id: build, owner: ops, http: { url: "http://x", headers: { X-A: "${{ vars.nope }}" } } }\n' }), '9:85', 'unknown-var', 'vars.nope is not declared'],
    ['an argv whose command is empty', runbook({ steps: '      - { id: build, owner: ops, run: ["", x] }\n' }), '9:40', 'empty-command', 'the command (first item of run) is empty'],
    ['an env template naming a later step', runbook({ steps: '      - { id: build, owner: ops, run: make, env: { A: "${{ steps.later.ok }}" } }\n      - { id: later, owner: ops, run: make }\n' }), '9:66', 'step-not-yet-run', "step 'build' uses steps.later, which runs after it"],
    ['a step using a rollback step', runbook({ steps: '      - { id: build, owner: ops, run: make, if: steps.undo.ok }\n', after: '    rollback:\n      - { id: undo, owner: ops, run: make clean }\n' }), '9:55', 'step-not-yet-run', 'steps.undo, which is a rollback step'],
    ['a phase with no steps and no gate', `${runbook()}  - id: empty\n`, '10:5', 'empty-phase', "phase 'empty' has no steps and no gate"],
    ['a gate owned by an unknown role', runbook({ after: '    gate: { owner: boss, require: { ok: steps.build.ok } }\n' }), '10:20', 'unknown-role', "gate owner 'boss' is not a declared role"],
    ['a gate id that is a step id', runbook({ after: '    gate: { id: build, owner: lead, require: { ok: steps.build.ok } }\n' }), '10:17', 'duplicate-id', "duplicate id 'build': already used by a step at phases[0].steps[0].id"],
    ['a gate condition that is not a boolean', runbook({ after: '    gate: { owner: lead, require: { ok: "size(steps)" } }\n' }), '10:41', 'not-boolean', 'this condition gives an int, not true or false'],
  ])('refuses %s', (_what, text, at, code, message) => {
    expect(problems(text)).toEqual([{ at, code, message: expect.stringContaining(message) }]);
  });

  it.each([
    ['a rollback step using any forward step', runbook({ after: '    rollback:\n      - { id: undo, owner: ops, run: "echo ${{ steps.build.status }}" }\n' })],
    ['a gate using answers to its own manual condition and an earlier ask', runbook({ steps: '      - { id: who, owner: ops, ask: Who? }\n', after: "    gate: { owner: lead, require: { named: \"answers.who != ''\", ok: { confirm: Ready } } }\n" })],
    ['a later step using a gate decision', `${runbook({ after: '    gate: { owner: lead, require: { ok: steps.build.ok } }\n' })}  - id: ship\n    steps:\n      - { id: go, owner: ops, run: make, if: "answers.prep == 'go'" }\n`],
    ['an escalation rule using any step', runbook({ extra: 'escalation:\n  - { name: R, when: "!steps.build.ok", to: [lead] }\n' })],
    ['a secret passed through env, not argv', runbook({ extra: 'secrets: [TOKEN]\n', steps: '      - { id: build, owner: ops, run: make, env: { T: "${{ env.TOKEN }}" } }\n' })],
    ['an http url given entirely by a template', runbook({ extra: 'vars: { url: "http://x" }\n', steps: '      - { id: build, owner: ops, http: { url: "${{ vars.url }}" } }\n' })],
  ])('accepts %s', (_what, text) => {
    expect(problems(text)).toEqual([]);
  });

  it('reports every problem of a runbook, in source order', () => {
    const text = runbook({ steps: '      - { id: build, owner: opz, run: make, if: steps.nope.ok }\n      - { id: build, owner: ops, run: make }\n' });

    expect(problems(text).map((p) => `${p.at} ${p.code}`)).toEqual(['9:29 unknown-role', '9:55 unknown-step', '10:15 duplicate-id']);
  });
});
