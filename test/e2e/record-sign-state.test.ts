// `record sign postgres:<name> --state …` as real processes against a real PostgreSQL: a record a run kept there is signed off from another machine; signers at once all land (or fail saying why); a signer killed holding the row leaves it as it was.
import { createPublicKey } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyEnvelope, type Envelope } from '../../src/record/dsse.js';
import { loadPrivateKey, writeKeyPair } from '../../src/record/keys.js';
import { assertBuilt, killAllClis, reapProcessesIn, runCli, stackTraceLines, type CliResult } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

const SIGNERS = 6;
const ROUNDS = 2;
const SLOW = 240_000;

let root: string;
let db: TestDatabase;
/** The machine that signs off: the runbook, the signers' keys, and the run key of the machine that ran (a-run.pub). */
let b: string;
let name: string;
let original: string;
const signers: { role: string; key: string; keyId: string; publicKey: ReturnType<typeof createPublicKey> }[] = [];

const YAML = `
version: 1
name: kept
roles:
  ops: { title: Ops }
${Array.from({ length: SIGNERS }, (_, i) => `  s${i}: { title: Signer ${i}, keys: [keys/s${i}.pub] }`).join('\n')}
phases:
  - id: deploy
    steps:
      - { id: ship, owner: ops, run: "echo shipped >> log", idempotent: true }
`;

function clean(result: CliResult, what: string): CliResult {
  expect(result.timedOut, `${what} timed out`).toBe(false);
  expect(stackTraceLines(result.stdout + result.stderr), `${what}:\n${result.stderr}`).toEqual([]);
  return result;
}

