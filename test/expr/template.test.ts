// `${{ }}` templates: splitting, rendering as text or as single-quoted shell strings no value can escape.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  compileTemplate,
  renderTemplate,
  shellQuote,
  splitTemplate,
  stringifyValue,
  type CompiledTemplate,
} from '../../src/expr/template.js';

function compiled(text: string): CompiledTemplate {
  const result = compileTemplate(text);
  if (!result.ok) throw new Error(`${text}: ${result.message}`);
  return result.template;
}

describe('splitTemplate', () => {
  it.each([
    ['plain text', 'echo hello', [{ kind: 'text', text: 'echo hello' }]],
    ['one template', '${{ vars.x }}', [{ kind: 'expr', source: 'vars.x', offset: 4, start: 0, end: 13 }]],
    ['text around a template', 'a ${{ vars.x }} b', [{ kind: 'text', text: 'a ' }, { kind: 'expr', source: 'vars.x', offset: 6, start: 2, end: 15 }, { kind: 'text', text: ' b' }]],
    ['a template without spaces', '${{vars.x}}', [{ kind: 'expr', source: 'vars.x', offset: 3, start: 0, end: 11 }]],
    ['two adjacent templates', '${{ vars.a }}${{ vars.b }}', [{ kind: 'expr', source: 'vars.a', offset: 4, start: 0, end: 13 }, { kind: 'expr', source: 'vars.b', offset: 17, start: 13, end: 26 }]],
    ["'}}' inside a double-quoted CEL string", 'a ${{ "}}" }} b', [{ kind: 'text', text: 'a ' }, { kind: 'expr', source: '"}}"', offset: 6, start: 2, end: 13 }, { kind: 'text', text: ' b' }]],
    ["'}}' inside a single-quoted CEL string", "${{ vars.x + '}}' }}", [{ kind: 'expr', source: "vars.x + '}}'", offset: 4, start: 0, end: 20 }]],
    ['an escaped quote inside a CEL string', "${{ 'it\\'s }}' }}", [{ kind: 'expr', source: "'it\\'s }}'", offset: 4, start: 0, end: 17 }]],
    ["a '}}' after the template, which is text", '${{ vars.x }} }}', [{ kind: 'expr', source: 'vars.x', offset: 4, start: 0, end: 13 }, { kind: 'text', text: ' }}' }]],
    ["a '$' before the template, which is text", '$${{ vars.x }}', [{ kind: 'text', text: '$' }, { kind: 'expr', source: 'vars.x', offset: 5, start: 1, end: 14 }]],
    ['the shell variable syntax, which is not a template', 'echo ${HOME} $PATH', [{ kind: 'text', text: 'echo ${HOME} $PATH' }]],
    ['an empty string', '', []],
  ])('splits %s', (_what, text, parts) => {
    expect(splitTemplate(text)).toEqual({ ok: true, parts });
  });

  it.each([
    ['a template never closed', 'x ${{ vars.x', 2, 'is never closed'],
    ['a template whose closing is inside a CEL string', '${{ "}} ', 0, 'is never closed'],
    ['an empty template', 'a ${{ }}', 2, "empty template '${{ }}'"],
    ['a template of spaces and a newline', '${{ \n }}', 0, 'empty template'],
  ])('refuses %s, pointing at its ${{', (_what, text, offset, message) => {
    expect(splitTemplate(text)).toEqual({ ok: false, offset, message: expect.stringContaining(message) });
  });
});

describe('compileTemplate', () => {
  it('points at the error inside the expression, counted from the start of the string', () => {
    expect(compileTemplate('echo ${{ 1 + }}')).toEqual({ ok: false, offset: 12, message: expect.stringContaining('Unexpected token') });
  });

  it('points at an unknown variable', () => {
    expect(compileTemplate('x ${{ nope.a }}')).toEqual({ ok: false, offset: 6, message: 'Unknown variable: nope' });
  });
});

describe('renderTemplate in text mode', () => {
  it.each([
    ['a string', '${{ vars.s }}', { vars: { s: 'hello world' } }, 'hello world'],
    ['text around values', 'http://${{ vars.host }}:${{ vars.port }}/x', { vars: { host: 'h', port: 8080 } }, 'http://h:8080/x'],
    ['an integer computed by CEL', '${{ 1 + 2 }}', {}, '3'],
    ['a boolean', '${{ vars.b }}', { vars: { b: true } }, 'true'],
    ['a list, as JSON', '${{ vars.l }}', { vars: { l: ['a', 1] } }, '["a",1]'],
    ['a map, as JSON', '${{ vars.m }}', { vars: { m: { k: 'v' } } }, '{"k":"v"}'],
    ['null, as nothing', '[${{ vars.n }}]', { vars: { n: null } }, '[]'],
    ['a value with shell syntax, untouched', '${{ vars.s }}', { vars: { s: "$(rm -rf /) 'x'" } }, "$(rm -rf /) 'x'"],
  ])('renders %s', (_what, text, context, value) => {
    expect(renderTemplate(compiled(text), context, 'text')).toEqual({ ok: true, value });
  });

  it('reports a missing key as a value, naming the template', () => {
    expect(renderTemplate(compiled('${{ vars.missing }}'), { vars: {} })).toEqual({ ok: false, message: expect.stringMatching(/^\$\{\{ vars\.missing \}\}: /) });
  });

  it('refuses a value holding a NUL character, which no command can receive', () => {
    expect(renderTemplate(compiled('${{ vars.s }}'), { vars: { s: 'a\0b' } }, 'shell')).toEqual({ ok: false, message: expect.stringContaining('NUL') });
  });
});

