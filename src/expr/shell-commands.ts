// What a simple command does with its words: which ones it parses or evaluates again (eval, sh -c, ssh, …), seen through wrappers such as sudo and xargs.
//
// A template in a word position reaches the command as one literal word. What the command then does with that word is
// its own business, and some commands read it as code: a shell's `-c` string, ssh's remote command line, awk's program.
// Those get a warning (issue 12, DESIGN.md "Templates never become shell code"); `let` and the declaration builtins
// evaluate their arguments as arithmetic (bash runs `$(…)` inside an array subscript there), so a template is refused.

/** One word of a simple command, after any leading NAME=value assignments. */
export interface CommandWord {
  /** The word as the command receives it, when it holds no template and nothing the shell expands; else undefined. */
  literal: string | undefined;
  /** Where the templates inside this word start, as offsets in the script (or in the argv item). */
  templates: number[];
}

export interface ReparseWarning {
  /** Offset of the template's `${{`. */
  start: number;
  /** The command as the warning names it: `sh -c`, `ssh`, `eval`, … */
  command: string;
  /** What that command does with the word, as a clause: "sh -c parses its argument as shell code". */
  why: string;
  /** The code runs on another machine (ssh): an env: entry does not reach it. */
  remote?: boolean;
}

/** A template a command would evaluate as arithmetic or as a declaration: refused, whatever the value. */
export interface CommandRefusal {
  start: number;
  context: 'arithmetic' | 'declaration';
}

export interface CommandInspection {
  warnings: ReparseWarning[];
  refusals: CommandRefusal[];
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'yash', 'posh', 'fish']);

/** Builtins that take variable names, in which bash evaluates an array subscript (`a[$(cmd)]`) as arithmetic. */
const NAME_TAKERS = new Set(['read', 'mapfile', 'readarray', 'getopts', 'printf', 'wait']);

/** Builtins that declare (or unset) variables: bash evaluates `-i` values, `'(…)'` array values and subscripts as code. */
export const DECLARATION_BUILTINS = new Set(['export', 'local', 'declare', 'typeset', 'readonly', 'unset']);

/** Interpreters and the option whose value is a program: `node -e CODE`. */
const INLINE_CODE: Record<string, string[]> = {
  node: ['-e', '--eval', '-p', '--print'],
  nodejs: ['-e', '--eval', '-p', '--print'],
  python: ['-c'],
  python2: ['-c'],
  python3: ['-c'],
  perl: ['-e', '-E'],
  ruby: ['-e'],
  php: ['-r'],
};

/**
 * Commands that run another command given as their remaining words, with their options that take a value and the
 * positional words they take before the command (`timeout 5 CMD`, `chroot DIR CMD`).
 */
const WRAPPERS: Record<string, { valued: string[]; positional?: number }> = {
  sudo: { valued: ['-u', '-g', '-h', '-p', '-C', '-D', '-r', '-t', '-U', '-T', '--user', '--group', '--host', '--prompt', '--chdir'] },
  doas: { valued: ['-u', '-C'] },
  env: { valued: ['-u', '-C', '--unset', '--chdir'] },
  nice: { valued: ['-n', '--adjustment'] },
  ionice: { valued: ['-c', '-n', '-p', '--class', '--classdata'] },
  nohup: { valued: [] },
  setsid: { valued: [] },
  stdbuf: { valued: ['-i', '-o', '-e'] },
  time: { valued: ['-f', '-o', '--format', '--output'] },
  command: { valued: [] },
  builtin: { valued: [] },
  exec: { valued: ['-a'] },
  timeout: { valued: ['-s', '-k', '--signal', '--kill-after'], positional: 1 },
  chroot: { valued: ['--userspec', '--groups'], positional: 1 },
  taskset: { valued: [], positional: 1 },
  flock: { valued: ['-w', '-E', '--timeout', '--conflict-exit-code'], positional: 1 },
  xargs: { valued: ['-a', '-d', '-E', '-I', '-i', '-L', '-l', '-n', '-P', '-s', '--arg-file', '--delimiter', '--max-args', '--max-procs', '--max-lines', '--replace', '--max-chars'] },
  nsenter: { valued: ['-t', '--target'] },
  runuser: { valued: ['-u', '-g', '--user', '--group'] },
};

function basename(command: string): string {
  return command.slice(command.lastIndexOf('/') + 1);
}

const isOption = (word: CommandWord | undefined): boolean => word?.literal !== undefined && /^[-+]./.test(word.literal) && word.literal !== '--';

