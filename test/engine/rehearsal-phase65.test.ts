// phase65's whole 24-hour day, rehearsed at --time-scale 720 on an injected clock: every watch window, the timeline, the alerts, in about a second.
import { describe, expect, it } from 'vitest';
import { loadAnswers } from '../../src/engine/answers.js';
import type { EventOf, RunEvent } from '../../src/engine/events.js';
import { executeRun, type RunResult } from '../../src/engine/execute.js';
import { foldEvents } from '../../src/engine/state.js';
import { createNotifier } from '../../src/notify/notifier.js';
import { createManualClock, type ManualClock } from '../../src/ports/clock.js';
import { rehearsalClock } from '../../src/ports/rehearsal-clock.js';
import type { Exec, HttpSend, PromptRequest } from '../../src/ports/types.js';
import { promptsAsWaits } from '../../src/commands/run-time.js';
import { evaluateSuccessMetrics } from '../../src/record/build.js';
import { loadRunbook, type LoadedRunbook } from '../../src/runbook/load.js';
import { varDefaults } from '../../src/runbook/pattern.js';

const START = Date.UTC(2026, 10, 26, 5, 0, 0);
const SCALE = 720;
const MIN = 60_000;

function phase65(): LoadedRunbook {
  const loaded = loadRunbook('runbooks/phase65.yaml');
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
  return loaded.runbook;
}

/** The demo target's API, healthy unless `failing` names a path prefix: then that answers 500. */
function target(failing: Set<string>): HttpSend & { count: number } {
  const send = (async (request) => {
    send.count++;
    const path = new URL(request.url).pathname;
    if ([...failing].some((p) => path.startsWith(p))) return { ok: true as const, status: 500, body: 'error', durationMs: 3 };
    const body = path.startsWith('/api/health') ? '{"status":"ok"}' : path.startsWith('/api/chat') ? '{"reply":"hi"}' : path.startsWith('/api/products') ? '{"results":[1]}' : '{"id":"1001"}';
    return { ok: true as const, status: 200, body, durationMs: 3 };
  }) as HttpSend & { count: number };
  send.count = 0;
  return send;
}

interface Rehearsal {
  result: RunResult;
  events: RunEvent[];
  messages: { kind: string; text: string }[];
  base: ManualClock;
}

/**
 * Engine and notifier on one scaled clock (steps on the unscaled one), as `deployctl run --time-scale 720` wires them.
 * `slowMs` makes a command take that long in real time; `onEvent` can change the target between ticks.
 */
async function rehearse(
  options: { slowMs?: Record<string, number>; slowAnswers?: Record<string, number>; onEvent?: (e: RunEvent, failing: Set<string>) => void } = {},
): Promise<Rehearsal> {
  const runbook = phase65();
  const base = createManualClock(START);
  const clock = rehearsalClock(base, SCALE, { plan: START, real: START });
  const answers = loadAnswers('runbooks/phase65.answers.yaml', runbook.doc);
  if (!answers.ok) throw new Error('answers');
  const failing = new Set<string>();
  const send = target(failing);
  const exec: Exec = async (request) => {
    const command = 'shell' in request.command ? request.command.shell : request.command.argv.join(' ');
    const slow = Object.entries(options.slowMs ?? {}).find(([k]) => command.includes(k));
    if (slow !== undefined) await base.sleep(slow[1]);
    return { exitCode: 0, signal: null, timedOut: false, interrupted: false, durationMs: 1 };
  };
  // A person who takes their time: these steps are asked at the terminal (as the CLI wires it: a prompt is a wait).
  const slowAnswers = options.slowAnswers ?? {};
  const given = new Map([...answers.answers].filter(([key]) => !(key in slowAnswers)));
  const prompter = promptsAsWaits(
    Object.keys(slowAnswers).length === 0
      ? undefined
      : {
          ask: async (request: PromptRequest) => {
            await base.sleep(slowAnswers[request.id] ?? 0);
            return answers.answers.get(request.id) ?? true;
          },
        },
    clock,
  );
  const events: RunEvent[] = [];
  const messages: { kind: string; text: string }[] = [];
  const notifier = createNotifier({
    doc: runbook.doc,
    clock,
    deliveryClock: base,
    send,
    appendFile: (_file, text) => messages.push({ kind: /^--- \S+ (\S+)/.exec(text)?.[1] ?? '?', text }),
    resolvePath: (f) => f,
    env: {},
    emit: (e) => emit(e),
    mask: (t) => t,
    dryRun: false,
    print: () => undefined,
  });
  const emit = (e: RunEvent) => {
    events.push(e);
    notifier.onEvent(e);
    options.onEvent?.(e, failing);
  };
  const running = executeRun(
    runbook,
    {
      runId: '20261126T050000Z-abcdef',
      operator: 'rehearsal',
      host: 'test',
      toolVersion: '0',
      vars: varDefaults(runbook.doc),
      dryRun: false,
      signal: new AbortController().signal,
      rehearsal: { timeScale: SCALE },
    },
    { exec, send, clock, stepClock: base, prompter, answers: given, env: {}, secretValues: [], mask: (t) => t, emit },
  );
  let done = false;
  void running.then(
    () => (done = true),
    () => (done = true),
  );
  // The clock moves only once the run is waiting on it: an http probe yields a turn of the event loop before each
  // sample after the first of a worker (steps/http.ts: undici's connections go back to the pool a macrotask later), and
  // the status timers are always pending, so let the probes run their samples first.
  const settled = async () => {
    for (let i = 0; i < 300; i++) await new Promise((r) => setImmediate(r));
  };
  while (!done) {
    await settled();
    if (!(await base.runNext())) await new Promise((r) => setImmediate(r));
  }
  const result = await running;
  await notifier.finish();
  return { result, events, messages, base };
}

