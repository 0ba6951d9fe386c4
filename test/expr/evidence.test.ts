// The evidence tree of a CEL condition (built once from the AST) and its one formatter: comparisons, chains, ternaries, negation, membership, errors, caps.
import { describe, expect, it } from 'vitest';
import { compileExpression, type CelContext } from '../../src/expr/cel.js';
import { buildEvidence, EVIDENCE_MAX_DEPTH, EVIDENCE_MAX_NODES, type EvidenceNode } from '../../src/expr/evidence.js';
import { conditionLine, conditionValues, conditionWhy, whyFalse, whyNotHeld, type ExplainedCondition } from '../../src/expr/explain.js';

const CONTEXT: CelContext = {
  steps: {
    lag: { ok: true, stdout: '42.0', exit_code: 0 },
    smoke: { ok: false, exit_code: 3 },
    canary: { ok: true, result: 0.03799 },
  },
  vars: { max_lag_s: '5.0', region: 'eu', empty: '' },
};

function tree(source: string, context: CelContext = CONTEXT): EvidenceNode {
  const compiled = compileExpression(source);
  if (!compiled.ok) throw new Error(compiled.message);
  return buildEvidence(compiled.expression, context);
}

/** A gate condition as gate.ts stores it: the value, the tree, and (when false) the step notes. */
function condition(source: string, notes?: string[]): ExplainedCondition {
  const t = tree(source);
  const error = t.error;
  return { kind: 'expression', text: source, value: error !== undefined ? null : t.value, ok: t.value === true, tree: t, ...(error !== undefined ? { error } : {}), ...(notes ? { notes } : {}) };
}

function size(node: EvidenceNode): number {
  return 1 + (node.children ?? []).reduce((n, c) => n + size(c), 0);
}

function depth(node: EvidenceNode): number {
  return 1 + Math.max(0, ...(node.children ?? []).map(depth));
}

