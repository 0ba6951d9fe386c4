// The live-output budget: past it a stream shows one notice and nothing more live, while the record's tail and the kept output stay exact.
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIVE_CHARS, createOutputCollector, liveLimitNotice, type OutputStream } from '../../src/engine/output.js';
import { createMasker } from '../../src/engine/secrets.js';

function collector(liveChars?: number) {
  const lines: [OutputStream, string][] = [];
  const output = createOutputCollector({
    masker: createMasker(['s3cr3t-t0ken']),
    onLine: (stream, line) => lines.push([stream, line]),
    tailBytes: 64,
    keepBytes: 128,
    ...(liveChars !== undefined ? { liveChars } : {}),
  });
  return { output, lines };
}

describe('the live-output budget', () => {
  it('shows lines up to the budget, then one notice per stream, then nothing', () => {
    const { output, lines } = collector(20);
    const first = 'line one\nline two\nline three\nline four\n';
    output.push('stdout', first);
    output.push('stderr', 'err one\n');
    output.push('stdout', 'more\n'.repeat(1000));
    const { stdout, stderr } = output.finish();
    expect(lines).toEqual([
      ['stdout', 'line one'],
      ['stdout', 'line two'],
      ['stdout', liveLimitNotice(20, 64)],
      ['stderr', 'err one'],
    ]);
    // The tail and the kept output do not depend on what was shown live.
    expect(stdout.tail.text).toBe('more\n'.repeat(13).slice(-64));
    expect(stdout.totalBytes).toBe(first.length + 5000);
    expect(stdout.kept).toBe(('line four\n' + 'more\n'.repeat(1000)).slice(-128));
    expect(stderr.tail.text).toBe('err one\n');
  });

  it('counts a line cut into pieces, and a last line without a newline, against the budget', () => {
    const { output, lines } = collector(10);
    output.push('stdout', 'x'.repeat(25));
    output.finish();
    expect(lines).toEqual([['stdout', liveLimitNotice(10, 64)]]);
  });

  it('still masks what it shows, and says what the limit and the tail are', () => {
    const { output, lines } = collector();
    output.push('stdout', 'token s3cr3t-t0ken\n');
    output.finish();
    expect(lines).toEqual([['stdout', 'token ***']]);
    expect(DEFAULT_LIVE_CHARS).toBe(1024 * 1024);
    expect(liveLimitNotice(DEFAULT_LIVE_CHARS, 4096)).toBe('[deployctl: more output than 1 MiB is not shown live; the record keeps its last 4 KiB]');
  });
});
