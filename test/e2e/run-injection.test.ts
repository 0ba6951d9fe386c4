// `deployctl run --var` with hostile values: each reaches the command as one word of data (shell string, argv, env), never as shell syntax.
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assertBuilt, killAllClis, reapProcessesIn, readRecord, recordFiles, runCli, stackTraceLines } from '../helpers/cli.js';

/** Real processes on a machine that may be busy with other suites: generous bounds; a passing test takes a few seconds. */
const SLOW = 90_000;

const FIXTURE = fileURLToPath(new URL('../fixtures/run/inject.yaml', import.meta.url));

let dir: string;
let marker: string;

beforeAll(() => assertBuilt());

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-inject-'));
  copyFileSync(FIXTURE, path.join(dir, 'inject.yaml'));
  marker = path.join(dir, 'MARKER');
});

afterEach(async () => {
  await killAllClis();
  const left = reapProcessesIn(dir);
  rmSync(dir, { recursive: true, force: true });
  expect(left, 'processes left running').toEqual([]);
});

/** Each value, if it were pasted into a shell command, would create MARKER. */
const hostile: [string, (m: string) => string][] = [
  ['command substitution', (m) => `$(touch ${m})`],
  ['backticks', (m) => `\`touch ${m}\``],
  ['a semicolon', (m) => `x;touch ${m}`],
  ['&&', (m) => `x && touch ${m}`],
  ['a pipe', (m) => `x | touch ${m}`],
  ['newlines', (m) => `x\ntouch ${m}\n`],
  ['a closing single quote', (m) => `x'; touch ${m}; echo '`],
  ['a closing double quote', (m) => `x"; touch ${m}; echo "`],
  ['variables, globs, a template and an option', (m) => `$HOME \${IFS}* ~ \${{ env.HOME }} -n ${m}`],
  ['tabs, CR and non-ASCII', (m) => `\t€ 😀\r\n${m}`],
];

describe('deployctl run with a hostile --var value', { timeout: SLOW }, () => {
  it.each(hostile)('treats a value with %s as data in shell strings, argv and env', async (_what, make) => {
    const value = make(marker);
    const result = await runCli(['run', 'inject.yaml', '--var', `value=${value}`], { cwd: dir, timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(stackTraceLines(result.stdout + result.stderr)).toEqual([]);
    expect(existsSync(marker)).toBe(false);

    const files = recordFiles(dir);
    expect(files).toHaveLength(1);
    const steps = readRecord(files[0]!).statement.predicate['phases'][0].steps as { id: string; status: string; stdout?: { text: string; truncated_bytes: number } }[];
    const printed = Object.fromEntries(steps.map((s) => [s.id, s.stdout?.text]));
    // Byte for byte what was given: nothing expanded, split, globbed or re-templated.
    expect(printed).toEqual({ 'shell-word': value, 'shell-concat': `[${value}]`, argv: value, env: value });
    expect(steps.every((s) => s.status === 'succeeded' && s.stdout?.truncated_bytes === 0)).toBe(true);
  });
});