/** Templates in `words` from index `from` on (all of them when `to` is absent). */
function templatesIn(words: readonly CommandWord[], from: number, to = words.length): number[] {
  return words.slice(from, to).flatMap((w) => w.templates);
}

/**
 * Inspect a simple command: `words[0]` is the command name. Wrappers are looked through, so `sudo -u root sh -c X`
 * is judged as `sh -c X`. A command named by a template is unknown: nothing can be said about it.
 */
export function inspectCommand(words: readonly CommandWord[]): CommandInspection {
  const warnings: ReparseWarning[] = [];
  const refusals: CommandRefusal[] = [];
  const warn = (starts: number[], command: string, why: string) => {
    const remote = ['ssh', 'scp', 'rsync'].includes(command);
    for (const start of starts) warnings.push({ start, command, why, ...(remote ? { remote } : {}) });
  };
  inspectFrom(words, 0, warn, refusals, 0);
  return { warnings, refusals };
}

type Warn = (starts: number[], command: string, why: string) => void;

function inspectFrom(words: readonly CommandWord[], at: number, warn: Warn, refusals: CommandRefusal[], depth: number): void {
  const nameWord = words[at];
  if (nameWord?.literal === undefined || depth > 8) return;
  const name = basename(nameWord.literal);
  const rest = at + 1;

  // A name with a slash is a file bash runs, never a builtin (`./let`, `/x/export`).
  const builtin = !nameWord.literal.includes('/');
  if (name === 'let' && builtin) {
    for (const start of templatesIn(words, rest)) refusals.push({ start, context: 'arithmetic' });
    return;
  }
  if (DECLARATION_BUILTINS.has(name) && builtin) {
    for (const start of templatesIn(words, rest)) refusals.push({ start, context: 'declaration' });
    return;
  }
  if (name === 'eval') return warn(templatesIn(words, rest), 'eval', 'eval joins its arguments and runs them as shell code');
  if (name === 'busybox') return inspectFrom(words, rest, warn, refusals, depth + 1);
  if (SHELLS.has(name)) return inspectShell(words, rest, name, warn);
  if (name === 'su') return inspectSu(words, rest, warn);
  if (name === 'ssh') return warn(templatesIn(words, rest), 'ssh', 'ssh joins its arguments into one command line that the remote shell parses again (and a value starting with - is an option)');
  if (name === 'scp' || name === 'rsync') return warn(templatesIn(words, rest), name, `${name} hands remote paths to the remote shell, which parses them again`);
  if (name === 'watch') return inspectWatch(words, rest, warn, refusals, depth);
  if (name === 'parallel') return warn(templatesIn(words, rest), 'parallel', 'parallel builds command lines from its arguments and runs them with a shell');
  if (name === 'trap') return warn(templatesIn(words, rest, rest + 1), 'trap', 'the shell parses a trap action when the trap fires');
  if (name === 'alias') return warn(templatesIn(words, rest), 'alias', 'the shell parses an alias where it is used');
  if (name === 'find') return inspectFind(words, rest, warn, refusals, depth);
  if (name === 'awk' || name === 'gawk' || name === 'mawk' || name === 'nawk') return inspectProgramFirst(words, rest, name, ['-F', '-v', '-f'], ['-f'], warn);
  if (name === 'sed') return inspectSed(words, rest, warn);
  if (INLINE_CODE[name] !== undefined) return inspectInlineCode(words, rest, name, INLINE_CODE[name]!, warn);
  if (NAME_TAKERS.has(name)) return inspectNameTaker(words, rest, name, warn);
  if (name === 'test') {
    const v = words.findIndex((w, j) => j >= rest && (w.literal === '-v' || w.literal === '-R'));
    if (v !== -1) warn(words[v + 1]?.templates ?? [], `test ${words[v]!.literal}`, 'bash evaluates an array subscript in a variable name (a[$(…)]) as code');
    return;
  }
  if (name === 'env' && words.slice(rest).some((w) => w.literal === '-S' || w.literal?.startsWith('--split-string') === true || /^-[a-zA-Z]*S/.test(w.literal ?? ''))) {
    return warn(templatesIn(words, rest), 'env -S', 'env -S splits its argument into words and runs them as a command');
  }
  const wrapper = WRAPPERS[name];
  if (wrapper !== undefined) {
    let i = rest;
    while (i < words.length && isOption(words[i])) {
      const option = words[i]!.literal!;
      i += wrapper.valued.includes(option) ? 2 : 1;
    }
    if (words[i]?.literal === '--') i++;
    if (name === 'env') while (words[i]?.literal?.includes('=') === true) i++;
    i += wrapper.positional ?? 0;
    inspectFrom(words, i, warn, refusals, depth + 1);
  }
}

