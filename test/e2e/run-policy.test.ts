// The failure policy through the CLI without a terminal: the answers keys rollback and <step>.on_failure, failing closed without them, the validator's rules, and record show/export.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assertBuilt, killAllClis, readRecord, recordFiles, reapProcessesIn, runCli, stackTraceLines } from '../helpers/cli.js';

const FIXTURE = fileURL('../fixtures/interactive/policy.yaml');
const env = { CI: 'true' };
let dir: string;

function fileURL(relative: string): string {
  return new URL(relative, import.meta.url).pathname;
}

beforeAll(() => assertBuilt());
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-policy-'));
  fs.copyFileSync(FIXTURE, path.join(dir, 'policy.yaml'));
});
afterEach(async () => {
  await killAllClis();
  reapProcessesIn(dir);
  fs.rmSync(dir, { recursive: true, force: true });
});
afterAll(async () => killAllClis());

const cli = (args: string[]) => runCli(args, { cwd: dir, env, timeoutMs: 60_000 });
function answers(text: string): string {
  fs.writeFileSync(path.join(dir, 'answers.yaml'), `celebrate: true\nbye: true\n${text}`);
  return 'answers.yaml';
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function predicate(): Record<string, any> {
  const files = recordFiles(dir);
  expect(files).toHaveLength(1);
  return readRecord(files[0]!).statement.predicate;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const step = (p: Record<string, any>, id: string) => (p['phases'] as any[]).flatMap((ph) => ph.steps).find((s) => s.id === id);

describe('deployctl run without a terminal: the failure policy', () => {
  it("takes <step>.on_failure from the answers file (continue: exit 0, the failure in the record)", async () => {
    const r = await cli(['run', 'policy.yaml', '--answers', answers('warm.on_failure: continue\n')]);
    expect(r.code, r.stderr).toBe(0);
    expect(stackTraceLines(r.stdout + r.stderr)).toEqual([]);
    expect(r.stdout).toMatch(/✖ warm \(warm\): exit code 3: cold caches → the run went on \(on_failure: continue\) \(chosen by /);
    expect(step(predicate(), 'warm')).toMatchObject({ status: 'failed', on_failure: { policy: 'ask', action: 'continue', answered_from: 'answers-file' } });
  });

  it('without <step>.on_failure fails closed: the step is handled as without ask (rollback), which the lead authorizes by the default at once (exit 4)', async () => {
    const started = Date.now();
    const r = await cli(['run', 'policy.yaml', '--answers', answers('')]);
    expect(r.code, r.stderr).toBe(4);
    // The timeout is 3s; without a terminal nobody could answer: the default, without waiting for it.
    expect(Date.now() - started).toBeLessThan(30_000);
    const p = predicate();
    expect(step(p, 'warm').on_failure).toMatchObject({ policy: 'ask', action: 'rollback', answered_from: 'default' });
    expect(step(p, 'warm').on_failure.note).toContain("add 'warm.on_failure: continue' (or rollback, abort) to the answers file");
    expect(p['rollback_authorization']).toMatchObject({ decision: 'rollback', answered_from: 'no-terminal', role: 'lead' });
    expect(Date.parse(p['rollback_authorization'].decided_at) - Date.parse(p['rollback_authorization'].requested_at)).toBeLessThan(1_000);
    expect(r.stdout).toContain("rollback authorized by the default (no terminal to ask on and no 'rollback:' answer in the answers file: the default (rollback), at once)");
  });

  it("rollback: abort in the answers file declines the rollback: nothing rolled back, exit 1; record show and export say who", async () => {
    const r = await cli(['run', 'policy.yaml', '--answers', answers('warm.on_failure: rollback\nrollback: abort\n')]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('the rollback was declined by');
    const p = predicate();
    expect(p['rollback']).toBeNull();
    expect(p['rollback_authorization']).toMatchObject({ decision: 'abort', answered_from: 'answers-file', decided_by: { role: 'lead', on_behalf_of: 'Ana' } });

    const show = await cli(['record', 'show']);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/Rollback\n {2}rollback DECLINED \(nothing rolled back\) by \S+ on behalf of Deployment Lead · Ana \(answers file\) \(asked \S+, decided \S+, default after 3\.0s: rollback\)\n {2}nothing was rolled back/);
    expect(show.stdout).toMatch(/✖ warm {2}warm .*\n(.*\n)*? {10}on_failure: ask: the run stopped and rolled back what it could, chosen by \S+ on behalf of DevOps Engineer · Chen \(answers file\)/);
    const md = await cli(['record', 'export', recordFiles(dir)[0]!, '--format', 'markdown']);
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toContain('Authorization: rollback DECLINED (nothing rolled back) by');
    expect(md.stdout).toContain('_Nothing was rolled back._');
  });

  it.each([
    ['rollback: maybe\n', "'rollback' authorizes a rollback: answer rollback (roll back) or abort (do not roll back)"],
    ['warm.on_failure: later\n', "'warm.on_failure' says what follows if the step fails: answer rollback, continue or abort"],
  ])('refuses a wrong answer %j with its position, before running anything (exit 2)', async (text, message) => {
    const r = await cli(['run', 'policy.yaml', '--answers', answers(text)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`answers\\.yaml:3:\\d+: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(fs.existsSync(path.join(dir, '.deployctl', 'runs'))).toBe(false);
  });
});

describe('deployctl validate: where the failure policy applies', () => {
  const base = `version: 1
name: v
roles: { ops: { title: Ops } }
`;
  it.each([
    [
      `${base}phases:
  - id: deploy
    steps: [{ id: ship, owner: ops, run: ship }]
    rollback:
      - { id: undo, owner: ops, run: undo, on_failure: continue }
`,
      /v\.yaml:8:\d+: on_failure applies to a phase's steps, not to its rollback steps/,
    ],
    [
      `${base}phases:
  - id: go
    gate: { owner: ops, require: { earlier_steps_ok: "true" } }
`,
      /v\.yaml:6:\d+: 'earlier_steps_ok' is the condition deployctl adds to a gate/,
    ],
    [
      `${base}phases:
  - { id: a, go_live: true, steps: [{ id: x, owner: ops, run: x }] }
  - { id: b, go_live: true, steps: [{ id: y, owner: ops, run: y }] }
`,
      /v\.yaml:6:\d+: phase 'b' is go_live, and so is 'a'/,
    ],
    [
      `${base}rollback: { authorize: nobody }
phases:
  - id: deploy
    steps: [{ id: ship, owner: ops, run: ship }]
    rollback: [{ id: undo, owner: ops, run: undo }]
`,
      /v\.yaml:4:\d+: rollback authorize 'nobody' is not a declared role/,
    ],
  ])('refuses %#', async (text, message) => {
    fs.writeFileSync(path.join(dir, 'v.yaml'), text);
    const r = await cli(['validate', 'v.yaml']);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(message);
  });
});
