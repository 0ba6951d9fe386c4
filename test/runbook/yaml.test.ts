// Strict YAML: the limits hold exactly at their boundaries, positions point into the source, and no input makes it throw.
import { describe, expect, it } from 'vitest';
import { prng } from '../fixtures/invalid/cases.js';
import { parseStrictYaml, YAML_LIMITS, type ParsedYaml } from '../../src/runbook/yaml.js';

function parsed(text: string): ParsedYaml {
  const result = parseStrictYaml(text, 'f.yaml');
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.line}:${p.col}: ${p.message}`).join('\n'));
  return result.yaml;
}

function problemsOf(text: string): { at: string; code: string; message: string }[] {
  const result = parseStrictYaml(text, 'f.yaml');
  if (result.ok) throw new Error(`expected a refusal of ${JSON.stringify(text.slice(0, 80))}`);
  return result.problems.map((p) => ({ at: `${p.line}:${p.col}`, code: p.code, message: p.message }));
}

const { maxDepth, maxAliases, maxAliasExpansion, maxErrors, maxValues, maxLines } = YAML_LIMITS;
const anchoredList = (size: number) => `a: &a [${Array.from({ length: size - 1 }, () => 'x').join(', ')}]\n`;

describe('parseStrictYaml limits', () => {
  it.each([
    ['flow lists', (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`, `1:${maxDepth + 1}`],
    ['flow mappings', (n: number) => `${'{a: '.repeat(n)}1${'}'.repeat(n)}`, `1:${4 * maxDepth + 1}`],
    ['block lists', (n: number) => `${'- '.repeat(n)}x`, `1:${2 * maxDepth + 1}`],
    ['block mappings', (n: number) => Array.from({ length: n }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ` x`, `${maxDepth + 1}:${maxDepth + 1}`],
  ])(`accepts %s nested ${maxDepth} deep and refuses one level more, at the first level too deep`, (_what, nest, at) => {
    expect(parseStrictYaml(nest(maxDepth), 'f.yaml').ok).toBe(true);
    expect(problemsOf(nest(maxDepth + 1))).toEqual([{ at, code: 'too-deep', message: `nesting deeper than ${maxDepth} levels: flatten the structure` }]);
  });

  it(`accepts aliases adding ${maxAliasExpansion} values and refuses, at the alias, the one that adds more`, () => {
    const size = maxAliasExpansion / 10;
    const aliases = (n: number) => `b: [${Array.from({ length: n }, () => '*a').join(', ')}]\n`;

    expect(parseStrictYaml(anchoredList(size) + aliases(10), 'f.yaml').ok).toBe(true);
    expect(problemsOf(anchoredList(size) + aliases(11))).toEqual([{ at: '2:45', code: 'alias-limit', message: expect.stringContaining('billion laughs') }]);
  });

  it(`accepts ${maxAliases} aliases and refuses the next one, where it stands`, () => {
    const aliases = (n: number) => `a: &a 1\nb: [${Array.from({ length: n }, () => '*a').join(', ')}]\n`;

    expect(parseStrictYaml(aliases(maxAliases), 'f.yaml').ok).toBe(true);
    expect(problemsOf(aliases(maxAliases + 1))).toEqual([{ at: `2:${5 + 4 * maxAliases}`, code: 'alias-limit', message: expect.stringContaining(`more than ${maxAliases} aliases`) }]);
  });

  it('reads ordinary anchors and aliases', () => {
    expect(parsed('base: &b { x: 1 }\nother: *b\n').value).toEqual({ base: { x: 1 }, other: { x: 1 } });
  });

  it.each([
    ['in a list', 'a: &a [1, *a]\n', '1:11'],
    ['in a mapping', 'a: &a\n  b: *a\n', '2:6'],
  ])('refuses an alias inside its own anchor %s', (_what, text, at) => {
    expect(problemsOf(text)).toEqual([{ at, code: 'alias-cycle', message: expect.stringContaining('alias *a is inside the value it names') }]);
  });

  it('reports the first syntax error only, and says how many more may be its echoes', () => {
    const problems = problemsOf(`a: 1\n${'b: x: y\n'.repeat(30)}`);

    expect(problems.map((p) => p.at)).toEqual(['2:4']);
    expect(problems[0]!.message).toMatch(/\(fix this first: \d+ more YAML errors after it may come from it\)$/);
  });

  it(`stops reading after ${maxErrors} stray tokens, and says more follow`, () => {
    // On one line: 100,000 lines would be refused before parsing, for their number (maxLines).
    const problems = problemsOf(`a: [x]\n${' ]'.repeat(100_000)}\n`);

    expect(problems).toHaveLength(2);
    expect(problems[1]!.code).toBe('too-many-errors');
  });

  it(`accepts ${maxValues} values and refuses, where it stands, the one that makes more (before composing a node)`, () => {
    // Each `- a` line is two values: the item and its scalar.
    const list = (items: number) => '- a\n'.repeat(items);

    expect(parseStrictYaml(list(maxValues / 2), 'f.yaml').ok).toBe(true);
    expect(problemsOf(list(maxValues / 2 + 1))).toEqual([{ at: `${maxValues / 2 + 1}:1`, code: 'too-many-values', message: expect.stringContaining(`more than ${maxValues.toLocaleString('en-US')} values`) }]);
  });

  it(`accepts ${maxLines} lines and refuses the next one, at its start`, () => {
    const lines = (n: number) => `a: 1\n${'#\n'.repeat(n - 1)}`;

    expect(parseStrictYaml(lines(maxLines), 'f.yaml').ok).toBe(true);
    expect(problemsOf(`${lines(maxLines)}b`)).toEqual([{ at: `${maxLines + 1}:1`, code: 'too-many-lines', message: expect.stringContaining(`more than ${maxLines.toLocaleString('en-US')} lines`) }]);
  });

  it.each([
    ['an alias before its anchor', 'a: *x\nb: &x 1\n', '1:4'],
    ['an alias to no anchor at all', 'a: 1\nb: [1, *nothing]\n', '2:8'],
  ])('refuses %s at the alias, naming it', (_what, text, at) => {
    expect(problemsOf(text)).toEqual([{ at, code: 'unknown-alias', message: expect.stringMatching(/^alias \*\w+ names no anchor before it: define &\w+ on an earlier value/) }]);
  });

  it('caps the problems at 20 in source order and counts the rest on one more line, at the first left out', () => {
    const problems = problemsOf('a: 1\n'.repeat(100));

    expect(problems).toHaveLength(21);
    expect(problems.slice(0, 20).map((p) => p.at)).toEqual(Array.from({ length: 20 }, (_, i) => `${i + 2}:1`));
    expect(problems[20]).toEqual({ at: '22:1', code: 'more-problems', message: '79 more problems from here on are not shown: fix the ones above first' });
  });

  it('shortens a message that would quote kilobytes of the file', () => {
    const [first] = problemsOf(`a: 1\n"x" ${'y'.repeat(5000)}\n`);

    expect(first!.message.length).toBeLessThanOrEqual(160);
  });
});

