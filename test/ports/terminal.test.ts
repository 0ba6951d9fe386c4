// The prompt's view of the terminal: raw before anything is read, Ctrl-D dropped, the end of stdin reported, the mode restored.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { promptInput } from '../../src/ports/terminal.js';

/** A stand-in for a terminal's stdin that records what was asked of it, in order. */
function fakeTerminal() {
  const calls: string[] = [];
  const stream = new PassThrough();
  let raw = false;
  const originalResume = stream.resume.bind(stream);
  // defineProperties, not Object.assign: assign would copy the getter's value once.
  const stdin = Object.defineProperties(stream, {
    isTTY: { value: true },
    isRaw: { get: () => raw },
    setRawMode: {
      value: (mode: boolean) => {
        calls.push(`raw ${mode}`);
        raw = mode;
        return stdin;
      },
    },
  });
  stdin.resume = () => {
    calls.push('resume');
    return originalResume();
  };
  return { stdin: stdin as unknown as NodeJS.ReadStream, calls, isRaw: () => raw, feed: (bytes: number[] | string) => stream.write(Buffer.from(bytes as string)) };
}

async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('latin1');
}

describe('promptInput', () => {
  it('makes the terminal raw before it reads a key, so an early Ctrl-D is a key and not the end of input', () => {
    const term = fakeTerminal();
    const keys = promptInput(() => undefined, term.stdin);
    expect(term.calls.slice(0, 2)).toEqual(['raw true', 'resume']);
    keys.dispose();
  });

  it('passes every key but Ctrl-D (0x04) on, Ctrl-C and multi-byte characters included', async () => {
    const term = fakeTerminal();
    const keys = promptInput(() => undefined, term.stdin);
    const read = readAll(keys.input);
    term.feed([0x04]);
    term.feed([0x79, 0x04, 0x0d]);
    term.feed('é🔑\u0003');
    await new Promise((r) => setImmediate(r));
    keys.dispose();
    expect(await read).toBe(Buffer.from('y\ré🔑\u0003').toString('latin1'));
  });

  it('passes raw mode through, reports it live, and restores the mode it found on dispose', () => {
    const term = fakeTerminal();
    const keys = promptInput(() => undefined, term.stdin);
    const input = keys.input as unknown as { isTTY: boolean; isRaw: boolean; setRawMode(mode: boolean): unknown };
    expect(input.isTTY).toBe(true);
    input.setRawMode(false);
    expect(input.isRaw).toBe(false);
    input.setRawMode(true);
    expect(input.isRaw).toBe(true);
    keys.dispose();
    expect(term.isRaw()).toBe(false);
    expect(term.stdin.listenerCount('data')).toBe(0);
    expect(term.stdin.listenerCount('end')).toBe(0);
  });

  it('says when stdin ends (the terminal is gone), so the prompt can be closed instead of waiting forever', async () => {
    const term = fakeTerminal();
    let ended = 0;
    const keys = promptInput(() => ended++, term.stdin);
    (term.stdin as unknown as PassThrough).end();
    await new Promise((r) => setImmediate(r));
    expect(ended).toBe(1);
    keys.dispose();
  });
});
