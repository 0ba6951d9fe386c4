// Where each ${{ }} of a shell `run:` string lands, read with the bash grammar: a literal word (allowed) or shell syntax (refused), and which commands parse it again.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { needsShellParser, placeArgvTemplates, placeShellTemplates, type ShellContext } from '../../src/expr/shell-placement.js';

const T = '${{ vars.v }}';

/** Each case holds one template (`T`): the context the parser puts it in. */
const ALLOWED: [what: string, script: string, context: ShellContext][] = [
  ['an argument', `echo ${T}`, 'argument'],
  ['an argument with text around it', `printf %s --v=${T}/x`, 'argument'],
  ['two templates in one word', `echo ${T}${T}`.replace(T, '${{ vars.a }}'), 'argument'],
  ['the command name', `${T} --flag`, 'command-name'],
  ['the command name after an assignment', `A=1 ${T}`, 'command-name'],
  ['an assignment before a command', `A=${T} cmd`, 'assignment'],
  ['an assignment on its own', `A=${T}; echo "$A"`, 'assignment'],
  ['a file to write', `echo x > ${T}`, 'redirect-target'],
  ['a file to append to', `echo x >> out-${T}`, 'redirect-target'],
  ['a file to read', `cat < ${T}`, 'redirect-target'],
  ['stderr to a file', `cmd 2> ${T}`, 'redirect-target'],
  ['the list of a for loop', `for x in a ${T}; do echo "$x"; done`, 'for-list'],
  ['an operand of [ ]', `[ ${T} = x ]`, 'test-operand'],
  ['an argument in a pipeline', `true | echo ${T}`, 'argument'],
  ['an argument in an and-list', `true && echo ${T} || false`, 'argument'],
  ['an argument in a subshell', `( echo ${T} )`, 'argument'],
  ['an argument in a group', `{ echo ${T}; }`, 'argument'],
  ['an argument in an if body', `if true; then echo ${T}; fi`, 'argument'],
  ['an argument in a while body', `while false; do echo ${T}; done`, 'argument'],
  ['an argument in a case branch', `case x in x) echo ${T};; esac`, 'argument'],
  ['an argument in a function body', `f() { echo "$1"; }; f ${T}`, 'argument'],
  ['an argument of a negated command', `! echo ${T}`, 'argument'],
  ['an argument of a background command', `echo ${T} &`, 'argument'],
  ['an argument after a here-document', `cat <<EOF\nx\nEOF\necho ${T}`, 'argument'],
  ['an argument after a comment line', `# note\necho ${T}`, 'argument'],
  ['an argument on a continued line', `echo a \\\n  ${T}`, 'argument'],
  ['an argument next to a double-quoted word', `echo "$HOME"${T}`, 'argument'],
  ['an argument after a closed quoted word', `echo "a" ${T}`, 'argument'],
  ['an argument after an escaped quote', `echo \\'${T}`, 'argument'],
  ['an argument after a single-quoted backslash (which escapes nothing)', `echo '\\'${T}`, 'argument'],
  ["an argument after a CEL string holding a quote", `echo \${{ vars.x + '"' }} ${T}`.replace(T, '${{ vars.y }}'), 'argument'],
];

