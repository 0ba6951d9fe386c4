// vitest globalSetup: one throwaway PostgreSQL cluster for the whole test run (test/helpers/pg-cluster.mjs), stopped at the end. Tests that need it create their own database (test/helpers/postgres.ts); when it cannot start, those tests fail with what is missing.
import type { TestProject } from 'vitest/node';
import { startCluster } from '../helpers/pg-cluster.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: { socketDir: string; port: number; bin: string } | { error: string };
  }
}

export default function setup(project: TestProject): () => void {
  let cluster: ReturnType<typeof startCluster> | undefined;
  try {
    cluster = startCluster();
    project.provide('postgres', { socketDir: cluster.socketDir, port: cluster.port, bin: cluster.bin });
  } catch (error) {
    project.provide('postgres', { error: (error as Error).message });
  }
  return () => cluster?.stop();
}
