// Issue 7 item 4, secrets: canaries printed plain and in every common encoding, in answers, headers, failures and dry runs; none reaches any output.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, journalFile, killAllClis, readRecord, recordFiles, runCli, runDirs, stackTraceLines, type CliResult } from '../helpers/cli.js';
import { cleanWorkspaces, recordedSteps, workspace, writeRunbook } from './helpers.js';
import { findLeaks, makeCanaries } from './leaks.js';

const SLOW = 120_000;
const ROLES = { ops: { title: 'Operator' } };

const canaries = makeCanaries();
/** The canaries as the environment of deployctl gives them: S1, S2, S3, all declared `secrets:`. */
const secretEnv = Object.fromEntries(canaries.map((c, i) => [`S${i + 1}`, c.value]));
const SECRETS = Object.keys(secretEnv);

// ---------------------------------------------------------------------------------------------
// A local server: `/probe` is what http steps call (it remembers the request), `/last` prints that request back,
// `/hook` is the notifications webhook (its bodies are one more place a secret must not reach).

interface Seen {
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}
let server: Server;
let port = 0;
const probes: Seen[] = [];
const hooks: string[] = [];

beforeAll(async () => {
  assertBuilt();
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const url = req.url ?? '/';
      if (url.startsWith('/hook')) hooks.push(body);
      if (url.startsWith('/probe')) probes.push({ url, headers: req.headers, body });
      res.setHeader('content-type', 'application/json');
      res.end(url.startsWith('/last') ? JSON.stringify(probes.at(-1) ?? null) : '{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

afterEach(async () => {
  await killAllClis();
  expect(cleanWorkspaces(), 'processes left running').toEqual([]);
});

/** Everything a run leaves that a person or a machine could read: the CLI's output, journals, records (as stored and decoded), notifications. */
function placesAfter(label: string, dir: string, result: CliResult): Record<string, string> {
  const places: Record<string, string> = { [`${label} stdout`]: result.stdout, [`${label} stderr`]: result.stderr };
  for (const runId of runDirs(dir)) places[`${label} journal ${runId}`] = readFileSync(journalFile(dir, runId), 'utf8');
  for (const file of recordFiles(dir)) {
    const { text, statement } = readRecord(file);
    places[`${label} record file`] = text;
    places[`${label} record statement`] = JSON.stringify(statement);
  }
  const log = path.join(dir, 'notifications.log');
  if (existsSync(log)) places[`${label} notifications.log`] = readFileSync(log, 'utf8');
  return places;
}

/** Each printer is a shell command reading the canary from $S (the step's env maps S to one of S1..S3). */
const PRINTERS: [string, string][] = [
  ['plain', `printf 'token=%s;\\n' "$S"`],
  ['stderr', `printf '%s\\n' "$S" >&2`],
  ['base64', `printf %s "$S" | base64`],
  ['base64-of-line', `echo "$S" | base64`],
  ['base64-w0', `printf %s "$S" | base64 -w0`],
  ['openssl-base64', `printf %s "$S" | openssl base64`],
  ['base64url', `printf %s "$S" | basenc --base64url`],
  ['base64-offset-1', `printf 'x%s' "$S" | base64`],
  ['base64-offset-2', `printf 'xy%s!' "$S" | base64`],
  ['base64-offset-3', `printf 'xyz%s!?' "$S" | base64`],
  ['basic-auth', `printf 'deploy-bot:%s' "$S" | base64 -w0`],
  // 50 bytes first: the secret's base64 straddles base64's line wrap at 76 characters.
  ['base64-across-wrap', `printf '%s%s' 'Authorization header value for the deployment bot:' "$S" | base64`],
  ['xxd-p', `printf %s "$S" | xxd -p`],
  ['xxd-p-upper', `printf %s "$S" | xxd -p -u`],
  ['xxd-p-offset', `printf 'x%s' "$S" | xxd -p`],
  ['od-tx1', `printf %s "$S" | od -An -tx1`],
  ['od-tx1-w8', `printf 'abc%s' "$S" | od -An -tx1 -w8`],
  ['hexdump', `printf %s "$S" | hexdump -v -e '/1 "%02x"'`],
  ['url-node', `node -e 'console.log(encodeURIComponent(process.env.S))'`],
  ['url-form', `node -e 'console.log(new URLSearchParams({ t: process.env.S }).toString())'`],
  ['url-python-quote-plus', `python3 -c 'import os, urllib.parse; print(urllib.parse.quote_plus(os.environ["S"]))'`],
  ['url-python-quote', `python3 -c 'import os, urllib.parse; print(urllib.parse.quote(os.environ["S"], safe=""))'`],
  ['json', `node -e 'console.log(JSON.stringify({ token: process.env.S }))'`],
  // Python's json.dumps escapes every non-ASCII character (an emoji as two \\u escapes).
  ['json-python', `python3 -c 'import json, os; print(json.dumps({"token": os.environ["S"]}))'`],
  // Half to stdout, half to stderr: neither stream holds the secret; merged (2>&1) the one stream does. Split by code point:
  // halving a surrogate pair would print two U+FFFD, so the secret would be destroyed, not hidden, and the merged case would prove nothing.
  ['split', `node -e 'const s = [...process.env.S], h = s.length >> 1; process.stdout.write(s.slice(0, h).join("")); process.stderr.write(s.slice(h).join(""))'`],
  ['split-merged', `node -e 'const s = [...process.env.S], h = s.length >> 1; process.stdout.write(s.slice(0, h).join("")); process.stderr.write(s.slice(h).join(""))' 2>&1`],
];

describe('canary secrets', { timeout: SLOW }, () => {
  it('are random and cover +/= in the secret, non-ASCII, a quote, and + and / in their base64', () => {
    expect(canaries.map((c) => [...c.value].length)).toEqual([24, 40, 32]);
    expect(new Set(canaries.map((c) => c.value)).size).toBe(3);
  });

  it('printed plain, as base64 (wrapped, unwrapped, URL-safe, at each offset), hex (xxd, od, hexdump), URL-encoded and JSON, in answers, headers, webhooks and a failure, reach no output', async () => {
    const dir = workspace('secrets');
    const steps: Record<string, unknown>[] = [];
    canaries.forEach((canary, i) => {
      const env = { S: `\${{ env.S${i + 1} }}` };
      for (const [name, run] of PRINTERS) steps.push({ id: `${canary.name}-${name}`, owner: 'ops', env, run });
      // An ask answer holding the secret, then a step that prints it.
      steps.push({ id: `${canary.name}-ask`, owner: 'ops', ask: 'The on-call token?' });
      steps.push({ id: `${canary.name}-ask-print`, owner: 'ops', env: { A: `\${{ answers['${canary.name}-ask'] }}` }, run: `printf '%s\\n' "$A"` });
    });
    // Headers carry Latin-1 only (fetch refuses more): the ASCII canaries go in a header, a query string and a body; the server prints them back.
    for (const [i, canary] of canaries.entries()) {
      if (/[^\x20-\x7e]/.test(canary.value)) continue;
      steps.push({
        id: `${canary.name}-http`,
        owner: 'ops',
        http: {
          url: `http://127.0.0.1:\${{ vars.port }}/probe?key=\${{ env.S${i + 1} }}`,
          method: 'POST',
          headers: { Authorization: `Bearer \${{ env.S${i + 1} }}`, 'X-Api-Key': `\${{ env.S${i + 1} }}` },
          body: `{"token": "\${{ env.S${i + 1} }}"}`,
          expect: { status: 200 },
        },
      });
      steps.push({ id: `${canary.name}-http-echo`, owner: 'ops', run: ['curl', '-sS', `http://127.0.0.1:\${{ vars.port }}/last`] });
    }
    // The failure path: the reason quotes the last line of stderr.
    steps.push({ id: 'fail', owner: 'ops', run: `printf 'failing with %s and %s and %s\\n' "$S1" "$S2" "$S3" >&2; exit 3` });
    const file = writeRunbook(dir, {
      version: 1,
      name: 'secrets-corpus',
      roles: ROLES,
      vars: { port: '0' },
      secrets: SECRETS,
      notify: { channels: [{ id: 'log', file: 'notifications.log' }, { id: 'hook', webhook: '${{ env.HOOK_URL }}' }] },
      escalation: [{ name: 'Step failed', on: 'failure', to: ['ops'] }],
      phases: [{ id: 'leak', steps }],
    });
    writeFileSync(path.join(dir, 'answers.yaml'), canaries.map((c) => `${c.name}-ask: ${JSON.stringify(`on-call token: ${c.value}`)}`).join('\n'));
    probes.length = 0;
    hooks.length = 0;

    const env = { ...secretEnv, HOOK_URL: `http://127.0.0.1:${port}/hook` };
    const result = await runCli(['run', file, '--answers', 'answers.yaml', '--var', `port=${port}`], { cwd: dir, env, timeoutMs: SLOW - 10_000 });
    expect(stackTraceLines(result.stdout + result.stderr)).toEqual([]);
    expect(result.code, result.stderr).toBe(1);

    // Not vacuous: every step ran, the printers printed (masked), the server got the secrets, the failure was notified.
    const recorded = recordedSteps(dir);
    const notRun = [...recorded.values()].filter((s) => s.status !== 'succeeded' && s.id !== 'fail');
    expect(notRun.map((s) => `${s.id}: ${s.status} ${s.reason ?? ''}`)).toEqual([]);
    for (const canary of canaries) {
      for (const [name] of PRINTERS) {
        const step = recorded.get(`${canary.name}-${name}`)!;
        const printed = `${step.stdout?.text ?? ''}${step.stderr?.text ?? ''}`;
        if (name === 'split') expect(printed.length, `${step.id} printed nothing`).toBeGreaterThan(canary.value.length / 2);
        else expect(printed, `${step.id} shows no mask`).toContain('***');
      }
      expect(recorded.get(`${canary.name}-ask`)?.answer).toBe('on-call token: ***');
      expect(recorded.get(`${canary.name}-ask-print`)?.stdout?.text).toBe('on-call token: ***\n');
    }
    const ascii = canaries.filter((c) => !/[^\x20-\x7e]/.test(c.value));
    // Each probe's header reached the server; the first probe also sent it in its warm-up request (the later ones
    // found the connection warm), so duplicates are folded.
    expect([...new Set(probes.map((p) => p.headers['authorization']))]).toEqual(ascii.map((c) => `Bearer ${c.value}`));
    for (const c of ascii) expect(recorded.get(`${c.name}-http-echo`)?.stdout?.text).toContain('***');
    const fail = recorded.get('fail')!;
    expect(fail).toMatchObject({ status: 'failed', exit_code: 3 });
    expect(fail.reason).toBe('exit code 3: failing with *** and *** and ***');
    expect(hooks.length).toBeGreaterThan(0);
    expect(readFileSync(path.join(dir, 'notifications.log'), 'utf8')).toContain('failing with *** and');

    const places = { ...placesAfter('run', dir, result), ...Object.fromEntries(hooks.map((body, i) => [`webhook body ${i}`, body])) };
    expect(findLeaks(places, canaries)).toEqual([]);
  });

  it('in a header that fetch cannot send (non-ASCII), fail the probe without quoting the value', async () => {
    const dir = workspace('secrets-header');
    const i = canaries.findIndex((c) => /[^\x00-\xff]/.test(c.value));
    const file = writeRunbook(dir, {
      version: 1,
      name: 'secret-header',
      roles: ROLES,
      vars: { port: '0' },
      secrets: SECRETS,
      phases: [{ id: 'p', steps: [{ id: 'probe', owner: 'ops', http: { url: `http://127.0.0.1:\${{ vars.port }}/probe`, headers: { Authorization: `Bearer \${{ env.S${i + 1} }}` } } }] }],
    });
    const result = await runCli(['run', file, '--var', `port=${port}`], { cwd: dir, env: secretEnv, timeoutMs: 60_000 });
    expect(stackTraceLines(result.stdout + result.stderr)).toEqual([]);
    expect(result.code, result.stderr).toBe(1);
    expect(recordedSteps(dir).get('probe')?.status).toBe('failed');
    expect(findLeaks(placesAfter('run', dir, result), canaries)).toEqual([]);
  });

  /** A secret in a command line is refused before spawn; the refusal shows the command masked. One run per case: a refusal ends the run. */
  const REFUSALS: [string, Record<string, unknown>][] = [
    ['a --var holding a secret with a quote, in a shell string', { run: `echo deploying \${{ vars.token }}` }],
    ['a --var holding a secret, in an argv list', { run: ['echo', 'deploying', `\${{ vars.token }}`] }],
    ['an ask answer holding a secret, in a shell string', { run: `echo on call: \${{ answers.who }}` }],
    ['an ask answer holding a secret, in an argv list', { run: ['echo', `\${{ answers.who }}`] }],
  ];

  it.each(REFUSALS)('in %s, are refused before spawn and masked in the refusal', async (_what, use) => {
    const dir = workspace('secrets-refused');
    const quoted = canaries.find((c) => c.value.includes("'"))!;
    const file = writeRunbook(dir, {
      version: 1,
      name: 'secret-refused',
      roles: ROLES,
      vars: { token: 'none' },
      secrets: SECRETS,
      phases: [{ id: 'p', steps: [{ id: 'who', owner: 'ops', ask: 'Token?' }, { id: 'use', owner: 'ops', ...use }, { id: 'after', owner: 'ops', run: 'touch after-ran' }] }],
    });
    writeFileSync(path.join(dir, 'answers.yaml'), `who: ${JSON.stringify(quoted.value)}\n`);
    const result = await runCli(['run', file, '--answers', 'answers.yaml', '--var', `token=${quoted.value}`], { cwd: dir, env: secretEnv, timeoutMs: 60_000 });
    expect(stackTraceLines(result.stdout + result.stderr)).toEqual([]);
    expect(result.code, result.stderr).toBe(1);
    const step = recordedSteps(dir).get('use');
    expect(step?.status).toBe('failed');
    expect(step?.reason).toMatch(/secret value would appear on the command line/);
    expect(step?.exit_code ?? undefined, 'never spawned').toBeUndefined();
    expect(existsSync(path.join(dir, 'after-ran'))).toBe(false);
    expect(findLeaks(placesAfter('run', dir, result), canaries)).toEqual([]);
  });

  function dryRunbook(dir: string): string {
    return writeRunbook(dir, {
      version: 1,
      name: 'secret-dry-run',
      roles: ROLES,
      vars: { token: 'none', port: '0' },
      secrets: SECRETS,
      notify: { channels: [{ id: 'log', file: 'notifications.log' }] },
      phases: [
        {
          id: 'p',
          steps: [
            { id: 'probe', owner: 'ops', http: { url: `http://127.0.0.1:\${{ vars.port }}/probe?key=\${{ vars.token }}`, headers: { Authorization: `Bearer \${{ env.S1 }}` } } },
            { id: 'via-env', owner: 'ops', env: { T: '${{ vars.token }}' }, run: 'deploy --token "$T"' },
            { id: 'ship', owner: 'ops', run: `deploy \${{ vars.token }}` },
          ],
          rollback: [
            { id: 'undo', owner: 'ops', run: `undo \${{ vars.token }}` },
            { id: 'undo-probe', owner: 'ops', http: { url: `http://127.0.0.1:\${{ vars.port }}/undo?key=\${{ vars.token }}` } },
          ],
        },
      ],
    });
  }

  it('given to a dry run as --var values, do not appear in the commands, messages or anything else it prints', async () => {
    const dir = workspace('secrets-dry');
    const file = dryRunbook(dir);
    const results = await Promise.all(
      canaries.map((c) => runCli(['run', file, '--dry-run', '--var', `token=${c.value}`, '--var', `port=${port}`], { cwd: dir, env: secretEnv, timeoutMs: 60_000 })),
    );
    for (const result of results) {
      expect(stackTraceLines(result.stdout + result.stderr)).toEqual([]);
      expect(result.stdout).toContain('Dry run of secret-dry-run');
      const places = { stdout: result.stdout, stderr: result.stderr };
      expect(findLeaks(places, canaries)).toEqual([]);
    }
    expect(runDirs(dir)).toEqual([]);
  });

  // Regression: a dry run's rollback lines were rendered from unmasked vars.
  it('given to a dry run as --var values, do not appear in its rollback lines either', async () => {
    const dir = workspace('secrets-dry-rollback');
    const file = dryRunbook(dir);
    const result = await runCli(['run', file, '--dry-run', '--var', `token=${canaries[0]!.value}`, '--var', `port=${port}`], { cwd: dir, env: secretEnv, timeoutMs: 60_000 });
    expect(result.stdout).toMatch(/rollback undo/);
    expect(findLeaks({ stdout: result.stdout }, canaries)).toEqual([]);
  });
});