const REFUSED: [what: string, script: string, context: ShellContext][] = [
  ['inside double quotes', `echo "v=${T}"`, 'double-quotes'],
  ['inside single quotes', `echo 'v=${T}'`, 'single-quotes'],
  ['inside double quotes after an escaped quote', `echo "\\"${T}"`, 'double-quotes'],
  ['inside double quotes on a later line', `set -e\necho "${T}"`, 'double-quotes'],
  ['after a $ (ANSI-C quoting in bash)', `echo $${T}`, 'ansi-c-quotes'],
  ['inside $\'…\'', `echo $'x${T}'`, 'ansi-c-quotes'],
  ['in a here-document', `cat <<EOF\nversion=${T}\nEOF`, 'here-document'],
  ['in a quoted here-document', `cat <<'EOF'\n${T}\nEOF`, 'here-document'],
  ['in a <<- here-document', `cat <<-EOF\n\t${T}\n\tEOF`, 'here-document'],
  ['as a here-document delimiter', `cat <<${T}\nx\n`, 'here-document'],
  ['in a comment', `true # ${T}`, 'comment'],
  ['in a comment line', `# ${T}\ntrue`, 'comment'],
  ['in $(( ))', `echo $(( ${T} + 1 ))`, 'arithmetic'],
  ['in (( ))', `(( ${T} > 1 ))`, 'arithmetic'],
  ['in let', `let n=${T}`, 'arithmetic'],
  ['in a C-style for', `for (( i = ${T}; i < 3; i++ )); do :; done`, 'arithmetic'],
  ['after a backslash', `echo \\${T}`, 'after-backslash'],
  ['after a backslash inside a word', `echo a\\${T}`, 'after-backslash'],
  ['inside backticks', `echo \`echo ${T}\``, 'backticks'],
  ['inside $( )', `echo $(echo ${T})`, 'command-substitution'],
  ['inside $( ) inside double quotes', `echo "$(echo ${T})"`, 'command-substitution'],
  ['inside <( )', `cat <(echo ${T})`, 'process-substitution'],
  ['in a parameter expansion', `echo \${x:-${T}}`, 'parameter-expansion'],
  ['in a case pattern', `case x in ${T}) echo y;; esac`, 'case-pattern'],
  ['as the word a case tests', `case ${T} in x) echo y;; esac`, 'case-subject'],
  ['in [[ ]]', `[[ ${T} -eq 1 ]]`, 'double-brackets'],
  ['in export', `export V=${T}`, 'declaration'],
  ['in local', `f() { local v=${T}; }`, 'declaration'],
  ['in declare -i', `declare -i v=${T}`, 'declaration'],
  ['in readonly', `readonly V=${T}`, 'declaration'],
  // Assignments first, read as bash reads them (the grammar takes `_=0@` for a command name and misses `+=`).
  ['in export after an assignment the grammar misreads', `_=0@ export ${T}`, 'declaration'],
  ['in export after an appending assignment', `a+=b export ${T}`, 'declaration'],
  // Review: subscripts with ] inside, and a line continuation, are assignments to bash too (a value `a[$(cmd)]` then runs).
  ['in let after an assignment whose subscript holds a ]', `a[\${b[0]}]=1 let x=${T}`, 'arithmetic'],
  ['in let after an assignment whose subscript is a quoted ]', `a["]"]=1 let x=${T}`, 'arithmetic'],
  ['in export after an assignment whose subscript holds a ]', `a[\${b[0]}]=1 export x=${T}`, 'declaration'],
  ['in an array', `a=(x ${T})`, 'array'],
  ['as a descriptor to duplicate', `echo x >&${T}`, 'descriptor'],
  ['as a descriptor to read from', `cat <&${T}`, 'descriptor'],
  ['in a here-string', `cat <<< ${T}`, 'here-string'],
  ['in a command the parser cannot read', `echo ${T} )`, 'unparsed'],
  ['anywhere in a script with an unclosed quote', `echo ${T}\necho "x`, 'unparsed'],
];

describe('placeShellTemplates', () => {
  it.each(ALLOWED)('allows a template as %s', async (_what, script, context) => {
    const report = await placeShellTemplates(script);
    expect(report.templates.map((t) => [t.context, t.allowed])).toEqual(report.templates.map(() => [context, true]));
    expect(report.templates.length).toBeGreaterThanOrEqual(1);
  });

  it.each(REFUSED)('refuses a template %s', async (_what, script, context) => {
    const report = await placeShellTemplates(script);
    expect(report.templates).toHaveLength(1);
    expect(report.templates[0]).toMatchObject({ context, allowed: false, start: script.indexOf('${{'), end: script.indexOf('}}') + 2 });
  });

  it('gives each template of a script its own verdict and offsets', async () => {
    const script = `echo ${T}\ncat <<EOF\n${T}\nEOF\necho "${T}"`;
    const report = await placeShellTemplates(script);
    expect(report.templates.map((t) => [t.start, t.context, t.allowed])).toEqual([
      [5, 'argument', true],
      [29, 'here-document', false],
      [53, 'double-quotes', false],
    ]);
  });

  it('counts offsets in UTF-16 code units, as JavaScript strings do, past non-ASCII text', async () => {
    const script = `echo 'é😀' "ü" # ✓\necho ${T} "${T}"`;
    const report = await placeShellTemplates(script);
    expect(report.templates.map((t) => [t.start, t.allowed])).toEqual([
      [script.indexOf('${{'), true],
      [script.lastIndexOf('${{'), false],
    ]);
  });

  it('reports nothing for a script without templates, and reads an unclosed ${{ as no template', async () => {
    expect(await placeShellTemplates('echo "$(( 1 + 1 ))" <<EOF\nx\nEOF')).toEqual({ templates: [], warnings: [] });
  });
});

