// `deployctl validate` end to end: spawns the built bin/deployctl.js on the bad-input corpus and on real runbooks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath, HOSTILE_BOUND_MS, INVALID_CASES, writeGeneratedCases, type InvalidCase } from '../fixtures/invalid/cases.js';
import { assertBuilt, killAllClis, runCli, stackTraceLines, type CliResult } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Run the CLI from the repository root, as a user would; far past any bound asserted below, a hang is killed. */
const deployctl = (args: string[]) => runCli(args, { cwd: ROOT, timeoutMs: 20_000 });

function expectNoStackTrace(run: CliResult): void {
  expect(stackTraceLines(run.stdout)).toEqual([]);
  expect(stackTraceLines(run.stderr)).toEqual([]);
}

/** How the CLI is given each file: committed fixtures relative to the repository root, generated ones by absolute path. */
let tempDir = '';
const argOf = (c: InvalidCase) => (c.generate ? fixturePath(c, tempDir) : path.relative(ROOT, fixturePath(c, tempDir)));
const positioned = INVALID_CASES.filter((c) => c.expect !== undefined);

/** The line validate prints for a problem: `path:line:col: message`, control characters escaped. */
const escaped = (text: string) => text.replace(/\n/g, '\\n').replace(/\u001b/g, '\\u001b');

beforeAll(() => {
  assertBuilt();
  tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-validate-'));
  writeGeneratedCases(tempDir);
});

afterEach(killAllClis);

afterAll(() => {
  fs.rmSync(tempDir, { recursive: true, force: true });
});

describe('deployctl validate on the bad-input corpus', () => {
  it('prints one `path:line:col: message` line per bad file and exits 2', async () => {
    const run = await deployctl(['validate', ...positioned.map(argOf)]);

    expect(run.code).toBe(2);
    expectNoStackTrace(run);
    const lines = run.stdout.split('\n').filter((l) => l !== '');
    for (const c of positioned) {
      const { line, col, message } = c.expect!;
      const mine = lines.filter((l) => l.startsWith(`${argOf(c)}:`));
      expect(mine, c.file).toHaveLength(1);
      expect(mine[0]!.startsWith(`${argOf(c)}:${line}:${col}: `), `${c.file}: ${mine[0]}`).toBe(true);
      expect(mine[0], c.file).toContain(escaped(message));
    }
    expect(lines).toHaveLength(positioned.length);
    expect(run.stderr.trim()).toBe(`${positioned.length} problems found. Fix them and run deployctl validate again.`);
  });

  it('never lets a control character from the runbook reach the terminal', async () => {
    const c = INVALID_CASES.find((k) => k.file === 'terminal-escape-key.yaml')!;
    const run = await deployctl(['validate', argOf(c)]);

    expect(run.code).toBe(2);
    expect(run.stdout).not.toContain('\u001b');
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(run.stdout).toContain("unknown key 'time\\nout\\u001b[2J'");
  });

  it('prints the same problems as a JSON array with --json, and nothing else', async () => {
    const run = await deployctl(['validate', '--json', ...positioned.map(argOf)]);

    expect(run.code).toBe(2);
    expect(run.stderr).toBe('');
    const problems = JSON.parse(run.stdout) as unknown[];
    expect(problems).toHaveLength(positioned.length);
    for (const problem of problems) {
      expect(problem).toEqual({
        file: expect.any(String),
        line: expect.any(Number),
        col: expect.any(Number),
        code: expect.stringMatching(/^[a-z0-9-]+$/),
        message: expect.any(String),
      });
    }
    for (const c of positioned) {
      const { line, col, code, message } = c.expect!;
      const found = (problems as { file: string }[]).filter((p) => p.file === argOf(c));
      expect(found, c.file).toEqual([{ file: argOf(c), line, col, code, message: expect.stringContaining(message) }]);
    }
  });

  it.each(INVALID_CASES.filter((c) => c.hostile).map((c) => [c.what, c] as const))(
    `refuses %s with exit 2 within ${HOSTILE_BOUND_MS / 1000} s`,
    async (_what, c) => {
      const run = await deployctl(['validate', argOf(c)]);

      expect(run.code).toBe(2);
      expect(run.durationMs).toBeLessThan(HOSTILE_BOUND_MS);
      expectNoStackTrace(run);
      const lines = run.stdout.split('\n').filter((l) => l !== '');
      expect(lines.length).toBeGreaterThanOrEqual(1);
      for (const line of lines) expect(line.startsWith(`${argOf(c)}:`)).toBe(true);
      // A bounded report: never one line per stray token of a megabyte of garbage, nor a line quoting a megabyte.
      expect(lines.length).toBeLessThanOrEqual(21);
      for (const line of lines) expect(line.length).toBeLessThan(400 + argOf(c).length);
      if (c.expect) expect(lines[0]).toContain(`:${c.expect.line}:${c.expect.col}: `);
    },
  );
});

