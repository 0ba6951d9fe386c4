// Checks in a run: an inconclusive step is handled as a failure (its on_failure: stop, or the gate of its phase decides); values feed later CEL; NO-GO reasons show values.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RunEvent, StepOutcome } from '../../src/engine/events.js';
import { conditionWhy } from '../../src/expr/explain.js';
import type { HttpSend } from '../../src/ports/types.js';
import { harness, inlineRunbook } from '../helpers/engine-fakes.js';

const recorded = (name: string) => readFileSync(new URL(`../fixtures/prometheus/${name}.json`, import.meta.url), 'utf8');

/** A Prometheus that answers each query with a recorded response: `{ 'errors': 'vector-error-ratio' }`. */
function prometheus(answers: Record<string, string | (() => string)>): HttpSend & { queries: string[] } {
  const queries: string[] = [];
  const send = (async (request) => {
    const query = new URL(request.url).searchParams.get('query') ?? '';
    queries.push(query);
    const answer = answers[query];
    if (answer === undefined) return { ok: false, error: 'connection refused', durationMs: 1, timedOut: false };
    return { ok: true, status: 200, body: recorded(typeof answer === 'function' ? answer() : answer), durationMs: 1 };
  }) as HttpSend & { queries: string[] };
  send.queries = queries;
  return send;
}

function outcome(events: RunEvent[], stepId: string): StepOutcome | undefined {
  const finished = events.filter((e): e is Extract<RunEvent, { kind: 'step-finished' }> => e.kind === 'step-finished' && e.stepId === stepId);
  return finished.at(-1)?.outcome;
}

const runbook = (phase: string) =>
  inlineRunbook(`
version: 1
name: checks
roles: { ops: { title: Ops } }
vars: { prom: "http://prom.test:9090" }
phases:
${phase}
  - id: later
    steps:
      - { id: after, owner: ops, run: "echo after" }
`);