describe('renderTemplate in shell mode', () => {
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-template-'));
  const canary = path.join(tempDir, 'pwned');
  afterAll(() => fs.rmSync(tempDir, { recursive: true, force: true }));

  /** What `sh -c` prints for the rendered command `printf %s <template>`. */
  const printed = (template: string, context: object) => {
    const rendered = renderTemplate(compiled(`printf %s ${template}`), context, 'shell');
    if (!rendered.ok) throw new Error(rendered.message);
    return execFileSync('sh', ['-c', rendered.value], { encoding: 'utf8', cwd: tempDir, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/nonexistent' } });
  };

  it.each([
    ['a command substitution', `$(touch ${canary})`],
    ['backticks', `\`touch ${canary}\``],
    ['a command separator', `x; touch ${canary}`],
    ['an and-list', `x && touch ${canary}`],
    ['a pipe and a redirection', `x | tee ${canary} > ${canary}`],
    ['a background job', `x & touch ${canary}`],
    ['single quotes', `it's 'quoted'`],
    ['double quotes', 'say "hi" \\"there\\"'],
    ['a closing quote then a command', `'; touch ${canary}; echo '`],
    ['newlines', `line one\ntouch ${canary}\nline three\n`],
    ['a carriage return and a tab', 'a\rb\tc'],
    ['a variable and an expansion', '$HOME ${HOME} $((1+1)) ~ ~root'],
    ['glob characters', '* ? [a-z] {a,b}'],
    ['a comment', `# touch ${canary}`],
    ['backslashes', 'C:\\path\\to\\ \\\\'],
    ['a leading dash', '-n'],
    ['an empty string', ''],
    ['spaces only', '   '],
    ['unicode', 'déploiement ✓ 🚀'],
    ['an exclamation mark', '!! !$ history'],
    ['a plain word', 'v1.2.3'],
  ])('keeps %s as one word, printed back byte for byte', (_what, value) => {
    expect(printed('${{ vars.v }}', { vars: { v: value } })).toBe(value);
    expect(fs.existsSync(canary)).toBe(false);
  });

  it('quotes each template separately, so adjacent values form one word together', () => {
    expect(printed('${{ vars.a }}${{ vars.b }}', { vars: { a: "a b'", b: '$(c)' } })).toBe("a b'$(c)");
  });

  it('leaves the text around templates as shell syntax: inside "…" its quotes show (why the loader refuses that)', () => {
    expect(printed('"[${{ vars.a }}]"', { vars: { a: 'a b' } })).toBe("['a b']");
  });

  it.each([
    ['a plain word', 'v1.2.3', "'v1.2.3'"],
    ['an assignment', 'FOO=bar', "'FOO=bar'"],
    ['a reserved word', 'time', "'time'"],
    ['a quote', "it's", "'it'\\''s'"],
  ])('always single-quotes a value, even %s, so it is never an assignment, a keyword or a glob', (_what, value, rendered) => {
    expect(renderTemplate(compiled('${{ vars.v }}'), { vars: { v: value } }, 'shell')).toEqual({ ok: true, value: rendered });
  });

  it('keeps a NAME=value in command position a command name, never an environment assignment', () => {
    const rendered = renderTemplate(compiled(`\${{ vars.v }} touch ${canary}`), { vars: { v: 'FOO=bar' } }, 'shell');
    if (!rendered.ok) throw new Error(rendered.message);
    expect(() => execFileSync('sh', ['-c', rendered.value], { cwd: tempDir, stdio: 'ignore' })).toThrow();
    expect(fs.existsSync(canary)).toBe(false);
  });

  it('quotes numbers and booleans too', () => {
    expect(printed('${{ vars.n }}-${{ vars.b }}', { vars: { n: 42, b: false } })).toBe('42-false');
  });
});

describe('shellQuote', () => {
  it.each([
    ['v1.2.3', 'v1.2.3'],
    ['http://h:80/a,b', 'http://h:80/a,b'],
    ['', "''"],
    ['a b', "'a b'"],
    ["it's", "'it'\\''s'"],
    ['-n', "'-n'"],
    ['$x', "'$x'"],
    ['a\nb', "'a\nb'"],
  ])('quotes %j as %j', (value, quoted) => {
    expect(shellQuote(value)).toBe(quoted);
  });
});

describe('stringifyValue', () => {
  it.each([
    ['a string', 'x', 'x'],
    ['a number', 1.5, '1.5'],
    ['a bigint', 12345678901234567890n, '12345678901234567890'],
    ['null', null, ''],
    ['undefined', undefined, ''],
    ['a nested bigint', { n: 1n }, '{"n":"1"}'],
  ])('writes %s', (_what, value, text) => {
    expect(stringifyValue(value)).toBe(text);
  });
});
