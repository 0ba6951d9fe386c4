// Issue 12, FIFOs and devices: a path that names a FIFO or /dev/zero, given on the command line or planted in the state directory, is refused at once (no hang, no endless read).
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, killAllClis, recordFiles, runCli, runDirs, stackTraceLines, type CliResult } from '../helpers/cli.js';
import { cleanWorkspaces, workspace, writeRunbook } from './helpers.js';

/** Long enough for a loaded machine, far shorter than "forever": a CLI still running after this was blocked. */
const HANG_GUARD_MS = 20_000;

const RUNBOOK = {
  version: 1,
  name: 'fifo',
  roles: { ops: { title: 'Ops' } },
  notify: { channels: [{ id: 'log', file: 'notify.fifo' }] },
  phases: [{ id: 'p', steps: [{ id: 'hello', owner: 'ops', run: 'echo hello' }, { id: 'ok', owner: 'ops', confirm: 'ready?' }] }],
};

let dir = '';
let record = '';

function mkfifo(file: string): void {
  execFileSync('mkfifo', [file]);
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const result = await runCli(args, { cwd: dir, env, timeoutMs: HANG_GUARD_MS });
  expect(result.timedOut, `deployctl ${args.join(' ')} hung (killed after ${HANG_GUARD_MS} ms)\n${result.stdout}${result.stderr}`).toBe(false);
  expect(stackTraceLines(result.stdout + result.stderr)).toEqual([]);
  return result;
}

beforeAll(async () => {
  assertBuilt();
  dir = workspace('fifo');
  writeRunbook(dir, { ...RUNBOOK, notify: undefined });
  writeFileSync(path.join(dir, 'answers.yaml'), 'ok: true\n');
  const first = await runCli(['run', 'runbook.yaml', '--answers', 'answers.yaml'], { cwd: dir, env: {}, timeoutMs: 60_000 });
  expect(first.code, first.stderr).toBe(0);
  record = path.relative(dir, recordFiles(dir)[0]!);
  writeRunbook(dir, RUNBOOK, 'notify.yaml');
  mkfifo(path.join(dir, 'pipe'));
}, 90_000);

afterAll(async () => {
  await killAllClis();
  cleanWorkspaces();
});

/** Command lines whose path argument is a FIFO or a device: each must be refused as "not a regular file", exit 2. */
const ARGUMENTS: [string, (special: string) => string[], RegExp][] = [
  ['validate <runbook>', (p) => ['validate', p], /not a regular file/],
  ['plan <runbook>', (p) => ['plan', p], /not a regular file/],
  ['run <runbook>', (p) => ['run', p], /not a regular file/],
  ['preflight <runbook>', (p) => ['preflight', p], /not a regular file/],
  ['run --answers', (p) => ['run', 'runbook.yaml', '--answers', p], /not a regular file/],
  ['run --key', (p) => ['run', 'runbook.yaml', '--answers', 'answers.yaml', '--key', p], /not a regular file/],
  ['record verify <record>', (p) => ['record', 'verify', p], /not a regular file/],
  ['record show <record>', (p) => ['record', 'show', p], /not a regular file/],
  ['record export <record>', (p) => ['record', 'export', p, '--format', 'json'], /not a regular file/],
  ['record verify --pubkey', (p) => ['record', 'verify', record, '--pubkey', p], /not a regular file/],
  ['record verify --runbook', (p) => ['record', 'verify', record, '--runbook', p], /not a regular file/],
  ['record sign --key', (p) => ['record', 'sign', record, '--role', 'ops', '--key', p], /not a regular file/],
];

describe.each([
  ['a FIFO', () => 'pipe'],
  ['/dev/zero', () => '/dev/zero'],
])('%s given as a path', (_what, special) => {
  it.each(ARGUMENTS)('is refused by %s without waiting on it', async (_name, args, message) => {
    const result = await cli(args(special()));
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stdout + result.stderr).toMatch(message);
    // Named, so the person knows which path to fix.
    expect(result.stdout + result.stderr).toContain(special());
  });

  it('in DEPLOYCTL_KEY is refused by run without waiting on it', async () => {
    const result = await cli(['run', 'runbook.yaml', '--answers', 'answers.yaml'], { DEPLOYCTL_KEY: special() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/not a regular file/);
  });
});

describe('a FIFO planted in the state directory', () => {
  it('in .deployctl/records is listed as unreadable by record list, and record show and verify of the real record still work', async () => {
    mkfifo(path.join(dir, '.deployctl', 'records', 'zz-planted.json'));
    const list = await cli(['record', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/zz-planted\.json.*UNREADABLE \(not-a-file\)/);
    const verify = await cli(['record', 'verify', record]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it('in .deployctl/keys is skipped (and said so) by record verify, list and show', async () => {
    mkfifo(path.join(dir, '.deployctl', 'keys', 'planted.pub'));
    for (const args of [['record', 'verify', record], ['record', 'show', record], ['record', 'list']]) {
      const result = await cli(args);
      expect(result.code, `${args.join(' ')}: ${result.stdout}${result.stderr}`).toBe(0);
      expect(result.stdout + result.stderr).toMatch(/planted\.pub.*not a regular file/);
    }
  });

  it('as a role key named in the runbook is reported, not waited on, by record verify', async () => {
    mkfifo(path.join(dir, 'role.pub'));
    writeRunbook(dir, { ...RUNBOOK, notify: undefined, roles: { ops: { title: 'Ops', keys: ['role.pub'] } } }, 'keyed.yaml');
    const result = await cli(['record', 'verify', record, '--runbook', 'keyed.yaml']);
    expect(result.stdout + result.stderr).toMatch(/role\.pub.*not a regular file/);
  });

  it('as a lock file makes run and status refuse, not wait', async () => {
    const locks = path.join(dir, '.deployctl', 'locks');
    mkdirSync(locks, { recursive: true });
    mkfifo(path.join(locks, 'fifo.lock'));
    try {
      const run = await cli(['run', 'runbook.yaml', '--answers', 'answers.yaml']);
      expect(run.code, run.stdout + run.stderr).toBe(2);
      expect(run.stderr).toMatch(/fifo\.lock/);
      const status = await cli(['status']);
      expect(status.code).not.toBeNull();
    } finally {
      execFileSync('rm', ['-f', path.join(locks, 'fifo.lock')]);
    }
  });

  it('as a journal makes status and run --resume refuse, not wait', async () => {
    const [runId] = runDirs(dir);
    const journal = path.join(dir, '.deployctl', 'runs', runId!, 'journal.jsonl');
    renameSync(journal, `${journal}.real`);
    mkfifo(journal);
    try {
      const status = await cli(['status', runId!]);
      expect(status.code).not.toBe(0);
      expect(status.stdout + status.stderr).toMatch(/not a regular file/);
      const resume = await cli(['run', 'runbook.yaml', '--resume', runId!]);
      expect(resume.code).toBe(2);
      expect(resume.stderr).toMatch(/not a regular file/);
    } finally {
      execFileSync('rm', ['-f', journal]);
      renameSync(`${journal}.real`, journal);
    }
  });

  it('as a notification log file is an undelivered message, not a hung run', async () => {
    mkfifo(path.join(dir, 'notify.fifo'));
    const result = await cli(['run', 'notify.yaml', '--answers', 'answers.yaml']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const files = recordFiles(dir);
    expect(files.length).toBeGreaterThan(1);
  });
});