describe('a prometheus step in a run', () => {
  it('passes, and later expressions read steps.<id>.result, .value and .results', async () => {
    const h = harness();
    const send = prometheus({ errors: 'vector-error-ratio' });
    const doc = runbook(`
  - id: check
    steps:
      - id: error-rate
        owner: ops
        prometheus: { url: "\${{ vars.prom }}", query: errors, label: error rate }
        expect: result < 0.1
      - id: uses-it
        owner: ops
        if: "steps['error-rate'].result > 0.04 && steps['error-rate'].value == steps['error-rate'].result && size(steps['error-rate'].results) == 1"
        run: "echo used"
`);
    const result = await h.run(doc, {}, { send, exec: async () => ({ exitCode: 0, signal: null, timedOut: false, interrupted: false, durationMs: 1 }) });
    expect(result.exitCode).toBe(0);
    const check = outcome(h.events, 'error-rate');
    expect(check).toMatchObject({ status: 'succeeded', command: 'prometheus http://prom.test:9090: errors' });
    expect(check?.check).toMatchObject({ source: 'prometheus', query: 'errors', result: 0.04891304347826087, verdict: 'pass', expect: 'result < 0.1' });
    expect(check?.check?.url).toMatch(/^http:\/\/prom\.test:9090\/api\/v1\/query\?query=errors&time=\d+/);
    // Evaluated at the (manual) clock's time, which is also the `time` the query was sent with.
    expect(check?.check?.evaluatedAt).toBe(Date.UTC(2026, 10, 26, 10, 0, 0));
    expect(check?.check?.url).toContain(`time=${Date.UTC(2026, 10, 26, 10, 0, 0) / 1000}`);
    expect(outcome(h.events, 'uses-it')?.status).toBe('succeeded');
  });

  it('fails with the value, the condition and the query, and the run rolls back as for any failure', async () => {
    const h = harness();
    const doc = runbook(`
  - id: check
    steps:
      - id: error-rate
        owner: ops
        prometheus: { url: "\${{ vars.prom }}", query: errors, label: error rate }
        expect: result < 0.001
`);
    const result = await h.run(doc, {}, { send: prometheus({ errors: 'vector-error-ratio' }) });
    expect(result.exitCode).toBe(1);
    expect(outcome(h.events, 'error-rate')).toMatchObject({ status: 'failed', reason: 'error rate 0.04891 ≥ 0.001 (query: errors)' });
    expect(result.reason).toBe("step 'error-rate' failed: error rate 0.04891 ≥ 0.001 (query: errors)");
  });

  it('is inconclusive on no data, and with no gate to decide it the run stops there: never a silent pass', async () => {
    const h = harness();
    const doc = runbook(`
  - id: check
    steps:
      - id: error-rate
        owner: ops
        prometheus: { url: "\${{ vars.prom }}", query: empty }
        expect: result < 0.001
`);
    const result = await h.run(doc, {}, { send: prometheus({ empty: 'vector-empty' }) });
    expect(result.exitCode).toBe(1);
    expect(outcome(h.events, 'error-rate')).toMatchObject({ status: 'inconclusive', reason: 'no data: result has no value (query: empty)' });
    expect(result.reason).toMatch(/^step 'error-rate' was inconclusive \(no data is not a pass: it counts as a failure\): no data/);
    expect(outcome(h.events, 'after')).toBeUndefined();
  });

  it('is tried again when inconclusive, and passes once the data is there', async () => {
    const h = harness();
    let calls = 0;
    const send = prometheus({ ratio: () => (++calls < 3 ? 'vector-empty' : 'vector-error-ratio') });
    const doc = runbook(`
  - id: check
    steps:
      - id: ratio
        owner: ops
        prometheus: { url: "\${{ vars.prom }}", query: ratio }
        expect: result < 0.1
        retries: 3
        retry_delay: 2s
`);
    const result = await h.run(doc, {}, { send, exec: async () => ({ exitCode: 0, signal: null, timedOut: false, interrupted: false, durationMs: 1 }) });
    expect(result.exitCode).toBe(0);
    expect(outcome(h.events, 'ratio')).toMatchObject({ status: 'succeeded', attempts: 3 });
  });

  it('goes on to the gate of its phase, which decides: earlier_steps_ok names it, and conditions see status inconclusive and ok false', async () => {
    const h = harness();
    const doc = runbook(`
  - id: check
    steps:
      - id: error-rate
        owner: ops
        prometheus: { url: "\${{ vars.prom }}", query: empty }
      - { id: next, owner: ops, run: "echo next" }
    gate:
      owner: ops
      require:
        measured: "steps['error-rate'].ok"
        told_apart: "steps['error-rate'].status == 'inconclusive'"
`);
    const exec = async () => ({ exitCode: 0, signal: null, timedOut: false, interrupted: false, durationMs: 1 });
    const result = await h.run(doc, {}, { send: prometheus({ empty: 'vector-empty' }), exec, answers: new Map([['check', 'go']]) });
    expect(outcome(h.events, 'next')?.status).toBe('succeeded');
    const evaluated = h.events.find((e): e is Extract<RunEvent, { kind: 'gate-evaluated' }> => e.kind === 'gate-evaluated');
    expect(evaluated?.conditions.map((c) => [c.name, c.ok])).toEqual([
      ['earlier_steps_ok', false],
      ['measured', false],
      ['told_apart', true],
    ]);
    expect(evaluated?.conditions[0]).toMatchObject({ kind: 'implicit', text: 'no step left to this gate failed (error-rate, next)', notes: ['error-rate inconclusive: no data: result has no value (query: empty)'] });
    // The event keeps the evidence tree and the step notes; the NO-GO reason, the task list and the record render them.
    expect(conditionWhy(evaluated!.conditions[1]!)).toBe("steps['error-rate'].ok is false; error-rate inconclusive: no data: result has no value (query: empty)");
    expect(result.exitCode).toBe(3);
    expect(result.reason).toBe(
      "gate 'check' decided NO-GO: earlier_steps_ok does not hold (error-rate inconclusive: no data: result has no value (query: empty)); measured does not hold (steps['error-rate'].ok is false; error-rate inconclusive: no data: result has no value (query: empty))",
    );
  });

  it('feeds a gate condition; a NO-GO says the measured value', async () => {
    const h = harness();
    const doc = runbook(`
  - id: check
    steps:
      - id: error-rate
        owner: ops
        prometheus: { url: "\${{ vars.prom }}", query: errors }
    gate:
      owner: ops
      require:
        error_rate_ok: "steps['error-rate'].ok && steps['error-rate'].result < 0.001"
`);
    const result = await h.run(doc, {}, { send: prometheus({ errors: 'vector-error-ratio' }), answers: new Map([['check', 'go']]) });
    expect(result.exitCode).toBe(3);
    expect(result.reason).toBe("gate 'check' decided NO-GO: error_rate_ok does not hold (0.04891 ≥ 0.001)");
  });

  it('an unreachable Prometheus is inconclusive; a refused query fails', async () => {
    const h = harness();
    const doc = runbook(`
  - id: check
    steps:
      - id: down
        owner: ops
        prometheus: { url: "\${{ vars.prom }}", query: nothing-answers }
        on_failure: continue
    gate:
      owner: ops
      require: { down_read: "steps.down.status == 'inconclusive'" }
  - id: check2
    steps:
      - id: bad
        owner: ops
        prometheus: { url: "\${{ vars.prom }}", query: bad }
`);
    const send: HttpSend = async (request) =>
      new URL(request.url).searchParams.get('query') === 'bad'
        ? { ok: true, status: 400, body: recorded('error-bad-data'), durationMs: 1 }
        : { ok: false, error: 'connection refused', durationMs: 1, timedOut: false };
    const result = await h.run(doc, {}, { send, answers: new Map([['check', 'go']]) });
    expect(outcome(h.events, 'down')).toMatchObject({ status: 'inconclusive', reason: 'could not read Prometheus at http://prom.test:9090: connection refused (query: nothing-answers)' });
    expect(outcome(h.events, 'bad')).toMatchObject({ status: 'failed' });
    expect(outcome(h.events, 'bad')?.reason).toMatch(/^Prometheus refused the query: HTTP 400: bad_data: invalid parameter/);
    expect(result.exitCode).toBe(1);
  });

  it('sends auth from the secret it names and masks it; a missing secret fails before any request', async () => {
    const h = harness();
    const doc = inlineRunbook(`
version: 1
name: auth
roles: { ops: { title: Ops } }
secrets: [PROM_TOKEN]
phases:
  - id: check
    steps:
      - id: q
        owner: ops
        prometheus: { url: "http://prom.test:9090", query: errors, auth: { bearer: PROM_TOKEN } }
`);
    const seen: Record<string, string>[] = [];
    const send: HttpSend = async (request) => {
      seen.push(request.headers);
      return { ok: true, status: 200, body: recorded('vector-error-ratio'), durationMs: 1 };
    };
    const mask = (text: string) => text.split('s3cr3t-token').join('***');
    const ok = await h.run(doc, {}, { send, env: { PROM_TOKEN: 's3cr3t-token' }, secretValues: ['s3cr3t-token'], mask });
    expect(ok.exitCode).toBe(0);
    expect(seen[0]?.['Authorization']).toBe('Bearer s3cr3t-token');
    expect(JSON.stringify(h.events)).not.toContain('s3cr3t-token');

    // A dry run needs no secret: it sends nothing, and says what the real run will need.
    const dry = harness();
    expect((await dry.run(doc, { dryRun: true }, { send })).exitCode).toBe(0);
    expect(outcome(dry.events, 'q')?.reason).toMatch(/^dry run: no query sent; the real run needs it: auth\.bearer names the secret PROM_TOKEN/);

    const h2 = harness();
    const missing = await h2.run(doc, {}, { send });
    expect(missing.exitCode).toBe(1);
    expect(outcome(h2.events, 'q')?.reason).toBe('auth.bearer names the secret PROM_TOKEN, which is not set in the environment: export PROM_TOKEN=… before the run');
    expect(seen).toHaveLength(1);
  });

  it("the step's timeout stops a query nobody answers: failed, timed out", async () => {
    const h = harness();
    const doc = runbook(`
  - id: check
    steps:
      - id: slow
        owner: ops
        prometheus: { url: "\${{ vars.prom }}", query: up }
        timeout: 2s
`);
    // A Prometheus that never answers: the request ends only when its signal is aborted.
    const send: HttpSend = (request) =>
      new Promise((resolve) => request.signal?.addEventListener('abort', () => resolve({ ok: false, error: 'aborted', durationMs: 2000, timedOut: false }), { once: true }));
    const result = await h.run(doc, {}, { send });
    expect(result.exitCode).toBe(1);
    expect(outcome(h.events, 'slow')).toMatchObject({ status: 'failed', timedOut: true, reason: 'timed out after 2s', check: { verdict: 'fail' } });
  });

  it('a dry run sends nothing and shows the query with vars resolved', async () => {
    const h = harness();
    const send = prometheus({});
    const doc = runbook(`
  - id: check
    steps:
      - id: p95
        owner: ops
        prometheus: { url: "\${{ vars.prom }}", query: "histogram_quantile(0.95, x)", range: 10m, step: 30s, reduce: max }
        expect: result < 0.5
`);
    const result = await h.run(doc, { dryRun: true }, { send });
    expect(result.exitCode).toBe(0);
    expect(send.queries).toEqual([]);
    expect(outcome(h.events, 'p95')).toMatchObject({ status: 'skipped', dryRun: true, command: 'prometheus http://prom.test:9090: histogram_quantile(0.95, x) [range 10m, step 30s, max]' });
  });
});

