// The communication plan on real runs (the engine with fake ports, the notifier on the same manual clock): ALL-CLEAR at go-live with counts, RESOLVED after a rollback, ETAs from the plan, no constant text.
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import type { RunResult } from '../../src/engine/execute.js';
import { createNotifier } from '../../src/notify/notifier.js';
import { evaluateSuccessMetrics, metricVerdict } from '../../src/record/success-metrics.js';
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
async function runNotified(runbook: LoadedRunbook, deps: Parameters<ReturnType<typeof harness>['run']>[2]) {
  const h = harness();
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