describe('parseStrictYaml refusals', () => {
  it.each([
    ['a duplicate key, naming where it was first set', 'a: 1\nb: 2\na: 3\n', '3:1', 'duplicate-key', "duplicate key 'a': it is already set on line 1"],
    ['a duplicate key in a flow mapping', 'a: { b: 1, b: 2 }\n', '1:12', 'duplicate-key', "duplicate key 'b'"],
    ['a merge key', 'a: &a { x: 1 }\nb:\n  <<: *a\n', '3:3', 'merge-key', "merge keys ('<<')"],
    ["'__proto__'", 'a:\n  - b:\n      __proto__: 1\n', '3:7', 'reserved-key', "'__proto__' is a reserved key"],
    ["'prototype'", 'prototype: 1\n', '1:1', 'reserved-key', "'prototype' is a reserved key"],
    ['a NUL escape in a key', '"a\\0b": 1\n', '1:1', 'nul-byte', 'NUL character in a key'],
    ['a NUL escape in a value', 'a: "x\\0"\n', '1:4', 'nul-byte', 'NUL character in a string'],
    ['a raw NUL', 'a: 1\nb: x\0y\n', '2:5', 'nul-byte', 'NUL byte in the file'],
    ['a local tag', 'a: !foo 1\n', '1:4', 'custom-tag', "tag '!foo' is not allowed"],
    ['a YAML 1.1 set', 'a: !!set { x }\n', '1:4', 'custom-tag', "tag '!!set' is not allowed"],
    ['a YAML 1.1 timestamp', 'a: !!timestamp 2001-12-14\n', '1:4', 'custom-tag', "tag '!!timestamp' is not allowed"],
    ['a tag after an anchor, on the line before its value', 'a: &x !!set\n  { x }\n', '1:7', 'custom-tag', "tag '!!set'"],
    ['a tag on the whole document', '!!binary aGk=\n', '1:1', 'custom-tag', "tag '!!binary'"],
    ['a %YAML 1.1 directive after a comment', '# hello\n%YAML 1.1\n---\na: 1\n', '2:1', 'yaml-version', '%YAML 1.1 is not supported'],
    ['an unknown YAML version', '%YAML 1.3\n---\na: 1\n', '1:7', 'yaml-bad-directive', 'Unsupported YAML version 1.3'],
    ['a second document', 'a: 1\n---\nb: 2\n', '2:1', 'multiple-documents', 'a second YAML document starts here'],
    ['a second document after a document end marker', 'a: 1\n...\nb: 2\n', '3:1', 'multiple-documents', 'a second YAML document'],
    ['a non-string key', '? [a]\n: 1\n', '1:3', 'yaml-non-string-key', 'all keys must be strings'],
    ['an unclosed double quote', 'a: "x\nb: 2\n', '1:4', 'yaml-unclosed', 'this "…" string is never closed'],
    ["an unclosed single quote", "a: 'x\n", '1:4', 'yaml-unclosed', "this '…' string is never closed"],
    ['an unclosed flow mapping', 'a: { b: 1\nc: 2\n', '1:4', 'yaml-unclosed', 'this { … } mapping is never closed: add the closing }'],
    ['an unclosed flow list at the end of the file', 'a: [1, 2', '1:4', 'yaml-unclosed', 'this [ … ] list is never closed: add the closing ]'],
    ['a tab for indentation', 'a:\n\tb: 1\n', '2:1', 'yaml-tab-as-indent', 'tabs cannot indent YAML; use spaces'],
    ['an empty file', '', '1:1', 'empty', 'the file is empty'],
    ['blank lines', '\n  \n', '1:1', 'empty', 'the file is empty'],
    ['a document end marker alone', '...\n', '1:1', 'empty', 'holds no content'],
    ['a null document', '~\n', '1:1', 'empty', 'holds no content'],
  ])('refuses %s', (_what, text, at, code, message) => {
    expect(problemsOf(text)).toEqual([{ at, code, message: expect.stringContaining(message) }]);
  });

  it.each([
    ['the core schema tags', 'a: !!str 1\nb: !!int 2\nc: !!float 2.5\nd: !!bool true\ne: !!null\n', { a: '1', b: 2, c: 2.5, d: true, e: null }],
    ['YAML 1.1 booleans, as strings', 'a: yes\nb: off\n', { a: 'yes', b: 'off' }],
    ['octal-looking numbers, as YAML 1.2 reads them', 'a: 0777\nb: 0o17\n', { a: 777, b: 15 }],
    ['a %YAML 1.2 directive', '%YAML 1.2\n---\na: 1\n', { a: 1 }],
    ['a document start marker', '---\na: 1\n', { a: 1 }],
    ['a byte-order mark is handled before this layer; a block scalar at the top', '--- |\n  text\n', 'text\n'],
  ])('accepts %s', (_what, text, value) => {
    expect(parsed(text).value).toEqual(value);
  });
});

