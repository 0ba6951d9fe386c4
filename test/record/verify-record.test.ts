// `record verify/show/export/list` called as functions: trusted keys, the runbook check, unreadable files, the UNVERIFIED banner, JSON shapes.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordExportCommand, recordListCommand, recordShowCommand, recordVerifyCommand } from '../../src/commands/record.js';
import { addSignature, signEnvelope } from '../../src/record/dsse.js';
import { readRecordFile } from '../../src/record/verify.js';
import { STATEMENT_PAYLOAD_TYPE } from '../../src/record/statement.js';
import { commandResult, commandResultAsync, makeWorkspace, smallPredicate, statementBytes, type Workspace } from '../fixtures/records/workspace.js';

let ws: Workspace;
beforeEach(() => {
  ws = makeWorkspace();
});
afterEach(() => ws.cleanup());

/** Run a command function; a CliError becomes its exit code and printed lines, as at the process boundary. */
function run(fn: (ctx: ReturnType<Workspace['ctx']>) => number, env: NodeJS.ProcessEnv = {}) {
  return commandResult(ws.ctx(env), fn);
}

/** run() for the commands that are async (record list reads the state store). */
async function runAsync(fn: (ctx: ReturnType<Workspace['ctx']>) => Promise<number>, env: NodeJS.ProcessEnv = {}) {
  return commandResultAsync(ws.ctx(env), fn);
}

const verify = (file: string, flags = {}) => run((ctx) => recordVerifyCommand(file, flags, ctx));

