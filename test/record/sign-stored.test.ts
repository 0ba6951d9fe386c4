// `record sign postgres:<name> --state …` against a real PostgreSQL: the sign-off lands in the row and verifies; refusals are the file's; a name the store lacks, a row held by another session and two sign-offs at once each end as said, never with a sign-off reported and lost.
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordExportCommand, recordListCommand, recordShowCommand, recordSignCommand, recordSignStoredCommand, recordVerifyCommand, resolveRecordTarget, type SignFlags } from '../../src/commands/record.js';
import { connectClient, errorDescriber } from '../../src/ports/state/postgres-connect.js';
import { openStateStore, resolveState } from '../../src/ports/state/location.js';
import type { Envelope } from '../../src/record/dsse.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { commandResult, commandResultAsync, makeWorkspace, type CommandResult, type Workspace } from '../fixtures/records/workspace.js';

let ws: Workspace;
let db: TestDatabase;
let name: string;
let label: string;

beforeEach(async () => {
  ws = makeWorkspace();
  db = createTestDatabase();
  // The record as `deployctl run --state postgres://…` keeps it: a row holding the sealed envelope.
  const text = fs.readFileSync(`${ws.dir}/${ws.record}`, 'utf8');
  name = ws.record.split('/').at(-1)!;
  label = `postgres:${name}`;
  const store = await openStateStore(resolveState(db.url, {}, ws.dir).location);
  await store.saveRecord({ name, runId: '20261126T151500Z-3f9a1c', runbook: 'small', status: 'failed', sealedAt: Date.parse('2026-11-26T15:16:00.000Z'), text, file: `${ws.dir}/${ws.record}` });
  await store.close();
});
afterEach(() => ws.cleanup());

const stored = (): Envelope => JSON.parse(db.psql(`SELECT envelope FROM deployctl.records WHERE name = '${name}'`)) as Envelope;

/** Run `record <command> postgres:<name> --state URL` as the CLI does: resolve the target, then the command. */
async function onStored(fn: (target: Exclude<Awaited<ReturnType<typeof resolveRecordTarget>>['target'], undefined>, ctx: ReturnType<Workspace['ctx']>) => number | Promise<number>, waitMs?: number, recordName = label): Promise<CommandResult> {
  const ctx = { ...ws.ctx(), ...(waitMs !== undefined ? { signLockWaitMs: waitMs } : {}) };
  return commandResultAsync(ctx, async (c) => {
    const { target } = await resolveRecordTarget(recordName, db.url, c);
    return fn(target!, c);
  });
}

const signStored = (flags: Omit<SignFlags, 'state'>, waitMs?: number) =>
  onStored((target, ctx) => {
    if (typeof target === 'string') throw new Error(`resolved to a file: ${target}`);
    return recordSignStoredCommand(target, { ...flags, state: db.url }, ctx);
  }, waitMs);

