// The evidence behind a verdict: each operand of a gate condition evaluated by CEL, and the line a person reads.
import { describe, expect, it } from 'vitest';
import { compileExpression } from '../../src/expr/cel.js';
import { buildEvidence } from '../../src/expr/evidence.js';
import { formatCondition, formatCheckReading, formatProbeMetrics } from '../../src/reporters/evidence.js';
import { fakeExec, harness, inlineRunbook } from '../helpers/engine-fakes.js';
import type { RunEvent } from '../../src/engine/events.js';

// The operands a condition is broken down into (topLevelOperands before the evidence tree; the same cases).
describe('the parts of a condition in its evidence tree', () => {
  const childTexts = (source: string) => {
    const compiled = compileExpression(source);
    if (!compiled.ok) throw new Error(compiled.message);
    const tree = buildEvidence(compiled.expression, { steps: { a: { ok: false }, b: { ok: true }, c: { ok: true }, 'replication-lag': { stdout: '1' } }, vars: { max_lag_s: '5', x: 'y' } });
    return { operator: tree.op, operands: tree.children?.map((c) => c.text) };
  };
  it.each([
    ["double(steps['replication-lag'].stdout.trim()) < double(vars.max_lag_s)", '<', ["double(steps['replication-lag'].stdout.trim())", 'double(vars.max_lag_s)']],
    ["steps.a.ok && steps['b'].ok && steps.c.ok", '&&', ['steps.a.ok', "steps['b'].ok", 'steps.c.ok']],
    ['(steps.a.ok || steps.b.ok) && vars.x == "y"', '&&', ['steps.a.ok || steps.b.ok', 'vars.x == "y"']],
    ['!steps.a.ok', '!_', ['steps.a.ok']],
  ])('splits %s at its top-level operator', (source, operator, operands) => {
    expect(childTexts(source)).toEqual({ operator, operands });
  });

  it.each(['steps.a.ok', 'size(vars.x) '])('has nothing to break down in %j', (source) => {
    expect(childTexts(source).operands).toBeUndefined();
  });

  it('has no tree for what does not compile', () => {
    expect(compileExpression('steps.a.ok &&').ok).toBe(false);
  });
});

describe('a gate condition shows the values behind it', () => {
  it("evaluates each operand on the run's context and keeps them in the event", async () => {
    const runbook = inlineRunbook(`
version: 1
name: lag
roles: { lead: { title: Lead } }
vars: { max_lag_s: "5.0" }
phases:
  - id: db
    steps:
      - { id: replication-lag, owner: lead, run: "lag" }
    gate:
      owner: lead
      require:
        lag_ok: double(steps['replication-lag'].stdout.trim()) < double(vars.max_lag_s)
        ran: steps['replication-lag'].ok && steps['replication-lag'].exit_code == 0
`);
    const h = harness();
    await h.run(runbook, {}, { exec: fakeExec({ lag: { stdout: '42.0\n' } }), answers: new Map([['db', 'go']]) });
    const evaluated = h.events.find((e): e is Extract<RunEvent, { kind: 'gate-evaluated' }> => e.kind === 'gate-evaluated')!;
    // The step is the gate's own phase's: its failures would be the gate's to decide (earlier_steps_ok, first).
    const [implicit, lag, ran] = evaluated.conditions;
    expect(formatCondition(implicit!)).toBe('✔ earlier_steps_ok: no step left to this gate failed (replication-lag) → true');
    expect(lag).toMatchObject({ ok: false, value: false, tree: { op: '<', children: [{ value: 42, double: true }, { value: 5, double: true }] } });
    // A CEL double reads as one (issue 11 item 4: `42.0 < 5.0 → false`); it read `42 < 5` before the evidence tree.
    expect(formatCondition(lag!)).toBe("✖ lag_ok: 42.0 < 5.0 → false   [double(steps['replication-lag'].stdout.trim()) < double(vars.max_lag_s)]");
    expect(formatCondition(ran!)).toBe('✔ ran: 2 of 2 hold → true');
  });

  it('says which operand could not be evaluated, and answers a confirm with yes or no', () => {
    expect(
      formatCondition({
        name: 'x',
        kind: 'expression',
        text: 'a < b',
        value: null,
        ok: false,
        error: 'no such key',
        evidence: { operator: '<', operands: [{ text: 'a', value: null, error: 'no such key: a' }, { text: 'b', value: 1 }] },
      }),
    ).toBe('✖ x: error: no such key: a < 1 → error   [a < b] (no such key)');
    expect(formatCondition({ name: 'approved', kind: 'confirm', text: 'Leadership approved', value: true, ok: true })).toBe('✔ approved: attested yes');
  });

  it('names the operands that decided a chain of && or ||', () => {
    const chain = (operator: string, values: unknown[], value: boolean) =>
      formatCondition({
        name: 'c',
        kind: 'expression',
        text: '…',
        value,
        ok: value,
        evidence: { operator, operands: values.map((v, i) => ({ text: `steps.s${i}.ok`, value: v })) },
      });
    expect(chain('&&', [true, false, true, false], false)).toBe('✖ c: steps.s1.ok is false, steps.s3.ok is false (2 of 4 hold) → false');
    expect(chain('||', [false, true], true)).toBe('✔ c: steps.s1.ok is true (1 of 2 hold) → true');
    expect(chain('||', [false, false], false)).toBe('✖ c: none of 2 holds → false');
  });

  it('shows the numbers that made a false chain false, from its explanation, not only which operand was false', () => {
    // phase65's canary: `steps['canary-error-rate'].ok && steps['canary-error-rate'].result < 0.001`.
    const text = "steps['canary-error-rate'].ok && steps['canary-error-rate'].result < 0.001";
    const line = formatCondition({
      name: 'error_rate_below_0_1pct',
      kind: 'expression',
      text,
      value: false,
      ok: false,
      explained: '0.03799 ≥ 0.001',
      evidence: { operator: '&&', operands: [{ text: "steps['canary-error-rate'].ok", value: true }, { text: "steps['canary-error-rate'].result < 0.001", value: false }] },
    });
    expect(line).toBe('✖ error_rate_below_0_1pct: false because 0.03799 ≥ 0.001');
  });
});

