// `record sign` and the sign-off table apply one rule (decideSignoff): every sign-off sequence, then the table checked against `record sign` itself.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordSignCommand, recordVerifyCommand, type SignFlags } from '../../src/commands/record.js';
import { keyId } from '../../src/record/keys.js';
import { commandResult, makeWorkspace, type Workspace } from '../fixtures/records/workspace.js';

// One workspace (key generation is the slow part); each case starts from the record as the run left it.
let ws: Workspace;
let original: Buffer;
beforeAll(() => {
  ws = makeWorkspace();
  original = fs.readFileSync(path.join(ws.dir, ws.record));
});
afterAll(() => ws.cleanup());
beforeEach(() => fs.writeFileSync(path.join(ws.dir, ws.record), original));

const run = (fn: (ctx: ReturnType<Workspace['ctx']>) => number) => commandResult(ws.ctx(), fn);

const sign = (flags: Omit<SignFlags, 'operator'>) => run((ctx) => recordSignCommand(ws.record, flags, ctx));
const recordBytes = () => fs.readFileSync(path.join(ws.dir, ws.record));

describe('record sign and the sign-off table apply one rule', () => {
  // Every way to sign off once or twice (one key for two roles, two keys for one role), with every key a role may be
  // handed: its own, another role's, the run key, one nobody lists. After each, the table may show a role as signed
  // (or as an unverified identity) by a key only if `record sign` accepts that key for that role: signing again is the
  // no-op, exit 0, bytes unchanged. A sign-off `record sign` refused never shows; one it accepted (exit 0) always does.
  const ROLES = ['lead', 'qa', 'ops'] as const;
  const KEYS = ['lead', 'qa', 'ops', 'stranger', 'run'] as const;
  type Attempt = [role: (typeof ROLES)[number], key: (typeof KEYS)[number]];
  const singles: Attempt[] = ROLES.flatMap((role) => KEYS.map((key): Attempt => [role, key]));
  const sequences: Attempt[][] = [
    ...singles.map((a) => [a]),
    // One key, two roles.
    ...KEYS.flatMap((key) => ROLES.flatMap((r1) => ROLES.filter((r2) => r2 !== r1).map((r2): Attempt[] => [[r1, key], [r2, key]]))),
    // Two keys for the role that lists none (a role that lists keys takes only those, as the singles show).
    ...KEYS.flatMap((k1) => KEYS.filter((k2) => k2 !== k1).map((k2): Attempt[] => [['ops', k1], ['ops', k2]])),
  ];
  const shownRows = () => {
    const out = run((ctx) => recordVerifyCommand(ws.record, { json: true }, ctx));
    const json = JSON.parse(out.stdout) as { signoffs: { role: string; state: string; by: { keyid: string }[] }[] };
    return json.signoffs.filter((r) => r.state === 'signed' || r.state === 'unverified-identity');
  };

  it.each(sequences.map((s) => [s.map(([r, k]) => `--role ${r} --key ${k}`).join(', then '), s] as const))('%s', (_name, attempts) => {
    const keyIdOf = Object.fromEntries(KEYS.map((k) => [k, keyId(ws.keys[k].privateKey)]));
    const outcomes = attempts.map(([role, key]) => ({ role, key, code: sign({ role, key: ws.keys[key].key }).code }));
    const rows = shownRows();
    for (const { role, key, code } of outcomes) {
      const shown = rows.some((r) => r.role === role && r.by.some((b) => b.keyid === keyIdOf[key]));
      if (code !== 0) expect(shown, `refused --role ${role} --key ${key} but the table shows it`).toBe(false);
      else expect(shown, `record sign --role ${role} --key ${key} exited 0 but the table does not show that sign-off`).toBe(true);
    }
    for (const row of rows) {
      for (const by of row.by) {
        const key = KEYS.find((k) => keyIdOf[k] === by.keyid);
        expect(key, `${row.role} shown signed by a key not in the test`).toBeDefined();
        const before = recordBytes();
        const again = sign({ role: row.role as Attempt[0], key: ws.keys[key!].key });
        expect(again.code, `the table shows ${row.role} signed by the ${key} key, but record sign refuses that key for ${row.role}: ${again.stderr}`).toBe(0);
        expect(recordBytes().equals(before), `signing ${row.role} again with the ${key} key changed the record`).toBe(true);
      }
    }
  });
});
