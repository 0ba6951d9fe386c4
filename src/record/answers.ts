// Signed answers: the statement a person signs when answering a prompt (run, prompt, slot, answer, time, journal head), signed and checked like a DSSE signature, so openssl alone can check one.
//
// The bytes signed are the DSSE pre-authentication encoding of the statement:
//
//   PAE = "DSSEv1" SP len(type) SP type SP len(payload) SP payload       (lengths in ASCII decimal, bytes)
//   type = application/vnd.deployctl.answer+json
//   payload = the statement's JSON, exactly as kept in the record (base64 in `payload`)
//
// and the signature is Ed25519 over PAE (base64 in `sig`). The record keeps the payload's bytes as they were signed,
// so nothing is re-encoded between the signer and the auditor: `openssl pkeyutl -verify -pubin -inkey elif.pub -rawin
// -in pae.bin -sigfile sig.bin` checks one (README "Signed answers").
import * as crypto from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { decodeBase64, keyIdOf, pae } from './dsse.js';
import { parseJsonStrict } from './strict-json.js';

export const ANSWER_PAYLOAD_TYPE = 'application/vnd.deployctl.answer+json';
export const ANSWER_STATEMENT_TYPE = 'https://deployctl.dev/answer/v1';

/** What a person signs. Keys in this order, always: the payload is JSON.stringify of exactly this shape. */
export interface AnswerStatement {
  _type: typeof ANSWER_STATEMENT_TYPE;
  run_id: string;
  /** The prompt: a step (`qa-ready`), a gate's condition (`go-no-go.leadership_approved`), a gate (`go-no-go`), a follow-up (`qa-ready.refused`). */
  prompt_id: string;
  /** Which claim of the prompt this is (1, 2, …): a signature counts for its own slot only, so it cannot be replayed into another. */
  slot: number;
  answer: unknown;
  /** When the answer was given, ISO-8601 (the answerer's clock). */
  at: string;
  /** The hash of the run's journal as the answerer saw it (the newest event's `sha256:…`): the answer came after it. */
  journal_head: string;
  /** Who answers: a person id of the runbook… */
  person?: string;
  /** …or, when nobody of the runbook is at the running terminal, its operator (signing with the run's key). */
  operator?: string;
  /** Where it was given: the running terminal, `deployctl join`, `deployctl answer`, or the `--answers` file the running terminal's person vouches for. */
  via: AnswerVia;
  /** With `via: answers-file`: the file as given on the command line, and the sha256 (hex) of its bytes as read. */
  answers_file?: AnswersFileRef;
}

export type AnswerVia = 'terminal' | 'join' | 'answer' | 'answers-file';

/** The `--answers` file an answer was taken from: an auditor holding the file can tie the answer to it. */
export interface AnswersFileRef {
  path: string;
  sha256: string;
}

/** A signed answer as kept in a claim and in the record. */
export interface SignedAnswer {
  payload_type: string;
  /** Base64 of the statement's JSON bytes, as signed. */
  payload: string;
  keyid: string;
  /** Base64 Ed25519 signature over PAE(payload_type, payload bytes). */
  sig: string;
}

export type AnswerInput = Omit<AnswerStatement, '_type'>;

/** The statement's bytes: a fixed key order, so the same answer always gives the same bytes. */
export function encodeAnswerStatement(input: AnswerInput): Uint8Array {
  const statement: Record<string, unknown> = {
    _type: ANSWER_STATEMENT_TYPE,
    run_id: input.run_id,
    prompt_id: input.prompt_id,
    slot: input.slot,
    answer: input.answer,
    at: input.at,
    journal_head: input.journal_head,
    ...(input.person !== undefined ? { person: input.person } : {}),
    ...(input.operator !== undefined ? { operator: input.operator } : {}),
    via: input.via,
    ...(input.answers_file !== undefined ? { answers_file: { path: input.answers_file.path, sha256: input.answers_file.sha256 } } : {}),
  };
  return new TextEncoder().encode(JSON.stringify(statement));
}

export function signAnswer(input: AnswerInput, privateKey: KeyObject): SignedAnswer {
  const payload = encodeAnswerStatement(input);
  const sig = crypto.sign(null, pae(ANSWER_PAYLOAD_TYPE, payload), privateKey);
  return { payload_type: ANSWER_PAYLOAD_TYPE, payload: Buffer.from(payload).toString('base64'), keyid: keyIdOf(privateKey), sig: sig.toString('base64') };
}

