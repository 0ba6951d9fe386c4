// Answers taken from `--answers` in a team run: with `--as` and the person's key, each is signed by that key as taken from the file (its name and sha256), shown per answer by `record verify`, checked by openssl alone, and a tampered one is caught; without a person key they stay the operator's, unsigned, and verify says so plainly.
import { spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pae, readRecord, recordFiles, runCli } from '../helpers/cli.js';
import { makeTeam, type TeamDir } from '../helpers/team.js';

const CANARY = 'Zq8canaryXw41';

const runbook = (name: string) => `version: 1
name: ${name}
secrets: [TOKEN]
people:
  ana: { name: Ana Torres, keys: [keys/ana.pub] }
  elif: { name: Elif Yilmaz, keys: [keys/elif.pub] }
roles:
  lead: { title: Deployment Lead, primary: ana }
  qa: { title: QA Lead, primary: elif }
phases:
  - id: p
    steps:
      - { id: lead-brief, owner: lead, confirm: Brief given }
      - { id: qa-ready, owner: qa, checklist: [Test plan ready, Test data loaded] }
      - { id: on-call, owner: qa, ask: Who is on call?, pattern: '[A-Z][a-z]+' }
      - { id: notes, owner: lead, ask: Notes? }
    gate:
      id: go
      owner: lead
      require: { ready: "steps['qa-ready'].ok" }
`;

const ANSWERS = `# answers for the release
lead-brief: true
qa-ready: true
on-call: Dana
notes: "pasted the token ${CANARY} by mistake"
go: go
`;

interface Answer {
  prompt_id: string;
  answer: unknown;
  person?: string;
  on_behalf_of?: string;
  via: string;
  answers_file?: { path: string; sha256: string };
  signature?: { payload_type: string; payload: string; keyid: string; sig: string };
}

