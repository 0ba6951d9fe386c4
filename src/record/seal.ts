// Seal a record: encode the statement, sign it (DSSE), write it atomically, then read it back and verify before trusting it.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { compactUtcStamp } from '../ports/clock.js';
import { readTextFile, writeFileAtomic } from '../ports/fs.js';
import { signEnvelope, verifyEnvelope, type Envelope } from './dsse.js';
import { keyId } from './keys.js';
import { buildStatement, encodeStatement, STATEMENT_PAYLOAD_TYPE } from './statement.js';
import type { RecordPredicate } from './types.js';

export interface SealInputs {
  predicate: RecordPredicate;
  /** The runbook file as named on the command line, and the sha256 of its bytes. */
  subject: { name: string; sha256: string };
  privateKey: KeyObject;
  outPath: string;
  signer: string;
  now: number;
}

export interface SealedRecord {
  path: string;
  keyId: string;
  envelope: Envelope;
}

export function sealRecord({ predicate, subject, privateKey, outPath, signer, now }: SealInputs): SealedRecord {
  const statement = buildStatement(predicate, { name: subject.name, digest: { sha256: subject.sha256 } });
  const envelope = signEnvelope(STATEMENT_PAYLOAD_TYPE, encodeStatement(statement), privateKey, { signer, signed_at: new Date(now).toISOString() });
  writeFileAtomic(outPath, `${JSON.stringify(envelope, null, 2)}\n`, 0o644);
  // Trust what is on disk, not what is in memory: read it back and verify it.
  const publicKey = createPublicKey(privateKey);
  const written = JSON.parse(readTextFile(outPath)) as unknown;
  const verdict = verifyEnvelope(written, [{ key: publicKey, label: 'the signing key' }]);
  if (verdict.status !== 'verified') {
    throw new Error(`the record written to ${outPath} does not verify after writing (${verdict.status}); the disk or file system may be failing`);
  }
  return { path: outPath, keyId: keyId(publicKey), envelope };
}

/**
 * `phase65-20261126T153012345Z-20261126T151500123Z-3f9a1c.json`: the runbook, when the record was sealed, and the run id,
 * so a resumed run's final record sits beside (never over) the record of its interrupted session.
 */
export function recordFileName(runbookName: string, runId: string, sealedAt: number): string {
  // Milliseconds too: a run interrupted and resumed within one second seals two records, and neither may replace the other.
  return `${runbookName}-${compactUtcStamp(sealedAt, 'milliseconds')}-${runId}.json`;
}