describe('record verify', () => {
  it('exits 0 for the record as deployctl run leaves it, naming the key, the runbook check and the sign-off table', () => {
    const r = verify(ws.record);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`signature #1 keyid sha256:`);
    expect(r.stdout).toContain(`valid, key ${path.join('.deployctl', 'keys', 'deployctl.pub')}`);
    expect(r.stdout).toContain('runbook small.yaml: sha256 matches');
    expect(r.stdout).toMatch(/Deployment Lead \(lead\)\s+not signed \(deployctl record sign --role lead adds a sign-off\)/);
    expect(r.stdout).toMatch(/Operations \(ops\)\s+not signed \(and the runbook lists no keys for this role\)/);
    expect(r.stdout.split('\n').at(-1)).toBe('VALID: signed by 1 run key; run 20261126T151500Z-3f9a1c of small, failed');
  });

  it('says plainly, and still VALID, which answers came unsigned from the answers file (a run without a person key)', () => {
    ws.cleanup();
    const predicate = smallPredicate();
    predicate.phases[0]!.steps[1] = { ...predicate.phases[0]!.steps[1]!, status: 'succeeded', attempts: 1, answer: true, answered_from: 'answers-file', actor: { role: 'qa', person: 'Carol', operator: 'ana', answered_by: 'ana', on_behalf_of: 'Carol' } };
    ws = makeWorkspace(predicate);
    const r = verify(ws.record);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain("  answers file: check: taken from the answers file by the operator ana on the roles' behalf, not signed (no person at the running terminal vouched for them with their key; the run key vouches for them with the record)");
    expect(r.stdout.split('\n').at(-1)).toMatch(/^VALID: /);
  });

  it('prints the full keyid, and says when the keyid field is only a wrong hint', () => {
    const envelope = ws.readEnvelope();
    ws.writeEnvelope({ ...envelope, signatures: [{ ...envelope.signatures[0]!, keyid: `sha256:${'0'.repeat(64)}` }] });
    const r = verify(ws.record);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/signature #1 keyid sha256:[0-9a-f]{64} \(its keyid field says sha256:000000000000: only a hint\): valid/);
  });

  it('says when the runbook changed since the run, and still exits 0: the record itself is intact', () => {
    fs.appendFileSync(path.join(ws.dir, 'small.yaml'), '# edited\n');
    const r = verify(ws.record);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/runbook small\.yaml: CHANGED since the run \(sha256 now [0-9a-f]{12}…, recorded [0-9a-f]{12}…\); the role keys it lists do not count/);
    // It loads: the keys are left out because of the change, not because of a problem with the file.
    expect(r.stdout).not.toContain('does not load');
    expect(r.stdout.split('\n').at(-1)).toMatch(/^VALID: .*; the runbook has changed since$/);
  });

  it('shows nothing read from a payload no trusted signature vouches for, and states the failure once', () => {
    const file = path.join(ws.dir, ws.record);
    const envelope = JSON.parse(fs.readFileSync(file, 'utf8')) as { payload: string };
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as { predicate: { operator: string } };
    statement.predicate.operator = 'mallory';
    envelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    fs.writeFileSync(file, JSON.stringify(envelope));
    const r = verify(ws.record);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/signature #1 keyid sha256:[0-9a-f]{64}: INVALID: its keyid names a trusted key, but it does not verify with it/);
    expect(r.stdout).toContain('runbook and sign-offs: not shown, since nothing vouches for the payload they would be read from');
    expect(r.stdout).not.toMatch(/sha256 matches|sign-offs:\n|Deployment Lead/);
    expect(r.stdout.split('\n').at(-1)).toMatch(/^INVALID: no signature verifies with a run key/);
    // The record, its one signature's verdict, the line about what is not shown, the overall verdict: nothing repeated.
    expect(r.stdout.split('\n')).toHaveLength(4);
    const json = JSON.parse(verify(ws.record, { json: true }).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ verdict: 'invalid', runbook: null, signoffs: null, notes: [], run: { authentic: false } });
  });

  it('does not let a runbook edited since the run vouch for sign-offs with its role keys', () => {
    // The lead signed off; then someone edits the runbook (they could have added a key of their own).
    const signed = addSignature(ws.readEnvelope(), ws.keys.lead.privateKey, { role: 'lead', signer: 'Ana' });
    if (!signed.added) throw new Error('not added');
    ws.writeEnvelope(signed.envelope);
    expect(verify(ws.record).stdout).toMatch(/signs off for lead/);
    fs.appendFileSync(path.join(ws.dir, 'small.yaml'), '# edited\n');
    const r = verify(ws.record);
    // The run key still makes the record valid; the edited runbook's role keys count for nothing.
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('CHANGED since the run');
    expect(r.stdout).not.toMatch(/signs off for lead/);
    expect(r.stdout).toMatch(/Deployment Lead \(lead\)\s+not checked: claimed by Ana/);
  });

  it('says when the runbook is not found, not checked', () => {
    fs.rmSync(path.join(ws.dir, 'small.yaml'));
    const r = verify(ws.record);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('runbook small.yaml: not found, not checked');
    // The roles come from the record; their keys are unknown.
    expect(r.stdout).toMatch(/Deployment Lead \(lead\)\s+not signed \(deployctl record sign --role lead adds a sign-off\)/);
  });

  it('exits 1 when the signer key is not among the trusted keys (the role keys do not include it)', () => {
    fs.rmSync(path.join(ws.dir, '.deployctl', 'keys'), { recursive: true });
    const r = verify(ws.record);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/signature #1 keyid sha256:[0-9a-f]{64}: not counted: it does not verify with any trusted key/);
    expect(r.stdout).toMatch(/INVALID: no run key is trusted here, so nothing can make the record valid; give the public key the run signed with by --pubkey/);
  });

  it('exits 1 with a hint when there is no trusted key at all', () => {
    fs.rmSync(path.join(ws.dir, '.deployctl', 'keys'), { recursive: true });
    fs.rmSync(path.join(ws.dir, 'small.yaml'));
    const r = verify(ws.record);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("run keys: none (give the run's public key with --pubkey KEY.pub");
    expect(r.stdout).toContain('INVALID: no run key is trusted here');
  });

  it('trusts --pubkey files', () => {
    const pub = path.join(ws.dir, 'run.pub');
    fs.renameSync(path.join(ws.dir, ws.keys.run.pub), pub);
    expect(verify(ws.record).code).toBe(1);
    const r = verify(ws.record, { pubkey: ['run.pub'] });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('valid, key --pubkey run.pub');
  });

  it('exits 2 for a --pubkey that is missing or a private key', () => {
    expect(verify(ws.record, { pubkey: ['nope.pub'] })).toMatchObject({ code: 2 });
    const r = verify(ws.record, { pubkey: [ws.keys.lead.key] });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is a PRIVATE key/);
  });

  it('never lets a record choose a runbook outside the working directory to vouch for it', () => {
    // An attacker's runbook at a path of their choosing lists their own key; the record names it and is signed with it.
    const evilDir = fs.mkdtempSync(path.join(path.dirname(ws.dir), 'deployctl-evil-'));
    try {
      fs.mkdirSync(path.join(evilDir, 'keys'));
      fs.copyFileSync(path.join(ws.dir, 'keys', 'lead.pub'), path.join(evilDir, 'keys', 'lead.pub'));
      const evilRunbook = path.join(evilDir, 'small.yaml');
      fs.copyFileSync(path.join(ws.dir, 'small.yaml'), evilRunbook);
      fs.rmSync(path.join(ws.dir, 'keys'), { recursive: true });
      fs.rmSync(path.join(ws.dir, 'small.yaml'));
      const runPub = path.join(evilDir, 'run.pub');
      fs.renameSync(path.join(ws.dir, ws.keys.run.pub), runPub);
      fs.rmSync(path.join(ws.dir, '.deployctl', 'keys'), { recursive: true });
      for (const name of [evilRunbook, path.relative(ws.dir, evilRunbook)]) {
        const predicate = { ...smallPredicate(), runbook: { ...smallPredicate().runbook, path: name } };
        // Alone, the key the outside runbook lists makes nothing valid.
        ws.writeEnvelope(signEnvelope(STATEMENT_PAYLOAD_TYPE, statementBytes(predicate, name), ws.keys.lead.privateKey, { role: 'lead' }));
        const alone = verify(ws.record, { pubkey: [] });
        expect(alone.code, `${name}\n${alone.stdout}`).toBe(1);
        expect(alone.stdout).not.toMatch(/^VALID/m);
        // Beside a run signature, it signs off for nothing: that runbook's keys are not read.
        const runSigned = signEnvelope(STATEMENT_PAYLOAD_TYPE, statementBytes(predicate, name), ws.keys.run.privateKey);
        const both = addSignature(runSigned, ws.keys.lead.privateKey, { role: 'lead', signer: 'mallory' });
        if (!both.added) throw new Error('not added');
        ws.writeEnvelope(both.envelope);
        const r = verify(ws.record, { pubkey: [runPub] });
        expect(r.code, `${name}\n${r.stdout}`).toBe(0);
        expect(r.stdout).toContain(`runbook ${name}: not checked`);
        expect(r.stdout).not.toMatch(/signed by mallory|signs off for lead/);
      }
    } finally {
      fs.rmSync(evilDir, { recursive: true, force: true });
    }
  });

  it('--runbook names the runbook when the record was made elsewhere', () => {
    fs.mkdirSync(path.join(ws.dir, 'elsewhere', 'keys'), { recursive: true });
    fs.renameSync(path.join(ws.dir, 'small.yaml'), path.join(ws.dir, 'elsewhere', 'small.yaml'));
    for (const k of ['lead', 'qa', 'ops']) fs.copyFileSync(path.join(ws.dir, 'keys', `${k}.pub`), path.join(ws.dir, 'elsewhere', 'keys', `${k}.pub`));
    const signed = addSignature(ws.readEnvelope(), ws.keys.qa.privateKey, { role: 'qa', signer: 'Carol' });
    if (!signed.added) throw new Error('not added');
    ws.writeEnvelope(signed.envelope);
    expect(verify(ws.record).stdout).toMatch(/QA Lead \(qa\)\s+not checked: claimed by Carol \(the runbook is not at hand/);
    const r = verify(ws.record, { runbook: path.join('elsewhere', 'small.yaml') });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`runbook ${path.join('elsewhere', 'small.yaml')}: sha256 matches`);
    expect(r.stdout).toMatch(/QA Lead \(qa\)\s+signed by Carol/);
  });

  it('exits 2 when --runbook is missing or does not load', () => {
    expect(verify(ws.record, { runbook: 'nope.yaml' })).toMatchObject({ code: 2 });
    fs.writeFileSync(path.join(ws.dir, 'bad.yaml'), 'version: 1\nname: [\n');
    const r = verify(ws.record, { runbook: 'bad.yaml' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not load/);
  });

  it('warns about a role key file that cannot be used, and that role cannot be signed', () => {
    fs.writeFileSync(path.join(ws.dir, 'keys', 'qa.pub'), 'not a key');
    const r = verify(ws.record);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/warning: role qa lists keys\/qa\.pub, which cannot be used: .*not a PEM key/);
  });

  it('exits 1 for a trusted signature over a payload that is not a deployment record', () => {
    ws.writeEnvelope(signEnvelope(STATEMENT_PAYLOAD_TYPE, new TextEncoder().encode('{"hello":"world"}'), ws.keys.run.privateKey));
    const r = verify(ws.record);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('INVALID: the signed payload is not a valid deployment record statement');
  });

  it('exits 1 for a trusted signature over another payloadType', () => {
    ws.writeEnvelope(signEnvelope('text/plain', statementBytes(smallPredicate()), ws.keys.run.privateKey));
    const r = verify(ws.record);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/INVALID: the signed payloadType is 'text\/plain'/);
  });

  it('--json gives every signature, the runbook check, the sign-offs and the verdict', () => {
    const r = verify(ws.record, { json: true });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(out['verdict']).toBe('valid');
    expect(out['signatures'][0]).toMatchObject({ index: 0, state: 'valid', valid: true, signer: 'ana', counts_for: [] });
    expect(out['runbook']).toMatchObject({ path: 'small.yaml', state: 'matches', roles_checked: true });
    expect(out['signoffs'].map((s: { role: string; state: string }) => `${s.role}:${s.state}`)).toEqual(['lead:missing', 'qa:missing', 'ops:missing']);
    expect(out['run']).toMatchObject({ authentic: true, run_id: '20261126T151500Z-3f9a1c', status: 'failed' });
  });
});

