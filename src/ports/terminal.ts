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
  /** Stop reading the terminal for this prompt, and leave its mode as it was. */
  dispose(): void;
}

/**
 * The keys of `stdin` for one prompt, without Ctrl-D. Node's readline closes itself on a Ctrl-D typed on an empty
 * line, and the prompt built on it then neither answers nor fails: the run hung at a dead prompt (only Ctrl-C got
 * out). A deployment question has no end-of-input answer, so the key is dropped and the prompt keeps waiting. The
 * terminal goes raw before anything is read, so a Ctrl-D typed before the prompt is drawn is a key too, not the end
 * of stdin (which would leave every later prompt without keys). Raw mode is passed through to the terminal, so every
 * other key, Ctrl-C included, reaches the prompt as before. Should stdin end all the same (the terminal is gone),
 * `onEnd` says so, and the caller closes the prompt.
 */
export function promptInput(onEnd: () => void, stdin: NodeJS.ReadStream = process.stdin): PromptInput {
  const wasRaw = stdin.isRaw;
  const proxy = new PassThrough();
  Object.defineProperties(proxy, {
    isTTY: { value: true },
    isRaw: { get: () => stdin.isRaw },
    setRawMode: {
      value: (mode: boolean) => {
        stdin.setRawMode(mode);
        return proxy;
      },
    },
  });
  const onData = (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const kept = bytes.includes(EOT) ? bytes.filter((b) => b !== EOT) : bytes;
    if (kept.length > 0) proxy.write(kept);
  };
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.on('data', onData);
  stdin.once('end', onEnd);
  stdin.resume();
  return {
    input: proxy,
    dispose() {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
      if (stdin.isTTY) stdin.setRawMode(wasRaw);
      proxy.end();
    },
  };
}
