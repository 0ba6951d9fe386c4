// `deployctl run … | tee run.log`: a long probe's progress in plain lines is a line per quarter, not a line per sample.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from '../helpers/cli.js';
import { startTestServer, testRoutes } from '../helpers/http-server.js';

describe('run with its output piped', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-plain-progress-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints a probe of 200 samples as its title, at most three progress lines (25, 50, 75 %) and its result', { timeout: 60_000 }, async () => {
    assertBuilt();
    const server = await startTestServer({ '/health': testRoutes.ok() });
    try {
      fs.writeFileSync(
        path.join(dir, 'probe.yaml'),
        `version: 1\nname: plain-progress\nroles: { ops: { title: Ops } }\nphases:\n  - id: p\n    steps:\n      - { id: probe, owner: ops, http: { url: "${server.url}/health", samples: 200, concurrency: 2 } }\n`,
      );
      const result = await runCli(['run', 'probe.yaml'], { cwd: dir, timeoutMs: 45_000 });
      expect(result.code, result.stderr).toBe(0);
      const progress = result.stdout.split('\n').filter((line) => /\d+\/200 samples/.test(line));
      // One line per sample was 200 lines here (290 of 546 in a phase65 log).
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.length).toBeLessThanOrEqual(3);
      const done = progress.map((line) => Number(/(\d+)\/200/.exec(line)![1]));
      expect(done).toEqual([...done].sort((a, b) => a - b));
      expect(done.every((n) => n >= 50 && n < 200)).toBe(true);
      expect(result.stdout).toMatch(/p50 \d+ ms · p95 \d+ ms · errors 0\/200/);
      expect(result.stdout.split('\n').length).toBeLessThan(30);
    } finally {
      await server.close();
    }
  });
});
