// `deployctl run … | head`: the reader closing the pipe early must not stop (or silently kill) the deployment.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, assertBuilt, cliEnv, recordFiles } from '../helpers/cli.js';

const RUNBOOK = `
version: 1
name: piped
roles: { ops: { title: Ops } }
phases:
  - id: p
    steps:
${Array.from({ length: 8 }, (_, i) => `      - { id: s${i}, owner: ops, run: "echo step ${i}; sleep 0.05; echo s${i} >> done" }`).join('\n')}
`;

describe('run with its output piped into a reader that stops early', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-pipe-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('finishes every step and writes the record, with the run’s own exit code', async () => {
    assertBuilt();
    fs.writeFileSync(path.join(dir, 'piped.yaml'), RUNBOOK);
    const child = spawn(process.execPath, [BIN, 'run', 'piped.yaml'], { cwd: dir, env: cliEnv({ CI: 'true' }), stdio: ['ignore', 'pipe', 'pipe'] });
    // Like `| head -1`: read the first chunk, then close the pipe.
    child.stdout.once('data', () => child.stdout.destroy());
    child.stderr.resume();
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'done'), 'utf8').trim().split('\n')).toHaveLength(8);
    expect(recordFiles(dir)).toHaveLength(1);
  });
});
