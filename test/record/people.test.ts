// People and identity: `people:` validated (person ids, key files), names shown for ids, and who is at a terminal from --as, --key, $DEPLOYCTL_KEY and the personal key directory.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bufferIo } from '../../src/cli/io.js';
import { keygenCommand } from '../../src/commands/keygen.js';
import { loadRunbook, parseRunbookText } from '../../src/runbook/load.js';
import { roleLabel } from '../../src/runbook/labels.js';
import { loadPeople, personalKeysDir, resolveIdentity } from '../../src/record/people.js';
import { loadPrivateKey, writeKeyPair } from '../../src/record/keys.js';
import { makeTeam, type TeamDir } from '../helpers/team.js';

const RUNBOOK = `version: 1
name: team
people:
  ana: { name: Ana Torres, keys: [keys/ana.pub], contact: "@ana" }
  elif: { name: Elif Yilmaz, keys: [keys/elif.pub] }
  femi: { name: Femi Adeyemi, keys: [keys/femi.pub] }
roles:
  lead: { title: Deployment Lead, primary: ana }
  qa: { title: QA Lead, primary: elif, backup: femi }
phases:
  - id: p
    steps:
      - { id: qa-ready, owner: qa, confirm: QA ready }
`;

let team: TeamDir;
beforeEach(() => {
  team = makeTeam(['ana', 'elif', 'femi']);
});
afterEach(() => team.remove());

function problems(text: string) {
  const file = team.write('r.yaml', text);
  const result = loadRunbook(file);
  return result.ok ? [] : result.problems.map((p) => ({ at: `${p.line}:${p.col}`, code: p.code, message: p.message }));
}

describe('people: in a runbook', () => {
  it('loads, with every key, and shows people by name where a role names its primary', () => {
    const loaded = loadRunbook(team.write('r.yaml', RUNBOOK));
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const people = loadPeople(loaded.runbook.doc, loaded.runbook.source.dir, team.dir);
    expect([...people.keys()]).toEqual(['ana', 'elif', 'femi']);
    expect(people.get('elif')!.keys).toEqual([{ path: expect.stringContaining('keys/elif.pub'), keyId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), key: expect.anything() }]);
    const { doc } = loaded.runbook;
    expect(roleLabel('qa', doc.roles['qa'], doc.people)).toBe('[QA Lead · Elif Yilmaz]');
  });

  it.each([
    ['a primary that is no person id', RUNBOOK.replace('primary: elif', 'primary: elfi'), '9:34', 'unknown-person', "primary 'elfi' of role 'qa' is not a person id"],
    ['a backup that is no person id', RUNBOOK.replace('backup: femi', 'backup: Femi Adeyemi'), '9:48', 'unknown-person', "backup 'Femi Adeyemi' of role 'qa' is not a person id"],
    ['the same person as primary and backup', RUNBOOK.replace('backup: femi', 'backup: elif'), '9:48', 'backup-is-primary', 'names elif as both primary and backup'],
  ])('refuses %s, where it is written', (_what, text, at, code, message) => {
    expect(problems(text)).toEqual([{ at, code, message: expect.stringContaining(message) }]);
  });

  it('suggests the person id meant', () => {
    expect(problems(RUNBOOK.replace('primary: elif', 'primary: elfi'))[0]!.message).toContain("did you mean 'elif'?");
  });

  // Changed on purpose (issue 14 item 7): a key file not there yet is a warning of validate (the demo's people make
  // theirs with runbooks/demo/people.sh), as for role keys; one that is not a public key stays an error.
  it('refuses a person key that is not a public key; one not there yet is no error here (validate warns)', () => {
    fs.rmSync(path.join(team.dir, 'keys', 'femi.pub'));
    fs.copyFileSync(team.key('elif'), path.join(team.dir, 'keys', 'elif.pub'));
    const found = problems(RUNBOOK);
    expect(found).toEqual([{ at: '5:37', code: 'bad-person-key', message: expect.stringMatching(/key 1 of elif \(keys\/elif\.pub\): .* is a PRIVATE key/) }]);
  });

  it('keeps primary and backup as display names without people: (runbooks written before)', () => {
    const text = RUNBOOK.replace(/people:\n(  .*\n){3}/, '').replace('primary: elif, backup: femi', 'primary: Elif Yilmaz, backup: Femi Adeyemi');
    const parsed = parseRunbookText(text, 'r.yaml');
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    expect(roleLabel('qa', parsed.doc.roles['qa'], parsed.doc.people)).toBe('[QA Lead · Elif Yilmaz]');
  });
});