describe('formatProbeMetrics', () => {
  it('shows p50, p95 and errors of the probe', () => {
    expect(formatProbeMetrics({ samples: 50, errors: 1, error_rate: 0.02, success_rate: 0.98, p50_ms: 12.4, p95_ms: 30.6, p99_ms: 40, max_ms: 41, mean_ms: 14, statuses: {} })).toBe(
      'p50 12 ms · p95 31 ms · errors 1/50 (2%)',
    );
  });
});

describe('formatCheckReading', () => {
  it('shows the number a check read, beside its step (review 1 #25)', () => {
    expect(formatCheckReading({ result: 0.047619, results: [{ labels: {}, value: 0.047619 }] })).toBe('result 0.04762');
    expect(formatCheckReading({ result: 3, results: [{ labels: {}, value: 3 }] })).toBe('result 3');
    expect(formatCheckReading({ result: null, results: [{ labels: { a: '1' }, value: 1 }, { labels: { a: '2' }, value: 2 }] })).toBe('2 series');
    expect(formatCheckReading({ result: null, results: [{ labels: {}, value: 'NaN' }] })).toBe('result NaN');
    expect(formatCheckReading({ result: null, results: [] })).toBe('no data');
  });
});

describe('the evidence of a condition over a secret', () => {
  it('keeps the secret out of the gate event (journal, task list, record), masked as in step output', async () => {
    const runbook = inlineRunbook(`
version: 1
name: secret-gate
roles: { lead: { title: Lead } }
secrets: [DEPLOY_TOKEN]
phases:
  - id: db
    steps:
      - { id: s, owner: lead, run: "true" }
    gate:
      owner: lead
      require:
        token_is_prod: env.DEPLOY_TOKEN == 'prod-token' && env.DEPLOY_TOKEN.startsWith('prod')
        token_known: env.DEPLOY_TOKEN in ['a', 'b']
`);
    const secret = 'tok-s3cr3t-9f8e7d';
    const h = harness();
    await h.run(runbook, {}, { env: { DEPLOY_TOKEN: secret }, secretValues: [secret], mask: (t) => t.split(secret).join('***'), answers: new Map([['db', 'go']]) });
    const evaluated = h.events.find((e): e is Extract<RunEvent, { kind: 'gate-evaluated' }> => e.kind === 'gate-evaluated')!;
    expect(JSON.stringify(evaluated)).not.toContain(secret);
    expect(evaluated.conditions.map(formatCondition).join('\n')).not.toContain(secret);
    expect(JSON.stringify(evaluated)).toContain('***');
    expect(JSON.stringify(h.events)).not.toContain(secret);
  });
});
