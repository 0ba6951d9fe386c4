// The communication plan on real runs (the engine with fake ports, the notifier on the same manual clock): ALL-CLEAR at go-live with counts, RESOLVED after a rollback, ETAs from the plan, no constant text.
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { foldEvents } from '../../src/engine/state.js';
import type { RunResult } from '../../src/engine/execute.js';
import { statusView } from '../../src/notify/messages.js';
import { createNotifier } from '../../src/notify/notifier.js';
import { evaluateSuccessMetrics, metricVerdict } from '../../src/record/success-metrics.js';
import type { ManualClock } from '../../src/ports/clock.js';
import type { LoadedRunbook } from '../../src/runbook/load.js';
import { fakeExec, harness, inlineRunbook, scriptedPrompter } from '../helpers/engine-fakes.js';

const ROLES = `
roles:
  lead: { title: Deployment Lead, primary: Ana }
  devops: { title: DevOps Engineer, primary: Chen }
  qa: { title: QA Lead, primary: Elif }
notify:
  channels: [{ id: log, file: notifications.log }]
`;

/** Run the engine with the notifier listening, both on the harness's manual clock; what was sent, by kind. */
type Deps = NonNullable<Parameters<ReturnType<typeof harness>['run']>[2]>;

/** `deps` may be made from the harness's clock (a prompter that answers later, on that clock). */
async function runNotified(runbook: LoadedRunbook, depsOrMake: Deps | ((clock: ManualClock) => Deps)) {
  const h = harness();
  const deps = typeof depsOrMake === 'function' ? depsOrMake(h.clock) : depsOrMake;
  const messages: { kind: string; text: string }[] = [];
  const events: RunEvent[] = [];
  const notifier = createNotifier({
    doc: runbook.doc,
    clock: h.clock,
    send: async () => ({ ok: true, status: 200, body: '', durationMs: 1 }),
    appendFile: (_file, text) => {
      const [head, ...body] = text.trimEnd().split('\n');
      messages.push({ kind: head!.split(' ').at(-1)!, text: body.join('\n') });
    },
    resolvePath: (f) => f,
    env: {},
    emit: (e) => events.push(e),
    mask: (t) => t,
    dryRun: false,
    print: () => undefined,
    successMetrics: (state, now) => evaluateSuccessMetrics(runbook.doc, state, {}, now).map((m) => ({ title: m.title, verdict: metricVerdict(m) })),
  });
  const result: RunResult = await h.run(runbook, {}, {
    ...deps,
    emit: (e) => {
      events.push(e);
      notifier.onEvent(e);
    },
  });
  return { result, messages, events, h };
}

const PLAN = (extra = '', deployFails = false) =>
  inlineRunbook(`
version: 1
name: comms
target_duration: 20m
${ROLES}
${extra}
success_metrics:
  - { id: health, title: Health, target: ok, ok: steps.health.ok }
  - { id: later, title: Stable at 4h, target: ok, ok: steps.stable.ok }
  - { id: done, title: Completed, target: "YES", ok: "run.status == 'succeeded'" }
phases:
  - id: preflight
    at: T-20m
    preflight: true
    steps:
      - { id: health, owner: qa, run: "health" }
  - id: deploy
    at: T-10m
    steps:
      - { id: ship, owner: devops, run: "${deployFails ? 'ship-fails' : 'ship'}" }
    rollback:
      - { id: restore, owner: devops, run: "restore" }
      - { id: after-health, owner: devops, http: { url: "http://app.test/health", samples: 4 } }
  - id: go-live
    at: T+30m
    go_live: true
    steps:
      - { id: announce, owner: lead, confirm: Announced }
  - id: monitor
    at: T+1h
    steps:
      - { id: stable, owner: qa, run: "stable" }
  - id: close
    at: T+24h
    steps:
      - { id: signoff, owner: lead, confirm: Signed off, on_failure: continue }
`);

const exec = () => fakeExec({ health: {}, ship: {}, 'ship-fails': { exitCode: 1, stderr: 'upload rejected\n' }, restore: { stdout: 'rolled back to 1.4.1 (from 1.5.0)\n' }, stable: {} });