describe('unreadable record files: exit 2 with a sentence, never a stack trace', () => {
  const cases: [string, (file: string) => void, RegExp][] = [
    ['missing', () => undefined, /no such file/],
    ['empty', (f) => fs.writeFileSync(f, ''), /is empty/],
    ['blank', (f) => fs.writeFileSync(f, '  \n\n'), /is empty/],
    ['not JSON', (f) => fs.writeFileSync(f, 'hello, I am not a record\n'), /is not JSON/],
    ['a JSON array', (f) => fs.writeFileSync(f, '[1, 2]'), /is not a DSSE envelope/],
    ['an object missing fields', (f) => fs.writeFileSync(f, '{"payload": "AA=="}'), /is not a DSSE envelope/],
    ['a directory', (f) => fs.mkdirSync(f), /is a directory/],
    ['huge (20 MiB)', (f) => fs.truncateSync((fs.writeFileSync(f, '{'), f), 20 * 1024 * 1024), /more than the 16 MiB/],
  ];

  it.each(cases)('%s', (_name, make, message) => {
    const file = path.join(ws.dir, 'bad.json');
    make(file);
    for (const fn of [
      (ctx: ReturnType<Workspace['ctx']>) => recordVerifyCommand('bad.json', {}, ctx),
      (ctx: ReturnType<Workspace['ctx']>) => recordShowCommand('bad.json', {}, ctx),
      (ctx: ReturnType<Workspace['ctx']>) => recordExportCommand('bad.json', { format: 'markdown' }, ctx),
    ]) {
      const r = run(fn);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
  });

  it('a truncated record says it ends too early', () => {
    const text = fs.readFileSync(path.join(ws.dir, ws.record), 'utf8');
    fs.writeFileSync(path.join(ws.dir, 'cut.json'), text.slice(0, Math.floor(text.length / 2)));
    const r = verify('cut.json');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cut\.json is not JSON \(it ends too early: truncated\?\)/);
  });

  it('--json reports an unreadable file as JSON, exit 2', () => {
    const r = verify('nope.json', { json: true });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: 'unreadable', problem: { code: 'missing' } });
  });

  it('readRecordFile never reads past the cap', () => {
    const file = path.join(ws.dir, 'big.json');
    fs.writeFileSync(file, '');
    fs.truncateSync(file, 17 * 1024 * 1024);
    const read = readRecordFile('big.json', ws.dir);
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.problem.code).toBe('too-large');
  });
});

