// Which runbook preflight checks: each default-location rule, in order, with a file-system table.
import { describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { CliError } from '../../src/errors.js';
import { findRunbook, isRunbookFileName, type DiscoverFs } from '../../src/preflight/discover.js';

const CWD = '/work/project';

/** Files (relative to CWD) that exist; directories are derived from them. */
function tableFs(files: string[]): DiscoverFs {
  const absolute = files.map((f) => path.join(CWD, f));
  return {
    isFile: (file) => absolute.includes(file),
    listDir: (dir) => {
      const names = absolute.filter((f) => path.dirname(f) === dir).map((f) => path.basename(f));
      return names.length > 0 ? names : undefined;
    },
  };
}

function refusal(run: () => unknown): CliError {
  try {
    run();
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error('expected a CliError');
}

describe('findRunbook', () => {
  it.each([
    ['the argument wins over everything', 'given.yaml', { DEPLOYCTL_RUNBOOK: 'env.yaml' }, ['deployctl.yaml', 'runbooks/a.yaml'], { file: 'given.yaml', from: 'argument' }],
    ['$DEPLOYCTL_RUNBOOK comes next', undefined, { DEPLOYCTL_RUNBOOK: 'env.yaml' }, ['deployctl.yaml'], { file: 'env.yaml', from: 'env' }],
    ['an empty $DEPLOYCTL_RUNBOOK counts as unset', undefined, { DEPLOYCTL_RUNBOOK: '' }, ['deployctl.yaml'], { file: 'deployctl.yaml', from: 'deployctl.yaml' }],
    ['./deployctl.yaml before ./runbooks/', undefined, {}, ['deployctl.yaml', 'runbooks/a.yaml'], { file: 'deployctl.yaml', from: 'deployctl.yaml' }],
    ['the only *.yaml in ./runbooks/', undefined, {}, ['runbooks/phase65.yaml'], { file: 'runbooks/phase65.yaml', from: 'runbooks-dir' }],
    [
      'answers files in ./runbooks/ are not runbooks',
      undefined,
      {},
      ['runbooks/phase65.yaml', 'runbooks/phase65.answers.yaml', 'runbooks/phase65.bad.answers.yaml', 'runbooks/README.md'],
      { file: 'runbooks/phase65.yaml', from: 'runbooks-dir' },
    ],
  ])('%s', (_title, argument, env, files, expected) => {
    expect(findRunbook(argument, env, CWD, tableFs(files))).toEqual(expected);
  });

  it('an explicit path is taken even when it does not exist, so its loader names the missing file', () => {
    expect(findRunbook('missing.yaml', {}, CWD, tableFs([]))).toEqual({ file: 'missing.yaml', from: 'argument' });
  });

  it('refuses to guess between several runbooks in ./runbooks/, naming them and how to choose', () => {
    const error = refusal(() => findRunbook(undefined, {}, CWD, tableFs(['runbooks/b.yaml', 'runbooks/a.yaml', 'runbooks/a.answers.yaml'])));
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('runbooks/ holds 2 runbooks (a.yaml, b.yaml); deployctl will not guess which one to check');
    expect(error.hint).toContain('deployctl preflight runbooks/a.yaml');
  });

  it('says where it looked when there is no runbook anywhere (exit 2)', () => {
    const error = refusal(() => findRunbook(undefined, {}, CWD, tableFs(['runbooks/only.answers.yaml'])));
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('no runbook to check');
    for (const place of ['$DEPLOYCTL_RUNBOOK', './deployctl.yaml', './runbooks/', 'the runbook argument']) expect(error.hint).toContain(place);
  });
});

describe('isRunbookFileName', () => {
  it.each([
    ['phase65.yaml', true],
    ['phase65.answers.yaml', false],
    ['notes.yml', false],
    ['.hidden.yaml', false],
    ['README.md', false],
  ])('%s → %s', (name, expected) => {
    expect(isRunbookFileName(name)).toBe(expected);
  });
});
