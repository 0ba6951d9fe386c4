// The commands deployctl prints for a person to paste (resume, --new, --in-flight, status), built in one place from how `run` was invoked and quoted for the shell.
import type { RunInvocation } from '../engine/events.js';
import type { InFlightDecision } from '../engine/run-context.js';

/**
 * How the operator reaches deployctl where they are: `npx deployctl` when this process was started by npm (npx,
 * `npm exec`, `npm run`: npm sets npm_command / npm_execpath / npm_lifecycle_event for what it runs), else
 * `deployctl` (installed on the PATH). A hint that says `deployctl` to someone without it on the PATH does not work.
 */
export function deployctlCommand(env: Readonly<Record<string, string | undefined>>): string {
  const viaNpm = env['npm_command'] !== undefined || env['npm_execpath'] !== undefined || env['npm_lifecycle_event'] !== undefined;
  return viaNpm ? 'npx deployctl' : 'deployctl';
}

/** Characters a shell word may hold bare. */
const BARE = /^[A-Za-z0-9_@%+=:,./-]+$/;
/** What must never reach a terminal raw (inert.ts's set): written as bytes inside $'…'. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/**
 * One word for the shell, as a person pastes it: bare when nothing in it is special, else single-quoted (each ' as
 * '\''), which every POSIX shell reads back as the very value. A value with control characters is written as $'…'
 * with those characters as \xHH bytes (bash, zsh, ksh; POSIX.1-2024 sh), so no escape sequence reaches the terminal
 * raw and pasting still gives the value.
 */
export function shellWord(value: string): string {
  if (value !== '' && BARE.test(value) && !value.startsWith('-')) return value;
  if (!CONTROL.test(value)) return `'${value.replace(/'/g, `'\\''`)}'`;
  let out = "$'";
  for (const c of value) {
    if (c === '\\' || c === "'") out += `\\${c}`;
    else if (c === '\n') out += '\\n';
    else if (c === '\t') out += '\\t';
    else if (c === '\r') out += '\\r';
    else if (CONTROL.test(c)) out += [...Buffer.from(c, 'utf8')].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
    else out += c;
  }
  return `${out}'`;
}

/** A file argument: one that starts with `-` would be read as an option, so it is written `./-x.yaml`. */
function fileWord(file: string): string {
  return shellWord(file.startsWith('-') ? `./${file}` : file);
}

const URL_WITH_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^/@:?#]*):[^/?#]*@/i;

/**
 * A state URL without its password (`user:password@` → `user@`, and no `password=` parameter), for a command a person
 * pastes: a masked `***` would be sent as the password and fail to log in. `removed` says whether there was one.
 */
export function withoutPassword(spec: string): { text: string; removed: boolean } {
  let removed = false;
  // Greedy up to the authority's last `@`, as maskUrl: a password with a raw `@` in it goes whole.
  let text = spec.replace(URL_WITH_PASSWORD, (_all, head: string) => {
    removed = true;
    return `${head}@`;
  });
  const query = text.indexOf('?');
  if (query >= 0) {
    const hash = text.indexOf('#', query);
    const end = hash >= 0 ? hash : text.length;
    const params = text.slice(query + 1, end).split('&');
    const kept = params.filter((p) => p.slice(0, p.includes('=') ? p.indexOf('=') : p.length).toLowerCase() !== 'password');
    if (kept.length !== params.length) {
      removed = true;
      text = `${text.slice(0, query)}${kept.length > 0 ? `?${kept.join('&')}` : ''}${text.slice(end)}`;
    }
  }
  return { text, removed };
}

/** Said beside a command whose `--state` URL had a password: where the pasted command gets it from. */
export const PASSWORD_LEFT_OUT =
  "the state URL's password is left out of this command: it is read from $PGPASSWORD or ~/.pgpass; or put the whole URL in DEPLOYCTL_STATE and leave --state out";

/** What of `run`'s options a hint repeats; the names are RunOptions' (commander's) own. */
export type InvokedOptions = Omit<RunInvocation, 'runbook' | 'vars'> & { var?: string[] };

/** The invocation of `run file options`, as the journal keeps it. */
export function invocationOf(file: string, options: InvokedOptions): RunInvocation {
  return {
    runbook: file,
    ...(options.var !== undefined && options.var.length > 0 ? { vars: [...options.var] } : {}),
    ...(options.answers !== undefined ? { answers: options.answers } : {}),
    ...(options.key !== undefined ? { key: options.key } : {}),
    ...(options.operator !== undefined ? { operator: options.operator } : {}),
    ...(options.out !== undefined ? { out: options.out } : {}),
    ...(options.statusEvery !== undefined ? { statusEvery: options.statusEvery } : {}),
    ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
    ...(options.t0 !== undefined ? { t0: options.t0 } : {}),
    ...(options.nonInteractive === true ? { nonInteractive: true } : {}),
  };
}

