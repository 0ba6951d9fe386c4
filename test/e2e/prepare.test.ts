// `prepare` (scripts/prepare.mjs): under `npm exec` (npx linking this checkout into its cache) an existing build is kept;
// the build itself is what `npm ci` and `.ci/run` exercise on every clean clone.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = path.join(ROOT, 'dist', 'cli', 'entry.js');

describe('scripts/prepare.mjs', () => {
  it('keeps the existing build under npm exec: exits 0 at once, dist untouched, npm never started', () => {
    expect(fs.existsSync(ENTRY), 'build first (npm test does)').toBe(true);
    const before = fs.statSync(ENTRY).mtimeMs;
    // npm_execpath points at something that fails loudly if prepare tried to run the build.
    const result = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'prepare.mjs')], {
      cwd: ROOT,
      env: { ...process.env, npm_command: 'exec', npm_execpath: path.join(ROOT, 'no-such-npm-cli.js') },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(fs.statSync(ENTRY).mtimeMs).toBe(before);
  });

  it('otherwise runs the build, and says why when npm cannot be started', () => {
    const result = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'prepare.mjs')], {
      cwd: ROOT,
      env: { ...process.env, npm_command: 'ci', npm_execpath: path.join(ROOT, 'no-such-npm-cli.js') },
      encoding: 'utf8',
      timeout: 20_000,
    });
    // It tried: node could not load the given npm, so the build did not run, and the exit says so.
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('no-such-npm-cli.js');
  });
});
