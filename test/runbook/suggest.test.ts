// "Did you mean" hints: an exact edit distance, and a guess only when the word is close enough to be a typo.
import { describe, expect, it } from 'vitest';
import { closest, didYouMean, editDistance } from '../../src/runbook/suggest.js';

const STEP_KEYS = ['id', 'title', 'description', 'owner', 'run', 'http', 'confirm', 'checklist', 'ask', 'if', 'timeout', 'retries', 'retry_delay', 'env', 'cwd'];

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['a', '', 1],
    ['', 'abc', 3],
    ['abc', 'abc', 0],
    ['kitten', 'sitting', 3],
    ['timeout', 'tiemout', 1],
    ['ab', 'ba', 1],
    ['abcd', 'acbd', 1],
    ['owner', 'owners', 1],
    ['owner', 'ownr', 1],
    ['retries', 'retires', 1],
    ['ca', 'abc', 3],
    ['Timeout', 'timeout', 1],
    ['a', 'a'.repeat(30), 29],
    ['abcdefghij', 'klmnopqrstuvwxyzKLMN', 20],
  ])('between %j and %j is %d', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe('closest', () => {
  it.each([
    ['tiemout', STEP_KEYS, 'timeout'],
    ['TIMEOUT', STEP_KEYS, 'timeout'],
    ['ownr', STEP_KEYS, 'owner'],
    ['retires', STEP_KEYS, 'retries'],
    ['retry-delay', STEP_KEYS, 'retry_delay'],
    ['opz', ['ops', 'lead'], 'ops'],
    ['leed', ['ops', 'lead'], 'lead'],
    ['abc', ['abd', 'abe'], 'abd'],
  ])('guesses %j is %j among its candidates', (word, candidates, expected) => {
    expect(closest(word, candidates)).toBe(expected);
  });

  it.each([
    ['something', STEP_KEYS, 'nothing is close'],
    ['rn', ['run'], 'two letters are too few to guess from'],
    ['x', ['if'], 'one letter is too few to guess from'],
    ['timeout', [], 'there are no candidates'],
    ['teamout', ['timeout'], 'two typos in seven letters are too many'],
    ['a'.repeat(200), ['a'.repeat(199)], 'nobody mistypes a 200-letter name'],
    ['abcdefghijklmnopqrstuvwxyz0123', ['ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210abc'], 'a long word is not close to a longer, different one'],
  ])('guesses nothing for %j among %j: %s', (word, candidates) => {
    expect(closest(word, candidates)).toBeUndefined();
  });

  it('answers at once for a key a megabyte long', () => {
    const started = performance.now();
    expect(closest('k'.repeat(1024 * 1024), STEP_KEYS)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1000); // linear: ~10 ms; the bound catches a quadratic or worse edit distance, not a slow machine
  });
});

describe('didYouMean', () => {
  it.each([
    ['tiemout', STEP_KEYS, "; did you mean 'timeout'?"],
    ['zzz', STEP_KEYS, ''],
  ])('for %j gives %j', (word, candidates, hint) => {
    expect(didYouMean(word, candidates)).toBe(hint);
  });
});
