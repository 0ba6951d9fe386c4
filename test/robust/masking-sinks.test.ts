// Issue 12, masking misses: a secret upper- or lower-cased (a DNS error lower-cases a host name), wrapped across lines, with colour codes or a CR inside, as \x escapes or xxd -i, reaches no sink: live output, journal, record, notifications, dry run, plan, argv, error messages.
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, journalFile, killAllClis, readRecord, recordFiles, runCli, runDirs, stackTraceLines, type CliResult } from '../helpers/cli.js';
import { cleanWorkspaces, recordedSteps, workspace, writeRunbook } from './helpers.js';
import { findLeaks, type Canary } from './leaks.js';

/** Letters of both cases and digits, so that it can be a host name label, and so that upper- and lower-casing change it. */
function hostnameSecret(): string {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const alnum = `${letters}0123456789`;
  for (;;) {
    const value = letters[randomInt(letters.length)]! + Array.from({ length: 23 }, () => alnum[randomInt(alnum.length)]).join('');
    if (/[a-z]/.test(value) && /[A-Z]/.test(value)) return value;
  }
}

const SECRET = hostnameSecret();
const canaries: Canary[] = [{ name: 'token', value: SECRET }];
const ROLES = { ops: { title: 'Ops' } };

/** Shell commands printing $S the ways the review found unmasked. */
const PRINTERS: [string, string][] = [
  ['upper', `printf 'token=%s\\n' "$S" | tr '[:lower:]' '[:upper:]'`],
  ['lower', `printf 'token=%s\\n' "$S" | tr '[:upper:]' '[:lower:]'`],
  ['wrapped', `printf 'the deploy token is %s, keep it\\n' "$S" | fold -w 30`],
  ['ansi-inside', `printf '\\033[1m%s\\033[0m\\033[31m%s\\033[0m\\n' "$(printf %s "$S" | cut -c1-10)" "$(printf %s "$S" | cut -c11-)"`],
  ['cr-inside', `printf '%s\\r%s\\n' "$(printf %s "$S" | cut -c1-10)" "$(printf %s "$S" | cut -c11-)"`],
  ['x-escapes', `printf %s "$S" | xxd -p | tr -d '\\n' | sed 's/../\\\\x&/g'; echo`],
  ['xxd-i', `printf %s "$S" | xxd -i`],
];

afterEach(async () => {
  await killAllClis();
});

beforeAll(() => assertBuilt());
afterAll(() => cleanWorkspaces());

function placesAfter(dir: string, result: CliResult): Record<string, string> {
  const places: Record<string, string> = { stdout: result.stdout, stderr: result.stderr };
  for (const runId of runDirs(dir)) places[`journal ${runId}`] = readFileSync(journalFile(dir, runId), 'utf8');
  for (const file of recordFiles(dir)) {
    const { text, statement } = readRecord(file);
    places['record file'] = text;
    places['record statement'] = JSON.stringify(statement);
  }
  const log = path.join(dir, 'notifications.log');
  if (existsSync(log)) places['notifications.log'] = readFileSync(log, 'utf8');
  return places;
}

