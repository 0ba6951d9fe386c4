// A step's output is untrusted: terminal control sequences in it reach the operator's screen only as visible escapes.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllClis, runCli } from '../helpers/cli.js';

const RUNBOOK = `
version: 1
name: escapes
roles: { ops: { title: Ops } }
phases:
  - id: p
    steps:
      - id: noisy
        owner: ops
        run: "printf 'title \\\\033]0;pwned\\\\007 clear \\\\033[2J bell \\\\007 tab\\\\tend\\\\n'; exit 3"
`;

describe('terminal control sequences in step output', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-escapes-'));
  afterAll(async () => {
    await killAllClis();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('are shown as visible escapes, never sent to the terminal raw, in live output and in the summary', async () => {
    fs.writeFileSync(path.join(dir, 'escapes.yaml'), RUNBOOK);
    const result = await runCli(['run', 'escapes.yaml'], { cwd: dir, env: { CI: 'true', NO_COLOR: '1' }, timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    const printed = result.stdout + result.stderr;
    expect(printed).not.toContain('\u001b]0;pwned');
    expect(printed).not.toContain('\u001b[2J');
    expect(printed).not.toContain('\u0007');
    expect(printed).toContain('\\u001b]0;pwned\\u0007');
    // The record keeps the bytes as they were: it is data, escaped only when shown.
    const records = fs.readdirSync(path.join(dir, '.deployctl', 'records'));
    const envelope = JSON.parse(fs.readFileSync(path.join(dir, '.deployctl', 'records', records[0]!), 'utf8')) as { payload: string };
    expect(Buffer.from(envelope.payload, 'base64').toString('utf8')).toContain('\\u001b]0;pwned\\u0007');
  });
});
