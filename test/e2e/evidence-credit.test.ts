// Without a terminal: a NO-GO's reason from the answers file, the gate's evidence and who answered on whose behalf,
// in the record, `record show` and `record export`; and a dry run that says "would ask" and shows no condition failing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertBuilt, runCli } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/interactive.js';

let dir: string;
const ENV = { DEPLOYCTL_OPERATOR: 'root' };

beforeAll(() => {
  assertBuilt();
  dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'deployctl-credit-')));
  copyFileSync(path.join(FIXTURES, 'rollback-nogo.yaml'), path.join(dir, 'rollback-nogo.yaml'));
  writeFileSync(path.join(dir, 'answers.yaml'), 'verify: no-go\nverify.reason: "payment provider freeze"\nannounce: true\nbye: true\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a NO-GO over holding conditions, answered from a file', () => {
  it('keeps the reason, the evidence and the credit, and show and export say them', async () => {
    const run = await runCli(['run', 'rollback-nogo.yaml', '--answers', 'answers.yaml'], { cwd: dir, env: ENV, timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(4);
    expect(run.stdout).toContain('gate verify: NO-GO by root on behalf of [Deployment Lead · Ana]; reason: payment provider freeze');
    // The plain line of the gate: its title once, then the verdict (it said the title twice, review 1 item 24).
    const gateLine = run.stdout.split('\n').find((line) => line.includes('[FAILED: ') && line.includes('Go/no-go'));
    expect(gateLine).toMatch(/\[Deployment Lead · Ana\] Go\/no-go: verify \[FAILED: NO-GO \((\d) of \1 conditions hold; answered from answers\.yaml; reason: payment provider freeze\)\]/);
    expect(gateLine!.match(/Go\/no-go/g)).toHaveLength(1);

    const show = await runCli(['record', 'show'], { cwd: dir, env: ENV, timeoutMs: 30_000 });
    expect(show.stdout).toMatch(/gate verify: NO-GO by root on behalf of Deployment Lead · Ana/);
    expect(show.stdout).toContain('reason for NO-GO: payment provider freeze');
    expect(show.stdout).toMatch(/double\(steps\.lag\.stdout\.trim\(\)\) = 0\.5/);
    expect(show.stdout).toMatch(/announce .*\[root on behalf of Deployment Lead · Ana\]/);

    const record = readdirSync(path.join(dir, '.deployctl/records')).find((f) => f.endsWith('.json'))!;
    const md = await runCli(['record', 'export', path.join('.deployctl/records', record), '--format', 'markdown'], { cwd: dir, env: ENV, timeoutMs: 30_000 });
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toContain('decided by **root** on behalf of **Deployment Lead (Ana)**');
    expect(md.stdout).toContain('Reason for NO-GO: payment provider freeze');
    expect(md.stdout).toContain('answered by root on behalf of Ana');
    expect(md.stdout).toContain('`double(steps.lag.stdout.trim())` = `0.5`');
    expect(md.stdout).not.toMatch(/by Ana\b(?! \()/);
  });
});

describe('a dry run', () => {
  it('says what a gate would ask and shows no condition as failed', async () => {
    const dry = await runCli(['run', 'rollback-nogo.yaml', '--dry-run'], { cwd: dir, env: ENV, timeoutMs: 60_000 });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('would ask [Deployment Lead · Ana] to decide GO/NO-GO on lag_ok, shipped');
    expect(dry.stdout).toContain("would ask [Deployment Lead · Ana] (answers key 'bye')");
    expect(dry.stdout).not.toMatch(/✖/);
  });
});
