// `deployctl run` with `secrets:`: a secret printed by steps, plain or encoded, never reaches the terminal, the journal or the signed record.
import { randomInt } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, journalFile, killAllClis, reapProcessesIn, readRecord, recordFiles, runCli, runDirs, stackTraceLines, type CliResult } from '../helpers/cli.js';

/** Real processes on a machine that may be busy with other suites: generous bounds; a passing test takes a few seconds. */
const SLOW = 90_000;

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/run/${name}`, import.meta.url));

let dir: string;

function workspace(name: string): void {
  dir = mkdtempSync(path.join(os.tmpdir(), `deployctl-e2e-${path.basename(name, '.yaml')}-`));
  copyFileSync(fixture(name), path.join(dir, name));
}

/** 24 random letters and digits: nothing in deployctl's own output can contain it by chance. */
function canary(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length: 24 }, () => alphabet[randomInt(alphabet.length)]).join('');
}

/** The secret as the steps print it: plain, base64 (also of the secret plus echo's newline, and URL-safe), hex in either case. */
function encodings(secret: string): Record<string, string> {
  const b64 = Buffer.from(secret).toString('base64');
  return {
    plain: secret,
    base64: b64,
    'base64 of the line': Buffer.from(`${secret}\n`).toString('base64'),
    base64url: Buffer.from(secret).toString('base64url'),
    hex: Buffer.from(secret).toString('hex'),
    HEX: Buffer.from(secret).toString('hex').toUpperCase(),
  };
}

/** Which encodings occur in `text`. */
function leaks(text: string, secret: string): string[] {
  return Object.entries(encodings(secret))
    .filter(([, form]) => text.includes(form))
    .map(([name]) => name);
}

/** Every place a secret must not reach: the CLI's output, each journal, each record file and the statement inside it. */
function everywhere(result: CliResult): Record<string, string> {
  const places: Record<string, string> = { stdout: result.stdout, stderr: result.stderr };
  for (const runId of runDirs(dir)) places[`journal ${runId}`] = readFileSync(journalFile(dir, runId), 'utf8');
  for (const file of recordFiles(dir)) {
    const { text, statement } = readRecord(file);
    places[`record ${path.basename(file)}`] = text;
    places[`statement in ${path.basename(file)}`] = JSON.stringify(statement);
  }
  return places;
}

function expectNoLeak(result: CliResult, secret: string): void {
  const found = Object.entries(everywhere(result))
    .map(([place, text]) => [place, leaks(text, secret)] as const)
    .filter(([, forms]) => forms.length > 0);
  expect(found).toEqual([]);
}

beforeAll(() => assertBuilt());

afterEach(async () => {
  await killAllClis();
  const left = reapProcessesIn(dir);
  rmSync(dir, { recursive: true, force: true });
  expect(left, 'processes left running').toEqual([]);
});

describe('deployctl run with a secret that steps print', { timeout: SLOW }, () => {
  it('masks it plain, in base64 and in hex, on stdout and stderr, in the journal and in the record, also for the failing step', async () => {
    workspace('secrets.yaml');
    const secret = canary();
    const result = await runCli(['run', 'secrets.yaml'], { cwd: dir, env: { CANARY: secret }, timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(1);
    expect(stackTraceLines(result.stdout + result.stderr)).toEqual([]);
    expectNoLeak(result, secret);

    // The steps did print it (masked): the test would pass vacuously otherwise.
    const files = recordFiles(dir);
    expect(files).toHaveLength(1);
    const steps = readRecord(files[0]!).statement.predicate['phases'][0].steps as { id: string; status: string; stdout?: { text: string }; stderr?: { text: string }; reason?: string }[];
    const byId = Object.fromEntries(steps.map((s) => [s.id, s]));
    expect(byId['plain']?.stdout?.text).toBe('token=***\n');
    expect(byId['plain-stderr']?.stderr?.text).toBe('***\n');
    for (const id of ['base64', 'base64-line', 'hex', 'hex-upper', 'argv']) {
      expect(byId[id], id).toMatchObject({ status: 'succeeded' });
      expect(byId[id]?.stdout?.text, id).toContain('***');
    }
    expect(byId['fail']).toMatchObject({ status: 'failed', stderr: { text: 'failing with ***\n' } });
    expect(byId['fail']?.reason).toContain('exit code 3');
  });
});

describe('deployctl run with a --var whose value is a secret', { timeout: SLOW }, () => {
  it.each(['shell', 'argv'])('refuses before spawning a %s command that would carry it on its command line', async (form) => {
    workspace('secret-var.yaml');
    const secret = canary();
    const result = await runCli(['run', 'secret-var.yaml', '--var', `token=${secret}`, '--var', `form=${form}`], { cwd: dir, env: { CANARY: secret }, timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(1);
    expect(stackTraceLines(result.stdout + result.stderr)).toEqual([]);
    expect(existsSync(path.join(dir, 'ran'))).toBe(false);
    expectNoLeak(result, secret);

    const files = recordFiles(dir);
    expect(files).toHaveLength(1);
    const steps = readRecord(files[0]!).statement.predicate['phases'][0].steps as { id: string; status: string; reason?: string; exit_code?: unknown }[];
    const step = steps.find((s) => s.id === form);
    expect(step).toMatchObject({ status: 'failed' });
    expect(step?.reason).toMatch(/secret value would appear on the command line/);
    // Never spawned: no exit code.
    expect(step?.exit_code).toBeUndefined();
  });
});
