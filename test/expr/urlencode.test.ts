// urlencode(): template values that go into a URL stay one query value, whatever they hold.
import { describe, expect, it } from 'vitest';
import { compileTemplate, renderTemplate } from '../../src/expr/template.js';

describe('urlencode() in templates', () => {
  it.each([
    ['a b&c=d#e/../f?g', 'a%20b%26c%3Dd%23e%2F..%2Ff%3Fg'],
    ['ünï', '%C3%BCn%C3%AF'],
    ['', ''],
  ])('encodes %j as %j', (value, encoded) => {
    const compiled = compileTemplate('http://127.0.0.1/search?q=${{ urlencode(vars.q) }}');
    if (!compiled.ok) throw new Error(compiled.message);
    expect(renderTemplate(compiled.template, { vars: { q: value } })).toEqual({ ok: true, value: `http://127.0.0.1/search?q=${encoded}` });
  });

  it('is type-checked: it takes a string', () => {
    expect(compileTemplate('${{ urlencode(1) }}').ok).toBe(false);
  });
});