describe('the evidence tree', () => {
  it('a comparison: both sides with their values, a CEL double marked as such', () => {
    const t = tree('double(steps.lag.stdout.trim()) < double(vars.max_lag_s)');
    expect(t).toEqual({
      text: 'double(steps.lag.stdout.trim()) < double(vars.max_lag_s)',
      op: '<',
      value: false,
      children: [
        { text: 'double(steps.lag.stdout.trim())', op: 'call', value: 42, double: true },
        { text: 'double(vars.max_lag_s)', op: 'call', value: 5, double: true },
      ],
    });
  });

  it('a chain of && is flattened; only the operands that decided it are taken apart', () => {
    const t = tree('steps.lag.ok && steps.smoke.ok && steps.smoke.exit_code == 0');
    expect(t.op).toBe('&&');
    expect(t.children!.map((c) => [c.text, c.value, c.children?.length ?? 0])).toEqual([
      ['steps.lag.ok', true, 0],
      ['steps.smoke.ok', false, 0],
      ['steps.smoke.exit_code == 0', false, 2],
    ]);
    // A chain that holds: every operand holds, none needs taking apart.
    expect(tree('steps.lag.ok && steps.lag.exit_code == 0').children!.every((c) => c.children === undefined)).toBe(true);
  });

  it('a chain of ||: every operand of a false one is taken apart, only the holding ones of a true one', () => {
    const f = tree('steps.smoke.ok || double(steps.lag.stdout) < 1.0');
    expect(f.children!.map((c) => c.children?.length ?? 0)).toEqual([0, 2]);
    const t = tree('steps.lag.exit_code == 0 || steps.smoke.exit_code == 0');
    expect(t.value).toBe(true);
    expect(t.children!.map((c) => c.children?.length ?? 0)).toEqual([2, 0]);
  });

  it('a ternary: its condition and the branch it took, not the other', () => {
    const t = tree("vars.region == 'eu' ? double(steps.lag.stdout) <= 10.0 : true");
    expect(t.children!.map((c) => [c.text, c.value])).toEqual([
      ["vars.region == 'eu'", true],
      ['double(steps.lag.stdout) <= 10.0', false],
    ]);
    expect(t.children![1]!.children!.map((c) => c.value)).toEqual([42, 10]);
  });

  it('a negation and membership; a literal is marked as one', () => {
    expect(tree('!steps.lag.ok')).toMatchObject({ op: '!_', value: false, children: [{ text: 'steps.lag.ok', value: true }] });
    expect(tree("vars.region in ['us', 'ap']")).toMatchObject({
      op: 'in',
      value: false,
      children: [
        { text: 'vars.region', op: '.', value: 'eu' },
        { text: "['us', 'ap']", op: 'value', value: ['us', 'ap'] },
      ],
    });
    expect(tree('-1.5 < double(steps.lag.stdout)').children![0]).toMatchObject({ text: '-1.5', op: 'value' });
  });

  it('keeps the parentheses a part needs to stand alone', () => {
    expect(tree("(steps.smoke.ok || steps.lag.ok) && vars.region == 'us'").children!.map((c) => c.text)).toEqual(['steps.smoke.ok || steps.lag.ok', "vars.region == 'us'"]);
    const t = tree('!(steps.smoke.exit_code < 5) && steps.lag.ok');
    expect(t.children![0]).toMatchObject({ text: '!(steps.smoke.exit_code < 5)', value: false });
    expect(t.children![0]!.children![0]).toMatchObject({ text: 'steps.smoke.exit_code < 5', value: true });
    // CEL's range of `==` here starts inside the parentheses: widened back to `(…) == true`.
    expect(tree('!((steps.smoke.exit_code < 5) == true)').children![0]).toMatchObject({ text: '(steps.smoke.exit_code < 5) == true', value: true });
    expect(tree("vars.region == ')' && (steps.lag.ok)").children!.map((c) => [c.text, c.value])).toEqual([["vars.region == ')'", false], ['steps.lag.ok', true]]);
  });

  it('a part that does not evaluate carries its error, and so does the whole', () => {
    const t = tree('int(steps.lag.stdout.trim()) == 42');
    expect(t.error).toMatch(/int/);
    expect(t.children![0]).toMatchObject({ text: 'int(steps.lag.stdout.trim())' });
    expect(t.children![0]!.error).toMatch(/int/);
    expect(t.children![1]).toEqual({ text: '42', op: 'value', value: 42 });
  });

  it('stops at its depth and size caps however deep or long the condition', () => {
    const deep = tree(`${'!'.repeat(40)}steps.lag.ok`);
    expect(depth(deep)).toBeLessThanOrEqual(EVIDENCE_MAX_DEPTH + 1);
    const nested = tree(Array.from({ length: 20 }, () => '(steps.smoke.ok || (steps.lag.ok && ').join('') + 'steps.smoke.ok' + '))'.repeat(20));
    expect(depth(nested)).toBeLessThanOrEqual(EVIDENCE_MAX_DEPTH + 1);
    const long = tree(Array.from({ length: 150 }, (_, i) => `steps.smoke.exit_code != ${i}`).join(' && '));
    expect(long.value).toBe(false);
    expect(size(long)).toBeLessThanOrEqual(EVIDENCE_MAX_NODES + 3);
  });
});

