// Issue 12, terminal escapes: hostile text (OSC 52, OSC 8, clear screen, C1 controls, bidi overrides, BEL) in a runbook, a --var, an answer or a failure reason reaches no sink raw: live output (plain and the task list on a real terminal), summaries, status, plan, validate, record show/list/export/verify, preflight (progress, JSON, JUnit, annotations), dry runs and notifications.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, BIN, cliEnv, killAllClis, recordFiles, runCli, runDirs, stackTraceLines, type CliResult } from '../helpers/cli.js';
import { cleanWorkspaces, workspace, writeRunbook } from './helpers.js';

/** Each would act on a terminal if printed raw: write the clipboard, hide a link, wipe the screen, retitle, reorder text, ring. */
const HOSTILE: [string, string][] = [
  ['OSC 52 clipboard write', '\u001b]52;c;cm0gLXJmIH4=\u0007'],
  ['OSC 8 hyperlink', '\u001b]8;;https://evil.example/\u001b\\innocent\u001b]8;;\u001b\\'],
  ['CSI clear screen', '\u001b[2J\u001b[3J\u001b[H'],
  ['C1 CSI', '\u009b2J'],
  ['C1 OSC title', '\u009d0;pwned\u009c'],
  ['bidi override', '\u202egnp.exe\u202c \u2066x\u2069'],
  ['BEL', '\u0007'],
];
const ALL = HOSTILE.map(([, text]) => text).join(' ');
const h = (label: string) => `${label} ${ALL} end`;

/** Any byte a terminal acts on, besides newline and tab: ESC, C0, DEL, C1, and the bidi and line/paragraph separators. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

function rawControls(places: Record<string, string>): string[] {
  return Object.entries(places)
    .filter(([, text]) => RAW_CONTROL.test(text.replace(/\r\n/g, '\n')))
    .map(([place, text]) => {
      const at = text.search(RAW_CONTROL);
      return `${place}: ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 20))}`;
    });
}

function runbook(withManualSteps: boolean): Record<string, unknown> {
  const manual = withManualSteps
    ? [
        { id: 'ok', owner: 'ops', confirm: h('confirm') },
        { id: 'items', owner: 'ops', checklist: [h('item one'), h('item two')] },
        { id: 'who', owner: 'ops', ask: h('ask') },
      ]
    : [];
  return {
    version: 1,
    name: 'hostile',
    title: h('runbook title'),
    roles: { ops: { title: h('role'), primary: h('person') } },
    vars: { where: 'nowhere' },
    notify: { channels: [{ id: 'log', file: 'notifications.log' }] },
    escalation: [{ name: h('rule'), on: 'failure', to: ['ops'] }],
    phases: [
      {
        id: 'p1',
        title: h('phase'),
        preflight: true,
        steps: [
          { id: 'hello', owner: 'ops', title: h('step'), env: { X: '${{ vars.where }}' }, run: 'printf "%s\\n" "$X"' },
          { id: 'shown', owner: 'ops', title: h('echo'), run: 'echo ${{ vars.where }}' },
          ...manual,
          // The reason quotes the directory, which comes from --var: the path into a failure reason.
          { id: 'bad-cwd', owner: 'ops', title: h('cwd'), cwd: '${{ vars.where }}', run: 'true' },
        ],
        rollback: [{ id: 'undo', owner: 'ops', title: h('rollback'), run: 'echo undone' }],
      },
    ],
  };
}

const ANSWERS = `ok: true\nitems: true\nwho: ${JSON.stringify(h('answer'))}\n`;

let dir = '';
const outputs: Record<string, string> = {};

function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(args, { cwd: dir, env, timeoutMs: 60_000 });
}

function keep(label: string, result: CliResult): CliResult {
  expect(stackTraceLines(result.stdout + result.stderr), label).toEqual([]);
  outputs[`${label} stdout`] = result.stdout;
  outputs[`${label} stderr`] = result.stderr;
  return result;
}

/** The CLI on a real pseudo-terminal (util-linux script): every byte the terminal would get, the task list's own frames included. */
function onTerminal(args: string[]): Promise<{ code: number | null; bytes: string }> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const env = cliEnv({ CI: undefined, NO_COLOR: undefined, TERM: 'xterm-256color', DEPLOYCTL_LOCK_DIR: path.join(dir, '.host-locks') });
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let bytes = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (bytes += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (bytes += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', (error) => reject(new Error(`this test needs util-linux script(1) for a real terminal: ${error.message}`)));
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, bytes });
    });
  });
}

