// Where templates sit in a PromQL query and how their values are rendered: escaped in string literals, whole tokens elsewhere.
import { describe, expect, it } from 'vitest';
import { isPromqlToken, placePromqlTemplates, promqlDuration, promqlString, promqlStringBody, renderPromqlQuery } from '../../src/expr/promql-placement.js';
import { compileExpression, evaluateExpression } from '../../src/expr/cel.js';

describe('placePromqlTemplates', () => {
  it('finds templates in "…" and \'…\' literals and between tokens', () => {
    const placed = placePromqlTemplates(`sum(rate(x{a="\${{ vars.a }}", b='\${{ vars.b }}'}[\${{ vars.w }}]))`);
    expect(placed).toEqual({ ok: true, sites: [{ kind: 'string', quote: '"' }, { kind: 'string', quote: "'" }, { kind: 'token' }] });
  });

  it('an escaped quote does not end the literal', () => {
    expect(placePromqlTemplates(`x{a="q\\"\${{ vars.a }}"}`)).toMatchObject({ ok: true, sites: [{ kind: 'string' }] });
  });

  it.each([
    ['glued before', 'sum(${{ vars.m }}_total)', /glued to it/],
    ['glued after', 'rate${{ vars.m }}', /glued to the token before it/],
    ['two bare templates side by side', 'x[${{ vars.a }}${{ vars.b }}]', /glued to the token before it/],
    ['raw string', 'x{a=`${{ vars.a }}`}', /raw string cannot be escaped/],
    ['comment', 'up # ${{ vars.a }}', /comment/],
  ])('refuses a template %s, with its offset', (_name, query, message) => {
    const placed = placePromqlTemplates(query);
    expect(placed.ok).toBe(false);
    if (!placed.ok) {
      expect(placed.message).toMatch(message);
      expect(placed.offset).toBeGreaterThan(0);
    }
  });
});

describe('renderPromqlQuery', () => {
  const ctx = (vars: Record<string, unknown>) => ({ vars });
  it('escapes backslash, quote, newline and control characters inside a literal', () => {
    expect(renderPromqlQuery('up{job="${{ vars.j }}"}', ctx({ j: 'a\\"}) or vector(1) #\n\u0001' }))).toEqual({ ok: true, value: 'up{job="a\\\\\\"}) or vector(1) #\\n\\x01"}' });
    expect(renderPromqlQuery("up{job='${{ vars.j }}'}", ctx({ j: `it's "x"` }))).toEqual({ ok: true, value: `up{job='it\\'s "x"'}` });
  });

  it('a bare value must be one number, duration or "…" literal', () => {
    expect(renderPromqlQuery('x[${{ vars.w }}]', ctx({ w: '1h30m' }))).toEqual({ ok: true, value: 'x[1h30m]' });
    expect(renderPromqlQuery('x > ${{ vars.n }}', ctx({ n: 0.5 }))).toEqual({ ok: true, value: 'x > 0.5' });
    expect(renderPromqlQuery('label_replace(x, "d", ${{ promql_string(vars.v) }}, "s", "(.*)")', ctx({ v: 'a"b' }))).toEqual({ ok: true, value: 'label_replace(x, "d", "a\\"b", "s", "(.*)")' });
    const refused = renderPromqlQuery('x[${{ vars.w }}]', ctx({ w: '5m]) or vector(1' }));
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.reason).toMatch(/not one number, duration or promql_string\(\): refused/);
  });

  it('isPromqlToken accepts only single tokens', () => {
    for (const ok of ['5', '0.25', '1e3', '30s', '1h30m', '"a\\"b"']) expect(isPromqlToken(ok), ok).toBe(true);
    for (const bad of ['', '5 ', '-1', '5m]', '"a"b"', '"a" or "b"', 'up', '"a\\"']) expect(isPromqlToken(bad), bad).toBe(false);
  });
});

describe('promql_string() and promql_duration() in CEL', () => {
  it('promql_string quotes and escapes; promql_duration rounds ms up to whole seconds', () => {
    const run = (source: string, vars: Record<string, unknown>) => {
      const compiled = compileExpression(source);
      if (!compiled.ok) throw new Error(compiled.message);
      return evaluateExpression(compiled.expression, { vars });
    };
    expect(run('promql_string(vars.s)', { s: 'x"\\' })).toEqual({ ok: true, value: '"x\\"\\\\"' });
    expect(run('promql_duration(vars.ms)', { ms: 61_001n })).toEqual({ ok: true, value: '62s' });
    expect(run('promql_duration(vars.ms)', { ms: 0.5 })).toEqual({ ok: true, value: '1s' });
    expect(promqlString('a\nb')).toBe('"a\\nb"');
    expect(promqlStringBody('\ud800')).toBe('\\ufffd');
    expect(promqlDuration(Number.NaN)).toBe('1s');
  });
});