describe('the ALL-CLEAR', () => {
  it('goes out when the go_live phase completes, with counts from the run, what comes next in the plan, and only once', async () => {
    const { result, messages } = await runNotified(PLAN(), { exec: exec(), answers: new Map([['announce', true], ['signoff', false]]) });
    expect(result.exitCode).toBe(0);
    const kinds = messages.map((m) => m.kind);
    expect(kinds.filter((k) => k === 'all-clear')).toHaveLength(1);
    // Before the monitoring phase, not at the end; the end of the run is a last status update.
    expect(kinds.at(-1)).toBe('status');
    const allClear = messages.find((m) => m.kind === 'all-clear')!.text;
    expect(allClear).toMatch(/^🎉 DEPLOYMENT COMPLETE\nDeployment: SUCCESS\nDuration: \S+/);
    expect(allClear).toContain('\nChecks: 2 of 2 passed\n');
    // Stable at 4h has not been measured at go-live, and the run has not ended: said so, not counted as failed.
    expect(allClear).toContain('\nSuccess metrics: 1 of 3 met, 2 not measured yet (Stable at 4h, Completed)\n');
    expect(allClear).toContain('\nOpen issues: none\n');
    expect(allClear).toMatch(/\nStatus: live since \d\d:\d\d UTC \(go-live complete\)\n/);
    expect(allClear).toContain('\nNext: monitor (T+1h), close (T+24h)\n');
    expect(allClear).not.toMatch(/All passing|Monitoring continues for 24 hours|TBD/);
    // The sign-off that failed later (on_failure: continue) is an ALERT, and the final status lists it.
    const last = messages.at(-1)!.text;
    expect(last).toContain('📊 Status: SUCCEEDED');
    expect(last).toContain("🚨 Issues: step 'signoff' (Signed off) failed");
  });
});

describe('a failed step', () => {
  it('ALERTs with what its on_failure leads to and an ETA from the plan (the end of its phase window), never TBD', async () => {
    const { messages } = await runNotified(PLAN('rollback: { authorize: lead, timeout: 5m, default: rollback, version: "${{ steps.restore.stdout.split(\' \')[3] }}" }', true), {
      exec: exec(),
      answers: new Map([['announce', true]]),
      prompter: scriptedPrompter({ rollback: 'rollback' }),
      send: async () => ({ ok: true, status: 200, body: 'ok', durationMs: 4 }),
    });
    const alert = messages.find((m) => m.text.startsWith('🚨 ALERT: Step failed: ship'))!.text;
    expect(alert).toContain("Description: step 'ship' (ship) failed: exit code 1");
    expect(alert).toContain('Action: stopping the deployment; rolling back deploy once Deployment Lead · Ana authorizes it (default in 5m: rollback)');
    // deploy runs T-10m to T+30m: 40 minutes from its actual start (10:00 on the manual clock).
    expect(alert).toContain("ETA: 10:40 UTC (the end of deploy's window in the plan, T-10m to T+30m)");
    const asked = messages.find((m) => m.text.startsWith('🚨 ALERT: Rollback awaiting authorization'))!.text;
    expect(asked).toContain('Assignee: Deployment Lead · Ana');
    expect(asked).toContain('ETA: 10:05 UTC (the default applies after 5m)');
    for (const m of messages) expect(m.text).not.toContain('TBD');
  });

  it('after a completed rollback: RESOLVED with the version rolled back to and the health after it, and it does not say the deployment continues', async () => {
    const { result, messages } = await runNotified(PLAN('rollback: { authorize: lead, version: "${{ steps.restore.stdout.split(\' \')[3] }}" }', true), {
      exec: exec(),
      answers: new Map([['rollback', 'rollback']]),
      send: async () => ({ ok: true, status: 200, body: 'ok', durationMs: 4 }),
    });
    expect(result.exitCode).toBe(4);
    const resolved = messages.find((m) => m.kind === 'resolved')!.text;
    expect(resolved).toMatch(/^✅ RESOLVED: rolled back deploy\nResolution Time: \S+/);
    expect(resolved).toContain('\nStatus: rolled back to 1.4.1\n');
    expect(resolved).toContain('\nHealth after rollback: after-health passed (p95 4 ms, errors 0/4)\n');
    expect(resolved).toContain("\nRoot Cause: to be analysed; the run saw: step 'ship' failed: exit code 1: upload rejected\n");
    expect(resolved).toContain('\nNext Steps: the run ends ROLLED BACK; post-incident review');
    expect(resolved).not.toContain('continues');
    const notice = messages.at(-1)!.text;
    expect(notice).toMatch(/^↩️ DEPLOYMENT ROLLED BACK/);
    expect(notice).toContain('\nRolled back to: 1.4.1\n');
    expect(notice).not.toContain('Previous version restored');
  });

  it('a RESOLVED for a retried rollback step says the rollback continues, not the deployment', async () => {
    const doc = inlineRunbook(`
version: 1
name: retried
${ROLES}
phases:
  - id: deploy
    steps:
      - { id: ship, owner: devops, run: "ship" }
    rollback:
      - { id: restore, owner: devops, run: "restore", retries: 1, retry_delay: 1s }
      - { id: tell, owner: lead, confirm: Told }
`);
    const { messages } = await runNotified(doc, { exec: fakeExec({ ship: { exitCode: 1 }, restore: [{ exitCode: 1 }, {}] }), answers: new Map([['tell', true]]) });
    const resolved = messages.filter((m) => m.kind === 'resolved').map((m) => m.text);
    expect(resolved[0]).toMatch(/^✅ RESOLVED: step 'restore' \(restore\) failing/);
    expect(resolved[0]).toContain('Next Steps: the rollback continues');
  });

  it('a NO-GO before anything changed says production is unchanged, not "previous version still live"', async () => {
    const doc = inlineRunbook(`
version: 1
name: held
${ROLES}
phases:
  - id: preflight
    preflight: true
    steps:
      - { id: health, owner: qa, run: "health" }
  - id: go
    gate: { owner: lead, require: { ok: "true" } }
  - id: deploy
    steps:
      - { id: ship, owner: devops, run: "ship" }
    rollback:
      - { id: restore, owner: devops, run: "restore" }
`);
    const { result, messages } = await runNotified(doc, { exec: fakeExec({ health: { exitCode: 1 } }), answers: new Map([['go', 'go']]) });
    expect(result.exitCode).toBe(3);
    const notice = messages.at(-1)!.text;
    expect(notice).toMatch(/^⛔ DEPLOYMENT HELD: NO-GO/);
    expect(notice).toContain('\nStatus: unchanged: the run stopped before deploy\n');
    const alert = messages.find((m) => m.text.startsWith('🚨 ALERT: Step failed: health'))!.text;
    expect(alert).toContain("Action: the remaining steps up to go/no-go 'go' still run; that gate decides");
  });
});

