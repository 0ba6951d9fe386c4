// The notifier and real time: a watch's ticks (ALERT at once, RESOLVED at the next passing tick, missed ticks), a long healthy watch is no issue, a phase past its window.
import { describe, expect, it } from 'vitest';
import type { EventOf, RunEvent, WatchTick } from '../../src/engine/events.js';
import { createNotifier } from '../../src/notify/notifier.js';
import { createManualClock } from '../../src/ports/clock.js';
import { inlineRunbook } from '../helpers/engine-fakes.js';

const START = Date.UTC(2026, 10, 26, 10, 0, 0);
const MIN = 60_000;

const RUNBOOK = inlineRunbook(`
version: 1
name: n
roles:
  on-call: { title: On-Call, primary: Gus, escalates_to: [tech-lead] }
  tech-lead: { title: Tech Lead, primary: Kofi, escalates_to: [cto] }
  cto: { title: CTO, primary: Lena }
  lead: { title: Lead }
notify:
  channels: [{ id: log, file: notes.log }]
escalation:
  - { name: Issue taking > 15 min, after: 15m }
  - { name: Behind schedule, on: overrun, to: [lead] }
phases:
  - id: go
    at: T
    steps: [{ id: ship, owner: on-call, run: ship }]
  - id: watching
    at: T+30m
    steps:
      - id: w
        title: Health every hour
        owner: on-call
        watch: { every: 1h, count: 5, failure_limit: 2, checks: [{ id: health, run: check }] }
  - id: close
    at: T+2h
    steps: [{ id: bye, owner: on-call, run: bye }]
`);

function setup() {
  const clock = createManualClock(START);
  const texts: string[] = [];
  const events: RunEvent[] = [];
  const notifier = createNotifier({
    doc: RUNBOOK.doc,
    clock,
    send: async () => ({ ok: true, status: 200, body: '', durationMs: 1 }),
    appendFile: (_f, text) => texts.push(text),
    resolvePath: (f) => f,
    env: {},
    emit: (e) => {
      events.push(e);
      notifier.onEvent(e);
    },
    mask: (t) => t,
    dryRun: false,
    print: () => undefined,
  });
  const feed = (e: Record<string, unknown>) => {
    const event = { ...e, at: clock.now() } as RunEvent;
    events.push(event);
    notifier.onEvent(event);
  };
  return { clock, texts, events, feed };
}

const start = { kind: 'run-started', runId: 'r', runbook: { name: 'n', path: 'n.yaml', sha256: 'x' }, tool: { name: 'deployctl', version: '0' }, operator: 'op', host: 'h', vars: {}, dryRun: false };
const tick = (n: number, status: WatchTick['status'], extra: Partial<WatchTick> = {}): Record<string, unknown> => ({
  kind: 'watch-tick',
  stepId: 'w',
  tick: { n, due: START + (n - 1) * 60 * MIN, status, checks: status === 'missed' ? [] : [{ id: 'health', kind: 'run', status: status === 'failed' ? 'failed' : 'passed', durationMs: 3 }], ...extra },
});

function openWatch(feed: (e: Record<string, unknown>) => void): void {
  feed(start);
  feed({ kind: 'phase-started', phaseId: 'watching' });
  feed({ kind: 'step-started', stepId: 'w', phaseId: 'watching', stepKind: 'watch', attempt: 1, rollback: false });
  feed({ kind: 'watch-started', stepId: 'w', phaseId: 'watching', plan: { startedAt: START, everyMs: 60 * MIN, initialDelayMs: 0, plannedTicks: 5 } });
}

const escalations = (events: RunEvent[]) => events.filter((e): e is EventOf<'escalation'> => e.kind === 'escalation');

