// A step's output: masked as it streams, split into lines per stream for live display (up to a budget), and capped to its last bytes in constant memory.
import type { OutputTail } from './events.js';
import { createStreamMasker, type Masker, type StreamMasker } from './secrets.js';

export type OutputStream = 'stdout' | 'stderr';

/** Masking is not optional: give the run's Masker (preferred), or a bare mask function (then only whole lines are masked). */
type MaskOption = { masker: Masker; mask?: undefined } | { mask: (text: string) => string; masker?: undefined };

export type OutputCollectorOptions = MaskOption & {
  /** Bytes of each stream kept for the record (`OutputTail`). Default 4096. */
  tailBytes?: number;
  /** Bytes of each stream kept for `steps.<id>.stdout` / `.stderr` in later expressions. Default 65536. */
  keepBytes?: number;
  /** Longer lines reach `onLine` in pieces of this many characters, so a line never grows without bound. Default 8192. */
  maxLineLength?: number;
  /**
   * Characters of each stream shown through `onLine`; after them one notice line, then nothing more live. Every line becomes
   * an event that is displayed and journaled, so a step printing gigabytes would otherwise cost minutes and gigabytes of
   * journal; the tail and kept output are unaffected. Default 1 MiB (1048576).
   */
  liveChars?: number;
  /** Each line (without its newline, a trailing `\r` removed), already masked, as soon as it is complete. */
  onLine?: (stream: OutputStream, line: string) => void;
};

export interface CollectedStream {
  /** The last `tailBytes` bytes, masked, cut on a character boundary. */
  tail: OutputTail;
  /** The last `keepBytes` bytes, masked, cut on a character boundary. */
  kept: string;
  /** Bytes dropped before `kept`. */
  keptTruncatedBytes: number;
  /** Bytes of masked output seen in all. */
  totalBytes: number;
}

export interface CollectedOutput {
  stdout: CollectedStream;
  stderr: CollectedStream;
}

export interface OutputCollector {
  /** A chunk of raw (unmasked) output as it arrives, e.g. from `ExecRequest.onOutput`. */
  push(stream: OutputStream, chunk: string): void;
  /** Flush what the masker held back and the last line without a newline; returns the kept output. Calling it again returns the same. */
  finish(): CollectedOutput;
}

export const DEFAULT_TAIL_BYTES = 4096;
export const DEFAULT_KEEP_BYTES = 65536;
export const DEFAULT_MAX_LINE_LENGTH = 8192;
export const DEFAULT_LIVE_CHARS = 1024 * 1024;

/** The line shown instead of a stream's output beyond its live budget. */
export function liveLimitNotice(liveChars: number, tailBytes: number): string {
  return `[deployctl: more output than ${formatSize(liveChars)} is not shown live; the record keeps its last ${formatSize(tailBytes)}]`;
}

function formatSize(n: number): string {
  return n >= 1024 * 1024 && n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : n >= 1024 && n % 1024 === 0 ? `${n / 1024} KiB` : `${n} characters`;
}

