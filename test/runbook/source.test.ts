// Reading a runbook's bytes: strict UTF-8 that points at the first bad byte, the size limit, and file-system errors.
import { describe, expect, it } from 'vitest';
import { prng } from '../fixtures/invalid/cases.js';
import { decodeUtf8, formatBytes, MAX_RUNBOOK_BYTES, readSource, type ReadFileLimited } from '../../src/runbook/source.js';

const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...new TextEncoder().encode(p)] : p)));

describe('decodeUtf8', () => {
  it.each([
    ['ASCII', bytes('version: 1\n'), 'version: 1\n'],
    ['two-byte characters', bytes('Opé'), 'Opé'],
    ['three-byte characters', bytes('€ and ✓'), '€ and ✓'],
    ['four-byte characters', bytes('ship 🚀'), 'ship 🚀'],
    ['the largest code point', bytes([0xf4, 0x8f, 0xbf, 0xbf]), '\u{10ffff}'],
    ['a byte-order mark, which it drops', bytes([0xef, 0xbb, 0xbf], 'a: 1'), 'a: 1'],
    ['nothing at all', bytes(), ''],
  ])('decodes %s', (_what, input, text) => {
    expect(decodeUtf8(input)).toEqual({ ok: true, text });
  });

  it.each([
    ['a Latin-1 byte', bytes('Op', [0xe9], 'rations'), 2],
    ['a lone continuation byte', bytes('ab', [0x80]), 2],
    ['an overlong two-byte form of "/"', bytes('x: ', [0xc0, 0xaf]), 3],
    ['an overlong two-byte lead (0xC1)', bytes([0xc1, 0xbf]), 0],
    ['an overlong three-byte form', bytes('a', [0xe0, 0x80, 0xaf]), 1],
    ['an overlong four-byte form', bytes('ab', [0xf0, 0x80, 0x80, 0xaf]), 2],
    ['a UTF-16 surrogate encoded as UTF-8 (CESU)', bytes('name: "', [0xed, 0xa0, 0x80], '"'), 7],
    ['the last surrogate', bytes([0xed, 0xbf, 0xbf]), 0],
    ['a code point past U+10FFFF', bytes('é', [0xf4, 0x90, 0x80, 0x80]), 2],
    ['a lead byte that never starts a character (0xF5)', bytes([0xf5, 0x80, 0x80, 0x80]), 0],
    ['0xFF', bytes('ok', [0xff]), 2],
    ['a sequence truncated at the end of the file', bytes('caf', [0xc3]), 3],
    ['a sequence truncated by the next character', bytes('€', [0xe2, 0x82], 'x'), 3],
    ['a four-byte sequence missing its last byte', bytes([0xf0, 0x9f, 0x9a], ' '), 0],
    ['UTF-16 with a byte-order mark', bytes([0xff, 0xfe, 0x76, 0x00]), 0],
  ])('points at %s', (_what, input, offset) => {
    expect(decodeUtf8(input)).toEqual({ ok: false, offset });
  });

  it('agrees with a strict decoder on random bytes, and what comes before the offset always decodes', () => {
    const next = prng(7);
    for (let i = 0; i < 1500; i++) {
      const input = new Uint8Array(1 + Math.floor(next() * 12)).map(() => (next() < 0.5 ? 0x80 + Math.floor(next() * 0x80) : Math.floor(next() * 0x80)));
      const result = decodeUtf8(input);
      let strict = true;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(input);
      } catch {
        strict = false;
      }
      expect(result.ok, `bytes ${Buffer.from(input).toString('hex')}`).toBe(strict);
      if (!result.ok) {
        expect(result.offset).toBeLessThan(input.length);
        expect(() => new TextDecoder('utf-8', { fatal: true }).decode(input.subarray(0, result.offset))).not.toThrow();
      }
    }
  });
});

describe('readSource', () => {
  const reading = (data: Uint8Array): ReadFileLimited => () => ({ ok: true, bytes: data });
  const failing = (code: string): ReadFileLimited => () => {
    throw Object.assign(new Error(`${code}: failed`), { code });
  };

  it('returns the text, the exact bytes and their sha256', () => {
    const data = bytes('version: 1\n');
    const result = readSource('runbook.yaml', reading(data));

    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.text).toBe('version: 1\n');
    expect(result.source.bytes).toBe(data);
    // printf 'version: 1\n' | sha256sum
    expect(result.source.sha256).toBe('09bfcc6a14b83e2192b8673677725c84883ee9cd0c70e45c9ec09daa8f2b2847');
  });

  it.each([
    ['on the first line', bytes('name: Op', [0xe9]), 1, 9],
    ['after lines of multi-byte text (columns count characters, not bytes)', bytes('a: é\nb: €€ ', [0xff]), 2, 7],
    ['at the very start', bytes([0xfe, 0xff]), 1, 1],
  ])('positions invalid UTF-8 %s', (_what, data, line, col) => {
    const result = readSource('r.yaml', reading(data));

    expect(result).toEqual({
      ok: false,
      problems: [{ file: 'r.yaml', line, col, code: 'not-utf8', message: expect.stringMatching(/^invalid UTF-8 \(byte 0x[0-9a-f]{2} at offset \d+\): save the file as UTF-8$/) }],
    });
  });

  it.each([
    [MAX_RUNBOOK_BYTES + 1, 'the file is 1048577 bytes, over the 1.0 MiB (1048576 bytes) limit for runbooks'],
    [30 * 1024 * 1024, 'the file is 30.0 MiB, over the 1.0 MiB (1048576 bytes) limit for runbooks'],
  ])('refuses a file of %d bytes without reading it all', (size, message) => {
    const result = readSource('big.yaml', () => ({ ok: false, reason: 'too-large', size }));

    expect(result).toEqual({ ok: false, problems: [{ file: 'big.yaml', line: 1, col: 1, code: 'too-large', message: expect.stringContaining(message) }] });
  });

  it('passes the size limit to the reader', () => {
    let asked = 0;
    readSource('r.yaml', (_file, max) => {
      asked = max;
      return { ok: true, bytes: bytes('a') };
    });

    expect(asked).toBe(MAX_RUNBOOK_BYTES);
  });

  it.each([
    ['ENOENT', 'no such file: r.yaml; check the path'],
    ['EACCES', 'permission denied reading r.yaml'],
    ['EPERM', 'permission denied reading r.yaml'],
    ['EISDIR', 'r.yaml is a directory; give the path of a .yaml file'],
    ['EIO', 'cannot read r.yaml: EIO: failed'],
  ])('turns %s into a sentence', (code, message) => {
    expect(readSource('r.yaml', failing(code))).toEqual({ ok: false, problems: [{ file: 'r.yaml', line: 1, col: 1, code: code === 'ENOENT' ? 'missing' : 'unreadable', message }] });
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [200 * 1024, '200 KiB'],
    [1024 * 1024, '1.0 MiB'],
    [30 * 1024 * 1024, '30.0 MiB'],
  ])('writes %d bytes as %j', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });
});
