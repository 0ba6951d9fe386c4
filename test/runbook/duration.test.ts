// Durations and timeline offsets: parsing agrees with the schema's patterns, formatting is short and rounds sensibly.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatDuration, formatOffset, parseDuration, parseOffset } from '../../src/runbook/duration.js';

const schema = JSON.parse(fs.readFileSync(new URL('../../schemas/runbook.schema.json', import.meta.url), 'utf8')) as {
  $defs: { duration: { pattern: string }; offset: { pattern: string } };
};
const DURATION_PATTERN = new RegExp(schema.$defs.duration.pattern, 'u');
const OFFSET_PATTERN = new RegExp(schema.$defs.offset.pattern, 'u');

const S = 1000;
const M = 60 * S;
const H = 60 * M;

describe('parseDuration', () => {
  it.each([
    ['30s', 30 * S],
    ['5m', 5 * M],
    ['2h', 2 * H],
    ['1d', 24 * H],
    ['250ms', 250],
    ['1h30m', H + 30 * M],
    ['1s500ms', 1500],
    ['5ms', 5],
    ['0s', 0],
    ['90m', 90 * M],
    ['999999999ms', 999_999_999],
    ['1m1m', 2 * M],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    [''],
    ['5'],
    ['m'],
    ['5 m'],
    ['1h 30m'],
    ['-5m'],
    ['+5m'],
    ['1.5h'],
    ['5M'],
    ['5min'],
    ['5mm'],
    ['1234567890s'],
    [' 5m'],
    ['5m '],
    ['T-5m'],
    ['５m'],
  ])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('gives the same answer when called twice (no state left in the regular expression)', () => {
    expect(parseDuration('1h')).toBe(H);
    expect(parseDuration('x')).toBeUndefined();
    expect(parseDuration('1h')).toBe(H);
  });

  it.each(['30s', '1h30m', '0s', '', '5', '1h 30m', '-5m', '1.5h', '5min', '1234567890s', '999999999d', '5ms', '5mm'])(
    'agrees with the schema pattern on %j',
    (text) => {
      expect(parseDuration(text) !== undefined).toBe(DURATION_PATTERN.test(text));
    },
  );
});

describe('parseOffset', () => {
  it.each([
    ['T', 0],
    ['T-20m', -20 * M],
    ['T+4h', 4 * H],
    ['T+1h30m', H + 30 * M],
    ['T-0s', -0],
    ['T+10s', 10 * S],
  ])('reads %j as %d ms from T', (text, ms) => {
    expect(parseOffset(text)).toBe(ms);
  });

  it.each([[''], ['T20m'], ['t-20m'], ['T-'], ['T+-5m'], ['T-20'], ['-20m'], ['T - 20m'], ['TT'], ['T-20m ']])('refuses %j', (text) => {
    expect(parseOffset(text)).toBeUndefined();
  });

  it.each(['T', 'T-20m', 'T+1h30m', 'T20m', 'T-', 'T-20', 't-20m', 'T+-5m'])('agrees with the schema pattern on %j', (text) => {
    expect(parseOffset(text) !== undefined).toBe(OFFSET_PATTERN.test(text));
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 ms'],
    [850, '850 ms'],
    [999.4, '999 ms'],
    [999.6, '1.0s'],
    [1000, '1.0s'],
    [1500, '1.5s'],
    [9_949, '9.9s'],
    [9_950, '10s'],
    [42_000, '42s'],
    [59_499, '59s'],
    [59_500, '1m'],
    [60_000, '1m'],
    [90_000, '1m 30s'],
    [4 * M + 12 * S, '4m 12s'],
    [H, '1h'],
    [H + 5 * M, '1h 5m'],
    [H + 30 * S, '1h'],
    [H + 59 * M + 59 * S, '1h 59m'],
    [25 * H, '25h'],
    [Infinity, 'Infinity'],
    [NaN, 'NaN'],
  ])('writes %d ms as %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('formatOffset', () => {
  it.each([
    [0, 'T'],
    [-20 * M, 'T-20m'],
    [4 * H, 'T+4h'],
    [H + 30 * M, 'T+1h30m'],
    [-30 * S, 'T-30s'],
  ])('writes %d ms as %j', (ms, text) => {
    expect(formatOffset(ms)).toBe(text);
  });

  it.each(['T-20m', 'T+4h', 'T+1h30m', 'T-30s'])('writes what parseOffset reads back: %j', (text) => {
    expect(formatOffset(parseOffset(text)!)).toBe(text);
  });
});
