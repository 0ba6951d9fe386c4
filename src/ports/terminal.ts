// The real terminal: throwing away keys typed before a prompt was drawn (the controlling tty, opened anew).
import { closeSync, constants as fsConstants, openSync, readSync } from 'node:fs';

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
