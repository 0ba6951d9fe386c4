// Watch steps on the manual clock: ticks at their due times, limits, no data never a pass, the owner's decision, resume with missed ticks, overruns, scaling.
import { describe, expect, it } from 'vitest';
import { celContext } from '../../src/engine/context.js';
import type { EventOf, RunEvent, StepOutcome } from '../../src/engine/events.js';
import { foldEvents } from '../../src/engine/state.js';
import { evaluateExpression, compileExpression } from '../../src/expr/cel.js';
import { createManualClock } from '../../src/ports/clock.js';
import { rehearsalClock } from '../../src/ports/rehearsal-clock.js';
import type { HttpSend } from '../../src/ports/types.js';
import { fakeExec, harness, inlineRunbook, scriptedPrompter } from '../helpers/engine-fakes.js';

const START = Date.UTC(2026, 10, 26, 10, 0, 0);
const MIN = 60_000;

function watchRunbook(watch: string, extra = ''): ReturnType<typeof inlineRunbook> {
  return inlineRunbook(`
version: 1
name: watching
roles: { oncall: { title: On-Call, escalates_to: [lead] }, lead: { title: Lead } }
vars: { base: "http://127.0.0.1:9" }
phases:
  - id: monitor
    steps:
      - id: w
        owner: oncall
        watch:
${watch
  .trim()
  .split('\n')
  .map((l) => `          ${l}`)
  .join('\n')}
${extra}`);
}

const ticks = (events: RunEvent[], stepId = 'w') => events.filter((e): e is EventOf<'watch-tick'> => e.kind === 'watch-tick' && e.stepId === stepId);
const finished = (events: RunEvent[], stepId = 'w'): StepOutcome | undefined =>
  events.filter((e): e is EventOf<'step-finished'> => e.kind === 'step-finished' && e.stepId === stepId).at(-1)?.outcome;
const cel = (events: RunEvent[], doc: ReturnType<typeof inlineRunbook>, source: string, onlyFinished = false): unknown => {
  const compiled = compileExpression(source);
  if (!compiled.ok) throw new Error(compiled.message);
  const result = evaluateExpression(compiled.expression, celContext({ doc: doc.doc, state: foldEvents(events), env: {}, now: 0, onlyFinished }));
  if (!result.ok) throw new Error(result.message);
  return result.value;
};

/** An HTTP server stand-in: every request answered by `reply` (status, body), measured at 5 ms. */
function fakeSend(reply: (url: string) => { status: number; body: string }): HttpSend & { urls: string[] } {
  const urls: string[] = [];
  const send = (async (request) => {
    urls.push(request.url);
    const r = reply(request.url);
    return { ok: true as const, status: r.status, body: r.body, durationMs: 5 };
  }) as HttpSend & { urls: string[] };
  send.urls = urls;
  return send;
}