const ticksOf = (events: RunEvent[], stepId: string) => events.filter((e): e is EventOf<'watch-tick'> => e.kind === 'watch-tick' && e.stepId === stepId);

describe('phase65 rehearsed at --time-scale 720 (injected clock)', () => {
  it('runs the 24-hour day in about two minutes of real time: both monitoring windows tick through, the ALL-CLEAR at go-live', async () => {
    const { result, events, messages, base } = await rehearse();
    expect(result.status).toBe('succeeded');
    // T-30m to the T+24h sign-off is 24.5 planned hours: 122.5 s at 720×. Work is instant here, so the day ends early
    // by the pre-monitoring phases' windows; within 10% of the scaled plan either way.
    expect(Math.abs(base.monotonic() - (24.5 * 60 * MIN) / SCALE)).toBeLessThan(0.1 * ((24.5 * 60 * MIN) / SCALE));
    expect(ticksOf(events, 'h1-watch').map((e) => e.tick.status)).toEqual(Array(12).fill('passed'));
    expect(ticksOf(events, 'h4-watch').map((e) => e.tick.status)).toEqual(Array(20).fill('passed'));
    // Hour 1-4 ticks every 15 planned minutes, hour 4-24 every hour.
    const h1 = ticksOf(events, 'h1-watch').map((e) => e.tick.due);
    const h4 = ticksOf(events, 'h4-watch').map((e) => e.tick.due);
    expect(h1.slice(1).map((t, i) => t - h1[i]!)).toEqual(Array(11).fill(15 * MIN));
    expect(h4.slice(1).map((t, i) => t - h4[i]!)).toEqual(Array(19).fill(60 * MIN));
    // Status updates on the plan's cadence (5 planned minutes, 0.42 real seconds) all day. The ALL-CLEAR goes out once,
    // when go-live completes, before the monitoring windows (the failure policy branch, issue 13); the end of the run is
    // a last status update.
    expect(messages.filter((m) => m.kind === 'status').length).toBeGreaterThan(80);
    const allClears = messages.filter((m) => m.kind === 'all-clear');
    expect(allClears).toHaveLength(1);
    expect(allClears[0]!.text).toContain('DEPLOYMENT COMPLETE');
    expect(allClears[0]!.text).toContain('Next: Hour 1-4: active monitoring (T+1h), Hour 4-24: standard monitoring (T+4h), Sign-off & close (T+24h)');
    expect(messages.at(-1)!.kind).toBe('status');
    expect(messages.at(-1)!.text).toContain('📊 Status: SUCCEEDED');
    // The success metrics read the windows: over a thousand health checks, error rate and uptime resolved to 0.1%.
    const state = foldEvents(events);
    const metrics = Object.fromEntries(evaluateSuccessMetrics(phase65().doc, state, {}, state.finished!.at).map((m) => [m.id, m]));
    expect(metrics['uptime']).toMatchObject({ actual: 100, ok: true });
    expect(metrics['error_rate']).toMatchObject({ actual: 0, ok: true });
    expect(metrics['stable_4h']).toMatchObject({ actual: 'YES (12 of 12 ticks of hours 1-4 passed)', ok: true });
    const h1Health = state.steps.get('h1-watch')!.watch!.checks['health']!.metrics!;
    const h4Health = state.steps.get('h4-watch')!.watch!.checks['health']!.metrics!;
    expect(h1Health.samples + h4Health.samples).toBeGreaterThanOrEqual(1000);
  });

  it('a failing tick alerts at once and fires Customer impact; it climbs On-Call -> Tech Lead -> CTO until the next passing tick resolves it', async () => {
    const { result, events, messages } = await rehearse({
      onEvent: (e, failing) => {
        // Chat breaks after the second hourly tick of hours 4-24, and is back for the fourth.
        if (e.kind === 'watch-tick' && e.stepId === 'h4-watch' && e.tick.n === 2) failing.add('/api/chat');
        if (e.kind === 'watch-tick' && e.stepId === 'h4-watch' && e.tick.n === 3) failing.delete('/api/chat');
      },
    });
    expect(result.status).toBe('succeeded');
    expect(ticksOf(events, 'h4-watch').map((e) => e.tick.status).slice(0, 5)).toEqual(['passed', 'passed', 'failed', 'passed', 'passed']);
    const failedAt = ticksOf(events, 'h4-watch')[2]!.at;
    const alert = messages.find((m) => m.kind === 'issue' && m.text.includes('Watch failing'))!;
    expect(alert.text).toContain("watch 'h4-watch': tick 3 of 20 failed: chat:");
    const escalations = events.filter((e): e is EventOf<'escalation'> => e.kind === 'escalation');
    expect(escalations.find((e) => e.rule === 'Customer impact')).toMatchObject({ at: failedAt, to: [{ role: 'product' }, { role: 'cto' }] });
    // The issue stays open until the next tick, an hour later: 15 and 30 minutes on, it climbs a level each.
    const climb = escalations.filter((e) => e.rule === 'Issue taking > 15 min').map((e) => [(e.at - failedAt) / MIN, e.to.map((t) => t.role), e.level]);
    expect(climb).toEqual([
      [15, ['tech-lead'], 1],
      [30, ['cto'], 2],
    ]);
    const resolved = messages.find((m) => m.kind === 'resolved' && m.text.includes("watch 'h4-watch'"))!;
    expect(resolved.text).toContain('Back to normal: tick 4 of 20 passed (1 failing of 4 so far, failure_limit 2)');
    expect(resolved.text).toContain('Resolution Time: 1h');
    // What follows: the window's ticks left, then the run as it stands (nothing failing: the monitoring phase goes on).
    expect(resolved.text).toMatch(/\nRoot Cause: to be analysed; the run saw: watch 'h4-watch' failing since tick 3\n/);
    expect(resolved.text).toMatch(/\nNext Steps: watching on: 16 more ticks, the next at \d\d:\d\d UTC; the deployment continues with Hour 4-24: standard monitoring\n/);
  });

  it('a health check mostly failing at a tick fires System down to the CTO and Product from that tick', async () => {
    const { events } = await rehearse({
      onEvent: (e, failing) => {
        if (e.kind === 'watch-tick' && e.stepId === 'h1-watch' && e.tick.n === 4) failing.add('/api/health');
        if (e.kind === 'watch-tick' && e.stepId === 'h1-watch' && e.tick.n === 5) failing.delete('/api/health');
      },
    });
    const down = events.find((e): e is EventOf<'escalation'> => e.kind === 'escalation' && e.rule === 'System down')!;
    expect(down.to.map((t) => t.role)).toEqual(['cto', 'product']);
    expect(down.reason).toContain("after tick 5 of watch 'h1-watch'");
  });

  it('keeps work at its real pace: a deploy command of 5 real seconds is 5 seconds of the plan, no overrun, deployment time measured', async () => {
    const { events } = await rehearse({ slowMs: { "deploy '6.5.0'": 5000 } });
    expect(events.some((e) => e.kind === 'phase-overrun')).toBe(false);
    const state = foldEvents(events);
    const deploy = state.steps.get('deploy-release')!.outcome!;
    expect(deploy.endedAt - deploy.startedAt).toBe(5000);
    const metrics = Object.fromEntries(evaluateSuccessMetrics(phase65().doc, state, {}, state.finished!.at).map((m) => [m.id, m]));
    expect(metrics['deployment_time']).toMatchObject({ ok: true });
  });

  it('a phase still running at the end of its window sends an ALERT and fires on: overrun (Behind schedule, to the Lead)', async () => {
    // The run starts at T-30m with the work instant; in the deployment the DevOps engineer takes 5 real seconds at a
    // prompt, an hour of plan (a prompt is waiting): the deployment, due to end at T+10m, is still open then.
    const { events, messages } = await rehearse({ slowAnswers: { 'devops-during': 5000 } });
    const overrun = events.find((e): e is EventOf<'phase-overrun'> => e.kind === 'phase-overrun' && e.phaseId === 'deploy')!;
    expect(overrun.plannedEnd).toBe(START + 40 * MIN);
    // When the window closes (to the planned second: timers are rounded up to whole real milliseconds).
    expect(overrun.at - overrun.plannedEnd).toBeLessThan(1000);
    expect(messages.some((m) => m.kind === 'issue' && m.text.includes('ALERT: Behind schedule: Deployment'))).toBe(true);
    expect(events.find((e): e is EventOf<'escalation'> => e.kind === 'escalation' && e.rule === 'Behind schedule')).toMatchObject({ to: [{ role: 'lead' }] });
  });
});
