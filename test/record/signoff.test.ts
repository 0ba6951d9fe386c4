// Sign-offs: the table's rule (the key must be allowed for the annotated role), `record sign` (the same rule; refusal, no-op, unverified identity), shown by show and export.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordExportCommand, recordShowCommand, recordSignCommand, recordVerifyCommand, type SignFlags } from '../../src/commands/record.js';
import { addSignature } from '../../src/record/dsse.js';
import { evaluateSignoffs, type SignatureFacts, type SignoffRole } from '../../src/record/signoff.js';
import { commandResult, FIXED_NOW, makeWorkspace, type Workspace } from '../fixtures/records/workspace.js';

const K = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

describe('evaluateSignoffs', () => {
  const roles: SignoffRole[] = [
    { id: 'lead', title: 'Lead', primary: 'Ana', keys: [{ path: 'keys/lead.pub', keyId: K(1) }] },
    { id: 'qa', title: 'QA', keys: [{ path: 'keys/qa.pub', keyId: K(2) }, { path: 'keys/qa-old.pub', error: 'missing' }] },
    { id: 'ops', title: 'Ops', keys: [] },
  ];
  const sig = (index: number, fields: Partial<SignatureFacts>): SignatureFacts => ({ index, keyid: fields.verifiedKeyId ?? K(9), state: 'valid', ...fields });

  const cases: [string, SignatureFacts[], Record<string, string>][] = [
    ['nothing signed', [], { lead: 'missing', qa: 'missing', ops: 'missing' }],
    ['the run signature alone signs no role', [sig(0, { verifiedKeyId: K(7) })], { lead: 'missing', qa: 'missing', ops: 'missing' }],
    ['a listed key annotated for its role signs it', [sig(0, { verifiedKeyId: K(1), role: 'lead' })], { lead: 'signed', qa: 'missing', ops: 'missing' }],
    ['a listed key without an annotation signs no role (a run signed with it is not a sign-off)', [sig(0, { verifiedKeyId: K(1) })], { lead: 'missing', qa: 'missing', ops: 'missing' }],
    ['the annotation alone never signs: lead key annotated qa signs nothing', [sig(0, { verifiedKeyId: K(1), role: 'qa' })], { lead: 'missing', qa: 'missing', ops: 'missing' }],
    ['a key listed for qa cannot claim ops, which lists no keys', [sig(0, { verifiedKeyId: K(2), role: 'ops' })], { lead: 'missing', qa: 'missing', ops: 'missing' }],
    ['an unknown key annotated lead does not sign lead', [sig(0, { state: 'unknown-key', role: 'lead' })], { lead: 'missing', qa: 'missing', ops: 'missing' }],
    ['a tampered signature by a listed key does not count', [sig(0, { state: 'tampered', keyid: K(1), role: 'lead' })], { lead: 'missing', qa: 'missing', ops: 'missing' }],
    ['a role without keys: annotated signature is an unverified identity', [sig(0, { state: 'unknown-key', role: 'ops', signer: 'Olu' })], { lead: 'missing', qa: 'missing', ops: 'unverified-identity' }],
    ['a role without keys: also when a trusted key made it', [sig(0, { verifiedKeyId: K(7), role: 'ops' })], { lead: 'missing', qa: 'missing', ops: 'unverified-identity' }],
    ['a duplicate does not sign twice', [sig(0, { verifiedKeyId: K(2), role: 'qa' }), sig(1, { verifiedKeyId: K(2), state: 'duplicate', role: 'qa' })], { lead: 'missing', qa: 'signed', ops: 'missing' }],
    ['a key signs once: a duplicate annotated for another role adds nothing', [sig(0, { verifiedKeyId: K(7) }), sig(1, { verifiedKeyId: K(7), state: 'duplicate', role: 'ops' })], { lead: 'missing', qa: 'missing', ops: 'missing' }],
  ];

  it.each(cases)('%s', (_name, signatures, expected) => {
    const table = evaluateSignoffs(roles, signatures);
    expect(Object.fromEntries(table.rows.map((r) => [r.role, r.state]))).toEqual(expected);
  });

  it('counts one signature once per role even when repeated', () => {
    const table = evaluateSignoffs(roles, [sig(0, { verifiedKeyId: K(2), role: 'qa' }), sig(1, { verifiedKeyId: K(2), state: 'duplicate', role: 'qa' })]);
    expect(table.rows.find((r) => r.role === 'qa')?.by).toHaveLength(1);
  });

  it('notes an annotation that disagrees with the key, and a role the runbook does not have', () => {
    const table = evaluateSignoffs(roles, [sig(0, { verifiedKeyId: K(1), role: 'qa' }), sig(1, { verifiedKeyId: K(8), role: 'cfo' }), sig(2, { verifiedKeyId: K(2), role: 'ops' })]);
    expect(table.notes).toEqual([
      "signature #1 is annotated role 'qa', but its key is not one the runbook lists for qa: it counts for no role",
      "signature #2 is annotated role 'cfo', but cfo is not a role of the runbook: it counts for no role",
      "signature #3 is annotated role 'ops', but its key is the one the runbook lists for qa, and ops lists no keys: a key given to one role cannot claim a role that lists none: it counts for no role",
    ]);
  });

  it('without the runbook, annotated signatures are not checked', () => {
    const table = evaluateSignoffs([{ id: 'lead', title: 'Lead' }], [sig(0, { state: 'unknown-key', role: 'lead' })]);
    expect(table.rows[0]?.state).toBe('not-checked');
  });
});

