// The tests' throwaway PostgreSQL: when it cannot start, the message says what is missing and how to get it.
import { describe, expect, it } from 'vitest';
// @ts-expect-error a plain .mjs helper without types
import { findPostgresBin, startCluster } from '../../helpers/pg-cluster.mjs';

describe('the test cluster', () => {
  it('names the missing server binaries and the package that has them', () => {
    expect(() => startCluster({ binDirs: ['/nonexistent/postgresql/bin'] })).toThrow(/^PostgreSQL server binaries not found .*: apt-get install -y postgresql$/);
  });

  it('finds the server binaries on this machine (the run would have failed to start otherwise)', () => {
    expect(findPostgresBin()).toMatch(/bin$/);
  });
});