describe('a secret in the forms the masker missed', () => {
  it('printed by a step, and lower-cased in a DNS error, reaches neither the live output, the journal, the record nor the notifications', async () => {
    const dir = workspace('mask-sinks');
    writeRunbook(dir, {
      version: 1,
      name: 'masking',
      roles: ROLES,
      secrets: ['TOKEN'],
      notify: { channels: [{ id: 'log', file: 'notifications.log' }] },
      escalation: [{ name: 'Step failed', on: 'failure', to: ['ops'] }],
      phases: [
        {
          id: 'p',
          steps: [
            ...PRINTERS.map(([id, run]) => ({ id, owner: 'ops', env: { S: '${{ env.TOKEN }}' }, run })),
            // The host name carries the secret; the resolver's error lower-cases it.
            { id: 'dns', owner: 'ops', http: { url: 'http://acme-${{ env.TOKEN }}.invalid/health', samples: 1, timeout: '5s' } },
          ],
        },
      ],
    });
    const result = await runCli(['run', 'runbook.yaml'], { cwd: dir, env: { TOKEN: SECRET }, timeoutMs: 90_000 });
    expect(stackTraceLines(result.stdout + result.stderr)).toEqual([]);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    // Not vacuous: every printer ran and printed a mask, and the DNS failure is what failed the run.
    const steps = recordedSteps(dir);
    for (const [id] of PRINTERS) {
      expect(steps.get(id)?.status, id).toBe('succeeded');
      expect(steps.get(id)?.stdout?.text, id).toContain('***');
    }
    expect(steps.get('dns')).toMatchObject({ status: 'failed' });
    expect(steps.get('dns')?.reason).toMatch(/DNS lookup failed for acme-\*\*\*\.invalid/);
    expect(readFileSync(path.join(dir, 'notifications.log'), 'utf8')).toMatch(/acme-\*\*\*\.invalid/);
    expect(findLeaks(placesAfter(dir, result), canaries)).toEqual([]);
  });

  it('upper-cased in a --var, is masked in a dry run and refused on a command line', async () => {
    const dir = workspace('mask-argv');
    writeRunbook(dir, {
      version: 1,
      name: 'masking-argv',
      roles: ROLES,
      secrets: ['TOKEN'],
      vars: { token: 'none' },
      phases: [{ id: 'p', steps: [{ id: 'ship', owner: 'ops', run: 'touch shipped; echo deploying ${{ vars.token }}' }] }],
    });
    const upper = SECRET.toUpperCase();
    const dry = await runCli(['run', 'runbook.yaml', '--dry-run', '--var', `token=${upper}`], { cwd: dir, env: { TOKEN: SECRET }, timeoutMs: 60_000 });
    // The dry run refuses it as the run would (exit 1), and shows the command masked.
    expect(dry.code, dry.stderr).toBe(1);
    expect(dry.stdout).toContain('Dry run of masking-argv');
    expect(dry.stdout).toMatch(/secret value would appear on the command line/);
    expect(dry.stdout).toMatch(/deploying .*\*\*\*/);
    expect(findLeaks({ 'dry run stdout': dry.stdout, 'dry run stderr': dry.stderr }, canaries)).toEqual([]);

    const run = await runCli(['run', 'runbook.yaml', '--var', `token=${upper}`], { cwd: dir, env: { TOKEN: SECRET }, timeoutMs: 60_000 });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(recordedSteps(dir).get('ship')?.reason).toMatch(/secret value would appear on the command line/);
    expect(existsSync(path.join(dir, 'shipped')), 'never spawned').toBe(false);
    expect(findLeaks(placesAfter(dir, run), canaries)).toEqual([]);
  });

  it('lower-cased in a --var that is refused, is masked in the error message of run and preflight', async () => {
    const dir = workspace('mask-errors');
    writeRunbook(dir, {
      version: 1,
      name: 'masking-errors',
      roles: ROLES,
      secrets: ['TOKEN'],
      vars: { count: 1 },
      phases: [{ id: 'p', preflight: true, steps: [{ id: 'one', owner: 'ops', run: 'echo ${{ vars.count }}' }] }],
    });
    const lower = SECRET.toLowerCase();
    for (const command of ['run', 'preflight']) {
      const result = await runCli([command, 'runbook.yaml', '--var', `count=${lower}`], { cwd: dir, env: { TOKEN: SECRET }, timeoutMs: 60_000 });
      expect(stackTraceLines(result.stdout + result.stderr)).toEqual([]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/--var count=\*\*\*/);
      expect(findLeaks({ [`${command} stdout`]: result.stdout, [`${command} stderr`]: result.stderr }, canaries)).toEqual([]);
    }
  });

  it('in another case in a runbook var, is masked by plan in every format', async () => {
    const dir = workspace('mask-plan');
    writeRunbook(dir, {
      version: 1,
      name: 'masking-plan',
      roles: ROLES,
      secrets: ['TOKEN'],
      vars: { base: `https://${SECRET.toUpperCase()}@example.com` },
      phases: [{ id: 'p', steps: [{ id: 'probe', owner: 'ops', http: { url: '${{ vars.base }}/health' } }] }],
    });
    for (const format of ['text', 'markdown', 'json']) {
      const result = await runCli(['plan', 'runbook.yaml', '--format', format], { cwd: dir, env: { TOKEN: SECRET }, timeoutMs: 30_000 });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/https:\/\/\*\*\*@example\.com/);
      expect(findLeaks({ [`plan ${format}`]: result.stdout }, canaries)).toEqual([]);
    }
  });
});