describe('record show', () => {
  it('defaults to the newest record and heads it VERIFIED', () => {
    const r = run((ctx) => recordShowCommand(undefined, {}, ctx));
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`✔ VERIFIED record ${ws.record}`);
    expect(r.stdout).toContain('status    FAILED (exit 1): step deploy failed: exit code 1');
    expect(r.stdout).toContain('duration  1m (target 10m, within)');
    expect(r.stdout).toMatch(/✖ deploy {2}deploy {2}\[Operations · Olu\] {2}failed, 1\.0s, exit code 1/);
    expect(r.stdout).toContain('    reason: exit code 1');
    expect(r.stdout).toMatch(/✔ Deployment Time\s+target < 10 min, actual 1 min/);
    expect(r.stdout).toMatch(/✖ Error Rate\s+target < 0\.1%, actual 2\.5%/);
    expect(r.stdout).toContain('Rollback\n  not needed');
  });

  it('picks the newest by the sealing time in the file name', () => {
    const dir = path.join(ws.dir, '.deployctl', 'records');
    fs.copyFileSync(path.join(ws.dir, ws.record), path.join(dir, 'small-20261201T000000Z-20261130T235900Z-aaaaaa.json'));
    fs.copyFileSync(path.join(ws.dir, ws.record), path.join(dir, 'small-20250101T000000Z-20250101T000000Z-bbbbbb.json'));
    const r = run((ctx) => recordShowCommand(undefined, {}, ctx));
    expect(r.stdout.split('\n')[0]).toContain('small-20261201T000000Z-20261130T235900Z-aaaaaa.json');
  });

  it('says clearly when there is no record, exit 2', () => {
    fs.rmSync(path.join(ws.dir, '.deployctl', 'records'), { recursive: true });
    const r = run((ctx) => recordShowCommand(undefined, {}, ctx));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`deployctl: no records in ${path.join('.deployctl', 'records')}`);
    expect(r.stderr).toContain('deployctl run RUNBOOK writes one there');
  });

  it('follows DEPLOYCTL_STATE_DIR', () => {
    fs.renameSync(path.join(ws.dir, '.deployctl'), path.join(ws.dir, 'state'));
    const r = run((ctx) => recordShowCommand(undefined, {}, ctx), { DEPLOYCTL_STATE_DIR: 'state' });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toContain(path.join('state', 'records'));
  });

  it('still shows a record that does not verify, under a loud UNVERIFIED banner, exit 1', () => {
    const statement = JSON.parse(Buffer.from(ws.readEnvelope().payload, 'base64').toString('utf8')) as { predicate: { status: string } };
    statement.predicate.status = 'succeeded';
    ws.writeEnvelope({ ...ws.readEnvelope(), payload: Buffer.from(JSON.stringify(statement)).toString('base64') });
    const r = run((ctx) => recordShowCommand(ws.record, {}, ctx));
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^!{72}$/);
    expect(lines[1]).toBe(`!!! UNVERIFIED RECORD: ${ws.record} does not verify.`);
    expect(r.stdout).toContain('status    SUCCEEDED');
    expect(r.stderr).toContain('does NOT verify');
  });

  it('makes terminal escape sequences in the content inert', () => {
    const predicate = smallPredicate();
    predicate.phases[0]!.steps[0]!.title = 'evil \u001b[2J\u001b]0;pwned\u0007 title';
    predicate.operator = 'ana\u001b[31m';
    ws.writeEnvelope(signEnvelope(STATEMENT_PAYLOAD_TYPE, statementBytes(predicate), ws.keys.run.privateKey));
    const r = run((ctx) => recordShowCommand(ws.record, {}, ctx));
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(r.stdout).toContain('evil \\u001b[2J');
  });

  it('points at the right subcommand for a typo', () => {
    const r = run((ctx) => recordShowCommand('verfiy', {}, ctx, ['x.json']));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown record command 'verfiy'; did you mean 'verify'?");
  });
});