/** A template feeding a command that parses its arguments as code again: allowed, with a warning at the template. */
const REPARSED: [what: string, script: string, command: string][] = [
  ['eval', `eval ${T}`, 'eval'],
  ['eval after an assignment', `X=1 eval "echo" ${T}`, 'eval'],
  ['sh -c', `sh -c ${T}`, 'sh -c'],
  ['bash -c with other options', `bash -euo pipefail -c ${T}`, 'bash -c'],
  ['bash -lc', `/bin/bash -lc ${T}`, 'bash -c'],
  ['sudo sh -c', `sudo sh -c ${T}`, 'sh -c'],
  ['sudo -u root bash -c', `sudo -u root bash -c ${T}`, 'bash -c'],
  ['env sh -c', `env A=1 sh -c ${T}`, 'sh -c'],
  ['env -S', `env -S ${T}`, 'env -S'],
  ['timeout sh -c', `timeout 5 sh -c ${T}`, 'sh -c'],
  ['xargs sh -c', `printf x | xargs -n 1 sh -c ${T}`, 'sh -c'],
  ['find -exec sh -c', `find . -exec sh -c ${T} \\;`, 'sh -c'],
  ['ssh with a remote command', `ssh host uptime ${T}`, 'ssh'],
  ['ssh with the host from a template', `ssh ${T} uptime`, 'ssh'],
  ['su -c', `su - deploy -c ${T}`, 'su -c'],
  ['watch', `watch -n 5 ${T}`, 'watch'],
  ['parallel', `parallel echo ::: ${T}`, 'parallel'],
  ['trap', `trap ${T} EXIT`, 'trap'],
  ['node -e', `node -e ${T}`, 'node -e'],
  ['python3 -c', `python3 -c ${T}`, 'python3 -c'],
  ['perl -e', `perl -e ${T}`, 'perl -e'],
  ['awk', `awk -F: ${T} /etc/passwd`, 'awk'],
  ['read into a variable name', `read ${T} < file`, 'read'],
  ['[ -v ]', `[ -v ${T} ]`, '[ -v'],
  ['test -v', `test -v ${T}`, 'test -v'],
  ['a pipe into sh', `printf %s ${T} | sh`, 'sh'],
  ['a pipe into bash -s, further down the pipeline', `echo ${T} | bash -s x | cat`, 'bash'],
  ['a pipe into xargs sh -c', `printf '%s\n' ${T} | xargs -n 1 sh -c`, 'xargs sh'],
  ['a pipe into sudo sh', `echo ${T} | sudo -u root sh`, 'sh'],
  ['a pipe into python3', `echo ${T} | python3`, 'python3'],
  ['a pipe into source /dev/stdin', `echo ${T} | . /dev/stdin`, '.'],
];

const NOT_REPARSED: [what: string, script: string][] = [
  ['a positional parameter of sh -c', `sh -c 'printf %s "$1"' sh ${T}`],
  ['a script file given to sh', `sh ./script.sh ${T}`],
  ['watch -x, which runs the command without a shell', `watch -x echo ${T}`],
  ['sudo running a plain command', `sudo -u deploy touch ${T}`],
  ['an argument of echo', `echo ${T}`],
  ['a node script given by file', `node deploy.js ${T}`],
  ['awk given its program from a file', `awk -f prog.awk ${T}`],
  ['a pipe into a shell that runs a script file', `echo ${T} | sh ./consume.sh`],
  ['a pipe into sh -c with a fixed script', `echo ${T} | sh -c 'cat > out'`],
  ['a pipe into xargs running a plain command', `echo ${T} | xargs echo`],
  ['a pipe into grep', `echo ${T} | grep x`],
  ['a pipe out of a shell', `sh -c 'echo hi' | grep ${T}`],
];

