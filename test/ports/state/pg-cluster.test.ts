// The tests' throwaway PostgreSQL: when it cannot start, the message says what is missing and how to get it.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isLive } from '../../helpers/cli.js';
// @ts-expect-error a plain .mjs helper without types
import { findPostgresBin, startCluster, stopOrphanClusters } from '../../helpers/pg-cluster.mjs';

const HELPER = fileURLToPath(new URL('../../helpers/pg-cluster.mjs', import.meta.url));

describe('the test cluster', () => {
  it('names the missing server binaries and the package that has them', () => {
    expect(() => startCluster({ binDirs: ['/nonexistent/postgresql/bin'] })).toThrow(/^PostgreSQL server binaries not found .*: apt-get install -y postgresql$/);
  });

  it('finds the server binaries on this machine (the run would have failed to start otherwise)', () => {
    expect(findPostgresBin()).toMatch(/bin$/);
  });

  it('is stopped by the next test run when the run that started it was killed', { timeout: 60_000 }, async () => {
    // A test run that starts a cluster and is then SIGKILLed: its teardown never runs.
    const owner = spawn(process.execPath, ['--input-type=module', '-e', `import { startCluster } from ${JSON.stringify(HELPER)}; console.log(startCluster().root); setInterval(() => {}, 1000);`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const root = await new Promise<string>((resolve) => owner.stdout!.setEncoding('utf8').once('data', (line: string) => resolve(line.trim())));
    const postmaster = Number(fs.readFileSync(path.join(root, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    owner.kill('SIGKILL');
    await new Promise((resolve) => owner.once('close', resolve));
    expect(isLive(postmaster)).toBe(true);
    stopOrphanClusters();
    expect(fs.existsSync(root)).toBe(false);
    // Gone (or a zombie waiting for init to reap it: it runs nothing).
    expect(isLive(postmaster)).toBe(false);
  });
});
