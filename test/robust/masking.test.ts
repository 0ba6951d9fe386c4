// The masker against real tools' output (base64, openssl, xxd, od, hexdump, python, node), whole and streamed in random chunks; and the leak detector itself.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MASK, createMasker, createStreamMasker, type Masker } from '../../src/engine/secrets.js';
import { findLeaks, makeCanaries } from './leaks.js';

/** What each tool prints for the secret in $S (with text around it, as real output has). */
const TOOLS: [string, string][] = [
  ['base64', `printf 'user:%s' "$S" | base64`],
  ['base64 across its wrap', `printf '%s%s' 'fifty bytes of text before the secret starts, ok.:' "$S" | base64`],
  ['base64 -w0', `printf %s "$S" | base64 -w0`],
  ['openssl base64', `printf 'ab%s' "$S" | openssl base64`],
  ['basenc --base64url', `printf 'a%s' "$S" | basenc --base64url`],
  ['xxd -p', `printf 'x%s' "$S" | xxd -p`],
  ['xxd -p -u', `printf %s "$S" | xxd -p -u`],
  ['od -An -tx1', `printf 'abc%s' "$S" | od -An -tx1`],
  ['od -An -tx1 -w8', `printf %s "$S" | od -An -tx1 -w8`],
  ['hexdump', `printf %s "$S" | hexdump -v -e '/1 "%02x"'`],
  ['python quote_plus', `python3 -c 'import os, urllib.parse; print(urllib.parse.quote_plus(os.environ["S"]))'`],
  ['python quote', `python3 -c 'import os, urllib.parse; print(urllib.parse.quote(os.environ["S"], safe=""))'`],
  ['encodeURIComponent', `node -e 'console.log(encodeURIComponent(process.env.S))'`],
  ['URLSearchParams', `node -e 'console.log(new URLSearchParams({ t: process.env.S }).toString())'`],
  // Issue 12: the misses of the hostile-input review.
  ['xxd -i', `printf 'ab%s' "$S" | xxd -i`],
  ['xxd -i -u', `printf %s "$S" | xxd -i -u`],
  ['\\x escapes', `printf %s "$S" | xxd -p | tr -d '\\n' | sed 's/../\\\\x&/g'; echo`],
  ['\\X escapes, upper case', `printf %s "$S" | xxd -p -u | tr -d '\\n' | sed 's/../\\\\x&/g'; echo`],
  ['Python bytes repr', `python3 -c 'import os; print(os.environb[b"S"])'`],
  ['Python ascii()', `python3 -c 'import os; print(ascii(os.environ["S"]))'`],
  ['upper-cased', `printf 'token=%s\\n' "$S" | tr '[:lower:]' '[:upper:]'`],
  ['lower-cased', `printf 'token=%s\\n' "$S" | tr '[:upper:]' '[:lower:]'`],
  ['wrapped across two lines', `node -e 'const s = [..."token: " + process.env.S]; for (let i = 0; i < s.length; i += 19) console.log(s.slice(i, i + 19).join(""))'`],
  ['wrapped with CRLF and an indent', `node -e 'const s = [...process.env.S], h = s.length >> 1; process.stdout.write(s.slice(0, h).join("") + "\\r\\n  " + s.slice(h).join("") + "\\n")'`],
  ['with colour codes inside', `node -e 'const s = [...process.env.S], h = s.length >> 1; console.log("\\x1b[1m" + s.slice(0, h).join("") + "\\x1b[0m\\x1b[31m" + s.slice(h).join("") + "\\x1b[0m")'`],
  ['highlighted by grep --color', `P=$(node -e 'console.log([...process.env.S].slice(3, 9).join(""))'); printf '%s\\n' "$S" | grep --color=always -F -- "$P"`],
  ['with a CR inside', `node -e 'const s = [...process.env.S], h = s.length >> 1; console.log(s.slice(0, h).join("") + "\\r" + s.slice(h).join(""))'`],
];

function toolOutput(command: string, secret: string): string {
  const run = spawnSync('sh', ['-c', command], { env: { ...process.env, S: secret }, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${command}: ${run.stderr}`);
  return `before\n${run.stdout}after\n`;
}

/** A small seeded PRNG, so a failing chunking can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function streamed(masker: Masker, text: string, random: () => number, maxChunk: number): string {
  const stream = createStreamMasker(masker);
  let out = '';
  for (let at = 0; at < text.length; ) {
    let size = 1 + Math.floor(random() * maxChunk);
    // Never split a surrogate pair between chunks: a decoder never does.
    if (/[\uD800-\uDBFF]/.test(text[at + size - 1] ?? '')) size++;
    out += stream.push(text.slice(at, at + size));
    at += size;
  }
  return out + stream.flush();
}

const canaries = makeCanaries();
const masker = createMasker(canaries.map((c) => c.value));
const cases = canaries.flatMap((canary) => TOOLS.map(([tool, command]) => [canary.name, tool, command, canary] as const));

describe('the masker against real tools', () => {
  it.each(cases)('masks the %s canary printed by %s, whole and in any chunking', (_name, _tool, command, canary) => {
    const output = toolOutput(command, canary.value);
    // The detector sees the raw output: it would notice a leak.
    expect(findLeaks({ output }, [canary]).length).toBeGreaterThan(0);
    const masked = masker.mask(output);
    expect(masked).toContain(MASK);
    expect(findLeaks({ masked }, canaries)).toEqual([]);
    expect(masked.startsWith('before\n') && masked.endsWith('after\n')).toBe(true);
    const random = prng(output.length);
    for (const maxChunk of [1, 3, 17, 64, 4096]) expect(streamed(masker, output, random, maxChunk)).toBe(masked);
  });

  it('leaves unrelated hex dumps, wrapped base64 and log lines alone', () => {
    const random = randomBytes(4096);
    const unrelated = [
      spawnSync('base64', { input: random, encoding: 'utf8' }).stdout,
      spawnSync('xxd', ['-p'], { input: random, encoding: 'utf8' }).stdout,
      spawnSync('od', ['-An', '-tx1'], { input: random.subarray(0, 512), encoding: 'utf8' }).stdout,
      'GET /api/health 200 12ms\nDeploying build 4f2a9c1e\n  two spaces\n\r\n',
    ].join('\n');
    expect(masker.mask(unrelated)).toBe(unrelated);
    expect(streamed(masker, unrelated, prng(1), 300)).toBe(unrelated);
  });

  it('lets a complete log line through at once, and holds back only what could start a wrapped form', () => {
    // A fixed secret: with random ones the last characters of a line may by chance begin some form, and are then (rightly) held.
    const secret = 'hunter2/Tok+en s3cr3t-fixed';
    const stream = createStreamMasker(createMasker([secret]));
    expect(stream.push('Waiting for the deploy…\n')).toBe('Waiting for the deploy…\n');
    expect(stream.push('step 3 of 5 done\nnext: ')).toBe('step 3 of 5 done\n');
    expect(stream.flush()).toBe('next: ');
    // A hex dump line ending in the first bytes of a secret's hex is held until the next line shows whether it goes on.
    const hex = Buffer.from(secret).toString('hex');
    const head = `${hex.slice(0, 20)}\n`;
    expect(stream.push(`ok\n${head}`)).toBe('ok\n');
    expect(stream.push(`${hex.slice(20)}\n`)).toBe(`${MASK}\n`);
    expect(stream.flush()).toBe('');
  });
});
