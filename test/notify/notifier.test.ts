// The notifier with a manual clock and a recording webhook port: cadence, suppression, escalation levels, timers, delivery.
import { describe, expect, it } from 'vitest';
import type { EventOf, RunEvent, StepOutcome } from '../../src/engine/events.js';
import { createNotifier, type NotifierDeps } from '../../src/notify/notifier.js';
import { createManualClock } from '../../src/ports/clock.js';
import type { HttpRequest, HttpResult } from '../../src/ports/types.js';
import { inlineRunbook } from '../helpers/engine-fakes.js';

const RUNBOOK = inlineRunbook(`
version: 1
name: n
target_duration: 20m
roles:
  lead: { title: Deployment Lead, primary: Ana, escalates_to: [tech-lead] }
  devops: { title: DevOps Engineer, primary: Chen, escalates_to: [tech-lead] }
  tech-lead: { title: Tech Lead, primary: Kofi, escalates_to: [cto] }
  cto: { title: CTO, primary: Lena }
notify:
  status_every: 5m
  channels:
    - { id: slack, webhook: "http://hooks.test/\${{ env.HOOK }}" }
    - { id: quiet, webhook: "http://hooks.test/never", if: "has(env.NEVER)" }
escalation:
  - { name: Issue taking > 15 min, after: 15m }
  - { name: Rollback needed, on: rollback, to: [lead] }
  - { name: System down, when: "steps.health.status == 'failed'", to: [cto] }
phases:
  - id: deploy
    steps:
      - { id: ship, owner: devops, run: ship }
      - { id: health, owner: devops, run: health }
    rollback:
      - { id: restore, owner: devops, run: restore }
  - id: go-live
    gate: { owner: lead, require: { approved: { confirm: Approved } } }
`);

function setup(reply: (req: HttpRequest) => HttpResult = () => ({ ok: true, status: 200, body: 'ok', durationMs: 1 }), extra: Partial<NotifierDeps> = {}) {
  const clock = createManualClock(Date.UTC(2026, 10, 26, 10, 0, 0));
  const sent: { url: string; text: string }[] = [];
  const events: RunEvent[] = [];
  const deps: NotifierDeps = {
    doc: RUNBOOK.doc,
    clock,
    send: async (req) => {
      sent.push({ url: req.url, text: (JSON.parse(req.body ?? '{}') as { text: string }).text });
      return reply(req);
    },
    appendFile: () => undefined,
    resolvePath: (f) => f,
    env: { HOOK: 'abc' },
    emit: (e) => {
      events.push(e);
      notifier.onEvent(e);
    },
    mask: (t) => t.replaceAll('s3cret', '***'),
    dryRun: false,
    print: () => undefined,
    webhook: { attempts: 3, backoffMs: 100 },
    ...extra,
  };
  const notifier = createNotifier(deps);
  const feed = (e: Omit<RunEvent, 'at'> & { kind: RunEvent['kind'] }) => {
    const event = { ...e, at: clock.now() } as RunEvent;
    events.push(event);
    notifier.onEvent(event);
  };
  return { clock, sent, events, notifier, feed };
}

const start = {
  kind: 'run-started',
  runId: 'r1',
  runbook: { name: 'n', path: 'n.yaml', sha256: 'x' },
  tool: { name: 'deployctl', version: '0' },
  operator: 'op',
  host: 'h',
  vars: {},
  dryRun: false,
} as const;

const ok = (over: Partial<StepOutcome> = {}): StepOutcome => ({ status: 'succeeded', attempts: 1, startedAt: 0, endedAt: 0, durationMs: 1, ...over });

const escalations = (events: RunEvent[]) => events.filter((e): e is EventOf<'escalation'> => e.kind === 'escalation');