beforeAll(async () => {
  assertBuilt();
  dir = workspace('escapes');
  writeRunbook(dir, runbook(true), 'hostile.yaml');
  writeRunbook(dir, runbook(false), 'automated.yaml');
  writeFileSync(path.join(dir, 'answers.yaml'), ANSWERS);
  // The run: plain task list, failure reasons, summary, notifications; a rollback; then everything that reads its traces.
  const run = keep('run', await cli(['run', 'hostile.yaml', '--answers', 'answers.yaml', '--var', `where=${ALL}`]));
  expect(run.code, run.stdout + run.stderr).toBe(4);
}, 120_000);

afterAll(async () => {
  await killAllClis();
  cleanWorkspaces();
});

describe('hostile text in a runbook, a --var and an answer', () => {
  it('is what the run had to show: the reason, titles and answer carry it (escaped), so the checks below are not vacuous', () => {
    const printed = outputs['run stdout']! + outputs['run stderr']!;
    expect(printed).toContain('\\u001b]52;c;');
    expect(printed).toMatch(/bad-cwd.*\\u001b\[2J/);
    const record = readFileSync(recordFiles(dir)[0]!, 'utf8');
    const statement = Buffer.from((JSON.parse(record) as { payload: string }).payload, 'base64').toString('utf8');
    // The record keeps the data as it was (it is escaped when shown, not altered when kept).
    expect(statement).toContain('\\u001b]52;c;');
  });

  it('reaches no sink raw: run, dry run, status, plan, validate, record show/list/verify/export, preflight and the notification log', async () => {
    const [runId] = runDirs(dir);
    const [record] = recordFiles(dir);
    keep('dry run', await cli(['run', 'hostile.yaml', '--dry-run', '--answers', 'answers.yaml', '--var', `where=${ALL}`]));
    keep('status', await cli(['status', runId!]));
    keep('status (no run)', await cli(['status']));
    for (const format of ['text', 'markdown', 'json']) keep(`plan ${format}`, await cli(['plan', 'hostile.yaml', '--format', format]));
    keep('validate', await cli(['validate', 'hostile.yaml']));
    keep('validate a missing file with a hostile name', await cli(['validate', `${ALL}.yaml`]));
    keep('validate --json', await cli(['validate', 'hostile.yaml', `${ALL}.yaml`, '--json']));
    keep('run with a hostile --var name', await cli(['run', 'hostile.yaml', '--var', `${ALL}=1`]));
    keep('run with a hostile runbook path', await cli(['run', `${ALL}.yaml`]));
    keep('record show', await cli(['record', 'show', record!]));
    keep('record verify', await cli(['record', 'verify', record!]));
    keep('record verify --json', await cli(['record', 'verify', record!, '--json']));
    keep('record list', await cli(['record', 'list']));
    keep('record list --json', await cli(['record', 'list', '--json']));
    keep('record export markdown', await cli(['record', 'export', record!, '--format', 'markdown']));
    keep('record export json', await cli(['record', 'export', record!, '--format', 'json']));
    const preflight = keep('preflight', await cli(['preflight', 'hostile.yaml', '--var', `where=${ALL}`, '--json', '--junit', 'junit.xml'], { GITHUB_ACTIONS: 'true' }));
    expect(preflight.code).toBe(1);
    expect(preflight.stderr).toMatch(/^::error /m);
    outputs['junit.xml'] = readFileSync(path.join(dir, 'junit.xml'), 'utf8');
    outputs['notifications.log'] = readFileSync(path.join(dir, 'notifications.log'), 'utf8');
    expect(outputs['notifications.log']).toMatch(/ALERT/);
    expect(Object.keys(outputs).length).toBeGreaterThan(30);
    expect(rawControls(outputs)).toEqual([]);
  });

  it.each(HOSTILE)('%s in the task list on a real terminal never reaches it raw', async (_name, text) => {
    const result = await onTerminal(['run', 'automated.yaml', '--var', `where=${text}`]);
    expect(result.code, result.bytes).not.toBe(null);
    expect(stackTraceLines(result.bytes)).toEqual([]);
    // The task list draws with CSI itself (colour, cursor moves); nothing else: no OSC, no clear screen, no C1, no bidi, no BEL.
    expect(result.bytes).not.toContain(text);
    expect(result.bytes).not.toMatch(/\u001b\]|\u001b\[[23]J|[\u0007\u0080-\u009f\u202a-\u202e\u2066-\u2069]/u);
    expect(result.bytes).toContain('\\u');
  });
});
