// The commands deployctl prints to paste: every word quoted so a POSIX shell reads back the very value; a state URL's password never in them; a journal's invocation taken only where well-formed.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { checkedInvocation, runHints, shellWord, withoutPassword } from '../../src/commands/run-hints.js';

/** What bash makes of `words`: each argument on its own line, NUL-separated. */
function bashArgs(words: string): string[] {
  const r = spawnSync('bash', ['-c', `printf '%s\\0' ${words}`], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\0').slice(0, -1);
}

describe('shellWord', () => {
  const values = ['plain', 'two words', "it's", '$(rm -rf ~)', '`id`', 'a"b', 'back\\slash', '', '-rf', 'tab\there', 'new\nline', 'esc\u001b]0;PWNED\u0007', 'ünï €', '*?[x]', '~user', 'x;y|z&'];
  it.each(values.map((v) => [JSON.stringify(v), v]))('%s reads back as itself in bash', (_shown, value) => {
    const word = shellWord(value);
    expect(bashArgs(word)).toEqual([value]);
    // Nothing that drives a terminal is printed raw.
    expect(word).not.toMatch(/[\u0000-\u001f\u007f]/);
  });
});

describe('withoutPassword', () => {
  it.each([
    ['postgres://ana:S3cr3t@db/deploy', 'postgres://ana@db/deploy', true],
    ['postgresql://ana:p%40ss@db:5432/deploy?sslmode=require', 'postgresql://ana@db:5432/deploy?sslmode=require', true],
    ['postgres://ana@db/deploy?password=x&sslmode=require', 'postgres://ana@db/deploy?sslmode=require', true],
    ['postgres://ana@db/deploy?PASSWORD=x', 'postgres://ana@db/deploy', true],
    ['postgres:///deploy?host=/run/postgresql', 'postgres:///deploy?host=/run/postgresql', false],
    ['/var/lib/deployctl', '/var/lib/deployctl', false],
  ])('%s → %s', (spec, text, removed) => {
    expect(withoutPassword(spec)).toEqual({ text, removed });
  });
});

describe('runHints', () => {
  const invocation = { runbook: 'runbooks/phase65.yaml', vars: ['version=6.5.0-errors', 'base_url=http://127.0.0.1:18437'], answers: 'F.yaml', nonInteractive: true };
  it('repeats vars, answers and state; npx under npm; the password left out with a note', () => {
    const hints = runHints(invocation, { state: 'postgres://pw:S3cr3t@db/deploy', env: { npm_command: 'exec' } });
    expect(hints.startNew()).toBe("npx deployctl run runbooks/phase65.yaml --var version=6.5.0-errors --var base_url=http://127.0.0.1:18437 --answers F.yaml --non-interactive --state postgres://pw@db/deploy --new");
    expect(hints.resume('20261205T231157469Z-9b708d', 'rerun')).toContain('--resume 20261205T231157469Z-9b708d --in-flight rerun');
    expect(hints.status()).toBe('npx deployctl status --state postgres://pw@db/deploy');
    expect(hints.note).toContain('$PGPASSWORD or ~/.pgpass');
    for (const text of [hints.startNew(), hints.resume('x'), hints.status()]) expect(text).not.toMatch(/S3cr3t|\*\*\*/);
  });

  it('leaves --state out when DEPLOYCTL_STATE already names it', () => {
    const hints = runHints(invocation, { state: 'postgres://pw:S3cr3t@db/deploy', env: { DEPLOYCTL_STATE: 'postgres://pw:S3cr3t@db/deploy' } });
    expect(hints.startNew()).not.toContain('--state');
    expect(hints.note).toBeUndefined();
  });

  it('a runbook file that starts with - is written ./-x so it is not read as an option', () => {
    expect(runHints({ runbook: '-x.yaml' }, { env: {} }).startNew()).toBe('deployctl run ./-x.yaml --new');
  });
});

describe('checkedInvocation (from a journal: untrusted)', () => {
  it('keeps well-formed fields only, and the runbook it is asked about when the journal has none', () => {
    expect(checkedInvocation(undefined, 'a.yaml')).toEqual({ runbook: 'a.yaml' });
    expect(checkedInvocation({ runbook: 7, vars: ['v=1', 3, 'novalue'], answers: '', key: 'k.key', nonInteractive: 'yes' }, 'a.yaml')).toEqual({ runbook: 'a.yaml', vars: ['v=1'], key: 'k.key' });
  });
});