/**
 * An invocation read from a journal (untrusted: any field may be anything): only the well-formed fields, and
 * `runbook` when it has none (journals of earlier versions carry no invocation).
 */
export function checkedInvocation(value: unknown, runbook: string): RunInvocation {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const text = (key: string) => (typeof v[key] === 'string' && v[key] !== '' ? { [key]: v[key] as string } : {});
  const vars = Array.isArray(v['vars']) ? v['vars'].filter((p): p is string => typeof p === 'string' && p.includes('=')).slice(0, 200) : [];
  return {
    runbook: typeof v['runbook'] === 'string' && v['runbook'] !== '' ? v['runbook'] : runbook,
    ...(vars.length > 0 ? { vars } : {}),
    ...text('answers'),
    ...text('key'),
    ...text('operator'),
    ...text('out'),
    ...text('statusEvery'),
    ...text('timeScale'),
    ...text('t0'),
    ...(v['nonInteractive'] === true ? { nonInteractive: true } : {}),
  };
}

export interface HintContext {
  /** The `--state` of the command printing the hint (where it found the run); undefined: the default or $DEPLOYCTL_STATE. */
  state?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  /**
   * Repeat `--operator`: yes in the run's own hints (the same person pastes them); no in `status`, which anyone on
   * the team may read, and whose reader is the operator of what they paste.
   */
  withOperator?: boolean;
}

export interface RunHints {
  /** `deployctl run F … --resume [ID] [--in-flight D]`: the run's own command line, continuing the run. */
  resume(runId?: string, inFlight?: InFlightDecision): string;
  /** `deployctl run F … --new`: the same command line, starting another run beside an unfinished one. */
  startNew(): string;
  /** `deployctl status [ID]` where the run is kept. */
  status(runId?: string): string;
  /** Said once beside these commands when the state URL's password was left out of them. */
  note: string | undefined;
}

/** Every command a hint about this invocation prints. */
export function runHints(invocation: RunInvocation, context: HintContext): RunHints {
  const prefix = deployctlCommand(context.env);
  const state = stateWords(context.state, context.env);
  const base = [prefix, 'run', fileWord(invocation.runbook), ...optionWords(invocation, context.withOperator !== false), ...state.words];
  return {
    resume: (runId, inFlight) => [...base, '--resume', ...(runId !== undefined ? [shellWord(runId)] : []), ...(inFlight !== undefined ? ['--in-flight', inFlight] : [])].join(' '),
    startNew: () => [...base, '--new'].join(' '),
    status: (runId) => [prefix, 'status', ...(runId !== undefined ? [shellWord(runId)] : []), ...state.words].join(' '),
    note: state.note,
  };
}

/** `command`, and on the next line (indented by `indent`) the note, when there is one. */
export function withNote(command: string, hints: Pick<RunHints, 'note'>, indent = '  '): string {
  return hints.note === undefined ? command : `${command}\n${indent}(${hints.note})`;
}

function optionWords(invocation: RunInvocation, withOperator: boolean): string[] {
  const words: string[] = [];
  const add = (flag: string, value: string | undefined) => {
    if (value !== undefined) words.push(flag, shellWord(value));
  };
  for (const pair of invocation.vars ?? []) add('--var', pair);
  add('--answers', invocation.answers);
  add('--key', invocation.key);
  if (withOperator) add('--operator', invocation.operator);
  add('--out', invocation.out);
  add('--status-every', invocation.statusEvery);
  add('--time-scale', invocation.timeScale);
  add('--t0', invocation.t0);
  if (invocation.nonInteractive === true) words.push('--non-interactive');
  return words;
}

/** The `--state` words: none when the state is the default or $DEPLOYCTL_STATE already names it; never a password. */
function stateWords(state: string | undefined, env: Readonly<Record<string, string | undefined>>): { words: string[]; note?: string } {
  if (state === undefined || state === env['DEPLOYCTL_STATE']) return { words: [] };
  const { text, removed } = withoutPassword(state);
  return { words: ['--state', shellWord(text)], ...(removed ? { note: PASSWORD_LEFT_OUT } : {}) };
}
