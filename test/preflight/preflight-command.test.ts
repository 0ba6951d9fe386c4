// `preflightCommand` called like an API with real ports (processes, HTTP on 127.0.0.1, files in a temp dir) and captured output.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bufferIo } from '../../src/cli/io.js';
import { preflightCommand, realDiscoverFs, wantsColour, wantsSpinner, type PreflightOptions, type PreflightPorts } from '../../src/commands/preflight.js';
import { CliError } from '../../src/errors.js';
import { systemClock } from '../../src/ports/clock.js';
import { execCommand } from '../../src/ports/exec.js';
import { writeFileAtomic } from '../../src/ports/fs.js';
import { sendHttp } from '../../src/ports/http.js';
import { startTestServer, type TestServer } from '../helpers/http-server.js';
import { XMLLINT_MISSING, assertWellFormed, hasXmllint, xpath } from './xml-helpers.js';

const SECRET = 'hunter2-super-secret';

const RUNBOOK = `version: 1
name: small
title: Small preflight
roles:
  ops: { title: Operations, primary: Olu }
  qa: { title: QA Lead }
vars:
  base_url: http://127.0.0.1:9
secrets: [API_TOKEN]
phases:
  - id: preflight
    title: Pre-flight
    preflight: true
    steps:
      - id: health
        title: Health
        owner: qa
        http: { url: "\${{ vars.base_url }}/health", samples: 3, expect: { status: 200, body_contains: ok } }
        metrics: { error_rate: { max: 0.001 } }
      - id: errors
        title: Error rate
        owner: qa
        http: { url: "\${{ vars.base_url }}/flaky?every=2", samples: 4 }
        metrics: { error_rate: { max: 0.001 } }
      - id: token-check
        title: Token is accepted
        owner: ops
        run: 'echo "calling with $API_TOKEN" >&2; exit 1'
      - id: brief
        owner: ops
        confirm: Team briefed
  - id: smoke
    preflight: true
    steps:
      - { id: version, title: Version endpoint, owner: qa, http: { url: "\${{ vars.base_url }}/health" } }
`;

let server: TestServer;
let dir = '';
let runbookFile = '';