describe('a watch in the communication plan', () => {
  it('is no issue while its ticks pass, however long its window (no "taking > 15 min")', async () => {
    const { clock, texts, events, feed } = setup();
    openWatch(feed);
    feed(tick(1, 'passed'));
    await clock.advance(3 * 60 * MIN);
    expect(escalations(events)).toEqual([]);
    expect(texts.filter((t) => t.includes('ALERT'))).toEqual([]);
  });

  it('sends an ALERT at the failing tick, climbs while it stays failing, and RESOLVED at the next passing tick', async () => {
    const { clock, texts, events, feed } = setup();
    openWatch(feed);
    feed(tick(1, 'passed'));
    await clock.advance(60 * MIN);
    feed(tick(2, 'failed', { reason: 'health: exit code 1' }));
    const alert = texts.at(-1)!;
    expect(alert).toContain('🚨 ALERT: Watch failing: Health every hour');
    expect(alert).toContain("Description: watch 'w': tick 2 of 5 failed: health: exit code 1");
    expect(alert).toContain('Action: watching on; 2 more failing ticks fail the watch (failure_limit 2)');
    expect(alert).toContain('ETA: next tick at 12:00 UTC');
    expect(alert).toContain('Assignee: On-Call · Gus');
    await clock.advance(45 * MIN);
    expect(escalations(events).map((e) => [e.rule, e.to.map((t) => t.role), (e.at - START) / MIN])).toEqual([
      ['Issue taking > 15 min', ['tech-lead'], 75],
      ['Issue taking > 15 min', ['cto'], 90],
    ]);
    await clock.advance(15 * MIN);
    feed(tick(3, 'passed'));
    const resolved = texts.at(-1)!;
    expect(resolved).toContain("✅ RESOLVED: watch 'w' (Health every hour) failing");
    expect(resolved).toContain('Resolution Time: 1h');
    expect(resolved).toContain('Status: Back to normal: tick 3 of 5 passed (1 failing of 3 so far, failure_limit 2)');
    expect(resolved).toContain('Next Steps: watching on: 2 more ticks, the next at 13:00 UTC');
    // Resolved: the climb stops.
    await clock.advance(2 * 60 * MIN);
    expect(escalations(events)).toHaveLength(2);
  });

  it('says at once when ticks were missed (never as passed), and resolves at the next passing tick', () => {
    const { texts, feed } = setup();
    openWatch(feed);
    feed(tick(1, 'passed'));
    feed(tick(2, 'missed', { through: 3, reason: 'not run: due at 11:00:00 UTC, reached only at 12:40:00 UTC (deployctl was not running, or was busy past it)' }));
    expect(texts.at(-1)).toContain('🚨 ALERT: Watch missed ticks: Health every hour');
    expect(texts.at(-1)).toContain("Description: watch 'w': ticks 2-3 of 5 missed: not run: due at 11:00:00 UTC");
    expect(texts.at(-1)).toContain('Action: no data for that time: counted against inconclusive_limit, never as passed');
    feed(tick(4, 'passed'));
    expect(texts.at(-1)).toContain("✅ RESOLVED: watch 'w' (Health every hour) failing");
  });
});

describe('a phase past its window', () => {
  it('sends an ALERT with the plan against what happened, and fires on: overrun', () => {
    const { texts, events, feed } = setup();
    feed(start);
    feed({ kind: 'phase-started', phaseId: 'go' });
    feed({ kind: 'phase-overrun', phaseId: 'go', plannedEnd: START + 30 * MIN });
    const alert = texts.find((t) => t.includes('ALERT: Behind schedule: go'))!;
    expect(alert).toContain("Description: phase 'go' (go) is still running at T+30m (10:30 UTC), the end of its window; it started at T (10:00 UTC), planned T (10:00 UTC)");
    expect(alert).toContain("Action: finish it, or re-plan: 'watching' (watching) was due at T+30m (10:30 UTC)");
    expect(escalations(events)).toMatchObject([{ rule: 'Behind schedule', to: [{ role: 'lead' }] }]);
  });

  it('says a phase that started after its window ended started late, rather than that it is "still running"', async () => {
    const { clock, texts, feed } = setup();
    feed(start);
    feed({ kind: 'phase-started', phaseId: 'go' });
    await clock.advance(40 * MIN);
    feed({ kind: 'phase-finished', phaseId: 'go', status: 'succeeded' });
    await clock.advance(60 * MIN);
    feed({ kind: 'phase-started', phaseId: 'watching' });
    feed({ kind: 'phase-overrun', phaseId: 'watching', plannedEnd: START + 2 * 60 * MIN - 30 * MIN });
    expect(texts.find((t) => t.includes('ALERT: Behind schedule: watching'))).toContain(
      "phase 'watching' (watching) started at T+1h40m (11:40 UTC), after the end of its window (T+1h30m (11:30 UTC)); it was planned for T+30m (10:30 UTC)",
    );
  });
});
