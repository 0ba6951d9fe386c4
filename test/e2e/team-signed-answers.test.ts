// Signed answers from the running terminal, end to end in tmux on both state backends: each answer signed with the answering person's key, shown per answer by `record verify`, checked by openssl alone, a sign-off given by answering, and forged answers caught.
import { spawnSync } from 'node:child_process';
import { createPrivateKey, sign } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { prompt, WAIT } from '../helpers/interactive.js';
import { describeTeam, peopleYaml } from '../helpers/team.js';

const RUNBOOK = `version: 1
name: signed
${peopleYaml(['ana', 'elif'])}
roles:
  lead: { title: Deployment Lead, primary: ana, delegate: true }
  qa: { title: QA Lead, primary: elif }
phases:
  - id: p
    steps:
      - { id: lead-brief, owner: lead, confirm: Brief given }
      - { id: qa-ready, owner: qa, checklist: [Test plan ready, Test data loaded] }
      - { id: on-call, owner: qa, ask: Who is on call?, pattern: '[A-Z][a-z]+' }
      - { id: signoff-qa, title: "Sign-off: QA Lead", owner: qa, confirm: QA Lead signs off, signoff: true }
`;

const paeOf = (type: string, body: Buffer) => Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);

interface Envelope {
  payloadType: string;
  payload: string;
  signatures: { keyid: string; sig: string; signer?: string; signed_at?: string }[];
}