beforeAll(async () => {
  server = await startTestServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-command-'));
  runbookFile = path.join(dir, 'small.yaml');
  fs.writeFileSync(runbookFile, RUNBOOK);
});
afterAll(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function ports(env: NodeJS.ProcessEnv = {}, overrides: Partial<PreflightPorts> = {}) {
  const io = bufferIo(env);
  const spinners: boolean[] = [];
  const p: PreflightPorts = {
    io,
    env: { PATH: process.env['PATH'], API_TOKEN: SECRET, ...env },
    cwd: dir,
    stderrIsTTY: false,
    signal: new AbortController().signal,
    exec: execCommand,
    send: sendHttp,
    clock: systemClock,
    fs: realDiscoverFs,
    writeFile: (file, text) => writeFileAtomic(file, text),
    createSpinner: async (colour) => {
      spinners.push(colour);
      return { text: '', start: () => undefined, stop: () => undefined };
    },
    killGraceMs: 200,
    ...overrides,
  };
  return { io, ports: p, spinners };
}

async function run(options: PreflightOptions, env: NodeJS.ProcessEnv = {}, overrides: Partial<PreflightPorts> = {}, file: string | null = runbookFile) {
  // null: no runbook argument (undefined would select the default parameter).
  const { io, ports: p, spinners } = ports(env, overrides);
  const code = await preflightCommand(file ?? undefined, { var: [`base_url=${server.url}`], ...options }, p);
  return { code, stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n'), spinners };
}

async function refusal(promise: Promise<unknown>): Promise<CliError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error('expected a CliError');
}

describe('preflight --json', () => {
  it('prints exactly one JSON document on stdout with the summary and every check', async () => {
    const { code, stdout } = await run({ json: true });
    expect(code).toBe(1);
    const doc = JSON.parse(stdout);
    expect(doc).toMatchObject({
      format: 1,
      tool: { name: 'deployctl' },
      runbook: { name: 'small', title: 'Small preflight', path: runbookFile },
      status: 'failed',
      concurrency: 8,
      summary: { total: 5, passed: 2, failed: 2, skipped: 1, manual: 1 },
      phases: [
        { id: 'preflight', title: 'Pre-flight' },
        { id: 'smoke', title: 'smoke' },
      ],
    });
    expect(doc.checks.map((c: { id: string; status: string }) => `${c.id}:${c.status}`)).toEqual(['health:passed', 'errors:failed', 'token-check:failed', 'brief:skipped', 'version:passed']);
    const errors = doc.checks[1];
    expect(errors).toMatchObject({ phase: 'preflight', owner: 'qa', kind: 'http', method: 'GET', url: `${server.url}/flaky?every=2`, attempts: 1, failure_type: 'threshold' });
    expect(errors.reason).toBe('error_rate 0.5 > max 0.001 (50% > 0.1%); status 500, expected 2xx (×2)');
    expect(errors.failures[0]).toEqual({ message: 'error_rate 0.5 > max 0.001 (50% > 0.1%)', metric: 'error_rate', measured: 0.5, expected: { max: 0.001 } });
    expect(errors.metrics).toMatchObject({ samples: 4, errors: 2, statuses: { '200': 2, '500': 2 } });
    expect(typeof errors.duration_ms).toBe('number');
    expect(doc.checks[3]).toMatchObject({ kind: 'confirm', manual: true, status: 'skipped', reason: 'manual, not run in CI' });
  });

  it('masks secrets in the document and in the progress lines', async () => {
    const { stdout, stderr } = await run({ json: true });
    expect(stdout).not.toContain(SECRET);
    expect(stderr).not.toContain(SECRET);
    expect(JSON.parse(stdout).checks[2].reason).toBe('exit code 1: calling with ***');
  });
});

describe('preflight --junit', () => {
  it('writes a JUnit report with a testsuite per preflight phase and the right counts', async (ctx) => {
    const out = path.join(dir, 'reports', 'junit.xml');
    const { code, stderr } = await run({ junit: out });
    expect(code).toBe(1);
    expect(stderr).toContain(`JUnit report written to ${out}`);
    const xml = fs.readFileSync(out, 'utf8');
    expect(xml).not.toContain(SECRET);
    expect(xml).toContain('<testcase classname="preflight" name="[QA Lead] Error rate (errors)"');
    expect(fs.readdirSync(path.dirname(out))).toEqual(['junit.xml']); // written atomically: no temp file left
    if (!hasXmllint()) return ctx.skip(XMLLINT_MISSING);
    assertWellFormed(out);
    expect(xpath(out, 'count(//testsuite)')).toBe('2');
    expect(xpath(out, 'count(//testcase)')).toBe('5');
    expect(xpath(out, 'count(//testcase/failure)')).toBe('2');
    expect(xpath(out, 'count(//testcase/skipped)')).toBe('1');
    expect(xpath(out, 'string(//testcase[@name="[Operations] Token is accepted (token-check)"]/failure/@type)')).toBe('exit-code');
    expect(xpath(out, 'string(//skipped/@message)')).toBe('manual, not run in CI');
  });

  it('says so, and exits 2, when the report cannot be written', async () => {
    fs.writeFileSync(path.join(dir, 'not-a-dir'), '');
    const { code, stderr } = await run({ junit: path.join(dir, 'not-a-dir', 'x.xml') });
    expect(code).toBe(2);
    expect(stderr).toContain('could not write the JUnit report');
  });
});

describe('GitHub Actions annotations', () => {
  it('prints a ::error workflow command per failed check on stdout when GITHUB_ACTIONS=true', async () => {
    const { stdout } = await run({}, { GITHUB_ACTIONS: 'true' });
    const lines = stdout.split('\n').filter((l) => l.startsWith('::error '));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^::error file=.*small\.yaml,line=\d+,col=\d+,title=preflight preflight\/errors failed%3A \[QA Lead\] Error rate::error_rate 0\.5 > max 0\.001 \(50%25 > 0\.1%25\)/);
    expect(stdout).not.toContain(SECRET);
  });

  it('keeps stdout a single JSON document with --json (annotations go to stderr)', async () => {
    const { stdout, stderr } = await run({ json: true }, { GITHUB_ACTIONS: 'true' });
    expect(() => JSON.parse(stdout)).not.toThrow();
    expect(stderr.split('\n').filter((l) => l.startsWith('::error '))).toHaveLength(2);
  });

  it('prints none elsewhere', async () => {
    const { stdout, stderr } = await run({});
    expect(`${stdout}\n${stderr}`).not.toContain('::error');
  });
});