describe('notifier', () => {
  it('posts a Slack-style {"text": …} status update every status_every, changed or not: an unchanged one says since when nothing changed', async () => {
    const { clock, sent, feed, notifier } = setup();
    feed(start);
    feed({ kind: 'phase-started', phaseId: 'deploy' });
    await clock.advance(5 * 60_000);
    await notifier.finish();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.url).toBe('http://hooks.test/abc');
    expect(sent[0]!.text).toMatch(/^\[Deployment Status - 10:05 UTC\]\n📊 Status: IN PROGRESS\n⏱️ Elapsed: 5m \/ 20m total\n🟡 deploy: IN PROGRESS/);
    expect(sent[0]!.text).toContain('Next update: 10:10 UTC');
    // Nothing changes: an update on every interval all the same (issue 13 changed the old "quiet unless changed"),
    // each saying since when nothing has.
    await clock.advance(5 * 60_000);
    await clock.advance(5 * 60_000);
    await notifier.finish();
    expect(sent).toHaveLength(3);
    expect(sent[1]!.text.split('\n')[0]).toBe('[Deployment Status - 10:10 UTC] (no change since 10:05 UTC)');
    expect(sent[2]!.text.split('\n')[0]).toBe('[Deployment Status - 10:15 UTC] (no change since 10:05 UTC)');
    // A change is reported at the next interval, and becomes the new "since".
    feed({ kind: 'step-started', stepId: 'ship', phaseId: 'deploy', stepKind: 'run', attempt: 1, rollback: false });
    feed({ kind: 'step-finished', stepId: 'ship', phaseId: 'deploy', rollback: false, outcome: ok() });
    feed({ kind: 'phase-finished', phaseId: 'deploy', status: 'succeeded' });
    await clock.advance(5 * 60_000);
    await clock.advance(5 * 60_000);
    await notifier.finish();
    expect(sent).toHaveLength(5);
    expect(sent[3]!.text.split('\n')[0]).toBe('[Deployment Status - 10:20 UTC]');
    expect(sent[3]!.text).toContain('🟢 deploy: COMPLETE');
    expect(sent[4]!.text.split('\n')[0]).toBe('[Deployment Status - 10:25 UTC] (no change since 10:20 UTC)');
  });

  it("escalates a step open too long up the owner's path, once per level, and resolves when it ends", async () => {
    const { clock, sent, events, feed, notifier } = setup();
    feed(start);
    feed({ kind: 'step-started', stepId: 'ship', phaseId: 'deploy', stepKind: 'run', attempt: 1, rollback: false });
    await clock.advance(15 * 60_000 - 1);
    expect(escalations(events)).toHaveLength(0);
    await clock.advance(1);
    expect(escalations(events).map((e) => [e.level, e.to.map((t) => t.role)])).toEqual([[1, ['tech-lead']]]);
    await clock.advance(15 * 60_000);
    expect(escalations(events).map((e) => [e.level, e.to.map((t) => t.role)])).toEqual([
      [1, ['tech-lead']],
      [2, ['cto']],
    ]);
    // The path ends at the CTO: no third level however long it takes.
    await clock.advance(60 * 60_000);
    expect(escalations(events)).toHaveLength(2);
    // A retry of the same step does not re-arm the timers.
    feed({ kind: 'step-started', stepId: 'ship', phaseId: 'deploy', stepKind: 'run', attempt: 2, rollback: false });
    feed({ kind: 'step-finished', stepId: 'ship', phaseId: 'deploy', rollback: false, outcome: ok() });
    await notifier.finish();
    expect(sent.some((m) => m.text.startsWith('🚨 ALERT: Issue taking > 15 min') && m.text.includes('Assignee: Tech Lead · Kofi'))).toBe(true);
    expect(sent.at(-1)!.text).toMatch(/^✅ RESOLVED: step 'ship' \(ship\) \(escalated wait\)/);
  });

  it('escalates a go/no-go left open too long, counting from when it opened (before the attestations are asked)', async () => {
    const { clock, events, feed } = setup();
    feed(start);
    feed({ kind: 'gate-opened', gateId: 'go-live', phaseId: 'go-live' });
    await clock.advance(15 * 60_000);
    expect(escalations(events).map((e) => [e.rule, e.to.map((t) => t.role)])).toEqual([['Issue taking > 15 min', ['tech-lead']]]);
    feed({ kind: 'gate-decided', gateId: 'go-live', phaseId: 'go-live', decision: 'go', by: { role: 'lead', operator: 'op' }, answeredFrom: 'prompt' });
    await clock.advance(60 * 60_000);
    expect(escalations(events)).toHaveLength(1);
  });

  it('cancels the timers when the step ends in time', async () => {
    const { clock, events, feed } = setup();
    feed(start);
    feed({ kind: 'step-started', stepId: 'ship', phaseId: 'deploy', stepKind: 'run', attempt: 1, rollback: false });
    await clock.advance(14 * 60_000);
    feed({ kind: 'step-finished', stepId: 'ship', phaseId: 'deploy', rollback: false, outcome: ok() });
    await clock.advance(60 * 60_000);
    expect(escalations(events)).toHaveLength(0);
  });

  it('fires on: rollback and when: rules once, naming the target roles', async () => {
    const { events, feed, sent, notifier } = setup();
    feed(start);
    feed({ kind: 'step-finished', stepId: 'health', phaseId: 'deploy', rollback: false, outcome: ok({ status: 'failed', reason: 'status 503' }) });
    feed({ kind: 'rollback-started', reason: 'health failed', phases: ['deploy'] });
    feed({ kind: 'step-finished', stepId: 'restore', phaseId: 'deploy', rollback: true, outcome: ok() });
    await notifier.finish();
    expect(escalations(events).map((e) => [e.rule, e.to.map((t) => `${t.title} · ${t.person}`)])).toEqual([
      ['System down', ['CTO · Lena']],
      ['Rollback needed', ['Deployment Lead · Ana']],
    ]);
    expect(sent.filter((m) => m.text.startsWith('🚨 ALERT: Step failed'))).toHaveLength(1);
  });

  it('waits for evidence before a when: rule fires: `!steps.health.ok` is not true while health has not run', async () => {
    const runbook = inlineRunbook(`
version: 1
name: w
roles: { devops: { title: DevOps, primary: Chen }, cto: { title: CTO, primary: Lena } }
escalation:
  - { name: System down, when: "!steps.health.ok", to: [cto] }
  - { name: Either down, when: "!steps.health.ok || !steps.chat.ok", to: [cto] }
phases:
  - id: p
    steps:
      - { id: backup, owner: devops, run: backup }
      - { id: health, owner: devops, run: health }
      - { id: chat, owner: devops, run: chat }
`);
    const clock = createManualClock(0);
    const events: RunEvent[] = [];
    const notifier = createNotifier({
      doc: runbook.doc,
      clock,
      send: async () => ({ ok: true, status: 200, body: '', durationMs: 1 }),
      appendFile: () => undefined,
      resolvePath: (f) => f,
      env: {},
      emit: (e) => events.push(e),
      mask: (t) => t,
      dryRun: false,
      print: () => undefined,
    });
    const finish = (stepId: string, status: 'succeeded' | 'failed') =>
      notifier.onEvent({ kind: 'step-finished', at: 0, stepId, phaseId: 'p', rollback: false, outcome: ok({ status }) });
    notifier.onEvent({ ...start, at: 0 });
    finish('backup', 'succeeded');
    expect(escalations(events)).toEqual([]);
    finish('health', 'succeeded');
    expect(escalations(events)).toEqual([]);
    finish('chat', 'failed');
    expect(escalations(events).map((e) => e.rule)).toEqual(['Either down']);
    // The condition clears (a resumed run re-ran chat) and comes back: it fires again; System down never held.
    finish('chat', 'succeeded');
    finish('chat', 'failed');
    expect(escalations(events).map((e) => e.rule)).toEqual(['Either down', 'Either down']);
  });

  it('announces the all-clear on success and the failure notice otherwise', async () => {
    const a = setup();
    a.feed(start);
    a.feed({ kind: 'run-finished', status: 'succeeded', exitCode: 0 });
    await a.notifier.finish();
    expect(a.sent.at(-1)!.text).toMatch(/^🎉 DEPLOYMENT COMPLETE\nDeployment: SUCCESS/);
    expect(a.sent.at(-1)!.text).toContain('Thanks to: Ana, Chen, Kofi, Lena');
    // Nothing ran: the ALL-CLEAR says so, it does not claim "All passing ✓".
    expect(a.sent.at(-1)!.text).toContain('\nChecks: none ran\n');
    expect(a.sent.at(-1)!.text).not.toContain('All passing');
    const b = setup();
    b.feed(start);
    b.feed({ kind: 'run-finished', status: 'rolled-back', exitCode: 4, reason: 'health failed; rolled back' });
    await b.notifier.finish();
    expect(b.sent.at(-1)!.text).toMatch(/^↩️ DEPLOYMENT ROLLED BACK/);
    // An aborted run's notice ends with the command that continues that very run.
    const c = setup(undefined, { resumeCommand: 'deployctl run n.yaml --resume r1' });
    c.feed(start);
    c.feed({ kind: 'run-finished', status: 'aborted', exitCode: 130, reason: 'interrupted' });
    await c.notifier.finish();
    expect(c.sent.at(-1)!.text).toMatch(/^⏹️ DEPLOYMENT ABORTED[\s\S]*\nNext: resume with deployctl run n\.yaml --resume r1 when ready, or decide to stop here$/);
  });

  it('retries a webhook that answers 500, and journals a delivery failure without failing anything', async () => {
    let calls = 0;
    const { clock, events, feed, notifier } = setup(() => (++calls < 3 ? { ok: true, status: 500, body: '', durationMs: 1 } : { ok: true, status: 200, body: 'ok', durationMs: 1 }));
    feed(start);
    feed({ kind: 'run-finished', status: 'succeeded', exitCode: 0 });
    const finishing = notifier.finish();
    while ((await clock.runNext()) || calls < 3) await new Promise((r) => setImmediate(r));
    await finishing;
    const delivered = events.filter((e): e is EventOf<'notification'> => e.kind === 'notification');
    expect(delivered.map((n) => [n.channel, n.delivered, n.attempts])).toEqual([['slack', true, 3]]);

    const dead = setup(() => ({ ok: false, error: 'connection refused', durationMs: 1, timedOut: false }));
    dead.feed(start);
    dead.feed({ kind: 'run-finished', status: 'succeeded', exitCode: 0 });
    const done = dead.notifier.finish();
    while (await dead.clock.runNext());
    await done;
    const failed = dead.events.filter((e): e is EventOf<'notification'> => e.kind === 'notification');
    expect(failed.map((n) => [n.delivered, n.attempts, n.error])).toEqual([[false, 3, 'connection refused']]);
  });

  it('delivers one message at a time per channel, so a retried alert is not overtaken by the all-clear', async () => {
    let calls = 0;
    const { clock, sent, feed, notifier } = setup(() => (++calls === 1 ? { ok: true, status: 500, body: '', durationMs: 1 } : { ok: true, status: 200, body: 'ok', durationMs: 1 }));
    feed(start);
    feed({ kind: 'step-finished', stepId: 'ship', phaseId: 'deploy', rollback: false, outcome: ok({ status: 'failed', reason: 'boom' }) });
    feed({ kind: 'run-finished', status: 'failed', exitCode: 1, reason: 'boom' });
    const finishing = notifier.finish();
    while ((await clock.runNext()) || calls < 3) await new Promise((r) => setImmediate(r));
    await finishing;
    expect(sent.map((m) => m.text.split('\n')[0])).toEqual(['🚨 ALERT: Step failed: ship', '🚨 ALERT: Step failed: ship', '❌ DEPLOYMENT FAILED']);
  });

  it('masks secrets in what it sends', async () => {
    const { feed, sent, notifier } = setup();
    feed(start);
    feed({ kind: 'step-finished', stepId: 'ship', phaseId: 'deploy', rollback: false, outcome: ok({ status: 'failed', reason: 'token s3cret rejected' }) });
    await notifier.finish();
    expect(sent.map((m) => m.text).join('\n')).not.toContain('s3cret');
    expect(sent[0]!.text).toContain('token *** rejected');
  });
});

