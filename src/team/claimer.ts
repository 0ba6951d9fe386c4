// Claiming a prompt from another terminal (join, answer): the first free slot from where the asking starts, past slots whose claims do not count.
import { CliError, ExitCode } from '../errors.js';
import type { PromptClaim, StateStore, StoredClaim } from '../ports/state/store.js';
import type { Verdict } from './judge.js';

export interface ClaimInputs {
  store: StateStore;
  runId: string;
  /** The first slot to try (src/team/prompts.ts startSlot). */
  startSlot: number;
  /** This person's signed claim for a slot (the signature covers the slot). */
  claimFor(slot: number): PromptClaim;
  /** The host's rule (src/team/judge.ts) applied to a claim found in a slot. */
  judge(stored: StoredClaim, slot: number): Verdict;
}

export type ClaimOutcome =
  | { won: true; slot: number; claim: PromptClaim }
  /** Someone answered first, validly: their answer is the one that counts. */
  | { won: false; slot: number; winner: Extract<Verdict, { ok: true }>; refusedBefore: number };

/** Bounds a loop over slots filled by someone who keeps forging claims. */
const MAX_SLOTS = 1000;

/**
 * Claim the first slot nobody holds, from `startSlot` on. A slot already held by a claim that counts means someone
 * answered first: that answer stands. A slot held by a claim that does not count (forged, a person without the role) is
 * passed over: the host refuses it too, and reads on to the next slot, where this claim then lands.
 */
export async function claimPrompt(inputs: ClaimInputs): Promise<ClaimOutcome> {
  let refused = 0;
  for (let slot = inputs.startSlot; slot < inputs.startSlot + MAX_SLOTS; slot++) {
    const claim = inputs.claimFor(slot);
    const result = await inputs.store.claim(inputs.runId, claim);
    if (result.won) return { won: true, slot, claim };
    const verdict = inputs.judge(result.winner, slot);
    if (verdict.ok) return { won: false, slot, winner: verdict, refusedBefore: refused };
    refused++;
  }
  throw new CliError(`${MAX_SLOTS} claims on one prompt did not count: someone is flooding run ${inputs.runId} with forged answers; nothing was answered`, { exitCode: ExitCode.failed, hint: 'deployctl status shows the refused claims; stop whoever writes them' });
}
