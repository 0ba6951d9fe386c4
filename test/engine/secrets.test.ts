// Secret masking: every encoding, every alignment, every split point, and nothing else.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MASK, createMasker, createStreamMasker, secretVariants, type Masker } from '../../src/engine/secrets.js';

const SECRET = 'hunter2/Tok+en s3cr3t';
const masker = createMasker([SECRET]);

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const base64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/**
 * Every encoding of a secret the masker promises to catch (src/engine/secrets.ts), computed here from the encodings'
 * definitions rather than asked of the masker: an encoding dropped from the masker fails the tests that use this.
 */
function promisedForms(secret: string): [name: string, form: string][] {
  const bytes = Buffer.from(secret, 'utf8');
  const b64 = bytes.toString('base64');
  const b64url = bytes.toString('base64url');
  const uri = encodeURIComponent(secret);
  const rfc3986 = uri.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  /** The characters of the secret's base64 inside a longer text that starts `offset` bytes before it: only its own bits. */
  const middle = (offset: number, encoding: 'base64' | 'base64url') =>
    Buffer.concat([Buffer.alloc(offset), bytes, Buffer.alloc(3)])
      .toString(encoding)
      .slice(Math.ceil((offset * 8) / 6), Math.floor(((offset + bytes.length) * 8) / 6));
  return [
    ['plain', secret],
    ['in a single-quoted shell word', secret.replace(/'/g, `'\\''`)],
    ['base64 with padding', b64],
    ['base64 without padding', b64.replace(/=+$/, '')],
    ['URL-safe base64 with padding', b64url + '='.repeat((4 - (b64url.length % 4)) % 4)],
    ['URL-safe base64 without padding', b64url],
    ...[0, 1, 2].flatMap((offset): [string, string][] => [
      [`base64 at byte offset ${offset} of a longer text`, middle(offset, 'base64')],
      [`URL-safe base64 at byte offset ${offset} of a longer text`, middle(offset, 'base64url')],
    ]),
    ['hex, lower case', bytes.toString('hex')],
    ['hex, upper case', bytes.toString('hex').toUpperCase()],
    ['encodeURIComponent', uri],
    ['form encoding (+ for spaces)', uri.replace(/%20/g, '+')],
    ['lower-case percent escapes', uri.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase())],
    ['WHATWG form encoding', new URLSearchParams({ t: secret }).toString().slice(2)],
    ['RFC 3986 (Python quote)', rfc3986],
    ['RFC 3986, + for spaces (Python quote_plus)', rfc3986.replace(/%20/g, '+')],
    ['JSON string escaping', JSON.stringify(secret).slice(1, -1)],
    ['JSON with non-ASCII escaped (Python json.dumps)', execPythonJsonDumps(secret)],
    ['JSON with non-ASCII escaped, upper-case hex', execPythonJsonDumps(secret).replace(/\\u([0-9a-f]{4})/g, (_e, hex: string) => `\\u${hex.toUpperCase()}`)],
    // Issue 12: case, wrapping, terminal escapes and CRs inside, backslash escapes, C arrays.
    ['upper-cased', secret.toUpperCase()],
    ['lower-cased', secret.toLowerCase()],
    ['wrapped across two lines', `${[...secret].slice(0, 7).join('')}\n${[...secret].slice(7).join('')}`],
    ['wrapped with CRLF and an indent', `${[...secret].slice(0, 5).join('')}\r\n  ${[...secret].slice(5).join('')}`],
    ['with a CR inside', `${[...secret].slice(0, 9).join('')}\r${[...secret].slice(9).join('')}`],
    ['with colour codes inside (grep --color)', `${[...secret].slice(0, 4).join('')}\u001b[01;31m\u001b[K${[...secret].slice(4, 8).join('')}\u001b[m\u001b[K${[...secret].slice(8).join('')}`],
    ['with a C1 CSI inside', `${[...secret].slice(0, 3).join('')}\u009b1m${[...secret].slice(3).join('')}`],
    ['as \\x escapes', [...bytes].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')],
    ['as \\X escapes, upper-case hex', [...bytes].map((b) => `\\X${b.toString(16).padStart(2, '0').toUpperCase()}`).join('')],
    ["Python's bytes repr", execPython('import sys; sys.stdout.write(repr(sys.argv[1].encode())[2:-1])', secret)],
    ["Python's ascii()", execPython('import sys; sys.stdout.write(ascii(sys.argv[1])[1:-1])', secret)],
    ['xxd -i', execFileSync('xxd', ['-i'], { input: bytes, encoding: 'utf8' }).trim()],
  ];
}

function execPython(program: string, text: string): string {
  return execFileSync('python3', ['-c', program, text], { encoding: 'utf8' });
}

/** What Python's json.dumps (ensure_ascii, its default) writes for `text`, without the quotes: the real tool, not our idea of it. */
function execPythonJsonDumps(text: string): string {
  return execFileSync('python3', ['-c', 'import json, sys; sys.stdout.write(json.dumps(sys.argv[1]))', text], { encoding: 'utf8' }).slice(1, -1);
}

/** A secret each of whose promised forms differs from every other (quotes, `!~`, a space, non-ASCII, `+` and `/` in its base64, 28 bytes). */
const EVERY_FORM_SECRET = `it's a "quoted" tök+en!/~??`;

/** Feed `chunks` to a fresh stream masker and join what comes out. */
function streamed(m: Masker | ((text: string) => string), chunks: string[]): string {
  const stream = createStreamMasker(m);
  return chunks.map((chunk) => stream.push(chunk)).join('') + stream.flush();
}

/** A small seeded PRNG, so a failing random split can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('createMasker', () => {
  it.each([
    ['plain', SECRET],
    ['base64 with padding', base64(SECRET)],
    ['base64 without padding', base64(SECRET).replace(/=+$/, '')],
    ['URL-safe base64 with padding', base64url(SECRET) + '='.repeat((4 - (base64url(SECRET).length % 4)) % 4)],
    ['URL-safe base64 without padding', base64url(SECRET)],
    ['hex, lower case', Buffer.from(SECRET).toString('hex')],
    ['hex, upper case', Buffer.from(SECRET).toString('hex').toUpperCase()],
    ['encodeURIComponent', encodeURIComponent(SECRET)],
    ['form encoding (+ for spaces)', encodeURIComponent(SECRET).replace(/%20/g, '+')],
    ['WHATWG form encoding', new URLSearchParams({ t: SECRET }).toString().slice(2)],
    ['lower-case percent escapes', encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase())],
    ['JSON string escaping', JSON.stringify('say "hi"\\now').slice(1, -1)],
  ])('masks the secret %s', (_name, form) => {
    const m = form.includes('say') ? createMasker(['say "hi"\\now']) : masker;
    expect(form.length).toBeGreaterThan(0);
    expect(m.mask(`before ${form} after`)).toBe(`before ${MASK} after`);
    expect(m.mask(form)).toBe(MASK);
  });

  it('masks every occurrence, and several secrets at once', () => {
    const m = createMasker(['alpha-key', 'beta-token']);
    expect(m.mask('alpha-key,beta-token;alpha-key.alpha-keyalpha-key')).toBe('***,***;***.******');
  });

  it('masks the longest form first', () => {
    const m = createMasker(['abcd', 'abcdef']);
    expect(m.mask('xabcdefx abcdx')).toBe('x***x ***x');
    // The whole base64 (with its padding) wins over the fragments and the plain form it contains.
    expect(masker.mask(`token=${base64(SECRET)};`)).toBe(`token=${MASK};`);
  });

  it('treats regular-expression characters in a secret literally', () => {
    const m = createMasker(['a.b*c(d)[e]$^|\\']);
    expect(m.mask('x a.b*c(d)[e]$^|\\ y')).toBe(`x ${MASK} y`);
    expect(m.mask('aXbbbc(d)[e]$^|\\')).toBe('aXbbbc(d)[e]$^|\\');
  });

  it('masks multi-byte secrets and their encodings', () => {
    const secret = 'pässwörd-✓-🔑';
    const m = createMasker([secret]);
    for (const form of [secret, base64(secret), Buffer.from(secret).toString('hex'), encodeURIComponent(secret)]) {
      expect(m.mask(`[${form}]`)).toBe(`[${MASK}]`);
    }
  });

  describe('a secret inside a longer base64 text, at every byte offset', () => {
    // A secret starting at byte offset k of a longer text is encoded differently for k mod 3 = 0, 1, 2;
    // only the characters at either end (which also carry neighbouring bits) may remain.
    const prefixes = ['', 'a', 'ab', 'abc', 'abcd', 'user:'];
    const suffixes = ['', 'z', 'zy', 'zyx', '!\n'];
    const secretBytes = Buffer.byteLength(SECRET);
    const cases = prefixes.flatMap((prefix) => suffixes.map((suffix) => [prefix, suffix] as const));

    it.each(cases)('prefix %j, suffix %j', (prefix, suffix) => {
      for (const encode of [base64, base64url]) {
        const encoded = encode(`${prefix}${SECRET}${suffix}`);
        const masked = masker.mask(encoded);
        expect(masked.split(MASK)).toHaveLength(2);
        const leftOver = masked.length - MASK.length;
        // At most 2 characters of partial bits on each side, besides the neighbours' own characters and padding.
        const stable = Math.floor((secretBytes * 8) / 6) - 2;
        expect(leftOver).toBeLessThanOrEqual(encoded.length - stable);
      }
    });

    it('offers a fragment for each of the three alignments', () => {
      const forms = secretVariants(SECRET);
      for (const offset of [0, 1, 2]) {
        const encoded = base64('\0'.repeat(offset) + SECRET + '\0\0\0');
        const start = Math.ceil((offset * 8) / 6);
        const end = Math.floor(((offset + secretBytes) * 8) / 6);
        expect(forms).toContain(encoded.slice(start, end));
      }
    });
  });

  describe('short and empty secrets', () => {
    it('ignores empty secrets', () => {
      const m = createMasker(['', '']);
      expect(m.mask('anything at all')).toBe('anything at all');
      expect(m.longest).toBe(0);
      expect(m.unmaskable).toBe(0);
    });

    it('does not mask secrets under 3 characters, and counts them for a warning', () => {
      const m = createMasker(['a', 'xy']);
      expect(m.mask('a xy a')).toBe('a xy a');
      expect(m.unmaskable).toBe(2);
      expect(secretVariants('xy')).toEqual([]);
    });

    it('masks 3-character secrets as they are, but not their encodings', () => {
      const m = createMasker(['abc']);
      expect(m.mask('xabcx')).toBe(`x${MASK}x`);
      expect(m.mask(base64('abc'))).toBe(base64('abc'));
      expect(m.mask('616263')).toBe('616263');
      expect(secretVariants('abc')).toEqual(['abc']);
    });

    it('masks the encodings of 4-character secrets', () => {
      const m = createMasker(['abcd']);
      expect(m.mask(base64('abcd'))).toBe(MASK);
      expect(m.mask('61626364')).toBe(MASK);
    });
  });

  it('leaves unrelated text alone', () => {
    const m = createMasker(['hunter2-secret', 'AKIAIOSFODNN7EXAMPLE', 'tok_9f8e7d6c5b4a']);
    const text = [
      'Deploying build 4f2a9c1e (sha256 3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b)',
      `base64 of other things: ${base64('hello world, this is not a secret')} ${base64('hunter1-secret')}`,
      'GET /api/health?x=1&y=%20 200 12ms',
      'hunter2 secret AKIA IOSFODNN7 tok_ 9f8e7d6c5b4b',
      '{"status":"ok","latency_ms":12}',
    ].join('\n');
    expect(m.mask(text)).toBe(text);
  });

  it('returns the text as it is when there are no secrets', () => {
    const m = createMasker([]);
    expect(m.mask('hunter2')).toBe('hunter2');
    expect(m.longest).toBe(0);
  });
});

describe('issue 12: case, terminal escapes and partial texts', () => {
  it('masks in any case, and a host name a resolver lower-cased', () => {
    const m = createMasker(['AbCdEf123XyZ']);
    expect(m.mask('DNS lookup failed for acme-abcdef123xyz.invalid')).toBe(`DNS lookup failed for acme-${MASK}.invalid`);
    expect(m.mask('TOKEN=ABCDEF123XYZ')).toBe(`TOKEN=${MASK}`);
  });

  it('masks a secret with colour codes, a CR or a line break inside as one mask, and keeps what is around it', () => {
    const m = createMasker(['s3cr3t-t0ken']);
    expect(m.mask('\u001b[1mtoken: s3cr\u001b[0m\u001b[31m3t-t0ken\u001b[0m done')).toBe(`\u001b[1mtoken: ${MASK}\u001b[0m done`);
    expect(m.mask('a s3cr3t\r-t0ken b')).toBe(`a ${MASK} b`);
    expect(m.mask('key: s3cr3t-t\n0ken\nnext')).toBe(`key: ${MASK}\nnext`);
  });

  it('does not treat an OSC sequence, or more than four gap items, as a gap', () => {
    const m = createMasker(['s3cr3t-t0ken']);
    expect(m.mask('s3cr\u001b]0;x\u00073t-t0ken')).toBe('s3cr\u001b]0;x\u00073t-t0ken');
    expect(m.mask('s3cr     3t-t0ken')).toBe('s3cr     3t-t0ken');
  });

  it('masks a secret split in the middle of an escape sequence between two chunks, at every split point', () => {
    const m = createMasker(['s3cr3t-t0ken']);
    const text = 'x s3cr\u001b[01;31m\u001b[K3t-t0ken\u001b[m y\n';
    const expected = m.mask(text);
    expect(expected).toBe(`x ${MASK}\u001b[m y\n`);
    for (let i = 0; i <= text.length; i++) expect(streamed(m, [text.slice(0, i), text.slice(i)]), `split at ${i}`).toBe(expected);
  });

  it('masks a chunk that ends inside a hex dump of one of several secrets without trying every way through its gaps', () => {
    // Before: gaps of repeated \s? could take a space five ways, and a cut-off dump made the engine try them all (5ⁿ).
    const secrets = ['h7G=+OVX7E=G4/QRxS8f=MFn', "TClssqHSéto6w!m eP(oWc*RbVaxzñCU'~tgInBf", '9uCvNJ5J?H~4syAyZSdnlqn>F3uEmE?9'];
    const m = createMasker(secrets);
    const dump = execFileSync('od', ['-An', '-tx1'], { input: Buffer.from(`abc${secrets[0]}`), encoding: 'utf8' });
    const text = `before\n${dump}after\n`;
    for (let i = 0; i <= text.length; i++) m.mask(text.slice(0, i));
    expect(m.mask(text)).toBe(`before\n 61 62 63 ${MASK}\nafter\n`);
    expect(streamed(m, [...text])).toBe(m.mask(text));
  });
});

describe('maskDeep', () => {
  const m = createMasker(['s3cret-value']);

  it('masks strings anywhere, keys too, and leaves other values as they are', () => {
    const input = {
      plain: 'token s3cret-value here',
      nested: { list: ['s3cret-value', 1, true, null, { deeper: base64('s3cret-value') }] },
      's3cret-value': 'as a key',
      count: 3,
      flag: false,
      nothing: null,
    };
    expect(m.maskDeep(input)).toEqual({
      plain: `token ${MASK} here`,
      nested: { list: [MASK, 1, true, null, { deeper: MASK }] },
      [MASK]: 'as a key',
      count: 3,
      flag: false,
      nothing: null,
    });
    expect(input.plain).toBe('token s3cret-value here'); // not modified in place
  });

  it('masks a bare string and passes numbers through', () => {
    expect(m.maskDeep('s3cret-value')).toBe(MASK);
    expect(m.maskDeep(42)).toBe(42);
    expect(m.maskDeep(undefined)).toBeUndefined();
  });

  it('keeps shared and circular references without looping', () => {
    const shared = { v: 's3cret-value' };
    const input: Record<string, unknown> = { a: shared, b: shared };
    input.self = input;
    const out = m.maskDeep(input);
    expect(out.a).toEqual({ v: MASK });
    expect(out.a).toBe(out.b);
    expect(out.self).toBe(out);
  });

  it('returns non-plain objects as they are', () => {
    const date = new Date(0);
    expect(m.maskDeep({ when: date }).when).toBe(date);
  });
});

describe('createStreamMasker', () => {
  it('masks each form of the secret split between two chunks, at every split point', () => {
    for (const [secret, m] of [
      [SECRET, masker],
      [EVERY_FORM_SECRET, createMasker([EVERY_FORM_SECRET])],
    ] as const) {
      for (const [name, form] of promisedForms(secret)) {
        const text = `before ${form} after`;
        const expected = m.mask(text);
        expect(expected, `${name} of ${secret}`).toBe(`before ${MASK} after`);
        for (let i = 0; i <= text.length; i++) {
          expect(streamed(m, [text.slice(0, i), text.slice(i)]), `${form} split at ${i}`).toBe(expected);
        }
      }
    }
  });

  it('masks a secret split across three chunks, at every pair of split points', () => {
    const text = `x${SECRET}y${SECRET}`;
    const expected = `x${MASK}y${MASK}`;
    for (let i = 0; i <= text.length; i++) {
      for (let j = i; j <= text.length; j++) {
        expect(streamed(masker, [text.slice(0, i), text.slice(i, j), text.slice(j)])).toBe(expected);
      }
    }
  });

  it('masks exactly as the whole text would be masked, however the text is chunked', () => {
    const m = createMasker([SECRET, 'abcd', 'abcdef', 'zzzz']);
    const random = prng(42);
    const words = [SECRET, base64(SECRET), 'abcd', 'abcdef', 'abcde', 'zzz', 'zzzzz', 'plain words ', '\n', 'é', '🔑', base64(`k${SECRET}`)];
    for (let round = 0; round < 200; round++) {
      let text = '';
      while (text.length < 400) text += words[Math.floor(random() * words.length)];
      const chunks: string[] = [];
      for (let at = 0; at < text.length; ) {
        const size = 1 + Math.floor(random() * 40);
        chunks.push(text.slice(at, at + size));
        at += size;
      }
      expect(streamed(m, chunks)).toBe(m.mask(text));
    }
  });

  it('holds back at most the longest form less one character', () => {
    const stream = createStreamMasker(masker);
    let input = 0;
    let output = 0;
    for (let i = 0; i < 50; i++) {
      const chunk = 'no secrets in this chunk at all. ';
      input += chunk.length;
      output += stream.push(chunk).length;
      expect(input - output).toBeLessThanOrEqual(masker.longest - 1);
    }
    expect(output + stream.flush().length).toBe(input);
  });

  it('lets a complete line out at once when no secret contains a newline', () => {
    const stream = createStreamMasker(masker);
    expect(stream.push('Waiting for the deploy…\n')).toBe('Waiting for the deploy…\n');
    expect(stream.push(`token ${SECRET}\nnext`)).toBe(`token ${MASK}\n`);
    expect(stream.flush()).toBe('next');
  });

  it('holds lines back when a secret spans a newline, and still masks it in any chunking', () => {
    const key = 'line-one\nline-two';
    const m = createMasker([key, SECRET]);
    const stream = createStreamMasker(m);
    expect(stream.push('line-one\n')).toBe('');
    expect(stream.push('line-two\n')).toBe('');
    expect(stream.flush()).toBe(`${MASK}\n`);
    const random = prng(7);
    const words = [key, 'line-one\n', 'line-two', '\n', SECRET, 'text '];
    for (let round = 0; round < 200; round++) {
      let text = '';
      while (text.length < 300) text += words[Math.floor(random() * words.length)];
      const chunks: string[] = [];
      for (let at = 0; at < text.length; ) {
        const size = 1 + Math.floor(random() * 30);
        chunks.push(text.slice(at, at + size));
        at += size;
      }
      expect(streamed(m, chunks)).toBe(m.mask(text));
    }
  });

  it('never splits a surrogate pair between pieces', () => {
    const stream = createStreamMasker(masker);
    const pieces: string[] = [];
    for (let i = 0; i < 200; i++) pieces.push(stream.push(i % 2 === 0 ? '🔑' : 'a🔑'));
    pieces.push(stream.flush());
    for (const piece of pieces) expect(piece).not.toMatch(LONE_SURROGATE);
    expect(pieces.join('')).toBe('🔑a🔑'.repeat(100));
  });

  it('passes text straight through when there is nothing to mask', () => {
    const stream = createStreamMasker(createMasker([]));
    expect(stream.push('abc')).toBe('abc');
    expect(stream.flush()).toBe('');
  });

  it('with only a mask function, masks whole lines', () => {
    const mask = (text: string) => text.replaceAll('s3cret', MASK);
    expect(streamed(mask, ['a s3', 'cret b\nc s', '3cret'])).toBe(`a ${MASK} b\nc ${MASK}`);
  });
});
