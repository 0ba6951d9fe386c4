// The seed of every property and fuzz test in this run: fixed unless FC_SEED says otherwise (test/setup/fast-check.ts).
import { randomInt } from 'node:crypto';

/** The fixed seed `npm test` and CI use. */
export const FIXED_SEED = 20261206;

let drawn: number | undefined;

/** FC_SEED=<integer> replays a failure; FC_SEED=random draws new cases (once per test file); unset, the fixed seed. */
export function chosenSeed(): number {
  const chosen = process.env['FC_SEED'];
  if (chosen === undefined || chosen === '') return FIXED_SEED;
  if (chosen === 'random') return (drawn ??= randomInt(2 ** 31));
  const seed = Number(chosen);
  if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer or "random", not ${JSON.stringify(chosen)}`);
  return seed;
}