describe('status updates around a rollback', () => {
  const yaml = `
version: 1
name: rolling
roles:
  lead: { title: Deployment Lead, primary: Ana }
  devops: { title: DevOps Engineer, primary: Chen }
notify:
  status_every: 1m
  channels: [{ id: log, file: notifications.log }]
phases:
  - id: preflight
    steps:
      - { id: health, owner: devops, run: "health" }
  - id: deploy
    steps:
      - { id: ship, owner: devops, run: "ship" }
    rollback:
      - { id: restore, owner: devops, run: "restore", retries: 1, retry_delay: 3m }
  - id: verify
    steps:
      - { id: smoke, owner: devops, run: "smoke" }
  - id: go-live
    steps:
      - { id: announce, owner: lead, confirm: Announced }
`;
  const doc = inlineRunbook(yaml);

  it('say ROLLING BACK while it runs (the phases it undoes ROLLING BACK, those never reached SKIPPED), never IN PROGRESS or COMPLETE', async () => {
    const { result, messages } = await runNotified(doc, {
      // restore fails once and is retried 3 minutes later: the 1-minute status updates go out during the rollback.
      exec: fakeExec({ health: {}, ship: {}, smoke: { exitCode: 1, stderr: 'smoke failed\n' }, restore: [{ exitCode: 1 }, {}] }),
    });
    expect(result.exitCode).toBe(4);
    const during = messages.filter((m) => m.kind === 'status' && m.text.includes('📊 Status: ROLLING BACK')).map((m) => m.text);
    expect(during.length).toBeGreaterThanOrEqual(2);
    for (const text of during) {
      expect(text).toContain('🟢 preflight: COMPLETE');
      expect(text).toContain('↩️ deploy: ROLLING BACK');
      expect(text).toContain('🔴 verify: FAILED');
      expect(text).toContain('⚪ go-live: SKIPPED');
      expect(text).not.toMatch(/IN PROGRESS|PENDING|deploy: COMPLETE/);
    }
    // Unchanged during the retry wait: the next one says so, still ROLLING BACK.
    expect(during[1]).toMatch(/^\[Deployment Status - \d\d:\d\d UTC\] \(no change since \d\d:\d\d UTC\)/);
    expect(messages.some((m) => m.kind === 'status' && m.text.includes('📊 Status: IN PROGRESS') && m.text.includes('deploy: ROLLING BACK'))).toBe(false);
  });

  it('deployctl status reads the same from the journal: ROLLING BACK mid-rollback, ROLLED BACK after, unreached phases SKIPPED', async () => {
    const { events } = await runNotified(doc, { exec: fakeExec({ health: {}, ship: {}, smoke: { exitCode: 1 }, restore: {} }) });
    const upTo = (kind: RunEvent['kind']) => foldEvents(events.slice(0, events.findIndex((e) => e.kind === kind) + 1));
    const mid = statusView(doc.doc, upTo('rollback-started'), []);
    expect(mid.status).toBe('ROLLING BACK');
    expect(mid.phases.map((p) => `${p.title}: ${p.state}`)).toEqual(['preflight: COMPLETE', 'deploy: ROLLING BACK', 'verify: FAILED', 'go-live: SKIPPED']);
    const after = statusView(doc.doc, foldEvents(events), []);
    expect(after.status).toBe('ROLLED BACK');
    expect(after.phases.map((p) => `${p.title}: ${p.state}`)).toEqual(['preflight: COMPLETE', 'deploy: ROLLED BACK', 'verify: FAILED', 'go-live: SKIPPED']);
    // Before anything failed: the phases ahead are pending, the run in progress.
    const before = statusView(doc.doc, upTo('phase-started'), []);
    expect(before.status).toBe('IN PROGRESS');
    expect(before.phases.map((p) => p.state)).toEqual(['IN PROGRESS', 'PENDING', 'PENDING', 'PENDING']);
  });

  it('while the rollback waits for its authorization, the update says so and nothing ahead is pending', async () => {
    const withAuth = inlineRunbook(yaml.replace('notify:', 'rollback: { authorize: lead, timeout: 5m, default: rollback }\nnotify:'));
    const { messages } = await runNotified(withAuth, {
      exec: fakeExec({ health: {}, ship: {}, smoke: { exitCode: 1 }, restore: {} }),
      // Nobody answers: the default (rollback) after 5 minutes, with 1-minute status updates meanwhile.
      prompter: scriptedPrompter({ rollback: 'WAIT' }),
    });
    const waiting = messages.filter((m) => m.kind === 'status' && m.text.includes('📊 Status: AWAITING ROLLBACK AUTHORIZATION'));
    expect(waiting.length).toBeGreaterThanOrEqual(3);
    expect(waiting[0]!.text).toContain('⚪ go-live: SKIPPED');
    expect(waiting[0]!.text).toContain('🟢 deploy: COMPLETE');
    expect(messages.some((m) => m.kind === 'status' && m.text.includes('📊 Status: ROLLING BACK'))).toBe(false); // restore is instant here
    expect(messages.find((m) => m.kind === 'resolved')!.text).toContain('Next Steps: the run ends ROLLED BACK');
  });
});

