// The loader's shell check: a refused template is a problem at the file:line:col of its ${{, in every YAML style a command is written in; re-parsed ones are warnings.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { needsShellParser } from '../../src/expr/shell-placement.js';
import { loadCheckedRunbook, parseCheckedRunbookText } from '../../src/runbook/load.js';
import { MAX_SHELL_NESTING } from '../../src/expr/shell-nesting.js';
import { envNameFor, MAX_PARSED_BYTES, MAX_PARSED_TEMPLATES, MAX_SHELL_PROBLEMS, STEP_LISTS } from '../../src/runbook/shell-check.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const HEAD = 'version: 1\nname: t\nroles: { ops: { title: Ops } }\nvars: { v: x, host: h }\nphases:\n  - id: p\n    steps:\n';

/** The runbook text with `step` (YAML lines at step indentation) as its only step; and where its first `${{` is. */
function runbook(step: string): { text: string; line: number; col: number } {
  const text = `${HEAD}${step}\n`;
  const offset = text.indexOf('${{');
  const before = text.slice(0, offset);
  return { text, line: before.split('\n').length, col: offset - before.lastIndexOf('\n') };
}

describe('where a refused template is reported', () => {
  it.each([
    ['a plain scalar', '      - id: a\n        owner: ops\n        run: echo $(( ${{ vars.v }} ))'],
    ['a double-quoted scalar', '      - { id: a, owner: ops, run: "echo \\"${{ vars.v }}\\"" }'],
    ['a double-quoted scalar with \\u escapes before it', '      - { id: a, owner: ops, run: "echo \\u00e9\\t\\"${{ vars.v }}\\"" }'],
    ['a single-quoted scalar', "      - { id: a, owner: ops, run: 'echo ''a'' \"${{ vars.v }}\"' }"],
    ['a | block', '      - id: a\n        owner: ops\n        run: |\n          cat <<EOF\n          v=${{ vars.v }}\n          EOF'],
    ['a |- block, deeper in the script', '      - id: a\n        owner: ops\n        run: |-\n          set -e\n\n          echo ok\n          true # ${{ vars.v }}'],
    ['a > folded block over two lines', '      - id: a\n        owner: ops\n        run: >-\n          true &&\n          echo "${{ vars.v }}"'],
    ['a plain scalar over two lines', '      - id: a\n        owner: ops\n        run: true &&\n          echo "${{ vars.v }}"'],
    ['a block in a rollback step', '      - { id: s, owner: ops, run: "true" }\n    rollback:\n      - id: r\n        owner: ops\n        run: |\n          echo `echo ${{ vars.v }}`'],
  ])('at its ${{ in %s', async (_what, step) => {
    const { text, line, col } = runbook(step);
    const result = await parseCheckedRunbookText(text, 'r.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ file: 'r.yaml', line, col });
    expect(result.problems[0]!.message).toMatch(/env: \{ V: "\$\{\{ vars\.v \}\}" \}\) and write "\$V"/);
  });

  it('reports every refused template of a command, each at its own position, in source order', async () => {
    const { text } = runbook('      - id: a\n        owner: ops\n        run: |\n          echo "${{ vars.v }}"\n          echo ok ${{ vars.v }}\n          echo $(( ${{ vars.host }} ))');
    const result = await parseCheckedRunbookText(text, 'r.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => [p.line, p.col, p.code])).toEqual([
      [11, 17, 'template-in-quotes'],
      [13, 20, 'template-in-shell-syntax'],
    ]);
    expect(result.problems[1]!.message).toContain('env: { HOST: "${{ vars.host }}" }');
  });

  it('says where the parser got lost when it cannot read the command: a line, or its end', async () => {
    const broken = runbook('      - id: a\n        owner: ops\n        run: |\n          echo ${{ vars.v }}\n          echo ) x\n          true');
    const result1 = await parseCheckedRunbookText(broken.text, 'r.yaml');
    expect(result1.ok).toBe(false);
    if (result1.ok) return;
    expect(result1.problems).toEqual([expect.objectContaining({ line: broken.line, col: broken.col, code: 'template-unparsed', message: expect.stringMatching(/cannot read \(it goes wrong at line 2 of the command, column 6\)/) })]);

    const { text, line, col } = runbook('      - id: a\n        owner: ops\n        run: |\n          echo ${{ vars.v }}\n          if true; then echo x');
    const result = await parseCheckedRunbookText(text, 'r.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([expect.objectContaining({ line, col, code: 'template-unparsed', message: expect.stringMatching(/cannot read \(it goes wrong at its end: something in it is not closed\)/) })]);
  });
});

