// Prompt claims as stored: untrusted JSON, checked field by field on the way back in, never thrown on.
import type { PromptClaim, StoredClaim } from './store.js';

/** A stored claim is small; anything bigger is not one of ours. */
const MAX_CLAIM_BYTES = 256 * 1024;

/** Parse a stored claim of `promptId`; `what` names it in the problem ("the claim .deployctl/runs/…/x.json"). */
export function parseClaim(text: string, promptId: string, what: string): StoredClaim {
  const bad = (problem: string): StoredClaim => ({ ok: false, promptId, problem: `${what} ${problem}` });
  if (text.length > MAX_CLAIM_BYTES) return bad(`is ${text.length} bytes, more than a claim may be`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return bad('is not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return bad('is not a JSON object');
  const claim = value as Record<string, unknown>;
  if (claim['promptId'] !== promptId) return bad(`names prompt ${JSON.stringify(claim['promptId'])}, not ${promptId}`);
  if (typeof claim['by'] !== 'string' || claim['by'] === '') return bad('names no one in `by`');
  if (typeof claim['at'] !== 'number' || !Number.isFinite(claim['at'])) return bad('has no time in `at`');
  if (!('answer' in claim)) return bad('has no answer');
  if (claim['host'] !== undefined && typeof claim['host'] !== 'string') return bad('has a `host` that is not text');
  const parsed: PromptClaim = { promptId, by: claim['by'], answer: claim['answer'], at: claim['at'] };
  if (typeof claim['host'] === 'string') parsed.host = claim['host'];
  if (claim['proof'] !== undefined) parsed.proof = claim['proof'];
  return { ok: true, claim: parsed };
}