describe('deployctl validate on valid runbooks', () => {
  const staticSite = path.join(ROOT, 'runbooks', 'examples', 'static-site.yaml');

  it.each(['runbooks/phase65.yaml', 'test/fixtures/valid/full.yaml'])('accepts %s with exit 0 and a one-line summary', async (file) => {
    const run = await deployctl(['validate', file]);

    // Changed on purpose (issue 14 item 7): phase65 names its people's public keys, which each clone makes with
    // runbooks/demo/people.sh (never committed); until then validate warns about each, and nothing else.
    // Many people's keys missing are one line, not one per person.
    const warnings = run.stderr.split('\n').filter((l) => l !== '');
    expect(warnings.length).toBeLessThanOrEqual(file.includes('phase65') ? 1 : 3);
    expect(warnings.filter((l) => !/: warning: (keys\/[a-z]+\.pub is not a file .*answers cannot be signed or verified until it is|\d+ people's key files are not there \(keys\/.*their answers cannot be signed or verified until they are)/.test(l))).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^${escapeRegExp(file)}: valid: \\d+ roles, \\d+ phases, \\d+ steps \\(\\d+ automated\\), \\d+ gates?\\n$`));
  });

  // TODO: drop the skip once runbooks/examples/static-site.yaml lands (a colleague is finishing it).
  it.skipIf(!fs.existsSync(staticSite))('accepts runbooks/examples/static-site.yaml with exit 0', async () => {
    const run = await deployctl(['validate', 'runbooks/examples/static-site.yaml']);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('runbooks/examples/static-site.yaml: valid:');
  });

  it('prints an empty JSON array with --json when every runbook is valid', async () => {
    const run = await deployctl(['validate', '--json', 'runbooks/phase65.yaml', 'test/fixtures/valid/full.yaml']);

    expect(run.code).toBe(0);
    // Only the warnings about phase65's people keys not made yet on this clone (see above).
    expect((JSON.parse(run.stdout) as { code: string; severity?: string }[]).filter((p) => p.code !== 'person-key-missing')).toEqual([]);
  });

  it("warns on stderr about a role key file that is not there, with its position, and still exits 0 (--json lists it as a warning)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-validate-keys-'));
    try {
      fs.mkdirSync(path.join(dir, 'keys'));
      fs.copyFileSync(path.join(ROOT, 'test/fixtures/valid/keys/lead.pub'), path.join(dir, 'keys/lead.pub'));
      const file = path.join(dir, 'keys.yaml');
      fs.writeFileSync(
        file,
        ['version: 1', 'name: keys', 'roles:', '  lead: { title: Lead, keys: [keys/lead.pub, keys/qa.pub] }', 'phases:', '  - id: p', '    steps:', '      - { id: a, owner: lead, run: "true" }', ''].join('\n'),
      );
      const run = await deployctl(['validate', file]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`${file}: valid:`);
      expect(run.stderr.trim().split('\n')).toEqual([
        `${file}:4:46: warning: keys/qa.pub is not a file (paths are relative to the runbook's directory): sign-offs for role lead cannot be verified until it is: the key's holder makes a pair with deployctl keygen and puts the .pub there, or fix the path`,
      ]);
      const json = await deployctl(['validate', '--json', file]);
      expect(json.code).toBe(0);
      // Warnings are in --json too (issue 11), marked as such: the exit code says the file is valid.
      expect(JSON.parse(json.stdout)).toEqual([{ file, line: 4, col: 46, code: 'role-key-missing', severity: 'warning', message: expect.stringContaining('warning: keys/qa.pub is not a file') }]);
      expect(json.stderr).toContain('warning: keys/qa.pub is not a file');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [
      'some roles have no escalates_to',
      'roles:\n  lead: { title: Lead, escalates_to: [cto] }\n  ops: { title: Ops }\n  qa: { title: QA }\n  cto: { title: CTO }\nescalation:\n  - { name: Slow, after: 15m }\n',
      "9:19: warning: escalation 'Slow' (after: 15m) has no 'to:', so it escalates up each owner's escalates_to, and roles ops, qa have none: their steps and gates never escalate by it; add to: [ROLE] to the rule, or escalates_to to those roles",
    ],
    [
      'no owner role has escalates_to',
      'roles:\n  lead: { title: Lead }\n  ops: { title: Ops }\n  qa: { title: QA }\nescalation:\n  - { name: Slow, after: 15m }\n',
      "8:19: warning: escalation 'Slow' (after: 15m) has no 'to:', so it escalates up each owner's escalates_to, and no role that owns a step or gate has one (ops, qa, lead): it never escalates anyone",
    ],
  ])("warns (stderr and --json, exit 0) about an after: escalation with no to: when %s", async (_what, head, warning) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-validate-escalation-'));
    try {
      const file = path.join(dir, 'escalation.yaml');
      const steps = '      - { id: a, owner: ops, run: "true" }\n      - { id: b, owner: qa, confirm: Tested? }\n    gate: { owner: lead, require: { ok: steps.a.ok } }\n';
      fs.writeFileSync(file, `version: 1\nname: esc\n${head}phases:\n  - id: p\n    steps:\n${steps}`);
      const run = await deployctl(['validate', file]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`${file}: valid:`);
      expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^${escapeRegExp(`${file}:${warning}`)}`))]);
      const json = await deployctl(['validate', '--json', file]);
      expect(json.code).toBe(0);
      const [line, col] = warning.split(':').map(Number);
      expect(JSON.parse(json.stdout)).toEqual([{ file, line, col, code: 'escalation-goes-nowhere', severity: 'warning', message: expect.stringContaining(warning.replace(/^\d+:\d+: /, '')) }]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says nothing about an after: escalation when every owner can escalate, or the rule has to:', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-validate-escalation-'));
    try {
      const file = path.join(dir, 'escalation.yaml');
      fs.writeFileSync(
        file,
        'version: 1\nname: esc\nroles:\n  ops: { title: Ops, escalates_to: [cto] }\n  qa: { title: QA }\n  cto: { title: CTO }\nescalation:\n  - { name: Slow, after: 15m, to: [cto] }\n  - { name: Slower, after: 30m }\nphases:\n  - id: p\n    steps:\n      - { id: a, owner: ops, run: "true" }\n',
      );
      const run = await deployctl(['validate', file]);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says nothing about the top of an escalation path (a role others escalate to) owning a step', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-validate-escalation-'));
    try {
      const file = path.join(dir, 'escalation.yaml');
      fs.writeFileSync(
        file,
        'version: 1\nname: esc\nroles:\n  ops: { title: Ops, escalates_to: [lead] }\n  lead: { title: Lead, escalates_to: [cto] }\n  cto: { title: CTO }\nescalation:\n  - { name: Slow, after: 15m }\nphases:\n  - id: p\n    steps:\n      - { id: a, owner: ops, run: "true" }\n      - { id: b, owner: cto, confirm: Signed off? }\n',
      );
      const run = await deployctl(['validate', file]);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 when any one of several runbooks is invalid, and still summarises the valid ones', async () => {
    const run = await deployctl(['validate', 'test/fixtures/valid/full.yaml', 'test/fixtures/invalid/unknown-owner.yaml']);

    expect(run.code).toBe(2);
    expect(run.stdout).toContain('test/fixtures/invalid/unknown-owner.yaml:11:16: ');
    expect(run.stdout).toContain('test/fixtures/valid/full.yaml: valid:');
    expect(run.stderr).toContain('1 problem found. Fix it and run deployctl validate again.');
  });
});

describe('deployctl validate on files it cannot read', () => {
  it.each([
    ['a missing file', 'no/such/runbook.yaml', 'no such file: no/such/runbook.yaml; check the path'],
    ['a directory', 'runbooks', 'runbooks is a directory; give the path of a .yaml file'],
    ['a .yml typo for a .yaml file', 'runbooks/phase65.yml', 'no such file: runbooks/phase65.yml; check the path; did you mean runbooks/phase65.yaml?'],
    ['a letter off', 'runbooks/phase56.yaml', 'no such file: runbooks/phase56.yaml; check the path; did you mean runbooks/phase65.yaml?'],
  ])('refuses %s with exit 2 and a sentence, not a stack trace', async (_what, file, message) => {
    const run = await deployctl(['validate', file]);

    expect(run.code).toBe(2);
    expectNoStackTrace(run);
    expect(run.stdout).toBe(`${file}:1:1: ${message}\n`);
  });

  it('exits 2 with a usage error when no runbook is given', async () => {
    const run = await deployctl(['validate']);

    expect(run.code).toBe(2);
    expectNoStackTrace(run);
    expect(run.stderr).toContain("missing required argument 'runbook'");
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
