// Success metrics in the record: a verdict from evidence only; a metric whose steps never ran is "not measured", never failed (issue 13's audit bug), in the record, record show, record export and the summary.
import { describe, expect, it } from 'vitest';
import { buildRecordPredicate } from '../../src/record/build.js';
import { renderRecordMarkdown } from '../../src/record/export.js';
import { renderRecordSummary } from '../../src/record/show.js';
import type { RecordPredicate } from '../../src/record/types.js';
import type { CheckedRecord } from '../../src/record/verify.js';
import { formatRunSummary } from '../../src/reporters/summary.js';
import type { HttpSend } from '../../src/ports/types.js';
import { fakeExec, harness, inlineRunbook } from '../helpers/engine-fakes.js';

/** A probe that answers every request after `ms` of (manual-clock-free) latency: the latency is measured on the monotonic clock. */
const answering: HttpSend = async () => ({ ok: true, status: 200, body: 'ok', durationMs: 19.4 });

const RUNBOOK = (metrics: string, deployFails = true) =>
  inlineRunbook(`
version: 1
name: metrics
roles: { qa: { title: QA Lead }, devops: { title: DevOps } }
success_metrics:
${metrics}
phases:
  - id: deploy
    steps:
      - { id: smoke-health, owner: qa, http: { url: "http://app.test/health", samples: 2 } }
      - { id: ship, owner: devops, run: "${deployFails ? 'ship-fails' : 'ship'}" }
      - { id: issues, owner: qa, ask: User issues in the first hour? }
    rollback:
      - { id: restore, owner: devops, run: "restore" }
  - id: verify
    steps:
      - { id: verify-chat, owner: qa, http: { url: "http://app.test/chat", samples: 2 } }
      - { id: verify-search, owner: qa, http: { url: "http://app.test/search", samples: 2 } }
`);

async function record(metrics: string, deployFails = true): Promise<RecordPredicate> {
  const h = harness();
  const doc = RUNBOOK(metrics, deployFails);
  const result = await h.run(doc, {}, { exec: fakeExec({ 'ship-fails': { exitCode: 1 }, ship: {}, restore: {} }), send: answering, answers: new Map([['issues', '0']]) });
  return buildRecordPredicate({ doc: doc.doc, state: result.state, env: {}, now: h.clock.now() });
}

const P95 = `
  - id: p95
    title: Response time p95
    target: < 500 ms
    unit: ms
    actual: "cel.bind(p, [steps['smoke-health'], steps['verify-chat'], steps['verify-search']].filter(s, 'p95_ms' in s.metrics), p.size() == 0 ? dyn(null) : dyn(p[0].metrics.p95_ms))"
    ok: "[steps['smoke-health'], steps['verify-chat'], steps['verify-search']].all(s, 'p95_ms' in s.metrics && s.metrics.p95_ms < 500.0)"
`;

function checked(predicate: RecordPredicate): CheckedRecord {
  return {
    verdict: 'valid',
    file: 'r.json',
    envelope: { payloadType: 'application/vnd.in-toto+json', payload: '', signatures: [] },
    signatures: [],
    validCount: 1,
    signoffCount: 0,
    trustedKeys: [],
    failures: [],
    warnings: [],
    statement: { _type: 'https://in-toto.io/Statement/v1', subject: [], predicateType: 'https://deployctl.dev/deployment-record/v1', predicate },
    statementProblems: [],
    signoffs: { rows: [], notes: [] },
  } as unknown as CheckedRecord;
}

describe('success metrics from evidence', () => {
  it('a rolled-back run: probes that never ran are not counted against p95: not measured, naming them (was ✖ with 19.4 ms)', async () => {
    const p = await record(P95);
    expect(p.status).toBe('rolled-back');
    const [p95] = p.success_metrics;
    expect(p95).toMatchObject({ id: 'p95', actual: 19.4, ok: null, not_measured: 'no evidence from verify-chat (not run), verify-search (not run)' });
    expect(p95!.error).toBeUndefined();

    const md = renderRecordMarkdown(checked(p));
    expect(md).toContain('| Response time p95 | < 500 ms | 19.4 ms | · not measured: no evidence from verify-chat (not run), verify-search (not run) |');
    expect(md).not.toMatch(/Response time p95.*✖/);
    const shown = renderRecordSummary(checked(p));
    expect(shown).toMatch(/· Response time p95 {2}target < 500 ms, actual 19\.4 ms, NOT MEASURED: no evidence from verify-chat \(not run\), verify-search \(not run\)/);
  });

  it('the same metric is met when every probe ran and passed, and missed when a measured one failed, even with others missing', async () => {
    const met = await record(P95, false);
    expect(met.status).toBe('succeeded');
    expect(met.success_metrics[0]).toMatchObject({ ok: true });
    expect(met.success_metrics[0]?.not_measured).toBeUndefined();
    // Evidence that decides alone stands: one measured probe over the target is a miss whatever the others would say.
    const missed = await record(`
  - { id: fast, title: Fast, target: < 10 ms, ok: "['smoke-health', 'verify-chat'].all(id, steps[id].metrics.p95_ms < 10.0)" }
`);
    expect(missed.success_metrics[0]).toMatchObject({ ok: false });
  });

  it('an answer never given, or an ok that says null, is not measured; an expression error stays an error', async () => {
    const p = await record(`
  - { id: issues, title: User issues, target: "0", ok: "string(answers['issues']) == '0'" }
  - { id: said, title: Said so, target: x, ok: "steps['verify-chat'].status == 'succeeded' ? dyn(true) : dyn(null)" }
  - { id: broken, title: Broken, target: x, ok: "steps['smoke-health'].metrics.p95_ms / 0 > 1.0" }
`);
    // ship failed before issues was asked.
    expect(p.success_metrics[0]).toMatchObject({ ok: null, not_measured: 'no evidence from answer issues (not given)' });
    expect(p.success_metrics[1]).toMatchObject({ ok: null, not_measured: 'no evidence from verify-chat (not run)' });
    expect(p.success_metrics[2]?.ok).toBeNull();
    expect(p.success_metrics[2]?.not_measured).toBeUndefined();
    expect(p.success_metrics[2]?.error).toMatch(/^ok: /);
  });

  it('the run summary counts met, missed and not measured', async () => {
    const h = harness();
    const doc = RUNBOOK(P95);
    const result = await h.run(doc, {}, { exec: fakeExec({ 'ship-fails': { exitCode: 1 }, restore: {} }), send: answering, answers: new Map([['issues', '0']]) });
    const p = buildRecordPredicate({ doc: doc.doc, state: result.state, env: {}, now: h.clock.now() });
    expect(formatRunSummary(doc.doc, result, undefined, undefined, p.success_metrics)).toContain('  success metrics: 1 not measured (Response time p95)');
  });
});