describe('indentation mistakes', () => {
  it.each([
    [
      'a key indented one column too far',
      'steps:\n  - id: a\n     owner: ops\n    run: x\n',
      '3:6',
      'line 3 is indented 1 space more than the mapping it belongs to (its keys start at column 5, on line 2): indent it to column 5',
    ],
    [
      'a key indented one column too little (yaml: "Sequence item without - indicator")',
      'phases:\n  - id: p\n    steps:\n      - id: s\n       owner: ops\n        run: x\n',
      '5:8',
      'line 5 is indented 1 space less than the mapping it belongs to (its keys start at column 9, on line 4): indent it to column 9',
    ],
    ['a key indented two columns too little', 'steps:\n  - id: a\n    owner: ops\n  run: x\n', '4:3', 'line 4 is indented 2 spaces less than the mapping it belongs to (its keys start at column 5, on line 3): indent it to column 5'],
    [
      'a key between two mappings, after a comment at column 1',
      'phases:\n  - id: p\n    steps:\n      - id: a\n        owner: ops\n#   commented: out\n     confirm: x\n',
      '7:6',
      'line 7 is indented 3 spaces less than the mapping on line 5 (its keys start at column 9) and 1 space more than the one on line 3 (column 5): indent it to the column of the one it belongs to',
    ],
    [
      'the same, after blank and comment lines',
      '\nsteps:\n  - id: a\n    owner: ops\n\n    # note\n run: x\n',
      '7:2',
      'line 7 is indented 3 spaces less than the mapping on line 4 (its keys start at column 5) and 1 space more than the one on line 2 (column 1): indent it to the column of the one it belongs to',
    ],
    [
      'a list item at the column of the key holding the list (yaml: "A block sequence may not be used as an implicit map key")',
      'phases:\n  - id: p\n    steps:\n      - id: a\n        checks:\n          - x\n        run: x\n    - id: b\n      run: y\n',
      '8:5',
      'line 8 starts a list item at column 5, but the list it continues starts its items at column 7 (line 4): indent it (and the lines under it) to column 7',
    ],
  ])('%s: points at the line that is off and says by how much, against which mapping', (_what, text, at, message) => {
    expect(problemsOf(text)[0]).toMatchObject({ at, message: expect.stringContaining(message) });
  });

  it.each([
    ['a tab as the whole indentation', 'a:\n\tb: 1\n', '2:1', 2],
    ['a tab after spaces', 'a:\n  b:\n    c: 1\n    \td: 2\n', '4:5', 4],
    ['two tabs in a list item', 'phases:\n  - id: p\n    steps:\n      - id: s\n\t\towner: ops\n', '5:1', 5],
  ])('names %s as the cause: tabs cannot indent YAML', (_what, text, at, line) => {
    expect(problemsOf(text)[0]).toMatchObject({ at, message: expect.stringContaining(`line ${line} is indented with a tab: tabs cannot indent YAML; use spaces`) });
  });

  it('never loops or throws on indentation errors at the very start of a file', () => {
    for (const text of ['\n run: 1\nx: 2\n', ' a: 1\nb: 2\n', '\n\n  a: 1\n b: 2\n', 'a:\n  b: 1\n c: 2\n']) {
      const result = parseStrictYaml(text, 'f.yaml');
      if (!result.ok) for (const p of result.problems) expect(p.line).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('Locator', () => {
  const text = [
    'name: demo', //                                1
    'roles:', //                                    2
    '  ops: { title: "Ops team" }', //              3
    'steps:', //                                    4
    '  - id: a', //                                 5
    "    if: steps.b.ok && 'x' == 'y'", //          6
    '    quoted: "steps.b.ok"', //                  7
    '    escaped: "a\\tsteps.b"', //                8
    '    run: |', //                                9
    '      set -e', //                              10
    '', //                                          11
    '      echo ${{ steps.b.ok }}', //              12
    '    folded: >', //                             13
    '      one', //                                 14
    '      two ${{ x }}', //                        15
    '    indicated: |2', //                         16
    '        two more', //                          17
    '    multi: first', //                          18
    '      second ${{ x }}', //                     19
    '',
  ].join('\n');
  const { locate } = parsed(text);
  const at = (pos: { line: number; col: number }) => `${pos.line}:${pos.col}`;

  it.each([
    [['name'], '1:7'],
    [['roles', 'ops'], '3:8'],
    [['roles', 'ops', 'title'], '3:17'],
    [['steps', 0], '5:5'],
    [['steps', 0, 'id'], '5:9'],
    [['steps', 0, 'missing'], '5:5'],
    [['nowhere', 'deeper'], '1:1'],
    [[], '1:1'],
  ])('finds the value at %j', (path, position) => {
    expect(at(locate.value(path))).toBe(position);
  });

  it.each([
    [['name'], '1:1'],
    [['roles', 'ops'], '3:3'],
    [['steps', 0, 'if'], '6:5'],
    [['steps', 0, 'missing'], '5:5'],
  ])('finds the key at %j, or the nearest value when there is no key', (path, position) => {
    expect(at(locate.key(path))).toBe(position);
  });

  it.each([
    ['a plain scalar', ['steps', 0, 'if'], 6, '6:15'],
    ['a double-quoted scalar', ['steps', 0, 'quoted'], 6, '7:20'],
    ['a line of a | block', ['steps', 0, 'run'], 'set -e\n\necho ${{ '.length, '12:16'],
    ['the first line of a | block', ['steps', 0, 'run'], 4, '10:11'],
    // Escapes counted (issue 12: a refused template in `run: "echo \"${{ x }}\""` is shown at its ${{).
    ['a double-quoted scalar with escapes', ['steps', 0, 'escaped'], 3, '8:19'],
    ['a > folded block', ['steps', 0, 'folded'], 9, '15:12'],
    ['a plain scalar over two lines', ['steps', 0, 'multi'], 10, '19:11'],
  ])('finds a character inside %s', (_what, path, offset, position) => {
    expect(at(locate.inside(path, offset))).toBe(position);
  });

  it.each([
    ['a block with an indentation indicator', ['steps', 0, 'indicated'], 3, '16:16'],
    ['an offset past the end', ['steps', 0, 'if'], 999, '6:9'],
    ['a mapping', ['roles'], 2, '3:3'],
  ])('falls back to the start of the value for %s', (_what, path, offset, position) => {
    expect(at(locate.inside(path, offset))).toBe(position);
  });

  it('finds a character inside a | block written with CRLF line endings', () => {
    const { locate: crlf } = parsed('run: |\r\n  set -e\r\n  echo ${{ x }}\r\n');

    expect(at(crlf.inside(['run'], 'set -e\necho '.length))).toBe('3:8');
  });

  it('follows aliases', () => {
    const { locate: aliased } = parsed('base: &b\n  x: 1\nother: *b\n');

    expect(at(aliased.value(['other', 'x']))).toBe('2:6');
  });
});

// Mutated runbooks are fuzzed at length in test/fuzz/runbook.fuzz.test.ts; this one aims at the YAML layer's limits.
describe('no input makes the YAML layer throw', () => {
  it('parseStrictYaml answers every random string over a YAML-ish alphabet', () => {
    const next = prng(11);
    const alphabet = [...'ab: -\n\t[]{},&*!|>\'"%@`?#~\\0.<='];
    for (let i = 0; i < 1500; i++) {
      const text = Array.from({ length: 1 + Math.floor(next() * 40) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
      const result = parseStrictYaml(text, 'f.yaml');
      if (!result.ok) {
        for (const p of result.problems) {
          expect(p.line, JSON.stringify(text)).toBeGreaterThanOrEqual(1);
          expect(p.col, JSON.stringify(text)).toBeGreaterThanOrEqual(1);
        }
      }
    }
  });
});