describe('a watch step', () => {
  it('runs a tick every `every`, each running every check through its runner, and passes when every tick passes', async () => {
    const h = harness();
    const exec = fakeExec({ 'check-orders': {}, 'check-db': {} });
    const doc = watchRunbook(`
every: 15m
count: 4
checks:
  - { id: orders, run: check-orders }
  - { id: db, run: check-db }`);
    const result = await h.run(doc, {}, { exec });
    expect(result.exitCode).toBe(0);
    expect(exec.calls).toEqual(['check-orders', 'check-db', 'check-orders', 'check-db', 'check-orders', 'check-db', 'check-orders', 'check-db']);
    const t = ticks(h.events);
    expect(t.map((e) => [e.tick.n, e.tick.status, e.tick.due - START])).toEqual([
      [1, 'passed', 0],
      [2, 'passed', 15 * MIN],
      [3, 'passed', 30 * MIN],
      [4, 'passed', 45 * MIN],
    ]);
    // Each tick ran when it was due: the clock only moved by the sleeps between them.
    expect(t.map((e) => e.at - START)).toEqual([0, 15 * MIN, 30 * MIN, 45 * MIN]);
    expect(t[0]!.tick.checks).toEqual([
      { id: 'orders', kind: 'run', status: 'passed', durationMs: 0, exitCode: 0 },
      { id: 'db', kind: 'run', status: 'passed', durationMs: 0, exitCode: 0 },
    ]);
    expect(finished(h.events)).toMatchObject({ status: 'succeeded', ticks: { planned: 4, recorded: 4, passed: 4, failed: 0, inconclusive: 0, missed: 0 } });
    expect(h.events.filter((e) => e.kind === 'watch-started')).toHaveLength(1);
    expect(cel(h.events, doc, '[steps.w.ticks, steps.w.failed_ticks, steps.w.uptime, steps.w.planned_ticks]')).toEqual([4, 0, 1, 4]);
    expect(cel(h.events, doc, "steps.w.last.checks.orders.status == 'passed' && steps.w.checks.db.passed == 4")).toBe(true);
  });

  it('with for:, ticks while the window is open and ends when it closes, not at its last tick', async () => {
    const h = harness();
    const doc = watchRunbook(`
every: 15m
for: 1h
initial_delay: 5m
checks: [{ id: ok, run: "true" }]`);
    await h.run(doc, {}, { exec: fakeExec({ true: {} }) });
    // Due at 5, 20, 35, 50 minutes: four ticks fit in the hour after the initial delay.
    expect(ticks(h.events).map((e) => (e.tick.due - START) / MIN)).toEqual([5, 20, 35, 50]);
    const outcome = finished(h.events)!;
    expect(outcome.endedAt - outcome.startedAt).toBe(60 * MIN);
    expect(outcome.durationMs).toBe(60 * MIN);
    expect(outcome.command).toBe('watch every 15m for 1h (4 ticks) after 5m: ok');
  });

  it('fails at once on more failing ticks than failure_limit, without waiting for the window to end', async () => {
    const h = harness();
    const exec = fakeExec({ probe: [{}, { exitCode: 2, stderr: 'orders table missing\n' }, {}] });
    const doc = watchRunbook(`
every: 15m
count: 12
checks: [{ id: orders, run: probe }]`);
    const result = await h.run(doc, {}, { exec });
    expect(result.exitCode).toBe(1);
    expect(exec.calls).toHaveLength(2);
    const outcome = finished(h.events)!;
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toBe('1 failing tick of 2 (failure_limit 0); tick 2: orders: exit code 2: orders table missing');
    expect(outcome.endedAt - START).toBe(15 * MIN);
    expect(result.reason).toContain("step 'w' failed: 1 failing tick of 2");
  });

  it('tolerates failure_limit failing ticks: the window completes, the failure is counted and uptime shows it', async () => {
    const h = harness();
    const exec = fakeExec({ probe: [{}, { exitCode: 1 }, {}, {}] });
    const doc = watchRunbook(`
every: 15m
count: 4
failure_limit: 1
checks: [{ id: orders, run: probe }]`);
    const result = await h.run(doc, {}, { exec });
    expect(result.exitCode).toBe(0);
    expect(ticks(h.events).map((e) => e.tick.status)).toEqual(['passed', 'failed', 'passed', 'passed']);
    expect(cel(h.events, doc, '[steps.w.ticks, steps.w.failed_ticks, steps.w.passed_ticks, steps.w.uptime, steps.w.ok]')).toEqual([4, 1, 3, 0.75, true]);
  });

  it('counts a tick with no data as inconclusive, never as passed, and fails closed past inconclusive_limit without anyone to ask', async () => {
    const h = harness();
    const send = fakeSend(() => ({ status: 200, body: '{"other": 1}' }));
    const doc = watchRunbook(`
every: 15m
count: 8
inconclusive_limit: 1
checks:
  - { id: errors, http: { url: "\${{ vars.base }}/stats", json_path: $.errors }, expect: result < 1.0 }`);
    const result = await h.run(doc, {}, { send });
    expect(result.exitCode).toBe(1);
    expect(ticks(h.events).map((e) => e.tick.status)).toEqual(['inconclusive', 'inconclusive']);
    expect(ticks(h.events)[0]!.tick.reason).toMatch(/^errors: no data/);
    const decided = h.events.find((e): e is EventOf<'watch-decided'> => e.kind === 'watch-decided')!;
    expect(decided).toMatchObject({ decision: 'fail', answeredFrom: 'automatic', inconclusive: 2 });
    const outcome = finished(h.events)!;
    expect(outcome.status).toBe('inconclusive');
    expect(outcome.reason).toContain("no terminal to ask the owner on: failed closed (answer 'w.inconclusive: continue' in the answers file");
    expect(cel(h.events, doc, '[steps.w.passed_ticks, steps.w.inconclusive_ticks, steps.w.uptime, steps.w.ok]')).toEqual([0, 2, 0, false]);
  });

  it("keeps watching when the owner's answer says continue, and counts the ticks without data afresh after it", async () => {
    const h = harness();
    let calls = 0;
    const send = fakeSend(() => (++calls <= 2 ? { status: 200, body: '{}' } : { status: 200, body: '{"errors": 0}' }));
    const doc = watchRunbook(`
every: 15m
count: 4
checks:
  - { id: errors, http: { url: "\${{ vars.base }}/stats", json_path: $.errors }, expect: result < 1.0 }`);
    const result = await h.run(doc, {}, { send, answers: new Map([['w.inconclusive', 'continue']]) });
    expect(result.exitCode).toBe(0);
    expect(ticks(h.events).map((e) => e.tick.status)).toEqual(['inconclusive', 'inconclusive', 'passed', 'passed']);
    const decisions = h.events.filter((e): e is EventOf<'watch-decided'> => e.kind === 'watch-decided');
    expect(decisions.map((d) => [d.decision, d.answeredFrom, d.inconclusive])).toEqual([
      ['continue', 'answers-file', 1],
      ['continue', 'answers-file', 1],
    ]);
    expect(cel(h.events, doc, '[steps.w.uptime, steps.w.checks.errors.result]')).toEqual([0.5, 0]);
  });

  it('ends failed when every tick failed, even within failure_limit: tolerated failures are not a pass', async () => {
    const h = harness();
    const exec = fakeExec({ probe: [{ exitCode: 3, stderr: 'orders stuck' }, { exitCode: 3, stderr: 'orders stuck' }, { exitCode: 3, stderr: 'orders stuck' }] });
    const doc = watchRunbook(`
every: 15m
count: 3
failure_limit: 5
checks: [{ id: orders, run: probe }]`);
    const result = await h.run(doc, {}, { exec });
    expect(result.exitCode).toBe(1);
    expect(ticks(h.events).map((e) => e.tick.status)).toEqual(['failed', 'failed', 'failed']);
    const outcome = finished(h.events)!;
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toBe('the window closed and no tick of 3 passed (3 failed, within failure_limit 5): nothing showed the system is well');
  });

  it('ends inconclusive, never succeeded, when the owner kept watching and no tick ever passed', async () => {
    const h = harness();
    const send = fakeSend(() => ({ status: 200, body: '{}' }));
    const doc = watchRunbook(`
every: 15m
count: 3
checks:
  - { id: errors, http: { url: "\${{ vars.base }}/stats", json_path: $.errors }, expect: result < 1.0 }`);
    const result = await h.run(doc, {}, { send, answers: new Map([['w.inconclusive', 'continue']]) });
    expect(result.exitCode).toBe(1);
    expect(ticks(h.events).map((e) => e.tick.status)).toEqual(['inconclusive', 'inconclusive', 'inconclusive']);
    const outcome = finished(h.events)!;
    expect(outcome.status).toBe('inconclusive');
    expect(outcome.reason).toBe('the window closed and no tick of 3 passed (3 without data; the owner chose to keep watching): nothing showed the system is well');
  });

  it("asks the owner at the terminal, the safe answer first; 'fail' makes the watch inconclusive", async () => {
    const h = harness();
    const send = fakeSend(() => ({ status: 200, body: '{}' }));
    const prompter = scriptedPrompter({ 'w.inconclusive': 'fail' });
    const doc = watchRunbook(`
every: 15m
count: 4
checks:
  - { id: errors, http: { url: "\${{ vars.base }}/stats", json_path: $.errors }, expect: result < 1.0 }`);
    const result = await h.run(doc, {}, { send, prompter });
    expect(result.exitCode).toBe(1);
    const request = prompter.requests[0]!;
    expect(request).toMatchObject({ kind: 'decide', id: 'w.inconclusive', who: '[On-Call]' });
    expect(request.kind === 'decide' && request.choices.map((c) => c.value)).toEqual(['fail', 'continue']);
    expect(request.message).toContain("Watch 'w': 1 ticks without data, more than its inconclusive_limit of 0");
    expect(finished(h.events)).toMatchObject({ status: 'inconclusive', reason: expect.stringContaining('the owner chose to stop watching') });
  });

  it('judges each tick of an http check by its metrics and adds up every request of the window', async () => {
    const h = harness();
    let n = 0;
    const send = fakeSend(() => ({ status: ++n === 7 ? 500 : 200, body: 'ok' }));
    const doc = watchRunbook(`
every: 1h
count: 3
failure_limit: 1
checks:
  - id: health
    # No warm-up: every request sent is a sample, so the 7th is tick 2's second (warm-up requests are in no metric).
    http: { url: "\${{ vars.base }}/api/health", samples: 5, warmup: false, expect: { status: 200 } }
    metrics: { error_rate: { max: 0.001 } }`);
    await h.run(doc, {}, { send });
    expect(send.urls).toHaveLength(15);
    expect(ticks(h.events).map((e) => e.tick.status)).toEqual(['passed', 'failed', 'passed']);
    expect(ticks(h.events)[1]!.tick.reason).toMatch(/^health: error_rate 0\.2 > max 0\.001/);
    expect(cel(h.events, doc, '[steps.w.checks.health.metrics.samples, steps.w.checks.health.metrics.errors, steps.w.metrics.samples]')).toEqual([15, 1, 15]);
    expect(cel(h.events, doc, 'steps.w.metrics.error_rate') as number).toBeCloseTo(1 / 15, 10);
  });

  it("warms an http check up as a step's probe: the warm-up requests are sent, and counted in no metric of the window", async () => {
    const h = harness();
    const send = fakeSend(() => ({ status: 200, body: 'ok' }));
    const doc = watchRunbook(`
every: 1h
count: 3
checks:
  - id: health
    http: { url: "\${{ vars.base }}/api/health", samples: 5, concurrency: 5, expect: { status: 200 } }`);
    await h.run(doc, {}, { send });
    expect(send.urls.length).toBeGreaterThan(15);
    expect(ticks(h.events).map((e) => e.tick.status)).toEqual(['passed', 'passed', 'passed']);
    expect(cel(h.events, doc, '[steps.w.checks.health.metrics.samples, steps.w.metrics.samples]')).toEqual([15, 15]);
  });

  it('skips a check whose if: is false at that tick; a tick whose every check was skipped has no data', async () => {
    const h = harness();
    const doc = watchRunbook(`
every: 15m
count: 2
inconclusive_limit: 5
checks:
  - { id: never, if: "vars.base == ''", run: "true" }`);
    await h.run(doc, {}, { exec: fakeExec({}) });
    expect(ticks(h.events).map((e) => [e.tick.status, e.tick.checks[0]!.status])).toEqual([
      ['inconclusive', 'skipped'],
      ['inconclusive', 'skipped'],
    ]);
  });

  it('shows a running watch to alarm conditions (tick by tick), as finished steps are', async () => {
    const h = harness();
    const controller = new AbortController();
    const exec = fakeExec({ probe: [{}, { exitCode: 1 }] });
    const doc = watchRunbook(`
every: 15m
count: 4
failure_limit: 3
checks: [{ id: orders, run: probe }]`);
    h.clock.setTimer(20 * MIN, () => controller.abort('SIGINT'));
    await h.run(doc, { signal: controller.signal }, { exec });
    const events = h.events.filter((e) => e.kind !== 'step-finished' && e.kind !== 'run-finished' && e.kind !== 'interrupted');
    expect(cel(events, doc, "steps.w.status == 'running' && steps.w.last.checks.orders.status == 'failed' && steps.w.failed_ticks == 1", true)).toBe(true);
  });

  it('says in a dry run what it would watch, and runs no tick', async () => {
    const h = harness();
    const exec = fakeExec({});
    const doc = watchRunbook(`
every: 15m
for: 3h
checks: [{ id: orders, run: probe }, { id: db, run: check-db }]`);
    const result = await h.run(doc, { dryRun: true }, { exec });
    expect(result.exitCode).toBe(0);
    expect(exec.calls).toEqual([]);
    expect(finished(h.events)).toMatchObject({ status: 'skipped', dryRun: true, reason: 'dry run: would watch every 15m for 3h (12 ticks), each tick checking orders, db; no tick run' });
  });
});