let ws: Workspace;
beforeEach(() => {
  ws = makeWorkspace();
});
afterEach(() => ws.cleanup());

function run(fn: (ctx: ReturnType<Workspace['ctx']>) => number, env: NodeJS.ProcessEnv = {}) {
  return commandResult(ws.ctx(env), fn);
}

const sign = (flags: Omit<SignFlags, 'operator'> & { operator?: string }, env: NodeJS.ProcessEnv = {}) => run((ctx) => recordSignCommand(ws.record, flags, ctx), env);
const recordBytes = () => fs.readFileSync(path.join(ws.dir, ws.record));

describe('record sign', () => {
  it('adds a sign-off by a key the runbook lists for the role, annotated role/signer/signed_at, and verify counts it', () => {
    const r = sign({ role: 'lead', key: ws.keys.lead.key, operator: 'Ana Torres' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^signed off ${ws.record.replace(/\./g, '\\.')} for role lead \\(Deployment Lead\\) as Ana Torres with key sha256:[0-9a-f]{12}; the record now has 2 signatures$`));
    const envelope = ws.readEnvelope();
    expect(envelope.signatures[1]).toMatchObject({ role: 'lead', signer: 'Ana Torres', signed_at: new Date(FIXED_NOW).toISOString() });
    const v = run((ctx) => recordVerifyCommand(ws.record, {}, ctx));
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/signature #2 keyid sha256:[0-9a-f]{64}: valid, key role lead: keys\/lead\.pub; signs off for lead/);
    expect(v.stdout).toMatch(/✔ Deployment Lead \(lead\)\s+signed by Ana Torres on 2026-11-27T09:00:00\.000Z, key sha256:[0-9a-f]{12} \(role lead: keys\/lead\.pub\)/);
  });

  it("refuses a key the runbook gives to one role for a role that lists no keys (it would not count there)", () => {
    const before = recordBytes();
    const r = sign({ role: 'ops', key: ws.keys.qa.key });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/keys\/qa\.key \(sha256:[0-9a-f]{12}\) is the key the runbook lists for qa; role ops \(Operations\) lists no keys, and a key given to one role cannot claim a role that lists none/);
    expect(recordBytes().equals(before)).toBe(true);
  });

  it('refuses to let a key that already signed sign off for another role, or for any role after signing the run (one key, one signature)', () => {
    const r = sign({ role: 'ops', key: ws.keys.run.key });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already signed .* \(signature #1, which signs off for no role \(the run's own signature is one\)\); a key signs a record once, so it cannot also sign off for ops/);
    expect(sign({ role: 'qa', key: ws.keys.qa.key }).code).toBe(0);
    // The same role again is the harmless no-op.
    expect(sign({ role: 'qa', key: ws.keys.qa.key }).code).toBe(0);
  });

  it('rewrites the file atomically, keeping its mode, and leaves no temporary file behind', () => {
    fs.chmodSync(path.join(ws.dir, ws.record), 0o640);
    expect(sign({ role: 'lead', key: ws.keys.lead.key }).code).toBe(0);
    expect(fs.statSync(path.join(ws.dir, ws.record)).mode & 0o777).toBe(0o640);
    expect(fs.readdirSync(path.dirname(path.join(ws.dir, ws.record)))).toEqual([path.basename(ws.record)]);
  });

  it('is a no-op the second time with the same key: exit 0, says so, bytes unchanged', () => {
    expect(sign({ role: 'lead', key: ws.keys.lead.key, operator: 'Ana' }).code).toBe(0);
    const before = recordBytes();
    const again = sign({ role: 'lead', key: ws.keys.lead.key, operator: 'Ana' });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already carries a valid signature by this key \(sha256:[0-9a-f]{12}, signature #2\): nothing changed/);
    expect(recordBytes().equals(before)).toBe(true);
  });

  it('refuses a key the runbook does not list for the role (exit 2), naming the listed keys, and writes nothing', () => {
    const before = recordBytes();
    const r = sign({ role: 'qa', key: ws.keys.lead.key });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/keys\/lead\.key \(sha256:[0-9a-f]{12}\) is not a key the runbook lists for role qa \(QA Lead\); it lists: keys\/qa\.pub \(sha256:[0-9a-f]{12}\)/);
    expect(r.stderr).toContain('roles.qa.keys');
    expect(recordBytes().equals(before)).toBe(true);
  });

  it('signs a role that lists no keys, annotated with the role, and says it shows as "unverified identity"', () => {
    const r = sign({ role: 'ops', key: ws.keys.ops.key, operator: 'Olu' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('role ops (Operations) lists no keys in the runbook');
    expect(r.stdout).toContain('shows as "unverified identity"');
    const v = run((ctx) => recordVerifyCommand(ws.record, {}, ctx));
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/Operations \(ops\)\s+unverified identity: Olu on 2026-11-27T09:00:00\.000Z, key sha256:[0-9a-f]{12} \(unknown key\); the runbook lists no keys for ops/);
  });

  it('exits 2 with did-you-mean for an unknown role', () => {
    const r = sign({ role: 'laed', key: ws.keys.lead.key });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--role 'laed' is not a role of the runbook; did you mean 'lead'?");
    expect(r.stderr).toContain('Roles: lead (Deployment Lead), qa (QA Lead), ops (Operations).');
  });

  it('refuses a record that does not verify (exit 1)', () => {
    const envelope = ws.readEnvelope();
    const payload = Buffer.from(envelope.payload, 'base64');
    payload[20] = payload[20]! ^ 1;
    ws.writeEnvelope({ ...envelope, payload: payload.toString('base64') });
    const before = recordBytes();
    const r = sign({ role: 'lead', key: ws.keys.lead.key });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('refusing to sign');
    expect(recordBytes().equals(before)).toBe(true);
  });

  it('exits 2 for an unreadable record, a public key given as --key, or a missing key', () => {
    expect(run((ctx) => recordSignCommand('nope.json', { role: 'lead', key: ws.keys.lead.key }, ctx)).code).toBe(2);
    const pub = sign({ role: 'lead', key: ws.keys.lead.pub });
    expect(pub.code).toBe(2);
    expect(pub.stderr).toMatch(/is a public key; signing needs the private key/);
    expect(sign({ role: 'lead', key: 'keys/none.key' }).code).toBe(2);
  });

  it('exits 2 when the runbook is not at hand, and works with --runbook', () => {
    fs.renameSync(path.join(ws.dir, 'small.yaml'), path.join(ws.dir, 'moved.yaml'));
    const r = sign({ role: 'lead', key: ws.keys.lead.key });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('give the runbook file with --runbook PATH');
    expect(sign({ role: 'lead', key: ws.keys.lead.key, runbook: 'moved.yaml' }).code).toBe(0);
  });

  it('takes the signer from $DEPLOYCTL_OPERATOR when --operator is not given', () => {
    expect(sign({ role: 'qa', key: ws.keys.qa.key }, { DEPLOYCTL_OPERATOR: 'Carol' }).code).toBe(0);
    expect(ws.readEnvelope().signatures[1]?.signer).toBe('Carol');
  });

  it('notes when the runbook changed since the run', () => {
    fs.appendFileSync(path.join(ws.dir, 'small.yaml'), '# later edit\n');
    const r = sign({ role: 'lead', key: ws.keys.lead.key });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('the runbook changed since the run');
  });

  it('a forged role annotation on someone else’s signature counts for nothing', () => {
    const forged = addSignature(ws.readEnvelope(), ws.keys.stranger.privateKey, { role: 'lead', signer: 'Ana' });
    if (!forged.added) throw new Error('not added');
    ws.writeEnvelope(forged.envelope);
    const v = run((ctx) => recordVerifyCommand(ws.record, {}, ctx));
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/Deployment Lead \(lead\)\s+not signed \(deployctl record sign --role lead adds a sign-off\)/);
  });
});

describe('the sign-off table in show and export', () => {
  beforeEach(() => {
    expect(sign({ role: 'lead', key: ws.keys.lead.key, operator: 'Ana Torres' }).code).toBe(0);
    expect(sign({ role: 'ops', key: ws.keys.ops.key, operator: 'Olu' }).code).toBe(0);
  });

  it('show lists every role: signed, unverified identity, missing', () => {
    const r = run((ctx) => recordShowCommand(ws.record, {}, ctx));
    expect(r.code).toBe(0);
    const table = r.stdout.slice(r.stdout.indexOf('\nSign-offs\n'));
    expect(table).toMatch(/✔ Deployment Lead \(lead\)\s+signed by Ana Torres on 2026-11-27T09:00:00\.000Z/);
    expect(table).toMatch(/· QA Lead \(qa\)\s+not signed \(deployctl record sign --role qa adds a sign-off\)\n/);
    expect(table).toMatch(/\? Operations \(ops\)\s+unverified identity: Olu/);
  });

  it('export fills | Role | Name | Date | Signature | from the verified sign-offs', () => {
    const r = run((ctx) => recordExportCommand(ws.record, { format: 'markdown' }, ctx));
    expect(r.code).toBe(0);
    const md = r.stdout;
    expect(md).toContain('| Role | Name | Date | Signature |');
    expect(md).toMatch(/\| Deployment Lead \| Ana Torres \| 2026-11-27T09:00:00\.000Z \| ✔ sha256:[0-9a-f]{12} \|/);
    expect(md).toContain('| QA Lead |  |  |  |');
    expect(md).toMatch(/\| Operations \| Olu \| 2026-11-27T09:00:00\.000Z \| sha256:[0-9a-f]{12} \(unverified identity\) \|/);
    expect(md).toMatch(/Record signed by: `sha256:[0-9a-f]{12}` \(ana, 2026-11-26T15:16:00\.000Z\)/);
  });
});