describe('on: no-go escalation', () => {
  it('fires for a pre-flight failure decided by the go/no-go, with the reasons (earlier_steps_ok naming the failed check) in the text', async () => {
    const doc = inlineRunbook(`
version: 1
name: held
roles:
  lead: { title: Deployment Lead, primary: Ana }
  qa: { title: QA Lead, primary: Elif }
  cto: { title: CTO, primary: Lena }
notify:
  channels: [{ id: log, file: notifications.log }]
escalation:
  - { name: No-go decided, on: no-go, to: [cto], severity: critical }
phases:
  - id: preflight
    preflight: true
    steps:
      - { id: health, owner: qa, run: "health" }
      - { id: backups, owner: qa, run: "backups" }
  - id: go
    gate: { owner: lead, require: { backups_ready: steps.backups.ok } }
  - id: deploy
    steps:
      - { id: ship, owner: qa, run: "ship" }
`);
    const { result, messages, events } = await runNotified(doc, { exec: fakeExec({ health: { exitCode: 1, stderr: 'health endpoint down\n' }, backups: {} }), answers: new Map([['go', 'go']]) });
    expect(result).toMatchObject({ status: 'no-go', exitCode: 3 });
    const escalation = events.find((e) => e.kind === 'escalation');
    expect(escalation).toMatchObject({ rule: 'No-go decided', to: [{ role: 'cto' }] });
    const alert = messages.find((m) => m.kind === 'escalation')!.text;
    expect(alert).toMatch(/^🚨 ALERT: No-go decided\nSeverity: Critical/);
    expect(alert).toContain("Description: gate 'go' decided NO-GO: earlier_steps_ok does not hold (health failed: exit code 1: health endpoint down)");
    // The answers file said GO, refused over the evidence: said too.
    expect(alert).toContain('; the answers file says go, but earlier_steps_ok does not hold\n');
    expect(alert).toContain('Assignee: CTO · Lena');
  });
});