describe('every list of steps a phase can hold', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas/runbook.schema.json'), 'utf8')) as { $defs: { phase: { properties: Record<string, { items?: { $ref?: string } }> } } };
  const lists = Object.entries(schema.$defs.phase.properties).filter(([, v]) => v.items?.$ref === '#/$defs/step').map(([k]) => k);

  it('is checked: the schema has no list of steps the shell check does not walk', () => {
    expect(lists.length).toBeGreaterThanOrEqual(3);
    expect([...STEP_LISTS].sort()).toEqual([...lists].sort());
  });

  it.each(lists)('refuses a template in a here-document in %s', async (list) => {
    const step = '      - id: x\n        owner: ops\n        run: |\n          cat <<EOF\n          ${{ vars.v }}\n          EOF';
    const phase = list === 'steps' ? `    steps:\n${step}` : `    steps:\n      - { id: first, owner: ops, run: "true" }\n    ${list}:\n${step}`;
    const text = `version: 1\nname: t\nroles: { ops: { title: Ops } }\nvars: { v: x }\nphases:\n  - id: p\n${phase}\n`;
    const result = await parseCheckedRunbookText(text, 'r.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([expect.objectContaining({ code: 'template-in-shell-syntax', message: expect.stringContaining('here-document') })]);
  });
});