describe('answers from --answers in a team run', { timeout: 120_000 }, () => {
  let team: TeamDir;
  let signedRecord = '';
  let unsignedRecord = '';
  const cli = (args: string[], extra: Record<string, string | undefined> = {}) => runCli(args, { cwd: team.dir, env: team.env({ CI: 'true', TOKEN: CANARY, ...extra }), timeoutMs: 60_000 });
  const digest = () => createHash('sha256').update(readFileSync(path.join(team.dir, 'answers.yaml'))).digest('hex');

  beforeAll(async () => {
    team = makeTeam(['ana', 'elif']);
    team.write('vouched.yaml', runbook('vouched'));
    team.write('plain.yaml', runbook('plain'));
    team.write('answers.yaml', ANSWERS);
    const vouched = await cli(['run', 'vouched.yaml', '--as', 'ana', '--answers', 'answers.yaml']);
    expect(vouched.code, vouched.stdout + vouched.stderr).toBe(0);
    signedRecord = recordFiles(team.dir).find((f) => path.basename(f).startsWith('vouched-'))!;
    // Nobody's key at this terminal: two people's keys are in the personal directory, and no --as picks one.
    const plain = await cli(['run', 'plain.yaml', '--answers', 'answers.yaml']);
    expect(plain.code, plain.stdout + plain.stderr).toBe(0);
    unsignedRecord = recordFiles(team.dir).find((f) => path.basename(f).startsWith('plain-'))!;
  });
  afterAll(() => team?.remove());

  const answersOf = (file: string) => (readRecord(file).statement.predicate as unknown as { answers: Answer[] }).answers;

  it('signs each answer taken from the file with the operator’s key, naming the file and its sha256', () => {
    const answers = answersOf(signedRecord);
    expect(answers.map((a) => a.prompt_id)).toEqual(['lead-brief', 'qa-ready', 'on-call', 'notes', 'go']);
    for (const a of answers) {
      expect(a).toMatchObject({ person: 'ana', via: 'answers-file', answers_file: { path: 'answers.yaml', sha256: digest() }, signature: { payload_type: 'application/vnd.deployctl.answer+json' } });
    }
    // Ana does not hold QA: she vouched for the file's answers on Elif's behalf.
    expect(answers.find((a) => a.prompt_id === 'on-call')).toMatchObject({ answer: 'Dana', on_behalf_of: 'elif' });
    expect(answers.find((a) => a.prompt_id === 'lead-brief')!.on_behalf_of).toBeUndefined();
  });

  it('signs an answer holding a secret of the run as the record keeps it, masked: the secret is in no signed statement', () => {
    const notes = answersOf(signedRecord).find((a) => a.prompt_id === 'notes')!;
    expect(notes.answer).not.toContain(CANARY);
    const statement = Buffer.from(notes.signature!.payload, 'base64').toString();
    expect(statement).not.toContain(CANARY);
    expect(JSON.parse(statement)).toMatchObject({ answer: notes.answer });
    expect(JSON.stringify(readRecord(signedRecord).statement)).not.toContain(CANARY);
  });

  it('record verify shows who vouched for each answer from the file and that their key verified', async () => {
    const r = await cli(['record', 'verify', signedRecord]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.split('\n').map((l) => l.trim());
    const file = `answers.yaml (sha256 ${digest().slice(0, 12)}…)`;
    expect(lines).toContain(`✔ qa-ready: taken from the answers file ${file}, vouched for by Ana Torres on behalf of QA Lead · Elif Yilmaz (Ana Torres's key verified): 2 ticked`);
    expect(lines).toContain(`✔ lead-brief: taken from the answers file ${file}, vouched for by Ana Torres (Deployment Lead, key verified): yes`);
    expect(lines).toContain(`✔ go: taken from the answers file ${file}, vouched for by Ana Torres (Deployment Lead, key verified): "go"`);
    expect(r.stdout).not.toContain('answers file: ');
    expect(r.stdout).toContain('VALID: signed by 1 run key');
    const json = JSON.parse((await cli(['record', 'verify', signedRecord, '--json'])).stdout) as { answers: { prompt_id: string; state: string; via: string; answers_file: unknown }[]; unsigned_file_answers: string[] };
    expect(json.answers.every((a) => a.state === 'verified' && a.via === 'answers-file')).toBe(true);
    expect(json.answers[0]!.answers_file).toEqual({ path: 'answers.yaml', sha256: digest() });
    expect(json.unsigned_file_answers).toEqual([]);
  });

  it('record export shows who vouched for each answer from the file, and the file', async () => {
    const r = await cli(['record', 'export', signedRecord, '--format', 'markdown']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\| qa-ready \| 2 ticked \| vouched for by Ana Torres on behalf of QA Lead · Elif Yilmaz, from the answers file answers\.yaml \(sha256 [0-9a-f]{12}…\) \| ✔ sha256:/);
  });

  it('an answer from the file verifies with openssl alone, with the operator’s public key, and names the file’s digest', () => {
    const a = answersOf(signedRecord).find((x) => x.prompt_id === 'on-call')!;
    const paeFile = path.join(team.dir, 'file-answer-pae.bin');
    const sigFile = path.join(team.dir, 'file-answer-sig.bin');
    writeFileSync(paeFile, pae(a.signature!.payload_type, Buffer.from(a.signature!.payload, 'base64')));
    writeFileSync(sigFile, Buffer.from(a.signature!.sig, 'base64'));
    const verified = spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', path.join(team.dir, 'keys', 'ana.pub'), '-rawin', '-in', paeFile, '-sigfile', sigFile], { encoding: 'utf8' });
    expect(`${verified.stdout}${verified.stderr}`).toContain('Signature Verified Successfully');
    expect(spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', path.join(team.dir, 'keys', 'elif.pub'), '-rawin', '-in', paeFile, '-sigfile', sigFile]).status).not.toBe(0);
    const statement = JSON.parse(Buffer.from(a.signature!.payload, 'base64').toString()) as Record<string, unknown>;
    expect(statement).toMatchObject({ _type: 'https://deployctl.dev/answer/v1', prompt_id: 'on-call', answer: 'Dana', person: 'ana', via: 'answers-file', answers_file: { path: 'answers.yaml', sha256: digest() } });
  });

  /** The signed record with `change` applied to its answers, re-signed with the run key: what a dishonest host could write. */
  function forge(name: string, change: (answers: Answer[]) => void): string {
    const { envelope, statement } = readRecord(signedRecord);
    const s = statement as unknown as { predicate: { answers: Answer[] } };
    change(s.predicate.answers);
    const payload = Buffer.from(JSON.stringify(statement));
    const runKey = createPrivateKey(readFileSync(path.join(team.dir, '.deployctl', 'keys', 'deployctl.key')));
    const forged = { payloadType: envelope.payloadType, payload: payload.toString('base64'), signatures: [{ keyid: envelope.signatures[0]!.keyid, sig: sign(null, pae(envelope.payloadType, payload), runKey).toString('base64') }] };
    const file = path.join(team.dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(forged));
    return file;
  }

  it('catches an answer from the file changed in a record re-signed with the run key', async () => {
    const altered = forge('file-altered', (answers) => {
      answers.find((a) => a.prompt_id === 'on-call')!.answer = 'Mallory';
    });
    const r1 = await cli(['record', 'verify', altered]);
    expect(r1.code).toBe(1);
    expect(r1.stdout).toContain('INVALID: answer to on-call (slot 1) credited to ana: it was signed for the answer "Dana", not the one recorded: the record was altered');
    // Another file named as the source.
    const otherFile = forge('file-swapped', (answers) => {
      answers.find((a) => a.prompt_id === 'qa-ready')!.answers_file = { path: 'answers.yaml', sha256: 'f'.repeat(64) };
    });
    const r2 = await cli(['record', 'verify', otherFile]);
    expect(r2.code).toBe(1);
    expect(r2.stdout).toContain('INVALID: answer to qa-ready (slot 1) credited to ana: it was signed for the answers file answers.yaml (sha256 ');
    expect((await cli(['record', 'verify', signedRecord])).code).toBe(0);
  });

  it('without a person key the file’s answers stay the operator’s, unsigned, and verify says so plainly (VALID)', async () => {
    expect(answersOf(unsignedRecord)).toEqual([]);
    const r = await cli(['record', 'verify', unsignedRecord]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/answers file: lead-brief, qa-ready, on-call, notes, go: taken from the answers file by the operator \S+ on the roles' behalf, not signed \(no person at the running terminal vouched for them with their key; the run key vouches for them with the record\)/);
    expect(r.stdout).toContain('VALID: signed by 1 run key');
  });
});