describe('record export', () => {
  it('json: the decoded predicate only, pretty', () => {
    const r = run((ctx) => recordExportCommand(ws.record, { format: 'json' }, ctx));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(smallPredicate());
    expect(r.stdout).toContain('\n  "schema_version": 1,');
  });

  it('markdown: title, status, timeline, per-role steps, metrics and sign-off tables', () => {
    const r = run((ctx) => recordExportCommand(ws.record, { format: 'markdown' }, ctx));
    expect(r.code).toBe(0);
    const md = r.stdout;
    expect(md.startsWith('# Deployment record: Small service rollout\n')).toBe(true);
    expect(md).toContain('**Status**: ✖ **FAILED** (exit 1): step deploy failed: exit code 1');
    expect(md).toContain('| When | Phase | Status | Started | Duration |');
    expect(md).toContain('| T | Ship it | ✖ failed | 2026-11-26T15:15:00.000Z | 1m |');
    expect(md).toContain('#### Operations (Olu)');
    expect(md).toContain('- [ ] deploy — ✖ failed, 1.0s, exit code 1: exit code 1');
    expect(md).toContain('| Metric | Target | Actual | ✔/✖ |');
    expect(md).toContain('| Deployment Time | < 10 min | 1 min | ✔ |');
    expect(md).toContain('| Error Rate | < 0.1% | 2.5% | ✖ |');
    expect(md).toContain('| Role | Name | Date | Signature |');
    expect(md).toContain('| Deployment Lead |  |  |  |');
  });

  it('refuses a record that does not verify (exit 1) unless --unverified, which marks it', () => {
    fs.rmSync(path.join(ws.dir, '.deployctl', 'keys'), { recursive: true });
    const refused = run((ctx) => recordExportCommand(ws.record, { format: 'markdown' }, ctx));
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('does not verify; refusing to export it');
    const forced = run((ctx) => recordExportCommand(ws.record, { format: 'markdown', unverified: true }, ctx));
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('> **⚠ UNVERIFIED**: this record does not verify');
    expect(forced.stderr).toContain('does NOT verify');
  });
});

