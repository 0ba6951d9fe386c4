// Issue 12, state directories and the umask: under `umask 000` deployctl's directories are still 0700 and its private files 0600; nothing it makes is writable by others.
import { spawn } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, BIN, cliEnv, killAllClis } from '../helpers/cli.js';
import { cleanWorkspaces, workspace, writeRunbook } from './helpers.js';

const RUNBOOK = {
  version: 1,
  name: 'umask',
  roles: { ops: { title: 'Ops' } },
  notify: { channels: [{ id: 'log', file: '.deployctl/notifications.log' }] },
  phases: [{ id: 'p', steps: [{ id: 'hello', owner: 'ops', run: 'echo hello' }] }],
};

/** deployctl in a real shell whose umask is `mask`: what a user with `umask 000` in their profile runs. */
function underUmask(mask: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `umask ${mask} && exec "$0" "$@"`, process.execPath, BIN, ...args], { cwd, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** Every path under `root` (itself included) with its permission bits. */
function modes(root: string): Map<string, { dir: boolean; mode: number }> {
  const found = new Map<string, { dir: boolean; mode: number }>();
  const walk = (at: string) => {
    const stat = lstatSync(at);
    found.set(path.relative(path.dirname(root), at) || at, { dir: stat.isDirectory(), mode: stat.mode & 0o777 });
    if (stat.isDirectory()) for (const name of readdirSync(at)) walk(path.join(at, name));
  };
  walk(root);
  return found;
}

const octal = (mode: number) => mode.toString(8).padStart(4, '0');

let dir = '';

beforeAll(() => {
  assertBuilt();
  dir = workspace('umask');
  writeRunbook(dir, RUNBOOK);
});

afterAll(async () => {
  await killAllClis();
  cleanWorkspaces();
});

describe('under umask 000', () => {
  it('run creates .deployctl, runs, records, keys, locks and the host lock directory 0700, the journal, the key and the notification log 0600, and nothing writable by others', async () => {
    const hostLocks = path.join(dir, 'host-locks');
    const result = await underUmask('000', ['run', 'runbook.yaml'], dir, { DEPLOYCTL_LOCK_DIR: hostLocks });
    expect(result.code, result.out).toBe(0);
    const state = modes(path.join(dir, '.deployctl'));
    const dirs = [...state].filter(([, m]) => m.dir);
    expect(dirs.map(([p]) => p).sort()).toEqual(expect.arrayContaining(['.deployctl', '.deployctl/keys', '.deployctl/locks', '.deployctl/records', '.deployctl/runs']));
    expect(dirs.filter(([, m]) => m.mode !== 0o700).map(([p, m]) => `${p} ${octal(m.mode)}`)).toEqual([]);
    const file = (suffix: string) => [...state].find(([p]) => p.endsWith(suffix))!;
    expect(octal(file('journal.jsonl')[1].mode)).toBe('0600');
    expect(octal(file('deployctl.key')[1].mode)).toBe('0600');
    expect(octal(file('notifications.log')[1].mode)).toBe('0600');
    // Records and public keys are for sharing: readable, never writable by others.
    expect(octal(file('deployctl.pub')[1].mode)).toBe('0644');
    expect(octal(file('.json')[1].mode)).toBe('0644');
    expect([...state].filter(([, m]) => (m.mode & 0o022) !== 0).map(([p, m]) => `${p} ${octal(m.mode)}`)).toEqual([]);
    const host = modes(hostLocks);
    expect([...host].filter(([, m]) => m.dir && m.mode !== 0o700).map(([p, m]) => `${p} ${octal(m.mode)}`)).toEqual([]);
    expect(host.size).toBeGreaterThanOrEqual(2); // the directory and its locks/
  });

  it('keygen --out and a record --out in a new directory make that directory 0700', async () => {
    const result = await underUmask('000', ['keygen', '--out', 'new-keys', '--name', 'qa'], dir);
    expect(result.code, result.out).toBe(0);
    expect(octal(lstatSync(path.join(dir, 'new-keys')).mode & 0o777)).toBe('0700');
    expect(octal(lstatSync(path.join(dir, 'new-keys', 'qa.key')).mode & 0o777)).toBe('0600');
    const run = await underUmask('000', ['run', 'runbook.yaml', '--out', 'out/deep/record.json'], dir, { DEPLOYCTL_LOCK_DIR: path.join(dir, 'host-locks') });
    expect(run.code, run.out).toBe(0);
    expect(octal(lstatSync(path.join(dir, 'out')).mode & 0o777)).toBe('0700');
    expect(octal(lstatSync(path.join(dir, 'out', 'deep')).mode & 0o777)).toBe('0700');
  });
});

describe('the host lock directory', () => {
  it.each([
    ['writable by anyone', (d: string) => chmodSync(d, 0o777), /can be written by anyone/],
    ['a symlink', (d: string) => {
      mkdirSync(`${d}-real`, { mode: 0o700 });
      return `${d}-real`;
    }, /not a directory/],
  ])('is refused when it is %s, before anything runs', async (_what, prepare, message) => {
    const lockDir = path.join(dir, `shared-${Math.random().toString(16).slice(2)}`);
    mkdirSync(lockDir, { mode: 0o700 });
    const target = prepare(lockDir);
    let used = lockDir;
    if (typeof target === 'string') {
      used = `${lockDir}-link`;
      (await import('node:fs')).symlinkSync(target, used);
    }
    writeFileSync(path.join(dir, 'marker-step.yaml'), JSON.stringify({ ...RUNBOOK, name: 'marker', notify: undefined, phases: [{ id: 'p', steps: [{ id: 'touch', owner: 'ops', run: 'touch ran' }] }] }));
    const result = await underUmask('022', ['run', 'marker-step.yaml'], dir, { DEPLOYCTL_LOCK_DIR: used });
    expect(result.code, result.out).toBe(2);
    expect(result.out).toMatch(message);
    expect(result.out).toMatch(/DEPLOYCTL_LOCK_DIR/);
    expect(readdirSync(dir)).not.toContain('ran');
  });
});