beforeAll(async () => {
  assertBuilt();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-record-sign-state-'));
  db = createTestDatabase();
  const a = fs.mkdtempSync(path.join(root, 'a-'));
  fs.writeFileSync(path.join(a, 'kept.yaml'), YAML);
  for (let i = 0; i < SIGNERS; i++) {
    const written = writeKeyPair(path.join(a, 'keys'), `s${i}`);
    if (!written.ok) throw new Error(written.error.message);
    const loaded = loadPrivateKey(written.keyPath);
    if (!loaded.ok) throw new Error(loaded.error.message);
    signers.push({ role: `s${i}`, key: `keys/s${i}.key`, keyId: loaded.keyId, publicKey: createPublicKey(loaded.key) });
  }
  const ran = clean(await runCli(['run', 'kept.yaml'], { cwd: a, env: { DEPLOYCTL_STATE: db.url } }), 'run');
  expect(ran.code, ran.stderr).toBe(0);
  b = fs.mkdtempSync(path.join(root, 'b-'));
  fs.writeFileSync(path.join(b, 'kept.yaml'), YAML);
  fs.cpSync(path.join(a, 'keys'), path.join(b, 'keys'), { recursive: true });
  fs.copyFileSync(path.join(a, '.deployctl/keys/deployctl.pub'), path.join(b, 'a-run.pub'));
  name = db.psql('SELECT name FROM deployctl.records');
  original = db.psql(`SELECT envelope FROM deployctl.records WHERE name = '${name}'`);
}, SLOW);
afterEach(async () => {
  await killAllClis();
  reapProcessesIn(root);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const TRUST = () => ['--pubkey', 'a-run.pub', '--state', db.url];
const sign = (role: string, key: string, env: Record<string, string> = {}) => runCli(['record', 'sign', `postgres:${name}`, '--role', role, '--key', key, '--operator', role, ...TRUST()], { cwd: b, env, timeoutMs: 60_000 });
const stored = (): Envelope => JSON.parse(db.psql(`SELECT envelope FROM deployctl.records WHERE name = '${name}'`)) as Envelope;
const restore = () => db.psql(`UPDATE deployctl.records SET envelope = '${original.replace(/'/g, "''")}' WHERE name = '${name}'`);

describe('record sign on a record a run kept in PostgreSQL', { timeout: SLOW }, () => {
  it(`keeps every sign-off that exited 0: ${SIGNERS} signers at once, ${ROUNDS} rounds; the record verifies and is listed once`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      restore();
      const results = await Promise.all(signers.map((s) => sign(s.role, s.key)));
      const envelope = stored();
      const report = results.map((r, i) => `${signers[i]!.role}: exit ${r.code} ${r.stdout.trim()} ${r.stderr.trim()}`).join('\n');
      for (const [i, r] of results.entries()) {
        const s = signers[i]!;
        expect(stackTraceLines(r.stderr), report).toEqual([]);
        if (r.code === 0) {
          expect(r.stdout, report).toMatch(new RegExp(`^signed off postgres:${name.replace(/\./g, '\\.')} for role ${s.role} \\(Signer \\d\\) as ${s.role} with key sha256:[0-9a-f]{12}; the record now has \\d signatures`));
          const verdict = verifyEnvelope(envelope, [{ key: s.publicKey, label: s.role }]);
          expect(verdict.status === 'verified' && verdict.validKeyIds.includes(s.keyId), `round ${round}: ${s.role} exited 0 but its signature is not in the row\n${report}`).toBe(true);
        } else {
          expect(r.code, report).toBe(1);
          expect(r.stderr, report).toMatch(/nothing was written.*run the command again/s);
        }
      }
      expect(envelope.signatures, report).toHaveLength(1 + results.filter((r) => r.code === 0).length);
      // The row lock waits its turn: with a handful of signers, every one of them gets in.
      expect(results.every((r) => r.code === 0), report).toBe(true);
      // Each reported the count it left: 2, 3, … in the order they went.
      expect(results.map((r) => Number(/now has (\d+) signatures/.exec(r.stdout)?.[1])).sort((x, y) => x - y), report).toEqual(Array.from({ length: SIGNERS }, (_, i) => i + 2));
    }

    const verify = clean(await runCli(['record', 'verify', `postgres:${name}`, ...TRUST()], { cwd: b }), 'record verify');
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    for (const s of signers) expect(verify.stdout).toMatch(new RegExp(`✔ Signer ${s.role.slice(1)} \\(${s.role}\\)\\s+signed by ${s.role}`));
    const md = clean(await runCli(['record', 'export', `postgres:${name}`, '--format', 'markdown', ...TRUST()], { cwd: b }), 'record export');
    expect(md.code, md.stderr).toBe(0);
    for (const s of signers) expect(md.stdout).toMatch(new RegExp(`\\| Signer ${s.role.slice(1)} \\| ${s.role} \\| [0-9T:.Z-]+ \\| ✔ sha256:[0-9a-f]{12} \\|`));
    const list = clean(await runCli(['record', 'list', ...TRUST()], { cwd: b }), 'record list');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.split(`postgres:${name}`).length - 1, list.stdout).toBe(1);
    expect(db.psql('SELECT count(*) FROM deployctl.records')).toBe('1');
  });

  it('a signer killed while holding the row leaves the record as it was, and the next one signs at once', async () => {
    restore();
    const killed = await sign('s0', signers[0]!.key, { DEPLOYCTL_FAULT: 'sign-locked:1' });
    expect(killed.signal).toBe('SIGKILL');
    expect(db.psql(`SELECT envelope FROM deployctl.records WHERE name = '${name}'`)).toBe(original);
    const started = Date.now();
    const next = clean(await sign('s1', signers[1]!.key), 'sign after the kill');
    expect(next.code, next.stderr).toBe(0);
    // The server ended the dead session's transaction: no waiting for a lock that nobody holds.
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(stored().signatures.map((s) => s.role ?? 'run')).toEqual(['run', 's1']);
  });

  it('refuses a key the runbook lists for another role, and a name the database does not hold (exit 2, nothing signed)', async () => {
    restore();
    const wrong = clean(await sign('s0', signers[1]!.key), 'sign with the wrong key');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`deployctl: ${signers[1]!.key} (${signers[1]!.keyId.slice(0, 19)}) is not a key the runbook lists for role s0 (Signer 0)`);
    const unknown = clean(await runCli(['record', 'sign', 'postgres:kept-nosuch.json', '--role', 's0', '--key', signers[0]!.key, ...TRUST()], { cwd: b }), 'sign an unknown name');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no record kept-nosuch.json in postgres:///');
    expect(db.psql(`SELECT envelope FROM deployctl.records WHERE name = '${name}'`)).toBe(original);
  });
});
