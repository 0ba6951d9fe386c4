// vitest globalSetup: a place for the run's one throwaway PostgreSQL cluster, started lazily by the first test that needs it (test/helpers/postgres.ts) and stopped here at the end. Runs that need none (`vitest run test/expr/`) start none.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TestProject } from 'vitest/node';
import { stopCluster } from '../helpers/pg-cluster.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `runDir`: where the first worker that needs PostgreSQL writes the cluster it started (or why it could not); `ownerPid`: this process, which owns it. */
    postgres: { runDir: string; ownerPid: number };
  }
}

export default function setup(project: TestProject): () => void {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-pgrun-'));
  project.provide('postgres', { runDir, ownerPid: process.pid });
  return () => {
    try {
      const started = JSON.parse(fs.readFileSync(path.join(runDir, 'cluster.json'), 'utf8')) as { bin: string; root: string };
      stopCluster(started);
    } catch {
      // No test needed PostgreSQL (or it could not start): nothing to stop.
    }
    fs.rmSync(runDir, { recursive: true, force: true });
  };
}