export type OpenedAnswer = { ok: true; statement: AnswerStatement; keyId: string } | { ok: false; reason: string; code: 'malformed' | 'bad-signature' | 'bad-statement' };

/**
 * Check a signed answer with `keys` (the answering person's, or the host's), then read its statement. The signature is
 * checked over the bytes as given, before anything parses them. Never throws on bad input.
 */
export function openSignedAnswer(signed: unknown, keys: readonly KeyObject[]): OpenedAnswer {
  if (signed === null || typeof signed !== 'object' || Array.isArray(signed)) return { ok: false, code: 'malformed', reason: 'carries no signed answer' };
  const s = signed as Record<string, unknown>;
  if (s['payload_type'] !== ANSWER_PAYLOAD_TYPE) return { ok: false, code: 'malformed', reason: `its signed answer has payload_type ${JSON.stringify(s['payload_type'])}, not ${ANSWER_PAYLOAD_TYPE}` };
  const payload = typeof s['payload'] === 'string' && s['payload'].length <= 64 * 1024 ? decodeBase64(s['payload']) : undefined;
  const sig = typeof s['sig'] === 'string' && s['sig'].length <= 1024 ? decodeBase64(s['sig']) : undefined;
  if (payload === undefined || sig === undefined || sig.byteLength !== 64) return { ok: false, code: 'malformed', reason: 'its signed answer is not well-formed (payload and sig must be canonical base64; sig 64 bytes)' };
  const message = pae(ANSWER_PAYLOAD_TYPE, payload);
  const match = keys.find((key) => {
    try {
      return crypto.verify(null, message, key, sig);
    } catch {
      return false;
    }
  });
  if (match === undefined) return { ok: false, code: 'bad-signature', reason: 'its signature does not verify with the key of whoever it names' };
  const json = parseJsonStrict(Buffer.from(payload).toString('utf8'));
  if (!json.ok) return { ok: false, code: 'bad-statement', reason: 'its signed statement is not JSON (or has a key twice)' };
  const statement = json.value as Record<string, unknown>;
  const problem = statementProblem(statement);
  if (problem !== undefined) return { ok: false, code: 'bad-statement', reason: `its signed statement ${problem}` };
  return { ok: true, statement: statement as unknown as AnswerStatement, keyId: keyIdOf(match) };
}

function statementProblem(s: Record<string, unknown>): string | undefined {
  if (s === null || typeof s !== 'object' || Array.isArray(s)) return 'is not an object';
  if (s['_type'] !== ANSWER_STATEMENT_TYPE) return `has _type ${JSON.stringify(s['_type'])}`;
  for (const field of ['run_id', 'prompt_id', 'at', 'journal_head', 'via'] as const) if (typeof s[field] !== 'string') return `has no ${field}`;
  // Slot 0 is no slot: an attempt its claimer refused itself (src/team/live-run.ts), never taken as an answer.
  if (typeof s['slot'] !== 'number' || !Number.isSafeInteger(s['slot']) || s['slot'] < 0) return 'has no slot';
  if (!('answer' in s)) return 'has no answer';
  if ((s['person'] === undefined) === (s['operator'] === undefined)) return 'names neither a person nor an operator, or both';
  if (s['person'] !== undefined && typeof s['person'] !== 'string') return 'has a person that is not text';
  if (s['operator'] !== undefined && typeof s['operator'] !== 'string') return 'has an operator that is not text';
  if (!['terminal', 'join', 'answer', 'answers-file'].includes(s['via'] as string)) return `has via ${JSON.stringify(s['via']).slice(0, 40)}`;
  const file = s['answers_file'] as Record<string, unknown> | undefined;
  if ((s['via'] === 'answers-file') !== (file !== undefined)) return 'names an answers file without via answers-file, or the reverse';
  if (file !== undefined && (file === null || typeof file !== 'object' || typeof file['path'] !== 'string' || typeof file['sha256'] !== 'string' || !/^[0-9a-f]{64}$/.test(file['sha256']))) return 'has an answers_file that is not { path, sha256 }';
  return undefined;
}

/** Deep equality of JSON answers (booleans, text, lists of text): what a claim says and what its signature says must agree. */
export function sameAnswer(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