describe('progress on stderr', () => {
  it('has a line per check with its duration and failure reason, no colour and no spinner without a terminal', async () => {
    const { stderr, stdout, spinners } = await run({});
    expect(stdout).toBe('');
    expect(stderr).toMatch(/ {2}PASS {2}health +\[QA Lead\] Health {2}\(\d+(\.\d)? m?s\)/);
    expect(stderr).toMatch(/ {2}FAIL {2}errors +\[QA Lead\] Error rate {2}\(.+\): error_rate 0\.5 > max 0\.001 \(50% > 0\.1%\); status 500, expected 2xx \(×2\)/);
    expect(stderr).toContain('SKIP  brief');
    expect(stderr).not.toMatch(/\x1b\[/);
    expect(spinners).toEqual([]);
  });

  it('uses colour and a spinner on a terminal, and neither colour with NO_COLOR nor a spinner in CI', async () => {
    const tty = await run({}, {}, { stderrIsTTY: true });
    expect(tty.stderr).toMatch(/\x1b\[/);
    expect(tty.spinners).toEqual([true]);
    const noColor = await run({}, { NO_COLOR: '1' }, { stderrIsTTY: true });
    expect(noColor.stderr).not.toMatch(/\x1b\[/);
    expect(noColor.spinners).toEqual([false]);
    const ci = await run({}, { CI: 'true' }, { stderrIsTTY: true });
    expect(ci.spinners).toEqual([]);
  });
});

describe('terminal decisions', () => {
  it.each([
    [true, {}, true],
    [false, {}, false],
    [true, { NO_COLOR: '1' }, false],
    [true, { NO_COLOR: '' }, true],
    [true, { TERM: 'dumb' }, false],
  ])('colour on stderr TTY=%s with %j: %s', (isTTY, env, expected) => {
    expect(wantsColour(isTTY, env)).toBe(expected);
  });

  it.each([
    [true, {}, true],
    [false, {}, false],
    [true, { CI: 'true' }, false],
    [true, { TERM: 'dumb' }, false],
  ])('spinner on stderr TTY=%s with %j: %s', (stderrIsTTY, env, expected) => {
    expect(wantsSpinner({ stderrIsTTY, env })).toBe(expected);
  });
});

describe('concurrency and exit codes', () => {
  it('exits 0 when every check passes', async () => {
    const file = path.join(dir, 'passing.yaml');
    fs.writeFileSync(file, RUNBOOK.replace('/flaky?every=2', '/health').replace('exit 1', 'exit 0'));
    const { code, stderr } = await run({}, {}, {}, file);
    expect(code).toBe(0);
    expect(stderr).toContain('preflight PASSED: 4 passed, 0 failed, 1 skipped (1 manual) of 5');
  });

  it.each(['0', '-1', 'many', '1.5', '257'])('refuses --concurrency %s (exit 2)', async (value) => {
    const error = await refusal(run({ concurrency: value }));
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(`--concurrency ${value}`);
  });

  it('refuses an undeclared --var (exit 2)', async () => {
    const error = await refusal(run({ var: ['nope=1'] }));
    expect(error.exitCode).toBe(2);
  });
});

describe('runbook problems', () => {
  it('refuses an invalid runbook with one path:line:col line per problem (exit 2)', async () => {
    const file = path.join(dir, 'invalid.yaml');
    fs.writeFileSync(file, 'version: 1\nname: x\nroles: { ops: { title: O } }\nphases:\n  - id: p\n    preflight: true\n    steps:\n      - { id: s, owner: nobody, run: "true" }\n');
    const error = await refusal(run({}, {}, {}, file));
    expect(error.exitCode).toBe(2);
    expect(error.details).toEqual([`${file}:8:25: owner 'nobody' is not a declared role (roles: ops)`]);
    expect(error.message).toContain('is not a valid runbook');
  });

  it('refuses a runbook without a preflight phase (exit 2): passing it would be a false green', async () => {
    const file = path.join(dir, 'no-preflight.yaml');
    fs.writeFileSync(file, 'version: 1\nname: x\nroles: { ops: { title: O } }\nphases:\n  - id: p\n    steps:\n      - { id: s, owner: ops, run: "true" }\n');
    const error = await refusal(run({}, {}, {}, file));
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain("marks no phase with 'preflight: true'");
  });

  it('finds the only runbook in ./runbooks/ of its working directory and says which it checks', async () => {
    const project = fs.mkdtempSync(path.join(dir, 'project-'));
    fs.mkdirSync(path.join(project, 'runbooks'));
    fs.writeFileSync(path.join(project, 'runbooks', 'small.yaml'), RUNBOOK.replace('exit 1', 'exit 0').replace('/flaky?every=2', '/health'));
    fs.writeFileSync(path.join(project, 'runbooks', 'small.answers.yaml'), 'brief: true\n');
    const { code, stderr } = await run({}, {}, { cwd: project }, null);
    expect(code).toBe(0);
    expect(stderr).toContain('deployctl: checking runbooks/small.yaml (the only runbook in ./runbooks/)');
  });
});