describe('commands that parse an argument again', () => {
  it.each(REPARSED)('warns when a template feeds %s', async (_what, script, command) => {
    const report = await placeShellTemplates(script);
    expect(report.templates.every((t) => t.allowed)).toBe(true);
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toMatchObject({ start: script.indexOf('${{'), command });
  });

  it.each(NOT_REPARSED)('does not warn for %s', async (_what, script) => {
    expect((await placeShellTemplates(script)).warnings).toEqual([]);
  });

  it.each([
    ['sh -c', ['sh', '-c', `echo ${T}`], 2, 'sh -c'],
    ['sudo bash -c', ['sudo', 'bash', '-c', T], 3, 'bash -c'],
    ['ssh', ['ssh', 'host', T], 2, 'ssh'],
    ['node -e', ['node', '-e', `console.log(${T})`], 2, 'node -e'],
  ])('warns for an argv run: %s', (_what, argv, item, command) => {
    expect(placeArgvTemplates(argv)).toEqual([expect.objectContaining({ item, start: argv[item]!.indexOf('${{'), command })]);
  });

  it('reads a word that only looks like an assignment as the command name, and a path as a file, as bash does: no builtin', async () => {
    for (const script of [`--a=b export ${T}`, `1a=b export ${T}`, `a=b --x=y export ${T}`, `--a=b/export ${T}`, `--a=b/let ${T}`, `./let ${T}`]) {
      for (const forceParser of [false, true]) {
        const report = await placeShellTemplates(script, { forceParser });
        expect(report.templates.map((t) => t.allowed), script).toEqual([true]);
      }
    }
  });

  it('treats text the grammar drops without an error as a syntax error: it is not what bash reads', async () => {
    // tree-sitter-bash parses `- a=b let x` as `a=b let x`; bash runs `-`.
    const script = `- sh=: let ${T}`;
    expect((await placeShellTemplates(script, { forceParser: true })).templates).toEqual([expect.objectContaining({ allowed: false, context: 'unparsed', errorAt: 0 })]);
    expect((await placeShellTemplates(script)).templates).toEqual([expect.objectContaining({ allowed: true, context: 'argument' })]);
    expect((await placeShellTemplates(`if true; then - a=b let ${T}; fi`)).templates).toEqual([expect.objectContaining({ allowed: false, errorAt: 14 })]);
  });

  it('refuses templates in a script with a line continuation inside a word: bash joins the word, the grammar splits it', async () => {
    // Review: `a\<newline>=1 let x=…` is the assignment a=1 then let to bash; `ev\<newline>al` is eval.
    for (const script of [`a\\\n=1 let x=${T}`, `ev\\\nal ${T}`, `echo x\\\ny ${T}`]) {
      expect((await placeShellTemplates(script)).templates, JSON.stringify(script)).toEqual([expect.objectContaining({ allowed: false, errorAt: script.indexOf('\\') })]);
    }
    // A continuation between words stays allowed.
    // So does one that bash does not join: in a comment, in single quotes, in a quoted here-document.
    for (const script of [`curl -s \\\n  ${T}`, `echo a\\\n\t${T}`, `echo \\\\\nb ${T}`, `# C:\\dir\\\necho ${T}`, `echo 'a\\\nb' ${T}`, `cat <<'EOF' > f\na\\\nb\nEOF\necho ${T}`]) {
      expect((await placeShellTemplates(script)).templates.map((t) => t.allowed), JSON.stringify(script)).toEqual([true]);
    }
  });

  it('does not warn for an argv run whose templates are plain arguments', () => {
    expect(placeArgvTemplates(['sh', '-c', 'printf %s "$1"', 'sh', T])).toEqual([]);
    expect(placeArgvTemplates(['node', 'deploy.js', T])).toEqual([]);
  });
});

describe('the fast path for plain commands', () => {
  it.each([
    ['words and templates only', `${T} deploy ${T} --to=prod/eu`, false],
    ['an assignment and a command', `A=${T} ./run.sh x`, false],
    ['no template at all', 'echo "x"', false],
    ['a quote', `echo "${T}"`, true],
    ['a redirection', `echo ${T} > f`, true],
    ['a newline', `echo ${T}\necho x`, true],
    ['a comment sign', `echo ${T} #x`, true],
    ['a reserved word first', `time ${T}`, true],
    ['a backslash', `echo \\${T}`, true],
  ])('needs the parser for %s: %s', (_what, script, needed) => {
    expect(needsShellParser(script)).toBe(needed);
  });

  // The fast path must never be the weaker one: it refuses whatever the parser refuses and warns wherever the parser
  // warns. Where the grammar cannot read a plain command at all (tree-sitter-bash fails on `a@ x` and `a%'x'`), the
  // parser path refuses everything and the fast path, which follows POSIX, is the one that is right: skipped.
  // (Where the grammar reads one wrongly, `_=0@` as a command name or `--a=b` as an assignment, commandWords in
  // shell-tree.ts reads it as bash does, and both paths must agree.)
  it('refuses and warns at least where the parser does, on every plain command (property)', async () => {
    const word = fc.oneof(
      fc.constantFrom(T, '${{ answers.x }}', 'eval', 'sh', '-c', 'ssh', 'sudo', 'env', 'let', 'export', 'A=1', 'B=', 'x=y', '--a=b', './x', 'read', 'trap', 'xargs', 'timeout', '5'),
      fc.stringMatching(/^[A-Za-z0-9_@%+=:,./-]{1,6}$/),
    );
    const script = fc.array(fc.array(word, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('')), { minLength: 1, maxLength: 6 }).map((words) => words.join(' '));
    await fc.assert(
      fc.asyncProperty(script, async (text) => {
        fc.pre(!needsShellParser(text));
        const fast = await placeShellTemplates(text);
        const parsed = await placeShellTemplates(text, { forceParser: true });
        if (parsed.templates.some((t) => t.errorAt !== undefined)) return;
        expect(fast.templates.map((t) => [t.start, t.allowed])).toEqual(parsed.templates.map((t) => [t.start, t.allowed]));
        expect(fast.templates.filter((t) => !t.allowed)).toEqual(parsed.templates.filter((t) => !t.allowed));
        const warned = new Set(fast.warnings.map((w) => `${w.start} ${w.command}`));
        for (const w of parsed.warnings) expect(warned, text).toContain(`${w.start} ${w.command}`);
      }),
      { numRuns: 400 },
    );
  });
});