describe('on: no-go escalation', () => {
  const NO_GO = inlineRunbook(`
version: 1
name: n
roles:
  lead: { title: Deployment Lead, primary: Ana }
  cto: { title: CTO, primary: Lena }
escalation:
  - { name: Release held back, on: no-go, to: [cto] }
phases:
  - id: verify
    steps:
      - { id: lag, owner: lead, run: lag }
    gate: { owner: lead, require: { lag_ok: "steps.lag.ok", approved: { confirm: Approved } } }
`);

  it("says why: a person's reason for NO-GO while every condition held, and the conditions that did not hold", async () => {
    const { events, feed, notifier } = setup(undefined, { doc: NO_GO.doc });
    feed(start);
    feed({ kind: 'gate-opened', gateId: 'verify', phaseId: 'verify' });
    feed({ kind: 'gate-evaluated', gateId: 'verify', phaseId: 'verify', conditions: [{ name: 'lag_ok', text: 'steps.lag.ok', value: true, ok: true }] });
    feed({ kind: 'gate-decided', gateId: 'verify', phaseId: 'verify', decision: 'no-go', by: { role: 'lead', operator: 'op' }, answeredFrom: 'prompt', reason: 'payment provider freeze' });
    await notifier.finish();
    const [escalation] = escalations(events);
    // It said only "gate 'verify' decided NO-GO" (review 1 item 35).
    expect(escalation).toMatchObject({ rule: 'Release held back' });
    expect(escalation!.reason).toBe("gate 'verify' decided NO-GO: payment provider freeze");
  });

  it('names the conditions that did not hold, with their values', async () => {
    const { events, feed, notifier } = setup(undefined, { doc: NO_GO.doc });
    feed(start);
    feed({ kind: 'gate-opened', gateId: 'verify', phaseId: 'verify' });
    feed({ kind: 'gate-evaluated', gateId: 'verify', phaseId: 'verify', conditions: [{ name: 'lag_ok', text: 'steps.lag.ok', value: false, ok: false, explained: 'steps.lag.ok is false' }] });
    feed({ kind: 'gate-decided', gateId: 'verify', phaseId: 'verify', decision: 'no-go', by: { role: 'lead', operator: 'op' }, answeredFrom: 'automatic' });
    await notifier.finish();
    expect(escalations(events)[0]!.reason).toBe("gate 'verify' decided NO-GO: lag_ok does not hold (steps.lag.ok is false)");
  });
});