/** `sh [options] -c STRING [name [args…]]`: STRING is shell code; the words after it are positional parameters ($0, $1…), which are not. */
function inspectShell(words: readonly CommandWord[], from: number, name: string, warn: Warn): void {
  let command = false;
  let i = from;
  for (; i < words.length && isOption(words[i]); i++) {
    const option = words[i]!.literal!;
    if (/^-[a-zA-Z]*c[a-zA-Z]*$/.test(option)) command = true;
    // `-o pipefail`, `-euo pipefail`, `-O extglob`: the next word is the option's value.
    if (/^[-+][a-zA-Z]*[oO]$/.test(option) || option === '--rcfile' || option === '--init-file') i++;
  }
  if (words[i]?.literal === '--') i++;
  if (command && i < words.length) warn(words[i]!.templates, `${name} -c`, `${name} -c parses its argument as shell code`);
}

function inspectSu(words: readonly CommandWord[], from: number, warn: Warn): void {
  for (let i = from; i < words.length; i++) {
    const literal = words[i]!.literal;
    if (literal === '-c' || literal === '--command' || literal === '--session-command') {
      warn(words[i + 1]?.templates ?? [], 'su -c', 'su -c hands its argument to the user\'s shell, which parses it again');
      return;
    }
  }
}

function inspectWatch(words: readonly CommandWord[], from: number, warn: Warn, refusals: CommandRefusal[], depth: number): void {
  let i = from;
  let exec = false;
  while (i < words.length && isOption(words[i])) {
    const option = words[i]!.literal!;
    if (option === '-x' || option === '--exec') exec = true;
    i += ['-n', '-d', '--interval', '-q', '--equexit'].includes(option) ? 2 : 1;
  }
  if (exec) return inspectFrom(words, i, warn, refusals, depth + 1);
  warn(templatesIn(words, i), 'watch', 'watch joins its arguments and runs them with sh -c');
}

/** `find … -exec CMD … ;`: the words after -exec are a command of their own. */
function inspectFind(words: readonly CommandWord[], from: number, warn: Warn, refusals: CommandRefusal[], depth: number): void {
  for (let i = from; i < words.length; i++) {
    const literal = words[i]!.literal;
    if (literal === '-exec' || literal === '-execdir' || literal === '-ok' || literal === '-okdir') {
      const end = words.findIndex((w, j) => j > i && (w.literal === ';' || w.literal === '+'));
      inspectFrom(words.slice(0, end === -1 ? words.length : end), i + 1, warn, refusals, depth + 1);
    }
  }
}

/** awk's program is its first operand unless `-f FILE` gives it. */
function inspectProgramFirst(words: readonly CommandWord[], from: number, name: string, valued: string[], fromFile: string[], warn: Warn): void {
  let i = from;
  for (; i < words.length && isOption(words[i]); i++) {
    const option = words[i]!.literal!;
    if (fromFile.includes(option)) return;
    if (valued.includes(option)) i++;
  }
  if (words[i]?.literal === '--') i++;
  if (i < words.length) warn(words[i]!.templates, name, `${name} runs its program argument, which can start commands (system())`);
}

/** sed's script is the value of -e, else its first operand (GNU sed's `e` command runs the shell). */
function inspectSed(words: readonly CommandWord[], from: number, warn: Warn): void {
  const scripts: number[] = [];
  let i = from;
  let explicit = false;
  for (; i < words.length && isOption(words[i]); i++) {
    const option = words[i]!.literal!;
    if (option === '-f' || option === '--file') return;
    if (option === '-e' || option === '--expression') {
      explicit = true;
      scripts.push(...(words[i + 1]?.templates ?? []));
      i++;
    }
  }
  if (!explicit && i < words.length) scripts.push(...words[i]!.templates);
  warn(scripts, 'sed', 'a sed script can run commands (GNU sed\'s e)');
}

function inspectInlineCode(words: readonly CommandWord[], from: number, name: string, options: string[], warn: Warn): void {
  for (let i = from; i < words.length; i++) {
    const literal = words[i]!.literal;
    if (literal === undefined) continue;
    const flag = options.find((o) => literal === o);
    if (flag !== undefined) return warn(words[i + 1]?.templates ?? [], `${name} ${flag}`, `${name} ${flag} runs its argument as a program`);
    if (!literal.startsWith('-')) return;
  }
}