describe('a watch across a crash or Ctrl-C', () => {
  const DOC = watchRunbook(`
every: 15m
count: 8
inconclusive_limit: 3
checks: [{ id: orders, run: probe }]`);

  it('stops promptly at Ctrl-C between ticks (no busy wait), interrupted and resumable', async () => {
    const h = harness();
    const controller = new AbortController();
    h.clock.setTimer(20 * MIN, () => controller.abort('SIGINT'));
    const result = await h.run(DOC, { signal: controller.signal }, { exec: fakeExec({ probe: {} }) });
    expect(result.exitCode).toBe(130);
    expect(finished(h.events)).toMatchObject({ status: 'interrupted', reason: 'interrupted while waiting for the next tick (resume continues the same window)' });
    expect(finished(h.events)!.endedAt - START).toBe(20 * MIN);
    expect(ticks(h.events)).toHaveLength(2);
  });

  it('continues the same window on resume: the slots that passed unwatched are recorded as missed (one event), never passed', async () => {
    const first = harness();
    const controller = new AbortController();
    first.clock.setTimer(20 * MIN, () => controller.abort('SIGINT'));
    await first.run(DOC, { signal: controller.signal }, { exec: fakeExec({ probe: {} }) });

    // Back 65 minutes after the start: the ticks due at 30 and 45 minutes passed while nobody watched; the one due at 60
    // is late, but its time has not passed (the next is due at 75): it runs now.
    const second = harness();
    await second.clock.advance(65 * MIN);
    const exec = fakeExec({ probe: {} });
    const result = await second.run(DOC, { resume: { state: foldEvents(first.events) } }, { exec });
    expect(result.exitCode).toBe(0);
    expect(second.events.filter((e) => e.kind === 'watch-started')).toHaveLength(0);
    const t = ticks(second.events);
    expect(t[0]!.tick).toMatchObject({ n: 3, through: 4, status: 'missed', due: START + 30 * MIN });
    expect(t[0]!.tick.reason).toBe('not run: due at 10:30:00 UTC, reached only at 11:05:00 UTC (deployctl was not running, or was busy past it)');
    expect(t.slice(1).map((e) => [e.tick.n, e.tick.status, (e.at - START) / MIN])).toEqual([
      [5, 'passed', 65],
      [6, 'passed', 75],
      [7, 'passed', 90],
      [8, 'passed', 105],
    ]);
    const all = [...first.events, ...second.events];
    expect(cel(all, DOC, '[steps.w.ticks, steps.w.passed_ticks, steps.w.missed_ticks, steps.w.uptime]')).toEqual([8, 6, 2, 0.75]);
  });

  it('after a crash (no step-finished in the journal), resumes a watch without asking whether it completed', async () => {
    const first = harness();
    const controller = new AbortController();
    first.clock.setTimer(20 * MIN, () => controller.abort('SIGINT'));
    await first.run(DOC, { signal: controller.signal }, { exec: fakeExec({ probe: {} }) });
    // kill -9 during the sleep after tick 2: the journal ends with that tick.
    const lastTick = first.events.findLastIndex((e) => e.kind === 'watch-tick');
    const crashed = first.events.slice(0, lastTick + 1);

    const second = harness();
    await second.clock.advance(31 * MIN);
    const prompter = scriptedPrompter({});
    const result = await second.run(DOC, { resume: { state: foldEvents(crashed) } }, { exec: fakeExec({ probe: {} }), prompter });
    expect(result.exitCode).toBe(0);
    expect(prompter.requests).toEqual([]);
    // Tick 3 (due at 30) is only a minute late: it runs now, not missed.
    expect(ticks(second.events).map((e) => [e.tick.n, e.tick.status])).toEqual([
      [3, 'passed'],
      [4, 'passed'],
      [5, 'passed'],
      [6, 'passed'],
      [7, 'passed'],
      [8, 'passed'],
    ]);
    expect((ticks(second.events)[0]!.at - START) / MIN).toBe(31);
  });

  it('counts missed ticks against inconclusive_limit: a long outage asks the owner (here: fails closed)', async () => {
    const first = harness();
    const controller = new AbortController();
    first.clock.setTimer(5 * MIN, () => controller.abort('SIGINT'));
    await first.run(DOC, { signal: controller.signal }, { exec: fakeExec({ probe: {} }) });
    const second = harness();
    await second.clock.advance(80 * MIN);
    const result = await second.run(DOC, { resume: { state: foldEvents(first.events) } }, { exec: fakeExec({ probe: {} }) });
    expect(result.exitCode).toBe(1);
    expect(ticks(second.events)[0]!.tick).toMatchObject({ n: 2, through: 5, status: 'missed' });
    expect(finished(second.events)).toMatchObject({ status: 'inconclusive', reason: expect.stringContaining('4 ticks without data (inconclusive_limit 3)') });
  });

  it('records every slot as missed when resumed after the window closed, and ends at once', async () => {
    const first = harness();
    const controller = new AbortController();
    first.clock.setTimer(5 * MIN, () => controller.abort('SIGINT'));
    const doc = watchRunbook(`
every: 15m
count: 4
inconclusive_limit: 10
checks: [{ id: orders, run: probe }]`);
    await first.run(doc, { signal: controller.signal }, { exec: fakeExec({ probe: {} }) });
    const second = harness();
    await second.clock.advance(5 * 60 * MIN);
    const exec = fakeExec({ probe: {} });
    await second.run(doc, { resume: { state: foldEvents(first.events) } }, { exec });
    expect(exec.calls).toEqual([]);
    expect(ticks(second.events).map((e) => e.tick)).toMatchObject([{ n: 2, through: 4, status: 'missed' }]);
    expect(finished(second.events)).toMatchObject({ status: 'succeeded', ticks: { recorded: 4, passed: 1, missed: 3 } });
  });
});