describe('record sign on a record kept in PostgreSQL', () => {
  it('adds the sign-off to the row: it verifies, show and export show it, and record list lists the record once', async () => {
    const r = await signStored({ role: 'lead', key: ws.keys.lead.key, operator: 'Ana Torres' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^signed off ${label.replace(/\./g, '\\.')} for role lead \\(Deployment Lead\\) as Ana Torres with key sha256:[0-9a-f]{12}; the record now has 2 signatures$`));
    const envelope = stored();
    expect(envelope.signatures).toHaveLength(2);
    expect(envelope.signatures[1]).toMatchObject({ role: 'lead', signer: 'Ana Torres', signed_at: '2026-11-27T09:00:00.000Z' });
    expect(Number(db.psql(`SELECT count(*) FROM deployctl.records`))).toBe(1);

    const v = await onStored((t, ctx) => recordVerifyCommand(t, {}, ctx));
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/✔ Deployment Lead \(lead\)\s+signed by Ana Torres on 2026-11-27T09:00:00\.000Z, key sha256:[0-9a-f]{12} \(role lead: keys\/lead\.pub\)/);
    const show = await onStored((t, ctx) => recordShowCommand(t, {}, ctx));
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout.slice(show.stdout.indexOf('\nSign-offs\n'))).toMatch(/✔ Deployment Lead \(lead\)\s+signed by Ana Torres on 2026-11-27T09:00:00\.000Z/);
    const md = await onStored((t, ctx) => recordExportCommand(t, { format: 'markdown' }, ctx));
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toMatch(/\| Deployment Lead \| Ana Torres \| 2026-11-27T09:00:00\.000Z \| ✔ sha256:[0-9a-f]{12} \|/);
    const list = await commandResultAsync(ws.ctx(), (ctx) => recordListCommand({ state: db.url, json: true }, ctx));
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout) as { file: string; verdict?: string }[];
    expect(rows.filter((row) => JSON.stringify(row).includes(name))).toHaveLength(1);

    // The same key again: nothing changed, the row neither.
    const again = await signStored({ role: 'lead', key: ws.keys.lead.key, operator: 'Ana Torres' });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`${label} already carries a valid signature by this key`);
    expect(stored()).toEqual(envelope);
  });

  it('refuses a key not allowed for the role with the words it uses for a file, and writes nothing', async () => {
    const before = stored();
    const r = await signStored({ role: 'lead', key: ws.keys.qa.key });
    const onFile = commandResult(ws.ctx(), (ctx) => recordSignCommand(ws.record, { role: 'lead', key: ws.keys.qa.key }, ctx));
    expect(onFile.code).toBe(2);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(onFile.stderr.split(ws.record).join(label));
    expect(r.stderr).toContain('is not a key the runbook lists for role lead (Deployment Lead)');
    // A role's key claiming a role that lists none (ops).
    const other = await signStored({ role: 'ops', key: ws.keys.qa.key });
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('is the key the runbook lists for qa; role ops (Operations) lists no keys');
    expect(other.stderr).toBe(commandResult(ws.ctx(), (ctx) => recordSignCommand(ws.record, { role: 'ops', key: ws.keys.qa.key }, ctx)).stderr.split(ws.record).join(label));
    // The run's own key: it signed the record already, and a key signs once.
    const runKey = await signStored({ role: 'lead', key: ws.keys.run.key });
    expect(runKey.code).toBe(2);
    expect(runKey.stderr).toBe(commandResult(ws.ctx(), (ctx) => recordSignCommand(ws.record, { role: 'lead', key: ws.keys.run.key }, ctx)).stderr.split(ws.record).join(label));
    expect(stored()).toEqual(before);
  });

  it('refuses to sign a row whose content was changed (it does not verify), as it refuses such a file, and leaves it as it is', async () => {
    const envelope = stored();
    const payload = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as { predicate: { status: string } };
    payload.predicate.status = 'succeeded';
    const forged = JSON.stringify({ ...envelope, payload: Buffer.from(JSON.stringify(payload)).toString('base64') }, null, 2);
    db.psql(`UPDATE deployctl.records SET envelope = '${forged.replace(/'/g, "''")}' WHERE name = '${name}'`);
    const r = await signStored({ role: 'lead', key: ws.keys.lead.key });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`refusing to sign ${label}: it does not verify, and a sign-off would vouch for content that may be forged`);
    expect(db.psql(`SELECT envelope FROM deployctl.records WHERE name = '${name}'`)).toBe(forged);
  });

  it('says so when the store holds no record of that name, before and while signing', async () => {
    const unknown = await onStored(() => 0, undefined, 'postgres:small-nosuch.json');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no record small-nosuch.json in ');
    expect(unknown.stderr).toContain('record list --state … lists the records there');
    // Read, then removed before the sign-off is written.
    const r = await onStored((target, ctx) => {
      if (typeof target === 'string') throw new Error('resolved to a file');
      db.psql(`DELETE FROM deployctl.records WHERE name = '${name}'`);
      return recordSignStoredCommand(target, { role: 'lead', key: ws.keys.lead.key, state: db.url }, ctx);
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`deployctl: ${label} is no longer in postgres:///`);
    expect(r.stderr).toContain('(it was removed while being signed): nothing was signed');
    expect(db.psql('SELECT count(*) FROM deployctl.records')).toBe('0');
  });

  it('waits for a session holding the row, then fails (exit 1) naming it and what to do, and writes nothing', async () => {
    const before = stored();
    const holder = await connectClient(db.url, errorDescriber(db.url, 'test').describe, 'deployctl record sign (pid 4242 on box)');
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM deployctl.records WHERE name = $1 FOR UPDATE', [name]);
      const pid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const started = performance.now();
      const r = await signStored({ role: 'lead', key: ws.keys.lead.key }, 300);
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(`deployctl: ${label.replace(/\./g, '\\.')} is being signed by deployctl record sign \\(pid 4242 on box\\) \\(database session ${pid} from a local socket, since \\d{4}-\\d\\d-\\d\\dT[^)]+\\); waited 0\\.\\d s for it to finish, and nothing was written`),
      );
      expect(r.stderr).toContain(`run the command again once it has finished; it holds the row of ${name} in postgres:///`);
      expect(r.stderr).toContain(`SELECT pg_terminate_backend(${pid})`);
      expect(r.stderr).not.toMatch(/disk|internal error/i);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect(stored()).toEqual(before);
    // Free again: the same command signs.
    expect((await signStored({ role: 'lead', key: ws.keys.lead.key })).code).toBe(0);
  });

  it('two sign-offs at once both land in the row, one after the other', async () => {
    const [lead, qa] = await Promise.all([signStored({ role: 'lead', key: ws.keys.lead.key, operator: 'Ana' }), signStored({ role: 'qa', key: ws.keys.qa.key, operator: 'Carol' })]);
    expect(lead.code, lead.stderr).toBe(0);
    expect(qa.code, qa.stderr).toBe(0);
    expect([lead.stdout, qa.stdout].map((s) => /now has (\d) signatures/.exec(s)?.[1]).sort()).toEqual(['2', '3']);
    expect(stored().signatures.map((s) => s.role ?? 'run').sort()).toEqual(['lead', 'qa', 'run']);
    const v = await onStored((t, ctx) => recordVerifyCommand(t, {}, ctx));
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/✔ Deployment Lead \(lead\)\s+signed by Ana/);
    expect(v.stdout).toMatch(/✔ QA Lead \(qa\)\s+signed by Carol/);
  });

  it('the same sign-off twice at once: one writes it, the other, decided again on the row it waited for, changes nothing', async () => {
    const both = await Promise.all([0, 1].map(() => signStored({ role: 'lead', key: ws.keys.lead.key, operator: 'Ana' })));
    for (const r of both) expect(r.code, r.stderr).toBe(0);
    expect(both.filter((r) => r.stdout.includes('the record now has 2 signatures'))).toHaveLength(1);
    expect(both.filter((r) => r.stdout.includes('already carries a valid signature by this key'))).toHaveLength(1);
    expect(stored().signatures).toHaveLength(2);
  });
});
