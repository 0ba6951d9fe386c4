// Messages that used to mislead (issue 12, low): each names the real cause, at the place to fix it.
import { describe, expect, it } from 'vitest';
import { parseRunbookText } from '../../src/runbook/load.js';

/** A small valid runbook with `step` as its one step; `extra` goes before `phases:`, `after` at the end. */
function runbook({ extra = '', step = '{ id: build, owner: ops, run: make }', after = '' } = {}): string {
  return `version: 1
name: demo
roles:
  ops: { title: Ops }
${extra}phases:
  - id: prep
    steps:
      - ${step}
${after}`;
}

function problems(text: string) {
  const result = parseRunbookText(text, 'r.yaml');
  return result.ok ? [] : result.problems.map((p) => ({ at: `${p.line}:${p.col}`, code: p.code, message: p.message }));
}

describe('schema messages that name the real cause', () => {
  it.each([
    ['a run: string of 20,001 characters is too long, not "not a string or a list"', runbook({ step: `{ id: build, owner: ops, run: "${'x'.repeat(20_001)}" }` }), '8:39', 'too-long', "step 'build' run is longer than 20000 characters"],
    ['a run: argument of 20,001 characters is too long', runbook({ step: `{ id: build, owner: ops, run: [echo, "${'x'.repeat(20_001)}"] }` }), '8:46', 'too-long', "step 'build' run[1] is longer than 20000 characters"],
    ['a run: that is a number is neither a string nor a list', runbook({ step: '{ id: build, owner: ops, run: 42 }' }), '8:39', 'wrong-type', "step 'build' run must be a string or a list, got 42"],
    ['a var that is a list names all three types in words', runbook({ extra: 'vars: { regions: [eu, us] }\n' }), '5:18', 'wrong-type', 'vars.regions must be a string, a number or true or false, got a list'],
  ])('%s', (_what, text, at, code, message) => {
    expect(problems(text)).toEqual([{ at, code, message }]);
  });
});

describe('aliases', () => {
  it('refuses an alias to no anchor at the alias, not as "aliases expand too far" at 1:1', () => {
    expect(problems(runbook({ step: '{ id: build, owner: *owner, run: make }' }))).toEqual([
      { at: '8:29', code: 'unknown-alias', message: 'alias *owner names no anchor before it: define &owner on an earlier value, or write the value out' },
    ]);
  });
});

describe('reserved ids are refused at validate time, where they are written', () => {
  const gate = '  - id: decide\n    gate: { owner: ops, require: { ok: steps.build.ok } }\n';
  it.each([
    ['a step id __proto__', runbook({ step: '{ id: __proto__, owner: ops, run: make }' }), '8:15', "step id '__proto__' is reserved: JavaScript objects give '__proto__' a meaning of its own"],
    ['a step id constructor', runbook({ step: '{ id: constructor, owner: ops, run: make }' }), '8:15', "step id 'constructor' is reserved"],
    ['a rollback step id prototype', runbook({ after: '    rollback:\n      - { id: prototype, owner: ops, run: undo }\n' }), '10:15', "step id 'prototype' is reserved"],
    ['a phase id __proto__', runbook().replace('id: prep', 'id: __proto__'), '6:9', "phase id '__proto__' is reserved"],
    ['a gate id constructor', runbook({ after: gate.replace('gate: { owner', 'gate: { id: constructor, owner') }), '10:17', "gate id 'constructor' is reserved"],
    ['a channel id __proto__', runbook({ extra: 'notify:\n  channels: [{ id: __proto__, file: log }]\n' }), '6:20', "channel id '__proto__' is reserved"],
    ['a success metric id prototype', runbook({ extra: 'success_metrics:\n  - { id: prototype, title: T, target: x }\n' }), '6:11', "success metric id 'prototype' is reserved"],
    ['a step id CEL reads as a literal', runbook({ step: '{ id: "true", owner: ops, run: make }' }), '8:15', "step id 'true' is reserved: CEL reads 'true' as its own word, so steps.true could not be written"],
    ['a step id CEL reads as an operator', runbook({ step: '{ id: in, owner: ops, run: make }' }), '8:15', "step id 'in' is reserved: CEL reads 'in' as its own word, so steps.in could not be written"],
    ['the id of a phase whose gate takes it', runbook({ after: gate.replace('id: decide', 'id: "null"') }), '9:9', "phase id 'null' is reserved: CEL reads 'null' as its own word, so answers.null could not be written"],
    ['a var named like a CEL literal', runbook({ extra: 'vars: { "false": x }\n' }), '5:9', "var name 'false' is reserved: CEL reads 'false' as its own word, so vars.false could not be written"],
  ])('refuses %s', (_what, text, at, message) => {
    const found = problems(text);
    expect(found).toEqual([{ at, code: 'reserved-id', message: expect.stringContaining(message) }]);
    expect(found[0]!.message).toMatch(/; rename it$/);
  });

  it.each([
    ['a step id CEL accepts after a dot (import, if, toString)', runbook({ step: '{ id: import, owner: ops, run: make }' }).replace('run: make }', 'run: make }\n      - { id: if, owner: ops, run: make }\n      - { id: toString, owner: ops, run: make, if: "steps.import.ok && steps.if.ok" }')],
    ['a phase id null that no gate answers by', runbook().replace('id: prep', 'id: "null"')],
  ])('accepts %s', (_what, text) => {
    expect(problems(text)).toEqual([]);
  });
});
