// `pattern:` through the built CLI on phase65: a --var or an answers-file answer that does not match is refused with exit 2 before anything runs.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, killAllClis, runCli, runDirs, stackTraceLines } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let dir = '';

beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-patterns-'));
  cpSync(path.join(ROOT, 'runbooks'), path.join(dir, 'runbooks'), { recursive: true });
});
afterEach(killAllClis);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[]) => runCli(['run', 'runbooks/phase65.yaml', '--non-interactive', ...args], { cwd: dir, env: { DEMO_STATE_DIR: path.join(dir, 'demo-state') }, timeoutMs: 60_000 });

describe('phase65 patterns', { timeout: 90_000 }, () => {
  it.each([
    ['shell syntax', '6.5.0; touch MARKER'],
    ['a command substitution', '$(touch MARKER)'],
    ['a version with a trailing newline', '6.5.0\n'],
  ])('refuses --var version with %s, before anything runs', async (_what, value) => {
    const result = await run(['--var', `version=${value}`, '--answers', 'runbooks/phase65.answers.yaml']);
    expect(result.code, result.stderr).toBe(2);
    expect(stackTraceLines(result.stderr)).toEqual([]);
    expect(result.stderr).toContain("does not match the pattern the runbook sets for 'version'");
    expect(runDirs(dir)).toEqual([]);
    expect(existsSync(path.join(dir, 'MARKER'))).toBe(false);
  });

  it('refuses an answers file whose change ticket does not match, at its line, before anything runs', async () => {
    const answers = readFileSync(path.join(ROOT, 'runbooks/phase65.answers.yaml'), 'utf8').replace(/^deployment-record: .*$/m, 'deployment-record: "see $(touch MARKER)"');
    writeFileSync(path.join(dir, 'bad.answers.yaml'), answers);
    const line = answers.split('\n').findIndex((l) => l.startsWith('deployment-record:')) + 1;
    const result = await run(['--answers', 'bad.answers.yaml']);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`bad\\.answers\\.yaml:${line}:20: 'deployment-record' answer .* does not match the pattern`));
    expect(runDirs(dir)).toEqual([]);
    expect(existsSync(path.join(dir, 'MARKER'))).toBe(false);
  });
});