describe('record list', () => {
  it('lists records newest first with runbook, status, date and verification state', async () => {
    const dir = path.join(ws.dir, '.deployctl', 'records');
    fs.copyFileSync(path.join(ws.dir, ws.record), path.join(dir, 'small-20261201T000000Z-20261130T235900Z-aaaaaa.json'));
    const forged = ws.readEnvelope();
    fs.writeFileSync(path.join(dir, 'small-20261202T000000Z-x.json'), JSON.stringify({ ...forged, signatures: [{ ...forged.signatures[0]!, sig: Buffer.alloc(64, 1).toString('base64') }] }));
    fs.writeFileSync(path.join(dir, 'small-20261203T000000Z-y.json'), '{"trunc');
    fs.writeFileSync(path.join(dir, '.small-20261204T000000Z-z.json.123.tmp'), 'temp');
    const r = await runAsync((ctx) => recordListCommand({}, ctx));
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^RECORD\s+RUNBOOK\s+STATUS\s+STARTED\s+VERIFICATION$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual([
      path.join('.deployctl', 'records', 'small-20261203T000000Z-y.json'),
      path.join('.deployctl', 'records', 'small-20261202T000000Z-x.json'),
      path.join('.deployctl', 'records', 'small-20261201T000000Z-20261130T235900Z-aaaaaa.json'),
      ws.record,
    ]);
    expect(lines[1]).toMatch(/UNREADABLE \(not-json\)$/);
    expect(lines[2]).toMatch(/small\s+failed\s+2026-11-26T15:15:00Z\s+INVALID/);
    // A copy under another name is the same record (same ended_at): neither supersedes the other.
    expect(lines[3]).toMatch(/small\s+failed\s+2026-11-26T15:15:00Z\s+valid$/);
    expect(lines[4]).toMatch(/small\s+failed\s+2026-11-26T15:15:00Z\s+valid$/);
  });

  it('--json gives the rows', async () => {
    const r = await runAsync((ctx) => recordListCommand({ json: true }, ctx));
    expect(JSON.parse(r.stdout)).toEqual([{ file: ws.record, runbook: 'small', status: 'failed', date: '2026-11-26T15:15:00.000Z', verification: 'valid', run: '20261126T151500Z-3f9a1c', ended: '2026-11-26T15:16:00.000Z' }]);
  });

  it('marks a record superseded when a newer valid record of the same run exists (the run was resumed and sealed again)', async () => {
    // The same run resumed and sealed again, ended later; its file name sorts first, though age should not matter.
    const later = path.join('.deployctl', 'records', 'small-20261127T000000Z-20261126T151500Z-3f9a1c.json');
    const resumed = { ...smallPredicate(), ended_at: '2026-11-26T16:00:00.000Z' };
    fs.writeFileSync(path.join(ws.dir, later), JSON.stringify(signEnvelope(STATEMENT_PAYLOAD_TYPE, statementBytes(resumed), ws.keys.run.privateKey, { signer: 'ana' })));
    const r = await runAsync((ctx) => recordListCommand({}, ctx));
    const lines = r.stdout.split('\n');
    expect(lines[1]).toMatch(new RegExp(`^${later.replace(/[.\\/]/g, '\\$&')}\\s+small\\s+failed\\s+\\S+\\s+valid$`));
    expect(lines[2]).toMatch(/small\s+failed \(superseded: resumed later\)\s+\S+\s+valid$/);
    const json = JSON.parse((await runAsync((ctx) => recordListCommand({ json: true }, ctx))).stdout) as { superseded?: boolean }[];
    expect(json.map((row) => row.superseded ?? false)).toEqual([false, true]);
  });

  it('says so when there is no record, exit 0', async () => {
    fs.rmSync(path.join(ws.dir, '.deployctl', 'records'), { recursive: true });
    const r = await runAsync((ctx) => recordListCommand({}, ctx));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^No records in/);
  });

  it('stays fast for hundreds of records', async () => {
    const dir = path.join(ws.dir, '.deployctl', 'records');
    const text = fs.readFileSync(path.join(ws.dir, ws.record));
    for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(dir, `small-2026${String(1000 + i).slice(1)}T000000Z-x${i}.json`), text);
    const started = performance.now();
    const r = await runAsync((ctx) => recordListCommand({}, ctx));
    const ms = performance.now() - started;
    expect(r.stdout.split('\n')).toHaveLength(302);
    expect(ms).toBeLessThan(5000);
  });
});