describe('bounds on the work a hostile runbook can ask for', () => {
  const blockSteps = (count: number, script: string) =>
    Array.from({ length: count }, (_, i) => `      - id: s${i}\n        owner: ops\n        run: |\n${script.split('\n').map((l) => `          ${l}`).join('\n')}`).join('\n');

  it(`stops after ${MAX_SHELL_PROBLEMS} refused templates and says how many commands it did not check`, async () => {
    const result = await parseCheckedRunbookText(`${HEAD}${blockSteps(60, 'cat <<EOF\n${{ vars.v }}\nEOF')}\n`, 'r.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(MAX_SHELL_PROBLEMS + 1);
    expect(result.problems.at(-1)).toMatchObject({ code: 'too-many-problems', message: expect.stringContaining(`${60 - MAX_SHELL_PROBLEMS} more run: commands were not checked`) });
  });

  it(`refuses more than ${MAX_PARSED_TEMPLATES} templates in commands that need the parser, at the command that passes the limit`, async () => {
    // Dense (12 characters a template), so that the three commands stay under MAX_PARSED_BYTES.
    const script = `echo${' ${{vars.v}}'.repeat(800)} > y`;
    const { text } = runbook(blockSteps(3, script));
    const result = await parseCheckedRunbookText(text, 'r.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([expect.objectContaining({ code: 'too-many-templates', line: text.split('\n').indexOf('      - id: s2') + 4 })]);
  });
});

describe('commands nested deeper than any real one (review 1, item 15)', () => {
  /** `open` repeated `depth` times around a template, then `close`; where the opener of level MAX_SHELL_NESTING + 1 is (`frames`: levels one `open` opens). */
  const nested = (open: string, close: string, depth: number, frames = 1) => {
    const script = `echo ${open.repeat(depth)}\${{ vars.v }}${close.repeat(depth)}`;
    return { script, tooDeepAt: 'echo '.length + open.length * Math.floor(MAX_SHELL_NESTING / frames) };
  };

  it.each([
    ['$( )', '$(', ')', 1],
    ['"$( )"', '"$(', ')"', 2],
    ['${ }', '${a:-', '}', 1],
    ['( )', '(', ')', 1],
    ['backticks and $( )', '`$(', ')`', 2],
    ["$( ) with a ')' in quotes at each level", "$(echo ')' ", ')', 1],
  ])('refuses %s nested as deep as 20,000 characters allow, before parsing, at the opener that goes too deep', async (_what, open, close, frames) => {
    const { script, tooDeepAt } = nested(open, close, Math.floor(19_000 / (open.length + close.length)), frames);
    const text = `${HEAD}      - id: a\n        owner: ops\n        run: ${JSON.stringify(script)}\n`;
    const result = await parseCheckedRunbookText(text, 'r.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(1);
    const line = text.split('\n').findIndex((l) => l.startsWith('        run: ')) + 1;
    // JSON.stringify escapes nothing in these scripts but `"` and `\`: count them before the offset.
    const before = script.slice(0, tooDeepAt);
    const col = '        run: "'.length + before.length + (before.match(/["\\]/g)?.length ?? 0) + 1;
    expect(result.problems[0]).toMatchObject({ file: 'r.yaml', line, col, code: 'shell-too-deep' });
    expect(result.problems[0]!.message).toContain(`more than ${MAX_SHELL_NESTING} levels deep`);
  });

  it(`accepts ${MAX_SHELL_NESTING} levels, and a here-document's brackets and a quoted ) do not count`, async () => {
    const { script } = nested('$(', ')', MAX_SHELL_NESTING - 1);
    const heredoc = `cat <<EOF\n${'('.repeat(200)}\nEOF\necho ')' "${'{'.repeat(100)}" ${'${x:-'.repeat(10)}a${'}'.repeat(10)} \${{ vars.v }}`;
    const { text } = runbook(`      - { id: a, owner: ops, run: ${JSON.stringify(`${script} | cat`)} }\n      - id: b\n        owner: ops\n        run: |\n${heredoc.split('\n').map((l) => `          ${l}`).join('\n')}`);
    const result = await parseCheckedRunbookText(text, 'r.yaml');
    // The first template is inside $( ) (refused for that, after parsing); the second one is an argument.
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.code)).toEqual(['template-in-shell-syntax']);
    expect(result.problems[0]!.message).toContain('inside $( )');
  });

  it(`stops after ${MAX_PARSED_BYTES / 1024} KiB of commands that need the parser, at the command that passes it`, async () => {
    const script = `echo \${{ vars.v }} | cat\n${'true && true\n'.repeat(1_400)}`;
    const count = Math.ceil(MAX_PARSED_BYTES / script.length) + 1;
    const steps = Array.from({ length: count }, (_, i) => `      - { id: s${i}, owner: ops, run: ${JSON.stringify(script)} }`).join('\n');
    const { text } = runbook(steps);
    const result = await parseCheckedRunbookText(text, 'r.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const passing = Math.floor(MAX_PARSED_BYTES / script.length);
    expect(result.problems).toEqual([expect.objectContaining({ code: 'too-much-shell', line: text.split('\n').findIndex((l) => l.includes(`id: s${passing},`)) + 1 })]);
  });
});

describe('warnings for commands that parse a template again', () => {
  it('warns at the template, in a shell string and in an argv list, and the runbook stays valid', async () => {
    const { text } = runbook('      - { id: a, owner: ops, run: "ssh ${{ vars.host }} uptime" }\n      - { id: b, owner: ops, run: [bash, -c, "echo ${{ vars.v }}"] }');
    const result = await parseCheckedRunbookText(text, 'r.yaml');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const lines = text.split('\n');
    expect(result.warnings.map((w) => [w.line, w.col, w.code])).toEqual([
      [8, lines[7]!.indexOf('${{') + 1, 'template-reparsed'],
      [9, lines[8]!.indexOf('${{') + 1, 'template-reparsed'],
    ]);
    expect(result.warnings[0]!.message).toMatch(/^warning: \$\{\{ vars\.host \}\} feeds ssh: .*remote shell/);
    expect(result.warnings[0]!.message).not.toContain('env:');
    expect(result.warnings[1]!.message).toMatch(/feeds bash -c: .*pass it in env: \(V: "\$\{\{ vars\.v \}\}"\) and write "\$V"/);
  });
});

describe('the phase65 runbook', () => {
  const file = path.join(ROOT, 'runbooks/phase65.yaml');

  it('is valid, with no warning, and none of its commands needs the shell parser (so validate loads none)', async () => {
    const result = await loadCheckedRunbook(file);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.runbook.warnings).toEqual([]);
    const runs = result.runbook.doc.phases.flatMap((p) => [...(p.steps ?? []), ...(p.rollback ?? [])]).map((s) => s.run).filter((r): r is string => typeof r === 'string');
    expect(runs.some((r) => r.includes('${{'))).toBe(true);
    for (const run of runs) expect(needsShellParser(run), run).toBe(false);
  });
});

describe('envNameFor', () => {
  it.each([
    ['vars.version', 'VERSION'],
    ["answers['change-ticket']", 'CHANGE_TICKET'],
    ['steps.out.stdout', 'OUT_STDOUT'],
    ["steps['fetch-id'].stdout", 'FETCH_ID_STDOUT'],
    ['env.HOME', 'HOME'],
    ['vars.a + vars.b', 'A_VARS_B'],
    ['"x"', 'X'],
    ['1 + 2', 'VALUE'],
  ])('names the env entry for %s %s', (expression, name) => {
    expect(envNameFor(expression)).toBe(name);
  });
});