describe('resolveIdentity', () => {
  const people = () => {
    const loaded = loadRunbook(team.write('r.yaml', RUNBOOK));
    if (!loaded.ok) throw new Error('runbook');
    return loadPeople(loaded.runbook.doc, loaded.runbook.source.dir, team.dir);
  };
  const env = (extra: Record<string, string> = {}) => ({ HOME: team.home, ...extra });

  it('finds the key of --as PERSON in the personal key directory', () => {
    const result = resolveIdentity({ as: 'elif', env: env(), cwd: team.dir, people: people(), strictKey: true });
    expect(result).toMatchObject({ ok: true, identity: { person: { id: 'elif' }, keyFile: path.relative(team.dir, team.key('elif')) } });
  });

  it('uses $XDG_CONFIG_HOME when it is set', () => {
    const xdg = path.join(team.dir, 'xdg');
    expect(personalKeysDir({ XDG_CONFIG_HOME: xdg, HOME: team.home })).toBe(path.join(xdg, 'deployctl', 'keys'));
    const made = writeKeyPair(path.join(xdg, 'deployctl', 'keys'), 'other');
    if (!made.ok) throw new Error(made.error.message);
    // Elif's key is not there: nobody is found in that directory.
    expect(resolveIdentity({ env: { XDG_CONFIG_HOME: xdg, HOME: team.home }, cwd: team.dir, people: people(), strictKey: true })).toMatchObject({ ok: true, identity: undefined });
  });

  it('refuses --key that is not the person’s, naming whose it is (impersonation)', () => {
    const result = resolveIdentity({ as: 'elif', key: team.key('femi'), env: env(), cwd: team.dir, people: people(), strictKey: true });
    expect(result).toMatchObject({ ok: false, code: 'not-their-key', person: 'elif' });
    if (result.ok) return;
    expect(result.message).toContain('is not a key of Elif Yilmaz (elif)');
    expect(result.message).toContain("it is Femi Adeyemi's key");
  });

  it('refuses $DEPLOYCTL_KEY that is not the person’s, for join and answer', () => {
    const result = resolveIdentity({ as: 'elif', env: env({ DEPLOYCTL_KEY: team.key('ana') }), cwd: team.dir, people: people(), strictKey: true });
    expect(result).toMatchObject({ ok: false, code: 'not-their-key' });
  });

  it('for run, takes --key as the record key and finds the person’s own key elsewhere', () => {
    const runKey = writeKeyPair(path.join(team.dir, '.deployctl', 'keys'), 'deployctl');
    if (!runKey.ok) throw new Error('key');
    const result = resolveIdentity({ as: 'ana', key: runKey.keyPath, env: env(), cwd: team.dir, people: people(), strictKey: false });
    expect(result).toMatchObject({ ok: true, identity: { person: { id: 'ana' }, keyFile: path.relative(team.dir, team.key('ana')) } });
  });

  it('without --as, is the one person whose key is held', () => {
    fs.rmSync(team.key('ana'));
    fs.rmSync(team.key('femi'));
    expect(resolveIdentity({ env: env(), cwd: team.dir, people: people(), strictKey: true })).toMatchObject({ ok: true, identity: { person: { id: 'elif' } } });
  });

  it('without --as, the person of --key decides, whatever else is held', () => {
    expect(resolveIdentity({ key: team.key('femi'), env: env(), cwd: team.dir, people: people(), strictKey: true })).toMatchObject({ ok: true, identity: { person: { id: 'femi' } } });
  });

  it('without --as and with the keys of several people held, asks which', () => {
    const result = resolveIdentity({ env: env(), cwd: team.dir, people: people(), strictKey: true });
    expect(result).toMatchObject({ ok: false, code: 'ambiguous', hint: 'say who you are with --as ana or --as elif or --as femi' });
  });

  it('says --as names nobody, and who there is', () => {
    const result = resolveIdentity({ as: 'elfi', env: env(), cwd: team.dir, people: people(), strictKey: true });
    expect(result).toMatchObject({ ok: false, code: 'unknown-person', message: expect.stringContaining("did you mean 'elif'?") });
  });

  it('says where it looked when the person’s key is nowhere', () => {
    fs.rmSync(team.key('elif'));
    const result = resolveIdentity({ as: 'elif', env: env(), cwd: team.dir, people: people(), strictKey: true });
    expect(result).toMatchObject({ ok: false, code: 'no-key', message: expect.stringContaining(`${team.key('elif')} (missing)`) });
  });
});

describe('keygen for a person', () => {
  it('writes a named pair into the personal key directory, never among the run keys, and prints the people: entry', () => {
    const io = bufferIo({ HOME: team.home });
    const cwd = process.cwd();
    process.chdir(team.dir);
    try {
      expect(keygenCommand({ name: 'gus', fullName: 'Gus Lindqvist' }, io)).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    const key = path.join(team.personalKeys, 'gus.key');
    expect(loadPrivateKey(key).ok).toBe(true);
    expect(fs.existsSync(path.join(team.dir, '.deployctl', 'keys', 'gus.pub'))).toBe(false);
    expect(io.stdout.slice(4)).toEqual([
      `To make it gus's key, copy the public half beside the runbook (cp ${path.join(team.personalKeys, 'gus.pub')} runbooks/keys/gus.pub) and paste under people: in it:`,
      '  gus: { name: "Gus Lindqvist", keys: [keys/gus.pub] }',
    ]);
    // The printed entry is valid runbook YAML with the key where it says.
    fs.mkdirSync(path.join(team.dir, 'runbooks', 'keys'), { recursive: true });
    fs.copyFileSync(path.join(team.personalKeys, 'gus.pub'), path.join(team.dir, 'runbooks', 'keys', 'gus.pub'));
    const text = `version: 1\nname: t\npeople:\n${io.stdout[5]}\nroles:\n  on-call: { title: On-Call, primary: gus }\nphases:\n  - id: p\n    steps: [{ id: s, owner: on-call, confirm: ok }]\n`;
    const loaded = loadRunbook(team.write('runbooks/t.yaml', text));
    expect(loaded.ok ? [] : loaded.problems).toEqual([]);
  });
});

describe('one key, one person', () => {
  it('refuses a key two people list: an answer signed with it could be either’s', () => {
    const file = team.write('r.yaml', RUNBOOK.replace('keys: [keys/femi.pub]', 'keys: [keys/elif.pub]'));
    const result = loadRunbook(file);
    expect(result.ok ? [] : result.problems.map((p) => `${p.line}:${p.col} ${p.code} ${p.message}`)).toEqual([
      "6:38 shared-person-key key 1 of femi (keys/elif.pub) is also elif's key: an answer signed with it could be either's; give each person a key of their own",
    ]);
  });
});