describe('the timeline during a run', () => {
  const TIMED = inlineRunbook(`
version: 1
name: timed
roles: { oncall: { title: On-Call } }
phases:
  - id: monitor
    at: T
    steps:
      - id: w
        owner: oncall
        watch: { every: 15m, for: 1h, checks: [{ id: ok, run: "true" }] }
  - id: close
    at: T+30m
    steps: [{ id: done, owner: oncall, run: "true" }]
`);

  it('says once that a phase is still running at the end of its window, when it happens', async () => {
    const h = harness();
    await h.run(TIMED, {}, { exec: fakeExec({ true: {} }) });
    const overruns = h.events.filter((e): e is EventOf<'phase-overrun'> => e.kind === 'phase-overrun');
    expect(overruns).toEqual([{ kind: 'phase-overrun', at: START + 30 * MIN, phaseId: 'monitor', plannedEnd: START + 30 * MIN }]);
    const state = foldEvents(h.events);
    expect(state.phases.get('monitor')?.overrunAt).toBe(START + 30 * MIN);
    expect(state.phases.get('close')?.overrunAt).toBeUndefined();
  });

  it('on resume past the end of the window, says so at once (and never twice)', async () => {
    const first = harness();
    const controller = new AbortController();
    first.clock.setTimer(10 * MIN, () => controller.abort('SIGINT'));
    await first.run(TIMED, { signal: controller.signal }, { exec: fakeExec({ true: {} }) });
    expect(first.events.some((e) => e.kind === 'phase-overrun')).toBe(false);
    const second = harness();
    await second.clock.advance(40 * MIN);
    await second.run(TIMED, { resume: { state: foldEvents(first.events) } }, { exec: fakeExec({ true: {} }) });
    expect(second.events.filter((e) => e.kind === 'phase-overrun').map((e) => e.at - START)).toEqual([40 * MIN]);
  });

  it('takes --t0 as T: a run that starts late is behind from its first phase', async () => {
    const h = harness();
    await h.run(TIMED, { t0: START - 45 * MIN }, { exec: fakeExec({ true: {} }) });
    expect(h.events[0]).toMatchObject({ kind: 'run-started', t0: START - 45 * MIN });
    // The monitor phase's window (T..T+30m) had closed before it started: it overran at once. The last timed phase
    // has no end on the plan, so it cannot overrun.
    expect(h.events.filter((e) => e.kind === 'phase-overrun').map((e) => [e.at - START, 'phaseId' in e ? e.phaseId : ''])).toEqual([[0, 'monitor']]);
  });
});