describe('an http step with json_path', () => {
  it('reads a number from a JSON status API and judges it like a Prometheus check', async () => {
    const h = harness();
    const doc = runbook(`
  - id: check
    steps:
      - id: status
        owner: ops
        http: { url: "http://status.test/api/status", json_path: "$.checks.error_rate" }
        expect: result < 0.01
`);
    const send: HttpSend = async () => ({ ok: true, status: 200, body: '{"checks": {"error_rate": "0.02"}}', durationMs: 1 });
    const result = await h.run(doc, {}, { send });
    expect(result.exitCode).toBe(1);
    expect(outcome(h.events, 'status')).toMatchObject({
      status: 'failed',
      command: 'GET http://status.test/api/status → $.checks.error_rate',
      reason: 'result 0.02 ≥ 0.01 (json_path $.checks.error_rate of http://status.test/api/status)',
      check: { source: 'json', query: '$.checks.error_rate', result: 0.02, verdict: 'fail' },
    });
  });

  it.each([
    ['nothing at the path', '{"checks": {}}', 'inconclusive', /^no data/],
    ['null at the path', '{"checks": {"error_rate": null}}', 'inconclusive', /^no data/],
    ['a string that is no number', '{"checks": {"error_rate": "high"}}', 'failed', /is string "high", not a number/],
    ['a list', '{"checks": {"error_rate": [1]}}', 'failed', /is a list, not a number/],
    ['not JSON', '<html>', 'failed', /^the response is not JSON/],
  ])('%s is %s', async (_what, body, status, reason) => {
    const h = harness();
    const doc = runbook(`
  - id: check
    steps:
      - id: status
        owner: ops
        http: { url: "http://status.test/api/status", json_path: "$.checks.error_rate" }
        expect: result < 0.01
`);
    await h.run(doc, {}, { send: async () => ({ ok: true, status: 200, body, durationMs: 1 }) });
    expect(outcome(h.events, 'status')?.status).toBe(status);
    expect(outcome(h.events, 'status')?.reason).toMatch(reason);
  });
});
