// Tests run against src/ (unit) and the built bin/deployctl (e2e); `npm test` builds first through pretest.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/host-locks.ts', 'test/setup/fast-check.ts'],
    // A place for one throwaway PostgreSQL, started by the first test that needs it (test/helpers/postgres.ts); tests that need it fail if it cannot start.
    globalSetup: ['test/setup/postgres.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // e2e tests spawn processes and servers; two cores on CI.
    maxWorkers: 4,
  },
});