describe('a rehearsal (the engine on a scaled clock)', () => {
  it('waits 1/N of each tick interval in real time, and records plan times', async () => {
    const base = createManualClock(START);
    const planClock = rehearsalClock(base, 720, { plan: START, real: START });
    const exec = fakeExec({ probe: {} });
    const doc = watchRunbook(`
every: 15m
count: 4
checks: [{ id: orders, run: probe }]`);
    const events: RunEvent[] = [];
    const run = import('../../src/engine/execute.js').then(({ executeRun }) =>
      executeRun(
        doc,
        { runId: '20261126T100000Z-abcdef', operator: 'tester', host: 'h', toolVersion: '0', vars: {}, dryRun: false, signal: new AbortController().signal, rehearsal: { timeScale: 720 } },
        { exec, send: fakeSend(() => ({ status: 200, body: '' })), clock: planClock, stepClock: base, prompter: undefined, answers: new Map(), env: {}, secretValues: [], mask: (t) => t, emit: (e) => events.push(e) },
      ),
    );
    let done = false;
    void run.then(() => (done = true));
    while (!done) if (!(await base.runNext())) await new Promise((r) => setImmediate(r));
    expect((await run).exitCode).toBe(0);
    // Three 15-minute waits at 720×: 1.25 s of real time each.
    expect(base.monotonic()).toBe(3 * 1250);
    expect(ticks(events).map((e) => (e.at - START) / MIN)).toEqual([0, 15, 30, 45]);
    expect(events[0]).toMatchObject({ kind: 'run-started', rehearsal: { timeScale: 720 } });
  });

  it("does not scale a check's own timeout: it is the system's time, not the plan's", async () => {
    const base = createManualClock(START);
    const planClock = rehearsalClock(base, 720, { plan: START, real: START });
    // A check whose server never answers: only the step's timeout ends it.
    const send: HttpSend = (request) =>
      new Promise((resolve) => request.signal?.addEventListener('abort', () => resolve({ ok: false, error: 'aborted', durationMs: 0, timedOut: false }), { once: true }));
    const doc = watchRunbook(`
every: 15m
count: 1
checks:
  - { id: slow, http: { url: "\${{ vars.base }}/slow" }, timeout: 30s }`);
    const events: RunEvent[] = [];
    const { executeRun } = await import('../../src/engine/execute.js');
    const run = executeRun(
      doc,
      { runId: '20261126T100000Z-abcdef', operator: 'tester', host: 'h', toolVersion: '0', vars: { base: 'http://127.0.0.1:9' }, dryRun: false, signal: new AbortController().signal },
      { exec: fakeExec({}), send, clock: planClock, stepClock: base, prompter: undefined, answers: new Map(), env: {}, secretValues: [], mask: (t) => t, emit: (e) => events.push(e) },
    );
    let done = false;
    void run.then(() => (done = true));
    while (!done) if (!(await base.runNext())) await new Promise((r) => setImmediate(r));
    const tick = ticks(events)[0]!.tick;
    expect(tick.checks[0]).toMatchObject({ status: 'failed', reason: expect.stringContaining('timed out after 30s') });
    // 30 real seconds passed on the unscaled clock (scaled, the timeout would have fired after 42 ms).
    expect(base.monotonic()).toBe(30_000);
  });
});
