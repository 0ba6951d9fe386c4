// Per-step output: masked lines per stream, capped tails cut on character boundaries, constant memory.
import { describe, expect, it } from 'vitest';
import { createOutputCollector, type OutputStream } from '../../src/engine/output.js';
import { MASK, createMasker } from '../../src/engine/secrets.js';

const noSecrets = createMasker([]);

function collector(options: Partial<Parameters<typeof createOutputCollector>[0]> = {}) {
  const lines: [OutputStream, string][] = [];
  const output = createOutputCollector({ masker: noSecrets, onLine: (stream, line) => lines.push([stream, line]), ...options } as Parameters<
    typeof createOutputCollector
  >[0]);
  return { output, lines };
}

describe('lines', () => {
  it('splits each stream into lines of its own, never joining stdout and stderr', () => {
    const { output, lines } = collector();
    output.push('stdout', 'a\nb');
    output.push('stderr', 'x');
    output.push('stdout', 'c\n');
    output.push('stderr', 'y\n');
    output.push('stdout', 'no newline at the end');
    expect(lines).toEqual([
      ['stdout', 'a'],
      ['stdout', 'bc'],
      ['stderr', 'xy'],
    ]);
    output.finish();
    expect(lines.at(-1)).toEqual(['stdout', 'no newline at the end']);
  });

  it('keeps empty lines and drops the \\r of CRLF', () => {
    const { output, lines } = collector();
    output.push('stdout', 'one\r\n\r\n\nthree\r\n');
    output.finish();
    expect(lines).toEqual([
      ['stdout', 'one'],
      ['stdout', ''],
      ['stdout', ''],
      ['stdout', 'three'],
    ]);
  });

  it('emits nothing at finish when the output ended with a newline', () => {
    const { output, lines } = collector();
    output.push('stdout', 'done\n');
    output.finish();
    expect(lines).toEqual([['stdout', 'done']]);
  });

  it('cuts an extremely long line into pieces, arriving in one chunk or many', () => {
    for (const chunkSize of [100_000, 1000, 7]) {
      const { output, lines } = collector({ maxLineLength: 8192 });
      const text = `${'x'.repeat(20_000)}\n${'y'.repeat(8192)}\nz`;
      for (let at = 0; at < text.length; at += chunkSize) output.push('stdout', text.slice(at, at + chunkSize));
      output.finish();
      expect(lines.map(([, line]) => line.length)).toEqual([8192, 8192, 3616, 8192, 1]);
      expect(lines.map(([, line]) => line).join('')).toBe(text.replace(/\n/g, ''));
    }
  });

  it('does not split a surrogate pair when cutting a long line', () => {
    const { output, lines } = collector({ maxLineLength: 5 });
    output.push('stdout', 'abcd🔑efgh🔑\n');
    output.finish();
    expect(lines.map(([, line]) => line)).toEqual(['abcd', '🔑efg', 'h🔑']);
  });
});