describeTeam('signed answers at the running terminal', { people: ['ana', 'elif'], files: { 'signed.yaml': RUNBOOK }, timeout: 120_000 }, (team) => {
  let record = '';
  const { cli } = team;

  beforeAll(async () => {
    // Elif runs it: QA's prompts are hers; the lead's she answers on Ana's behalf (delegate: true).
    const tmux = await team.terminal(['run', 'signed.yaml', '--as', 'elif'], { width: 120, height: 40 });
    await tmux.waitFor(prompt('Brief given'), WAIT);
    await tmux.sendKeys('y', 'Enter');
    await tmux.waitFor(/Test plan ready/, WAIT);
    await tmux.sendKeys('a', 'Enter');
    await tmux.waitFor(prompt('Who is on call?'), WAIT);
    await tmux.type('Dana');
    await tmux.sendKeys('Enter');
    await tmux.waitFor(prompt('QA Lead signs off'), WAIT);
    await tmux.sendKeys('y', 'Enter');
    expect(await tmux.exitCode(60_000)).toBe(0);
    const records = readdirSync(path.join(team.dir, '.deployctl', 'records')).filter((f) => f.endsWith('.json'));
    expect(records).toHaveLength(1);
    record = path.join('.deployctl', 'records', records[0]!);
  }, 120_000);

  it('record verify shows who gave each answer, with whose key, and on whose behalf', async () => {
    const r = await cli(['record', 'verify', record]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.split('\n').map((l) => l.trim());
    expect(lines).toContain('✔ lead-brief: answered by Elif Yilmaz on behalf of Deployment Lead · Ana Torres (Elif Yilmaz\'s key verified) at the running terminal: yes');
    expect(lines).toContain('✔ qa-ready: answered by Elif Yilmaz (QA Lead, key verified) at the running terminal: 2 ticked');
    expect(lines).toContain('✔ on-call: answered by Elif Yilmaz (QA Lead, key verified) at the running terminal: "Dana"');
    // The sign-off step answered yes by the role's holder with her key is QA's sign-off: no record sign needed.
    expect(r.stdout).toMatch(/QA Lead \(qa\)\s+signed off by Elif Yilmaz answering signoff-qa on \S+, key sha256:\w+/);
    expect(r.stdout).toMatch(/Deployment Lead \(lead\)\s+not signed/);
    expect(r.stdout).toContain('VALID: signed by 1 run key, 1 sign-off');
  });

  it('record export shows the answers table and the sign-off', async () => {
    const r = await cli(['record', 'export', record, '--format', 'markdown']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('## Answers');
    expect(r.stdout).toMatch(/\| lead-brief \| yes \| Elif Yilmaz on behalf of Deployment Lead · Ana Torres, at the running terminal \| ✔ sha256:/);
    expect(r.stdout).toMatch(/\| QA Lead \| Elif Yilmaz \(answering signoff-qa\) \| \S+ \| ✔ sha256:/);
  });

  it('an answer signature verifies with openssl alone, over the DSSE PAE of its payload and the person’s public key', () => {
    const envelope = JSON.parse(readFileSync(path.join(team.dir, record), 'utf8')) as Envelope;
    const predicate = (JSON.parse(Buffer.from(envelope.payload, 'base64').toString()) as { predicate: { answers: { prompt_id: string; signature: { payload_type: string; payload: string; sig: string } }[] } }).predicate;
    const answer = predicate.answers.find((a) => a.prompt_id === 'on-call')!;
    const pae = path.join(team.dir, 'answer-pae.bin');
    const sig = path.join(team.dir, 'answer-sig.bin');
    writeFileSync(pae, paeOf(answer.signature.payload_type, Buffer.from(answer.signature.payload, 'base64')));
    writeFileSync(sig, Buffer.from(answer.signature.sig, 'base64'));
    const verified = spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', path.join(team.dir, 'keys', 'elif.pub'), '-rawin', '-in', pae, '-sigfile', sig], { encoding: 'utf8' });
    expect(`${verified.stdout}${verified.stderr}`).toContain('Signature Verified Successfully');
    // The statement it signs: this run, this prompt, the answer, the time, the journal's hash before it.
    const statement = JSON.parse(Buffer.from(answer.signature.payload, 'base64').toString()) as Record<string, unknown>;
    expect(statement).toMatchObject({ _type: 'https://deployctl.dev/answer/v1', prompt_id: 'on-call', slot: 1, answer: 'Dana', person: 'elif', via: 'terminal', journal_head: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    // Ana's key does not verify it.
    expect(spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', path.join(team.dir, 'keys', 'ana.pub'), '-rawin', '-in', pae, '-sigfile', sig]).status).not.toBe(0);
  });

  /** The record with `change` applied to its predicate, re-signed with the run key: what a dishonest host could write. */
  function forge(name: string, change: (predicate: { answers: Record<string, unknown>[] }) => void): string {
    const envelope = JSON.parse(readFileSync(path.join(team.dir, record), 'utf8')) as Envelope;
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString()) as { predicate: { answers: Record<string, unknown>[] } };
    change(statement.predicate);
    const payload = Buffer.from(JSON.stringify(statement));
    const runKey = createPrivateKey(readFileSync(path.join(team.dir, '.deployctl', 'keys', 'deployctl.key')));
    const forged: Envelope = { payloadType: envelope.payloadType, payload: payload.toString('base64'), signatures: [{ keyid: envelope.signatures[0]!.keyid, sig: sign(null, paeOf(envelope.payloadType, payload), runKey).toString('base64') }] };
    const file = path.join(team.dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(forged));
    return file;
  }

  it('catches a forged answer: the run key still vouches for the record, but the answer’s signature does not hold', async () => {
    // A changed answer under Elif's real signature.
    const altered = forge('altered', (p) => {
      const a = p.answers.find((x) => x['prompt_id'] === 'on-call')!;
      a['answer'] = 'Mallory';
    });
    const r1 = await cli(['record', 'verify', altered]);
    expect(r1.code).toBe(1);
    expect(r1.stdout).toContain('INVALID: answer to on-call (slot 1) credited to elif: it was signed for the answer "Dana", not the one recorded: the record was altered');
    // An answer "by Elif" signed with Ana's key.
    const impersonated = forge('impersonated', (p) => {
      const a = p.answers.find((x) => x['prompt_id'] === 'qa-ready')!;
      const signature = a['signature'] as { payload: string; sig: string };
      const ana = createPrivateKey(readFileSync(team.key('ana')));
      signature.sig = sign(null, paeOf('application/vnd.deployctl.answer+json', Buffer.from(signature.payload, 'base64')), ana).toString('base64');
    });
    const r2 = await cli(['record', 'verify', impersonated]);
    expect(r2.code).toBe(1);
    expect(r2.stdout).toContain("INVALID: answer to qa-ready (slot 1) credited to elif: its signature does not verify with elif's keys in the runbook: forged or altered");
    // The genuine record still verifies.
    expect((await cli(['record', 'verify', record])).code).toBe(0);
  });
});