export function createOutputCollector(options: OutputCollectorOptions): OutputCollector {
  const tailBytes = nonNegative(options.tailBytes ?? DEFAULT_TAIL_BYTES, 'tailBytes');
  const keepBytes = nonNegative(options.keepBytes ?? DEFAULT_KEEP_BYTES, 'keepBytes');
  const maxLineLength = Math.max(2, Math.floor(options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH));
  const liveChars = nonNegative(options.liveChars ?? DEFAULT_LIVE_CHARS, 'liveChars');
  const masking = options.masker ?? options.mask;
  const streams = {
    stdout: createStreamState(masking, Math.max(tailBytes, keepBytes), liveChars),
    stderr: createStreamState(masking, Math.max(tailBytes, keepBytes), liveChars),
  };
  let result: CollectedOutput | undefined;

  const emitLine = (stream: OutputStream, line: string) => {
    const state = streams[stream];
    if (state.liveLeft < 0) return;
    state.liveLeft -= line.length + 1;
    if (state.liveLeft < 0) {
      options.onLine?.(stream, liveLimitNotice(liveChars, tailBytes));
      return;
    }
    options.onLine?.(stream, line.endsWith('\r') ? line.slice(0, -1) : line);
  };

  /** Lines complete in `text` go to onLine; the rest waits in `partial`, cut into pieces when it grows too long. */
  const take = (stream: OutputStream, text: string) => {
    if (text.length === 0) return;
    const state = streams[stream];
    state.ring.write(text);
    // Past the live budget nothing more is shown: skip the line splitting too (gigabytes of output stay cheap).
    if (state.liveLeft < 0 || options.onLine === undefined) return;
    let start = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      emitPieces(stream, state.partial + text.slice(start, newline), true);
      state.partial = '';
      start = newline + 1;
    }
    state.partial = emitPieces(stream, state.partial + text.slice(start), false);
  };

  /** Emit `line` in pieces of at most maxLineLength; unless `whole`, return the last piece (shorter than the limit) instead of emitting it. */
  const emitPieces = (stream: OutputStream, line: string, whole: boolean): string => {
    let rest = line;
    while (rest.length > maxLineLength) {
      let cut = maxLineLength;
      if (isHighSurrogate(rest.charCodeAt(cut - 1))) cut--;
      emitLine(stream, rest.slice(0, cut));
      rest = rest.slice(cut);
    }
    if (!whole) return rest;
    emitLine(stream, rest);
    return '';
  };

  return {
    push(stream, chunk) {
      if (result !== undefined) throw new Error(`output pushed to ${stream} after finish()`);
      take(stream, streams[stream].masker.push(chunk));
    },
    finish() {
      if (result !== undefined) return result;
      for (const stream of ['stdout', 'stderr'] as const) {
        const state = streams[stream];
        take(stream, state.masker.flush());
        if (state.partial.length > 0) emitLine(stream, state.partial);
        state.partial = '';
      }
      result = { stdout: collect(streams.stdout.ring), stderr: collect(streams.stderr.ring) };
      return result;
    },
  };

  function collect(ring: ByteRing): CollectedStream {
    const tail = ring.last(tailBytes);
    const kept = ring.last(keepBytes);
    return { tail, kept: kept.text, keptTruncatedBytes: kept.truncatedBytes, totalBytes: ring.total };
  }
}

interface StreamState {
  masker: StreamMasker;
  ring: ByteRing;
  /** Masked text after the last newline, at most maxLineLength characters. */
  partial: string;
  /** Characters still to be shown live; below 0 once the notice went out. */
  liveLeft: number;
}

function createStreamState(masking: Masker | ((text: string) => string), capacity: number, liveChars: number): StreamState {
  return { masker: createStreamMasker(masking), ring: new ByteRing(capacity), partial: '', liveLeft: liveChars };
}

/** The last `capacity` bytes of UTF-8 text, in one fixed buffer: memory does not grow with the output. */
class ByteRing {
  private readonly buffer: Buffer;
  /** Where the next byte goes. */
  private end = 0;
  /** Valid bytes in the buffer (≤ capacity). */
  private filled = 0;
  /** Bytes written in all. */
  total = 0;

  constructor(private readonly capacity: number) {
    this.buffer = Buffer.alloc(capacity);
  }

  write(text: string): void {
    this.total += Buffer.byteLength(text, 'utf8');
    if (this.capacity === 0) return;
    // Only the end can survive: encode no more than the last `capacity` characters (each is ≥ 1 byte).
    let piece = text;
    if (piece.length > this.capacity) {
      let from = piece.length - this.capacity;
      if (isLowSurrogate(piece.charCodeAt(from))) from++;
      piece = piece.slice(from);
    }
    let bytes = Buffer.from(piece, 'utf8');
    if (bytes.length > this.capacity) bytes = bytes.subarray(bytes.length - this.capacity);
    const first = Math.min(bytes.length, this.capacity - this.end);
    bytes.copy(this.buffer, this.end, 0, first);
    bytes.copy(this.buffer, 0, first);
    this.end = (this.end + bytes.length) % this.capacity;
    this.filled = Math.min(this.capacity, this.filled + bytes.length);
  }

  /** The last `n` bytes (fewer, to start on a character boundary), and how many bytes came before them. */
  last(n: number): OutputTail {
    const length = Math.min(n, this.filled);
    if (length === 0) return { text: '', truncatedBytes: this.total };
    const out = Buffer.alloc(length);
    const start = (this.end - length + this.capacity) % this.capacity;
    const first = Math.min(length, this.capacity - start);
    this.buffer.copy(out, 0, start, start + first);
    this.buffer.copy(out, first, 0, length - first);
    // Skip the continuation bytes (10xxxxxx) of a character whose start was dropped.
    let skip = 0;
    while (skip < out.length && skip < 3 && (out[skip]! & 0xc0) === 0x80) skip++;
    return { text: out.toString('utf8', skip), truncatedBytes: this.total - (length - skip) };
  }
}

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number, got ${value}`);
  return Math.floor(value);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