describe('tails', () => {
  it('keeps the last tailBytes and counts the bytes dropped', () => {
    const { output } = collector({ tailBytes: 10 });
    output.push('stdout', 'hello world 12345\n');
    const { stdout, stderr } = output.finish();
    expect(stdout.tail).toEqual({ text: 'rld 12345\n', truncatedBytes: 8 });
    expect(stdout.totalBytes).toBe(18);
    expect(stderr.tail).toEqual({ text: '', truncatedBytes: 0 });
  });

  it('keeps everything when the output fits', () => {
    const { output } = collector({ tailBytes: 100 });
    output.push('stderr', 'short\n');
    expect(output.finish().stderr.tail).toEqual({ text: 'short\n', truncatedBytes: 0 });
  });

  it('cuts on a UTF-8 character boundary', () => {
    // a (1 byte) é (2) € (3) 🔑 (4) = 10 bytes
    const cases: [number, string, number][] = [
      [10, 'aé€🔑', 0],
      [9, 'é€🔑', 1],
      [8, '€🔑', 3], // the last 8 bytes start inside é
      [7, '€🔑', 3],
      [6, '🔑', 6], // inside €
      [5, '🔑', 6],
      [4, '🔑', 6],
      [3, '', 10], // inside 🔑
    ];
    for (const [tailBytes, text, truncatedBytes] of cases) {
      const { output } = collector({ tailBytes, keepBytes: 0 });
      output.push('stdout', 'a');
      output.push('stdout', 'é€');
      output.push('stdout', '🔑');
      expect(output.finish().stdout.tail, `tailBytes ${tailBytes}`).toEqual({ text, truncatedBytes });
    }
  });

  it('bounds what is kept for expressions by keepBytes', () => {
    const { output } = collector({ tailBytes: 16, keepBytes: 100 });
    for (let i = 0; i < 1000; i++) output.push('stdout', `line ${String(i).padStart(4, '0')}\n`);
    const { stdout } = output.finish();
    expect(stdout.totalBytes).toBe(10_000);
    expect(Buffer.byteLength(stdout.kept)).toBe(100);
    expect(stdout.kept.endsWith('line 0999\n')).toBe(true);
    expect(stdout.keptTruncatedBytes).toBe(9900);
    expect(stdout.tail).toEqual({ text: 'line 0998\nline 0999\n'.slice(-16), truncatedBytes: 10_000 - 16 });
  });

  it('returns the same result when finish is called again, and refuses output after it', () => {
    const { output } = collector();
    output.push('stdout', 'x');
    const first = output.finish();
    expect(output.finish()).toBe(first);
    expect(() => output.push('stdout', 'y')).toThrow(/after finish/);
  });

  it('stays within constant memory for 50 MB pushed in small chunks', () => {
    const { output } = createOutputCollectorCounting();
    const chunk = 'progress: 0123456789 abcdefghijklmnopqrstuvwxyz é€🔑 lorem ipsum dolor sit amet\n'.repeat(12);
    const chunkBytes = Buffer.byteLength(chunk);
    const rounds = Math.ceil(50_000_000 / chunkBytes);
    globalThis.gc?.();
    const before = process.memoryUsage();
    let peakHeap = before.heapUsed;
    for (let i = 0; i < rounds; i++) {
      output.push(i % 2 === 0 ? 'stdout' : 'stderr', chunk);
      if (i % 5000 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    }
    const { stdout, stderr } = output.finish();
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    expect(stdout.totalBytes + stderr.totalBytes).toBe(rounds * chunkBytes);
    expect(Buffer.byteLength(stdout.kept)).toBeLessThanOrEqual(65536);
    expect(Buffer.byteLength(stdout.tail.text)).toBeLessThanOrEqual(4096);
    expect(stdout.tail.text.endsWith('sit amet\n')).toBe(true);
    expect(stdout.tail.truncatedBytes).toBeGreaterThan(20_000_000);
    // Garbage from 50 MB of short-lived strings may not be collected yet; what is retained must not grow with it.
    expect(peakHeap - before.heapUsed).toBeLessThan(20 * 1024 * 1024);
  }, 60_000);

  function createOutputCollectorCounting() {
    let count = 0;
    const output = createOutputCollector({ masker: createMasker(['not-in-this-output']), onLine: () => count++ });
    return { output, lines: () => count };
  }
});

describe('masking', () => {
  const masker = createMasker(['s3cr3t-t0ken']);

  it('masks a secret split across chunks in lines, tails and kept output', () => {
    const { output, lines } = collector({ masker });
    output.push('stdout', 'token=s3c');
    output.push('stderr', 'err s3cr3t');
    output.push('stdout', 'r3t-t');
    output.push('stdout', '0ken ok\nnext s3cr3t-t0ke');
    output.push('stderr', '-t0ken\n');
    output.push('stdout', 'n');
    const { stdout, stderr } = output.finish();
    expect(lines).toEqual([
      ['stdout', `token=${MASK} ok`],
      ['stderr', `err ${MASK}`], // a complete line goes out at once; nothing waits for more output
      ['stdout', `next ${MASK}`], // no newline: at finish
    ]);
    expect(stdout.tail.text).toBe(`token=${MASK} ok\nnext ${MASK}`);
    expect(stdout.kept).toBe(stdout.tail.text);
    expect(stderr.tail.text).toBe(`err ${MASK}\n`);
  });

  it('masks a secret that spans a newline (a multi-line key)', () => {
    const key = '-----BEGIN KEY-----\nMIIEabc\n-----END KEY-----';
    const { output, lines } = collector({ masker: createMasker([key]) });
    for (const char of `cat key:\n${key}\ndone\n`) output.push('stdout', char);
    const { stdout } = output.finish();
    expect(lines.map(([, line]) => line)).toEqual(['cat key:', MASK, 'done']);
    expect(stdout.tail.text).not.toContain('MIIE');
  });

  it('counts truncated bytes of the masked text', () => {
    const { output } = collector({ masker, tailBytes: 4 });
    output.push('stdout', 's3cr3t-t0ken!');
    expect(output.finish().stdout.tail).toEqual({ text: `${MASK}!`, truncatedBytes: 0 });
  });

  it('accepts a bare mask function and masks whole lines with it', () => {
    const lines: string[] = [];
    const output = createOutputCollector({ mask: (text) => masker.mask(text), onLine: (_s, line) => lines.push(line) });
    output.push('stdout', 'a s3cr3t-');
    output.push('stdout', 't0ken b\nc');
    output.finish();
    expect(lines).toEqual([`a ${MASK} b`, 'c']);
  });
});
