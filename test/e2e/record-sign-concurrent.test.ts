// Concurrent `record sign` on one record, as real processes: a sign-off that exits 0 is in the file; one that is not says why (the lock), never "disk".
import { createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, killAllClis, runCli, stackTraceLines, type CliResult } from '../helpers/cli.js';
import { verifyEnvelope, type Envelope } from '../../src/record/dsse.js';
import { loadPrivateKey, writeKeyPair } from '../../src/record/keys.js';
import { makeWorkspace, sha256, smallPredicate, SMALL_RUNBOOK, type Workspace } from '../fixtures/records/workspace.js';

/** Signers at once, and how many times the race is run. */
const SIGNERS = 8;
const ROUNDS = 3;

let ws: Workspace;
let original: Buffer;
const signers: { role: string; key: string; keyId: string; publicKey: ReturnType<typeof createPublicKey> }[] = [];

beforeAll(() => {
  assertBuilt();
  // The small runbook plus one role per signer, each listing its own key: every signer may sign, each for its role.
  const runbook = `${SMALL_RUNBOOK.replace(/\nphases:/, () => `\n${Array.from({ length: SIGNERS }, (_, i) => `  s${i}: { title: Signer ${i}, keys: [keys/s${i}.pub] }`).join('\n')}\nphases:`)}`;
  expect(runbook).toContain(`  ops: { title: Operations, primary: Olu }\n  s0: { title: Signer 0, keys: [keys/s0.pub] }\n`);
  ws = makeWorkspace(smallPredicate(sha256(runbook)));
  fs.writeFileSync(path.join(ws.dir, 'small.yaml'), runbook);
  for (let i = 0; i < SIGNERS; i++) {
    const written = writeKeyPair(path.join(ws.dir, 'keys'), `s${i}`);
    if (!written.ok) throw new Error(written.error.message);
    const loaded = loadPrivateKey(written.keyPath);
    if (!loaded.ok) throw new Error(loaded.error.message);
    signers.push({ role: `s${i}`, key: path.relative(ws.dir, written.keyPath), keyId: loaded.keyId, publicKey: createPublicKey(loaded.key) });
  }
  original = fs.readFileSync(path.join(ws.dir, ws.record));
});
afterEach(() => killAllClis());
afterAll(() => ws?.cleanup());

const sign = (role: string, key: string, env: Record<string, string> = {}): Promise<CliResult> =>
  runCli(['record', 'sign', ws.record, '--role', role, '--key', key, '--operator', role], { cwd: ws.dir, env, timeoutMs: 60_000 });

describe('concurrent record sign on one record', () => {
  it(`keeps every sign-off that exited 0: ${SIGNERS} signers at once, ${ROUNDS} rounds`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      fs.writeFileSync(path.join(ws.dir, ws.record), original);
      const results = await Promise.all(signers.map((s) => sign(s.role, s.key)));
      const envelope = JSON.parse(fs.readFileSync(path.join(ws.dir, ws.record), 'utf8')) as Envelope;
      const report = results.map((r, i) => `${signers[i]!.role}: exit ${r.code} ${r.stdout.trim()} ${r.stderr.trim()}`).join('\n');
      for (const [i, r] of results.entries()) {
        const s = signers[i]!;
        expect(stackTraceLines(r.stderr), report).toEqual([]);
        expect(r.stderr, report).not.toMatch(/disk|internal error|bug/i);
        if (r.code === 0) {
          // Its signature is in the file, and verifies there with its key.
          const verdict = verifyEnvelope(envelope, [{ key: s.publicKey, label: s.role }]);
          expect(verdict.status === 'verified' && verdict.validKeyIds.includes(s.keyId), `round ${round}: ${s.role} exited 0 but its signature is not in the file\n${report}`).toBe(true);
        } else {
          // A sign-off that is not in the file says why, and what to do.
          expect(r.code, report).toBe(1);
          expect(r.stderr, report).toMatch(/nothing was written.*run the command again/s);
        }
      }
      expect(envelope.signatures, report).toHaveLength(1 + results.filter((r) => r.code === 0).length);
      // The lock waits its turn: with a handful of signers, every one of them gets in.
      expect(results.every((r) => r.code === 0), report).toBe(true);
    }
  }, 240_000);

  it('a signer killed while holding the lock leaves the record as it was, and the next one takes the lock over', async () => {
    fs.writeFileSync(path.join(ws.dir, ws.record), original);
    const killed = await sign('s0', signers[0]!.key, { DEPLOYCTL_FAULT: 'sign-locked:1' });
    expect(killed.signal).toBe('SIGKILL');
    expect(fs.readFileSync(path.join(ws.dir, ws.record)).equals(original)).toBe(true);
    const lockFile = path.join(ws.dir, path.dirname(ws.record), `.${path.basename(ws.record)}.lock`);
    expect(JSON.parse(fs.readFileSync(lockFile, 'utf8'))).toMatchObject({ what: 'deployctl record sign' });
    const next = await sign('s1', signers[1]!.key);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/note: took over the lock .* which is no longer running/);
    expect(fs.existsSync(lockFile)).toBe(false);
  });
});