/** read NAME, printf -v NAME, unset NAME, [ -v NAME ]: a name with a subscript is evaluated as arithmetic in bash. */
function inspectNameTaker(words: readonly CommandWord[], from: number, name: string, warn: Warn): void {
  const why = 'bash evaluates an array subscript in a variable name (a[$(…)]) as code';
  if (name === 'printf') {
    const v = words.findIndex((w, j) => j >= from && w.literal === '-v');
    if (v !== -1) warn(words[v + 1]?.templates ?? [], 'printf -v', why);
    return;
  }
  if (name === 'wait') {
    const p = words.findIndex((w, j) => j >= from && w.literal === '-p');
    if (p !== -1) warn(words[p + 1]?.templates ?? [], 'wait -p', why);
    return;
  }
  warn(templatesIn(words, from), name, why);
}

/** `[ -v NAME ]` and `test -v NAME`: the operand after -v or -R is a variable name. */
export function inspectTestOperand(operator: string | undefined, start: number): ReparseWarning | undefined {
  if (operator !== '-v' && operator !== '-R') return undefined;
  return { start, command: `[ ${operator}`, why: 'bash evaluates an array subscript in a variable name (a[$(…)]) as code' };
}

/** Interpreters that run a program read from their input when given no program (`… | python3`). */
const STDIN_INTERPRETERS = new Set(['node', 'nodejs', 'python', 'python2', 'python3', 'perl', 'ruby', 'php']);

/**
 * A later stage of a pipeline that reads what it is piped as code (`printf %s VALUE | sh`, `| xargs sh -c`,
 * `| bash -s`, `| python3`): what it is, or undefined. A template earlier in the pipeline feeds it.
 */
export function inspectStdinReader(words: readonly CommandWord[], depth = 0): { command: string; why: string } | undefined {
  const nameWord = words[0];
  if (nameWord?.literal === undefined || depth > 8) return undefined;
  const name = basename(nameWord.literal);
  const operands = (from: number) => {
    let i = from;
    while (i < words.length && isOption(words[i])) i += /^[-+][a-zA-Z]*[oO]$/.test(words[i]!.literal!) ? 2 : 1;
    return words.slice(i);
  };
  if (SHELLS.has(name)) {
    const options = words.slice(1).filter(isOption).map((w) => w.literal!);
    const command = options.some((o) => /^-[a-zA-Z]*c[a-zA-Z]*$/.test(o));
    const fromStdin = options.some((o) => /^-[a-zA-Z]*s[a-zA-Z]*$/.test(o)) || operands(1).length === 0;
    return !command && fromStdin ? { command: name, why: `${name} reads what it is piped as a script` } : undefined;
  }
  if (STDIN_INTERPRETERS.has(name)) {
    const rest = operands(1);
    const inline = words.slice(1).some((w) => (INLINE_CODE[name] ?? []).includes(w.literal ?? ''));
    return !inline && (rest.length === 0 || rest[0]!.literal === '-') ? { command: name, why: `${name} runs what it is piped as a program` } : undefined;
  }
  if ((name === 'source' || name === '.') && words[1]?.literal !== undefined && /^\/dev\/(stdin|fd\/0)$/.test(words[1].literal)) {
    return { command: name, why: `${name} ${words[1].literal} runs what it is piped as shell code` };
  }
  if (name === 'xargs') {
    const wrapper = WRAPPERS['xargs']!;
    let i = 1;
    while (i < words.length && isOption(words[i])) i += wrapper.valued.includes(words[i]!.literal!) ? 2 : 1;
    const command = words[i]?.literal === undefined ? undefined : basename(words[i]!.literal!);
    if (command !== undefined && (SHELLS.has(command) || command === 'eval' || STDIN_INTERPRETERS.has(command))) {
      return { command: `xargs ${command}`, why: `xargs turns what it is piped into words of a ${command} command line, which ${command} runs as code` };
    }
    return undefined;
  }
  const wrapper = WRAPPERS[name];
  if (wrapper !== undefined && name !== 'xargs') {
    let i = 1;
    while (i < words.length && isOption(words[i])) i += wrapper.valued.includes(words[i]!.literal!) ? 2 : 1;
    if (name === 'env') while (words[i]?.literal?.includes('=') === true) i++;
    i += wrapper.positional ?? 0;
    return inspectStdinReader(words.slice(i), depth + 1);
  }
  return undefined;
}