describe('the evidence formatter', () => {
  it('a comparison: the values as compared on the task list, the relation that held in the reason', () => {
    const c = condition('double(steps.lag.stdout.trim()) < double(vars.max_lag_s)');
    expect(conditionLine(c)).toBe('42.0 < 5.0 → false   [double(steps.lag.stdout.trim()) < double(vars.max_lag_s)]');
    expect(conditionWhy(c)).toBe('42.0 ≥ 5.0');
    expect(conditionValues(c)).toEqual([
      { text: 'double(steps.lag.stdout.trim())', value: '42.0' },
      { text: 'double(vars.max_lag_s)', value: '5.0' },
    ]);
  });

  it('a false && chain: the numbers that made it false, then why the steps it reads did not pass', () => {
    const c = condition("steps.canary.ok && steps.canary.result < 0.001", ['canary-p95 inconclusive: no data (query: q)']);
    expect(conditionWhy(c)).toBe('0.03799 ≥ 0.001; canary-p95 inconclusive: no data (query: q)');
    expect(conditionLine(c)).toBe('false because 0.03799 ≥ 0.001; canary-p95 inconclusive: no data (query: q)');
    expect(whyNotHeld(c)).toBe(conditionWhy(c));
  });

  it('a chain that holds counts its operands; a true || names the ones holding', () => {
    expect(conditionLine(condition('steps.lag.ok && steps.lag.exit_code == 0'))).toBe('2 of 2 hold → true');
    expect(conditionLine(condition('steps.smoke.ok || steps.lag.ok'))).toBe('steps.lag.ok is true (1 of 2 hold) → true');
    expect(conditionWhy(condition('steps.smoke.ok || steps.lag.ok'))).toBeUndefined();
  });

  it('a false ||: every side explained', () => {
    expect(conditionWhy(condition("vars.region == '' || steps.canary.result < 0.001"))).toBe('"eu" ≠ \'\' and 0.03799 ≥ 0.001');
  });

  it('a ternary: the branch taken', () => {
    const c = condition("vars.region == 'eu' ? double(steps.lag.stdout) <= 10.0 : true");
    expect(conditionWhy(c)).toBe('42.0 > 10.0');
    expect(conditionLine(c)).toBe('false because 42.0 > 10.0');
  });

  it('a negation and a membership', () => {
    const not = condition('!steps.lag.ok');
    expect(conditionLine(not)).toBe('!(steps.lag.ok: true) → false');
    expect(conditionWhy(not)).toBe('!steps.lag.ok is false');
    const member = condition("vars.region in ['us', 'ap']");
    expect(conditionLine(member)).toBe(`"eu" in ["us","ap"] → false   [vars.region in ['us', 'ap']]`);
    expect(conditionWhy(member)).toBe(`"eu" not in ['us', 'ap']`);
    // A literal is not a value to report: the record lists what was read.
    expect(conditionValues(member)).toEqual([{ text: 'vars.region', value: '"eu"' }]);
  });

  it('an error: the part that failed and its message, never a relation that did not hold', () => {
    const c = condition('int(steps.lag.stdout.trim()) == 42');
    expect(c.error).toBeDefined();
    expect(conditionLine(c)).toMatch(/^error: .*int.* == 42 → error {3}\[int\(steps\.lag\.stdout\.trim\(\)\) == 42\]$/);
    expect(conditionWhy(c)).toBeUndefined();
    expect(whyNotHeld(c)).toBe(c.error);
    expect(whyFalse(tree('int(steps.lag.stdout.trim()) == 42'))).toMatch(/^int\(steps\.lag\.stdout\.trim\(\)\) == 42: .*int/);
    expect(conditionValues(c)[0]).toMatchObject({ text: 'int(steps.lag.stdout.trim())', error: expect.stringMatching(/int/) });
  });

  it('a deep condition past the cap is still explained, by its text where the tree stops', () => {
    const source = `${'!'.repeat(20)}steps.smoke.ok`;
    expect(whyFalse(tree(source))).toBe(`${source} is false`);
  });

  it('earlier_steps_ok: the failures left to the gate; an attestation not given', () => {
    const implicit: ExplainedCondition = { kind: 'implicit', text: 'no step left to this gate failed (a, b)', value: false, ok: false, notes: ['a failed: exit code 1', 'b inconclusive: no data'] };
    expect(conditionWhy(implicit)).toBe('a failed: exit code 1; b inconclusive: no data');
    expect(conditionLine(implicit)).toBe('false because a failed: exit code 1; b inconclusive: no data');
    expect(whyNotHeld({ kind: 'confirm', text: 'Approved?', value: null, ok: false })).toBe('not confirmed');
  });
});

describe('evidence written by earlier builds (explained + evidence)', () => {
  it('renders their operands and their sentence as before', () => {
    const old: ExplainedCondition = {
      kind: 'expression',
      text: "steps['canary-error-rate'].ok && steps['canary-error-rate'].result < 0.001",
      value: false,
      ok: false,
      explained: '0.03799 ≥ 0.001',
      evidence: { operator: '&&', operands: [{ text: "steps['canary-error-rate'].ok", value: true }, { text: "steps['canary-error-rate'].result < 0.001", value: false }] },
    };
    expect(conditionLine(old)).toBe('false because 0.03799 ≥ 0.001');
    expect(conditionWhy(old)).toBe('0.03799 ≥ 0.001');
    expect(conditionValues(old)).toEqual([
      { text: "steps['canary-error-rate'].ok", value: 'true' },
      { text: "steps['canary-error-rate'].result < 0.001", value: 'false' },
    ]);
    const lag: ExplainedCondition = { kind: 'expression', text: 'a < b', value: false, ok: false, explained: '42 ≥ 5', evidence: { operator: '<', operands: [{ text: 'a', value: 42 }, { text: 'b', value: 5 }] } };
    expect(conditionLine(lag)).toBe('42 < 5 → false   [a < b]');
  });
});
