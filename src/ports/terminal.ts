// The real terminal: throwing away keys typed before a prompt was drawn (the controlling tty, opened anew), and the keys a prompt reads.
import { closeSync, constants as fsConstants, openSync, readSync } from 'node:fs';
import { PassThrough } from 'node:stream';

/**
 * Throw away keys typed before this prompt was shown. While a step runs nobody reads the terminal, so the kernel keeps
 * what is typed, and the next prompt would read it as its answer: an Enter pressed during a long step picked GO at the
 * following go/no-go before it was ever drawn. Raw mode first, so a line without its Enter is dropped too; the
 * terminal is opened anew (non-blocking) so stdin's own descriptor is left as it was. Ctrl-C never waits here: in
 * cooked mode the terminal turns it into SIGINT at once.
 */
export function discardTypeAhead(stdin: NodeJS.ReadStream = process.stdin): void {
  if (!stdin.isTTY) return;
  let fd: number | undefined;
  const wasRaw = stdin.isRaw;
  try {
    fd = openSync('/dev/tty', fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY);
    if (!wasRaw) stdin.setRawMode(true);
    const buffer = Buffer.alloc(1024);
    while (readSync(fd, buffer, 0, buffer.length, null) > 0);
  } catch {
    // EAGAIN: nothing (more) was typed. Any other error: no terminal to drain; the prompt works as before.
  } finally {
    if (!wasRaw) stdin.setRawMode(false);
    if (fd !== undefined) closeSync(fd);
  }
}

/** Ctrl-D as a raw terminal sends it. */
const EOT = 0x04;

export interface PromptInput {
  /** A terminal-like stream for the prompt: the terminal's keys, Ctrl-D left out. */
  input: NodeJS.ReadableStream;
  /** Stop reading the terminal for this prompt. */
  dispose(): void;
}

/**
 * The keys of `stdin` for one prompt, without Ctrl-D. Node's readline closes itself on a Ctrl-D typed on an empty
 * line, and the prompt built on it then neither answers nor fails: the run hung at a dead prompt (only Ctrl-C got
 * out). A deployment question has no end-of-input answer, so the key is dropped and the prompt keeps waiting. Raw
 * mode is passed through to the terminal, so every other key (Ctrl-C included) reaches the prompt as before.
 */
export function promptInput(stdin: NodeJS.ReadStream = process.stdin): PromptInput {
  const proxy = Object.assign(new PassThrough(), {
    isTTY: true,
    get isRaw() {
      return stdin.isRaw;
    },
    setRawMode(mode: boolean) {
      stdin.setRawMode(mode);
      return proxy;
    },
  });
  const onData = (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const kept = bytes.includes(EOT) ? bytes.filter((b) => b !== EOT) : bytes;
    if (kept.length > 0) proxy.write(kept);
  };
  stdin.on('data', onData);
  stdin.resume();
  return {
    input: proxy,
    dispose() {
      stdin.off('data', onData);
      stdin.pause();
      proxy.end();
    },
  };
}
