// The timeline's rules as pure functions: where T comes from, each phase's planned window, where the run stands, how long the deployment took.
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { foldEvents, type RunState } from '../../src/engine/state.js';
import { deployDurationMs, plannedWindows, resolveT0, standing } from '../../src/engine/timeline.js';
import { inlineRunbook } from '../helpers/engine-fakes.js';

const START = Date.UTC(2026, 10, 26, 5, 0, 0);
const MIN = 60_000;

const DOC = inlineRunbook(`
version: 1
name: timed
target_duration: { limit: 20m, from: deploy, to: verify }
roles: { ops: { title: Ops } }
phases:
  - { id: assemble, at: T-30m, steps: [{ id: a, owner: ops, run: "true" }] }
  - { id: gate, gate: { owner: ops, require: { ok: "true" } } }
  - { id: deploy, at: T-10m, steps: [{ id: ship, owner: ops, run: "true" }] }
  - { id: verify, at: T+10m, steps: [{ id: check, owner: ops, run: "true" }] }
  - { id: monitor, at: T+1h, steps: [{ id: watch, owner: ops, run: "true" }] }
`).doc;

const base = (at: number): RunEvent => ({ kind: 'run-started', at, runId: 'r', runbook: { name: 'timed', path: 'x', sha256: 'y' }, tool: { name: 'deployctl', version: '0' }, operator: 'o', host: 'h', vars: {}, dryRun: false });
const phase = (id: string, at: number): RunEvent => ({ kind: 'phase-started', at, phaseId: id });
const step = (id: string, phaseId: string, start: number, end: number): RunEvent[] => [
  { kind: 'step-started', at: start, stepId: id, phaseId, stepKind: 'run', attempt: 1, rollback: false },
  { kind: 'step-finished', at: end, stepId: id, phaseId, rollback: false, outcome: { status: 'succeeded', attempts: 1, startedAt: start, endedAt: end, durationMs: end - start } },
];
const state = (...events: (RunEvent | RunEvent[])[]): RunState => foldEvents(events.flat());

describe('resolveT0', () => {
  it('is --t0 when given', () => {
    expect(resolveT0(DOC, { ...state(base(START), phase('assemble', START)), t0: START + 99 })).toBe(START + 99);
  });

  it('is the start of the first phase at T when the runbook has one', () => {
    const doc = inlineRunbook(`
version: 1
name: t
roles: { ops: { title: Ops } }
phases:
  - { id: before, at: T-20m, steps: [{ id: a, owner: ops, run: "true" }] }
  - { id: zero, at: T+0m, steps: [{ id: b, owner: ops, run: "true" }] }
`).doc;
    // Before the T phase starts, T is estimated from the first timed phase; once it starts, T is when it did.
    expect(resolveT0(doc, state(base(START), phase('before', START)))).toBe(START + 20 * MIN);
    expect(resolveT0(doc, state(base(START), phase('before', START), phase('zero', START + 25 * MIN)))).toBe(START + 25 * MIN);
  });

  it('otherwise counts back from the first timed phase that started (a run opening at T-30m puts T 30 minutes on)', () => {
    expect(resolveT0(DOC, state(base(START), phase('assemble', START)))).toBe(START + 30 * MIN);
  });

  it('is not known before anything timed started', () => {
    expect(resolveT0(DOC, state(base(START)))).toBeUndefined();
  });
});

describe('plannedWindows', () => {
  it("runs each phase from T + its at to T + the next timed phase's at; a phase without at ends with the one before the next", () => {
    const windows = plannedWindows(DOC, START);
    expect(Object.fromEntries([...windows].map(([id, w]) => [id, [w.start === undefined ? null : (w.start - START) / MIN, w.end === undefined ? null : (w.end - START) / MIN]]))).toEqual({
      assemble: [-30, -10],
      gate: [null, -10],
      deploy: [-10, 10],
      verify: [10, 60],
      // The last timed phase's window stays open: nothing on the plan follows it.
      monitor: [60, null],
    });
  });
});

describe('standing', () => {
  it('says on plan, behind (started late, or past the end of its window) and ahead', () => {
    const t0 = START + 30 * MIN;
    const onPlan = state(base(START), phase('assemble', START));
    expect(standing(DOC, onPlan, START + 5 * MIN)).toMatchObject({ offsetMs: -25 * MIN, phase: { id: 'assemble' }, behindMs: 0 });
    // Still assembling at T-5m: 5 minutes past its window (which ended at T-10m).
    expect(standing(DOC, onPlan, t0 - 5 * MIN)!.behindMs).toBe(5 * MIN);
    // Verification started at T+22m, 12 minutes after its planned start.
    const late = state(base(START), phase('assemble', START), { kind: 'phase-finished', at: START + MIN, phaseId: 'assemble', status: 'succeeded' }, phase('verify', t0 + 22 * MIN));
    expect(standing(DOC, late, t0 + 23 * MIN)).toMatchObject({ phase: { id: 'verify' }, behindMs: 12 * MIN });
    // Deploying at T-25m: 15 minutes ahead of its planned start.
    const early = state(base(START), phase('assemble', START), { kind: 'phase-finished', at: START + 4 * MIN, phaseId: 'assemble', status: 'succeeded' }, phase('deploy', START + 5 * MIN));
    expect(standing(DOC, early, START + 6 * MIN)!.behindMs).toBe(-15 * MIN);
  });
});

describe('deployDurationMs', () => {
  it('with { from, to }: from the first step of `from` to the last of `to`, not the whole run', () => {
    const s = state(base(START), phase('assemble', START), step('a', 'assemble', START, START + MIN), step('ship', 'deploy', START + 10 * MIN, START + 14 * MIN), step('check', 'verify', START + 15 * MIN, START + 22 * MIN), step('watch', 'monitor', START + 30 * MIN, START + 24 * 60 * MIN));
    expect(deployDurationMs(DOC, s, START + 25 * 60 * MIN)).toBe(12 * MIN);
  });

  it('with { from, to }, while the deployment runs: up to now; before it: not measured', () => {
    const running = state(base(START), { kind: 'step-started', at: START + 10 * MIN, stepId: 'ship', phaseId: 'deploy', stepKind: 'run', attempt: 1, rollback: false });
    expect(deployDurationMs(DOC, running, START + 13 * MIN)).toBe(3 * MIN);
    expect(deployDurationMs(DOC, state(base(START)), START + MIN)).toBeUndefined();
  });

  it('with the plain form: the whole run, as before', () => {
    const plain = inlineRunbook(`
version: 1
name: p
target_duration: 20m
roles: { ops: { title: Ops } }
phases: [{ id: a, steps: [{ id: s, owner: ops, run: "true" }] }]
`).doc;
    expect(deployDurationMs(plain, state(base(START)), START + 7 * MIN)).toBe(7 * MIN);
  });
});
