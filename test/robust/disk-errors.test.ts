// Issue 12, a full disk, a read-only or a foreign-owned state directory, for real: a tiny tmpfs filled up or remounted read-only (ENOSPC, EROFS), and a directory of another user (EACCES, deployctl run as `nobody`). One line naming the path and the fix, exit 1, and what was written is kept.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, BIN, cliEnv, journalFile, killAllClis, runCli, runDirs, stackTraceLines, type CliResult } from '../helpers/cli.js';
import { cleanWorkspaces, workspace, writeRunbook } from './helpers.js';

const ROLES = { ops: { title: 'Ops' } };
const mounted: string[] = [];

/** A tmpfs of `size` at `dir`: a real file system that really fills up and really goes read-only. Needs root (CAP_SYS_ADMIN). */
function mountTmpfs(dir: string, size: string): void {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    throw new Error(
      `this test mounts a small tmpfs to fill it and to make it read-only for real (ENOSPC, EROFS): it needs root with CAP_SYS_ADMIN, as in CI (mount said: ${String((error as { stderr?: unknown }).stderr ?? error).trim()})`,
    );
  }
  mounted.push(dir);
}

function remountReadOnly(dir: string): void {
  execFileSync('mount', ['-o', 'remount,ro', dir]);
}

/** Fill the file system that holds `dir` to the last block. */
function fill(dir: string): void {
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${path.join(dir, 'filler')}`, 'bs=4k'], { stdio: 'pipe' });
  } catch {
    // dd stops with ENOSPC: that is the point.
  }
}

/** No stack, no "internal error", and the message says which file and what to do. */
function expectOneSentence(result: CliResult, file: RegExp, code: string): void {
  const printed = result.stdout + result.stderr;
  expect(stackTraceLines(printed)).toEqual([]);
  expect(printed).not.toMatch(/internal error|this is a bug/);
  const line = result.stderr.split('\n').find((l) => l.startsWith('deployctl: ') && l.includes(`(${code})`));
  expect(line, result.stderr).toBeDefined();
  expect(line).toMatch(file);
}

/** Run the CLI as the user `nobody`, for a real EACCES: root reads and writes anything. */
function runAsNobody(args: string[], cwd: string, env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('runuser', ['-u', 'nobody', '--', process.execPath, BIN, ...args], { cwd, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, durationMs: performance.now() - started, timedOut: false });
    });
  });
}

beforeAll(() => {
  assertBuilt();
  if (process.getuid?.() !== 0) {
    throw new Error('this test needs root: it mounts tmpfs file systems and runs deployctl as `nobody` for a real EACCES (tests run as root in CI)');
  }
});

afterEach(async () => {
  await killAllClis();
});

afterAll(() => {
  for (const dir of mounted.reverse()) execFileSync('umount', ['-l', dir]);
  cleanWorkspaces();
});

describe('a state directory on a disk that fills up during the run (ENOSPC)', () => {
  it('stops with one line naming the journal and the fix, exit 1; the journal keeps every event before it, and --resume finishes the run once there is space', async () => {
    const dir = workspace('enospc');
    const disk = path.join(dir, 'disk');
    mountTmpfs(disk, '256k');
    // The second step fills the disk (as a download would), then prints 12 KB: its step-finished line needs blocks there are none of.
    writeRunbook(dir, {
      version: 1,
      name: 'full',
      roles: ROLES,
      phases: [
        {
          id: 'p',
          steps: [
            { id: 'one', owner: 'ops', run: 'echo one' },
            { id: 'fill', owner: 'ops', idempotent: true, run: `[ -e filled ] || { dd if=/dev/zero of=disk/filler bs=4k 2>/dev/null; touch filled; }; head -c 12000 /dev/zero | tr '\\0' x; echo` },
            { id: 'three', owner: 'ops', run: 'echo three' },
          ],
        },
      ],
    });
    const env = { DEPLOYCTL_STATE_DIR: 'disk/state' };
    const result = await runCli(['run', 'runbook.yaml'], { cwd: dir, env, timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(1);
    expectOneSentence(result, /cannot write disk\/state\/runs\/[^/]+\/journal\.jsonl: no space left on the device/, 'ENOSPC');
    expect(result.stderr).toMatch(/df -h disk\/state\/runs\//);
    expect(result.stderr).toMatch(/--resume \d{8}T/);
    // Kept: the journal up to the failure (run-started, step one, fill's start); no lock left; no record.
    const stateRuns = readdirSync(path.join(dir, 'disk', 'state', 'runs'));
    expect(stateRuns).toHaveLength(1);
    const journal = readFileSync(path.join(dir, 'disk', 'state', 'runs', stateRuns[0]!, 'journal.jsonl'), 'utf8');
    expect(journal).toMatch(/"kind":"run-started"/);
    expect(journal).toMatch(/"stepId":"one".*"status":"succeeded"/);
    expect(journal).toMatch(/"kind":"step-started"[^\n]*"stepId":"fill"/);
    expect(readdirSync(path.join(dir, 'disk', 'state', 'locks'))).toEqual([]);
    expect(existsSync(path.join(dir, 'disk', 'state', 'records'))).toBe(false);

    rmSync(path.join(disk, 'filler'));
    const resumed = await runCli(['run', 'runbook.yaml', '--resume', stateRuns[0]!], { cwd: dir, env, timeoutMs: 60_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    const [record] = readdirSync(path.join(dir, 'disk', 'state', 'records'));
    const verify = await runCli(['record', 'verify', `disk/state/records/${record}`], { cwd: dir, env, timeoutMs: 30_000 });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it('that has no room for the record: says which file and how to seal it later, exit 1; the journal is whole and --resume seals the record', async () => {
    const dir = workspace('enospc-record');
    const disk = path.join(dir, 'disk');
    mountTmpfs(disk, '64k');
    writeRunbook(dir, { version: 1, name: 'norecord', roles: ROLES, phases: [{ id: 'p', steps: [{ id: 'fill', owner: 'ops', run: 'dd if=/dev/zero of=disk/filler bs=4k 2>/dev/null; true' }] }] });
    const result = await runCli(['run', 'runbook.yaml', '--out', 'disk/record.json'], { cwd: dir, env: {}, timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(1);
    expectOneSentence(result, /could not write the signed record: cannot write disk\/record\.json: no space left on the device/, 'ENOSPC');
    // The run's own command line (its --out too), with --resume: pasted, it seals the record where it was asked for.
    expect(result.stderr).toMatch(/seal the record with deployctl run runbook\.yaml --out disk\/record\.json --resume \d{8}T/);
    expect(readdirSync(disk).filter((f) => f !== 'filler')).toEqual([]); // no torn record, no temporary
    const [runId] = runDirs(dir);
    expect(readFileSync(journalFile(dir, runId!), 'utf8')).toMatch(/"kind":"run-finished"[^\n]*"status":"succeeded"/);

    rmSync(path.join(disk, 'filler'));
    const sealed = await runCli(['run', 'runbook.yaml', '--resume', runId!, '--out', 'disk/record.json'], { cwd: dir, env: {}, timeoutMs: 60_000 });
    expect(sealed.code, sealed.stderr).toBe(0);
    const verify = await runCli(['record', 'verify', 'disk/record.json'], { cwd: dir, env: {}, timeoutMs: 30_000 });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});

describe('a read-only state directory (EROFS)', () => {
  it('run refuses with one line naming the directory and the fix, exit 1, and runs nothing', async () => {
    const dir = workspace('erofs');
    const disk = path.join(dir, 'disk');
    mountTmpfs(disk, '1m');
    remountReadOnly(disk);
    writeRunbook(dir, { version: 1, name: 'ro', roles: ROLES, phases: [{ id: 'p', steps: [{ id: 'mark', owner: 'ops', run: 'touch ran' }] }] });
    const result = await runCli(['run', 'runbook.yaml'], { cwd: dir, env: { DEPLOYCTL_STATE_DIR: 'disk/state' }, timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(1);
    expectOneSentence(result, /cannot write disk\/state\S*: read-only file system/, 'EROFS');
    expect(result.stderr).toMatch(/remount it read-write|DEPLOYCTL_STATE_DIR/);
    expect(existsSync(path.join(dir, 'ran'))).toBe(false);
  });

  it('keygen --out and record sign of a record there refuse the same way, and the record is left as it was', async () => {
    const dir = workspace('erofs-sign');
    const disk = path.join(dir, 'disk');
    mountTmpfs(disk, '1m');
    const keys = await runCli(['keygen', '--out', 'keys', '--name', 'ops'], { cwd: dir, env: {}, timeoutMs: 30_000 });
    expect(keys.code, keys.stderr).toBe(0);
    writeRunbook(dir, { version: 1, name: 'rosign', roles: { ops: { title: 'Ops', keys: ['keys/ops.pub'] } }, phases: [{ id: 'p', steps: [{ id: 'one', owner: 'ops', run: 'echo one' }] }] });
    const run = await runCli(['run', 'runbook.yaml', '--out', 'disk/record.json'], { cwd: dir, env: {}, timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    const before = readFileSync(path.join(disk, 'record.json'));
    remountReadOnly(disk);

    const keygen = await runCli(['keygen', '--out', 'disk/keys'], { cwd: dir, env: {}, timeoutMs: 30_000 });
    expect(keygen.code, keygen.stderr).toBe(1);
    expectOneSentence(keygen, /cannot write disk\/keys.*: read-only file system/, 'EROFS');

    const sign = await runCli(['record', 'sign', 'disk/record.json', '--role', 'ops', '--key', 'keys/ops.key'], { cwd: dir, env: {}, timeoutMs: 30_000 });
    expect(sign.code, sign.stdout + sign.stderr).toBe(1);
    expectOneSentence(sign, /cannot write disk\/record\.json\S*: read-only file system/, 'EROFS');
    expect(readFileSync(path.join(disk, 'record.json')).equals(before)).toBe(true);
  });
});

describe('a state directory that belongs to another user (EACCES)', () => {
  it('run refuses with one line naming the directory, its owner and the fix, exit 1, and runs nothing', async () => {
    const dir = workspace('eacces');
    chmodSync(dir, 0o755);
    writeRunbook(dir, { version: 1, name: 'theirs', roles: ROLES, phases: [{ id: 'p', steps: [{ id: 'mark', owner: 'ops', run: 'touch /tmp/deployctl-eacces-ran-$$' }] }] });
    chmodSync(path.join(dir, 'runbook.yaml'), 0o644);
    // root's own run makes .deployctl (0700, root's).
    const mine = await runCli(['run', 'runbook.yaml'], { cwd: dir, env: {}, timeoutMs: 60_000 });
    expect(mine.code, mine.stderr).toBe(0);
    const hostLocks = path.join(dir, 'nobody-locks');
    mkdirSync(hostLocks, { mode: 0o700 });
    execFileSync('chown', ['nobody', hostLocks]);

    const result = await runAsNobody(['run', 'runbook.yaml'], dir, { DEPLOYCTL_LOCK_DIR: hostLocks });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expectOneSentence(result, /cannot write \.deployctl\/\S+: permission denied/, 'EACCES');
    expect(result.stderr).toMatch(/\.deployctl belongs to uid 0, and you are uid \d+/);
    expect(result.stderr).toMatch(/DEPLOYCTL_STATE_DIR/);
    expect(runDirs(dir)).toHaveLength(1); // root's run only
  });

  it('record sign of a record in a directory of another user refuses the same way, and the record is left as it was', async () => {
    const dir = workspace('eacces-sign');
    chmodSync(dir, 0o755);
    for (const name of ['ops', 'run']) {
      const keys = await runCli(['keygen', '--out', 'keys', '--name', name], { cwd: dir, env: {}, timeoutMs: 30_000 });
      expect(keys.code, keys.stderr).toBe(0);
    }
    chmodSync(path.join(dir, 'keys'), 0o755);
    execFileSync('chown', ['nobody', path.join(dir, 'keys', 'ops.key')]);
    writeRunbook(dir, { version: 1, name: 'theirsign', roles: { ops: { title: 'Ops', keys: ['keys/ops.pub'] } }, phases: [{ id: 'p', steps: [{ id: 'one', owner: 'ops', run: 'echo one' }] }] });
    chmodSync(path.join(dir, 'runbook.yaml'), 0o644);
    mkdirSync(path.join(dir, 'out'), { mode: 0o755 });
    const run = await runCli(['run', 'runbook.yaml', '--out', 'out/record.json', '--key', 'keys/run.key'], { cwd: dir, env: {}, timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    const before = readFileSync(path.join(dir, 'out', 'record.json'));

    // nobody holds the ops key and trusts the run key; the record's directory is root's.
    const sign = await runAsNobody(['record', 'sign', 'out/record.json', '--role', 'ops', '--key', 'keys/ops.key', '--pubkey', 'keys/run.pub'], dir, {});
    expect(sign.code, sign.stdout + sign.stderr).toBe(1);
    expectOneSentence(sign, /cannot write out\/record\.json\S*: permission denied/, 'EACCES');
    expect(sign.stderr).toMatch(/out\S* belongs to uid 0, and you are uid \d+/);
    expect(readFileSync(path.join(dir, 'out', 'record.json')).equals(before)).toBe(true);
  });
});
