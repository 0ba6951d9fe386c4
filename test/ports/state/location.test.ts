// Where the state lives: --state / DEPLOYCTL_STATE parsed into a directory or a PostgreSQL URL, and URLs shown without their password.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { maskUrl, resolveState, urlSecrets } from '../../../src/ports/state/location.js';
import { StateStoreError } from '../../../src/ports/state/store.js';

const CWD = '/work/project';

describe('resolveState', () => {
  it.each([
    ['nothing: the local directory', undefined, {}, { kind: 'directory', root: path.join(CWD, '.deployctl') }],
    ['DEPLOYCTL_STATE_DIR alone, as before', undefined, { DEPLOYCTL_STATE_DIR: 'state' }, { kind: 'directory', root: path.join(CWD, 'state') }],
    ['a directory in --state', 'shared/.deployctl', {}, { kind: 'directory', root: path.join(CWD, 'shared/.deployctl') }],
    ['an absolute directory in DEPLOYCTL_STATE', undefined, { DEPLOYCTL_STATE: '/srv/deployctl' }, { kind: 'directory', root: '/srv/deployctl' }],
    ['postgres://', 'postgres://ana@db.example/deploy', {}, { kind: 'postgres', url: 'postgres://ana@db.example/deploy' }],
    ['postgresql://', 'postgresql://db.example:5433/deploy', {}, { kind: 'postgres', url: 'postgresql://db.example:5433/deploy' }],
    ['a Unix socket', 'postgres:///deploy?host=/run/postgresql', {}, { kind: 'postgres', url: 'postgres:///deploy?host=/run/postgresql' }],
    ['DEPLOYCTL_STATE', undefined, { DEPLOYCTL_STATE: 'postgres:///deploy' }, { kind: 'postgres', url: 'postgres:///deploy' }],
    ['--state over DEPLOYCTL_STATE', '.deployctl', { DEPLOYCTL_STATE: 'postgres:///deploy' }, { kind: 'directory', root: path.join(CWD, '.deployctl') }],
    ['an empty DEPLOYCTL_STATE is unset', undefined, { DEPLOYCTL_STATE: '' }, { kind: 'directory', root: path.join(CWD, '.deployctl') }],
  ])('%s', (_what, option, env, expected) => {
    const { location } = resolveState(option, env, CWD);
    if (expected.kind === 'directory') expect(location.kind === 'directory' && location.dir.root).toBe(expected.root);
    else expect(location).toMatchObject({ kind: 'postgres', url: expected.url });
  });

  it('keeps keys and the local copy of records in the local directory when the state is a database', () => {
    const { localDir } = resolveState('postgres:///deploy', { DEPLOYCTL_STATE_DIR: 'here' }, CWD);
    expect(localDir.keysDir).toBe(path.join(CWD, 'here', 'keys'));
  });

  it.each([
    ['mysql://root:hunter2@db/x', /--state mysql:\/\/root:\*\*\*@db\/x: deployctl keeps state in PostgreSQL/],
    ['file:///tmp/x', /not in file:\/\//],
    ['  ', /--state is empty/],
  ])('refuses %s, exit 2, without the password', (spec, message) => {
    let error: unknown;
    try {
      resolveState(spec, {}, CWD);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as StateStoreError).exitCode).toBe(2);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('hunter2');
  });
});

describe('maskUrl', () => {
  it.each([
    ['postgres://ana:s3cret@db.example:5432/deploy', 'postgres://ana:***@db.example:5432/deploy'],
    ['postgres://ana:p%40ss%2Fw@db/deploy', 'postgres://ana:***@db/deploy'],
    ['postgres://ana:p@ss@db/deploy', 'postgres://ana:***@db/deploy'],
    ['postgres://ana@db/deploy', 'postgres://ana@db/deploy'],
    ['postgres://db:5432/deploy', 'postgres://db:5432/deploy'],
    ['postgres:///deploy?host=/run/pg&password=s3cret&sslmode=require', 'postgres:///deploy?host=/run/pg&password=***&sslmode=require'],
    ['postgres://:s3cret@/deploy?host=/tmp', 'postgres://:***@/deploy?host=/tmp'],
    ['error at postgres://u:s3cret@h/db: refused', 'error at postgres://u:***@h/db: refused'],
  ])('%s → %s', (url, shown) => {
    expect(maskUrl(url)).toBe(shown);
  });
});

describe('urlSecrets', () => {
  it.each([
    ['postgres://ana:s3cret@db/deploy', ['s3cret']],
    ['postgres://ana:p%40ss@db/deploy', ['p%40ss', 'p@ss']],
    ['postgres:///deploy?password=abc%21', ['abc%21', 'abc!']],
    ['postgres://ana@db/deploy', []],
    ['postgres://ana:%zz@db/deploy', ['%zz']],
  ])('%s', (url, secrets) => {
    expect(urlSecrets(url)).toEqual(secrets);
  });
});