describe('a RESOLVED while the run is failing', () => {
  const yaml = (extra: string) => `
version: 1
name: failing
roles:
  lead: { title: Deployment Lead, primary: Ana }
  qa: { title: QA Lead, primary: Elif }
notify:
  channels: [{ id: log, file: notifications.log }]
${extra}
phases:
  - id: preflight
    preflight: true
    steps:
      - { id: health, owner: qa, run: "health" }
      - { id: flaky, owner: qa, run: "flaky", retries: 1, retry_delay: 1s }
  - id: go
    gate: { owner: lead, require: { ok: "true" } }
  - id: deploy
    steps:
      - { id: ship, owner: qa, run: "ship" }
`;

  it('after a failure left to the go/no-go: a recovered retry says that gate will decide NO-GO, never that the deployment continues', async () => {
    const { result, messages } = await runNotified(inlineRunbook(yaml('')), {
      exec: fakeExec({ health: { exitCode: 1 }, flaky: [{ exitCode: 1 }, {}] }),
      answers: new Map([['go', 'go']]),
    });
    expect(result.exitCode).toBe(3);
    const resolved = messages.find((m) => m.kind === 'resolved')!.text;
    expect(resolved).toMatch(/^✅ RESOLVED: step 'flaky' \(flaky\) failing/);
    expect(resolved).toContain("Next Steps: the remaining steps up to go/no-go 'go' still run; 'health' has failed, so that gate will decide NO-GO");
    expect(resolved).not.toContain('continues');
  });

  it('after an escalated step that then failed: the RESOLVED of the wait says what its on_failure does, not that the deployment continues', async () => {
    const runbook = inlineRunbook(
      yaml('escalation:\n  - { name: Step taking long, after: 1m, to: [lead] }').replace('      - { id: ship, owner: qa, run: "ship" }', '      - { id: ship, owner: qa, run: "ship" }\n    rollback:\n      - { id: restore, owner: qa, run: "restore" }'),
    );
    const { result, messages } = await runNotified(runbook, (clock) => ({
      // ship runs two minutes (one escalation), then fails.
      exec: fakeExec({ health: {}, flaky: {}, restore: {}, ship: () => new Promise((resolve) => clock.setTimer(120_000, () => resolve({ exitCode: 1 }))) }),
      answers: new Map([['go', 'go']]),
    }));
    expect(result.exitCode).toBe(4);
    const resolved = messages.find((m) => m.kind === 'resolved' && m.text.includes("step 'ship'"))!.text;
    expect(resolved).toMatch(/^✅ RESOLVED: step 'ship' \(ship\) \(escalated wait\)\n/);
    expect(resolved).toContain('\nStatus: Step failed\n');
    expect(resolved).toContain("\nNext Steps: step 'ship' failed: stopping the deployment; rolling back deploy");
    expect(resolved).not.toContain('continues');
  });

  it('after an escalated go/no-go that decided NO-GO: the RESOLVED says the run stops, not that it continues', async () => {
    const runbook = inlineRunbook(yaml('escalation:\n  - { name: Decision taking long, after: 1m, to: [lead] }'));
    const { result, messages } = await runNotified(runbook, (clock) => ({
      exec: fakeExec({ health: {}, flaky: {} }),
      prompter: {
        // The lead answers NO-GO two minutes after the question (one escalation later), then gives the reason at once.
        async ask(request) {
          if (request.id === 'go.reason') return 'a holiday freeze';
          return new Promise((resolve) => clock.setTimer(120_000, () => resolve('no-go')));
        },
      },
    }));
    expect(result.exitCode).toBe(3);
    const resolved = messages.find((m) => m.kind === 'resolved')!.text;
    expect(resolved).toMatch(/^✅ RESOLVED: go\/no-go decision 'go' \(escalated wait\)/);
    expect(resolved).toContain("Next Steps: go/no-go 'go' decided NO-GO: the run stops here");
    expect(resolved).not.toContain('continues');
  });
});
