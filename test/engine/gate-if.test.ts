// `if:` on gates: a gate whose condition is false is skipped (recorded as skipped, nobody asked); `finished_ago_ms` of steps.
import { describe, expect, it } from 'vitest';
import { foldEvents } from '../../src/engine/state.js';
import { buildRecordPredicate } from '../../src/record/build.js';
import { fakeExec, harness, inlineRunbook, kinds, scriptedPrompter } from '../helpers/engine-fakes.js';

const RUNBOOK = inlineRunbook(`
version: 1
name: gated
roles: { lead: { title: Deployment Lead, primary: Ana }, devops: { title: DevOps } }
vars: { prometheus_url: "" }
phases:
  - id: deploy
    steps:
      - { id: ship, owner: devops, run: "ship" }
    gate:
      id: canary
      owner: lead
      if: "vars.prometheus_url != ''"
      require:
        shipped: steps.ship.ok
      on_no_go: abort
  - id: after
    steps:
      - { id: announce, owner: devops, run: "announce" }
`);

describe('if: on a gate', () => {
  it('false: the gate is skipped and recorded as skipped; nobody is asked and the run goes on', async () => {
    const h = harness();
    const prompter = scriptedPrompter({});
    const result = await h.run(RUNBOOK, {}, { exec: fakeExec({ ship: {}, announce: {} }), prompter });
    expect(result.exitCode).toBe(0);
    expect(prompter.requests).toEqual([]);
    expect(kinds(h.events)).toContain('gate-skipped:canary');
    expect(kinds(h.events).some((k) => k.startsWith('gate-decided') || k.startsWith('gate-evaluated'))).toBe(false);
    const state = foldEvents(h.events);
    expect(state.gates.get('canary')?.skipped).toBe("if: vars.prometheus_url != '' was false");
    const record = buildRecordPredicate({ doc: RUNBOOK.doc, state, env: {}, now: h.clock.now() });
    expect(record.phases[0]!.gate).toMatchObject({ id: 'canary', decision: null, skipped: "if: vars.prometheus_url != '' was false", conditions: [] });
  });

  it('true: the gate is decided as usual', async () => {
    const h = harness();
    const result = await h.run(RUNBOOK, { vars: { prometheus_url: 'http://127.0.0.1:9090' } }, { exec: fakeExec({ ship: {}, announce: {} }), answers: new Map([['canary', 'go']]) });
    expect(result.exitCode).toBe(0);
    expect(kinds(h.events)).toContain('gate-decided:canary');
    expect(kinds(h.events)).not.toContain('gate-skipped:canary');
  });
});

describe('steps.<id>.finished_ago_ms', () => {
  it('is the time since the step finished, as of the expression', async () => {
    const doc = inlineRunbook(`
version: 1
name: ago
roles: { devops: { title: DevOps } }
phases:
  - id: p
    steps:
      - { id: a, owner: devops, run: "a" }
      - { id: b, owner: devops, run: "b", retries: 1, retry_delay: 10s }
      - { id: c, owner: devops, run: "c", if: "steps.a.finished_ago_ms >= 10000" }
`);
    const h = harness();
    const exec = fakeExec({ a: {}, b: [{ exitCode: 1 }, {}], c: {} });
    await h.run(doc, {}, { exec });
    expect(exec.calls).toEqual(['a', 'b', 'b', 'c']);
  });
});
