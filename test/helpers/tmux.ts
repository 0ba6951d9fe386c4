// A small tmux driver for e2e tests of the interactive path: a real pseudo-terminal of a fixed size, keys in, pane text out.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

export const TMUX = '/usr/bin/tmux';

export interface TmuxOptions {
  /** The program and its arguments, run directly (no shell quoting involved). */
  command: string[];
  cwd: string;
  /** The command's whole environment: nothing is inherited, so no CI, TMUX or test-runner variable leaks in. */
  env: Record<string, string>;
  width?: number;
  height?: number;
}

export interface WaitOptions {
  timeoutMs?: number;
  /** Search only the pane text after the last occurrence of this string (e.g. a command line typed earlier). */
  after?: string;
}

export interface TmuxSession {
  /** tmux key names, each its own argument: `sendKeys('y', 'Enter')`, `sendKeys('C-c')`, `sendKeys('Up')`. */
  sendKeys(...keys: string[]): Promise<void>;
  /** Literal text, typed as is (no key-name lookup). */
  type(text: string): Promise<void>;
  /** The pane as plain text, wrapped lines joined, scrollback included. */
  capture(): Promise<string>;
  /** Only what the terminal shows now (no scrollback), one row per line as on the screen. */
  screen(): Promise<string>;
  /** Poll the pane until `pattern` matches; resolves with the match, rejects with the last pane text on timeout. */
  waitFor(pattern: RegExp, options?: WaitOptions): Promise<RegExpMatchArray>;
  /** The command's exit status, once it has ended (the pane then runs a plain `sh`). */
  exitCode(timeoutMs?: number): Promise<number>;
  /** Whether the command has ended. */
  hasExited(): boolean;
  /** Resize the terminal (the program gets SIGWINCH, as when a person drags the window's corner). */
  resize(width: number, height: number): Promise<void>;
  /** Only the scrollback: the lines that scrolled off the top of the screen. */
  history(): Promise<string>;
  /** Whether the terminal's cursor is visible (tmux's `cursor_flag`): a program that hid it must show it again. */
  cursorVisible(): Promise<boolean>;
  /** Kill the session and its private server; safe to call twice. */
  kill(): Promise<void>;
  /** The private server's socket (`tmux -S <socket>`): a path of our own, removed by `kill`. */
  readonly socket: string;
}

function tmux(socket: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    // LANG: tmux decides whether the pane speaks UTF-8 from the client's locale; -u says so outright.
    execFile(TMUX, ['-u', '-S', socket, '-f', '/dev/null', ...args], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8' }, timeout: 15_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`tmux ${args[0]} failed: ${String(stderr).trim() || error.message}`));
      else resolve(String(stdout));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Start `command` in a detached tmux session on a private server. The command runs under a small `sh` wrapper that
 * records its exit status in `<cwd>/.tmux-exit-<name>` and then leaves an interactive `sh` in the pane, so a test can
 * check that the terminal still works afterwards. The wrapper traps SIGINT only to outlive the command's Ctrl-C;
 * the command itself gets SIGINT's default disposition back (trapped signals are reset on exec).
 */
export async function startTmux(options: TmuxOptions): Promise<TmuxSession> {
  // A private server on a socket path of our own (not -L, whose socket tmux leaves behind in /tmp/tmux-UID): tests
  // never touch a user's tmux server, and cleanup can remove the socket. Short: a unix socket path has ~100 bytes.
  const name = `deployctl-e2e-${process.pid}-${randomBytes(4).toString('hex')}`;
  const socket = path.join(os.tmpdir(), `${name}.sock`);
  const exitFile = path.join(options.cwd, `.tmux-exit-${name}`);
  const target = `${name}:0.0`;
  const wrapper = 'f=$1; shift; trap : INT; "$@"; rc=$?; printf "%s\\n" "$rc" > "$f.tmp" && mv "$f.tmp" "$f"; exec sh';
  const envArgs = Object.entries(options.env).map(([k, v]) => `${k}=${v}`);
  await tmux(socket, [
    'new-session',
    '-d',
    '-s',
    name,
    '-x',
    String(options.width ?? 120),
    '-y',
    String(options.height ?? 40),
    '-c',
    options.cwd,
    '/usr/bin/env',
    '-i',
    ...envArgs,
    '/bin/sh',
    '-c',
    wrapper,
    'sh',
    exitFile,
    ...options.command,
  ]);
  // A detached session with no client keeps the size it was created with only when nothing asks to resize it.
  await tmux(socket, ['set-option', '-t', name, 'window-size', 'manual']).catch(() => undefined);

  let killed = false;
  const session: TmuxSession = {
    socket,
    async sendKeys(...keys) {
      await tmux(socket, ['send-keys', '-t', target, ...keys]);
    },
    async type(text) {
      await tmux(socket, ['send-keys', '-t', target, '-l', text]);
    },
    async capture() {
      return tmux(socket, ['capture-pane', '-p', '-J', '-S', '-', '-t', target]);
    },
    async resize(width, height) {
      await tmux(socket, ['resize-window', '-t', name, '-x', String(width), '-y', String(height)]);
    },
    async history() {
      // -E -1: up to the line above the screen's first; nothing when nothing scrolled off.
      return tmux(socket, ['capture-pane', '-p', '-J', '-S', '-', '-E', '-1', '-t', target]);
    },
    async screen() {
      return tmux(socket, ['capture-pane', '-p', '-t', target]);
    },
    async waitFor(pattern, { timeoutMs = 20_000, after } = {}) {
      const deadline = Date.now() + timeoutMs;
      let text = '';
      for (;;) {
        text = await session.capture().catch((error: Error) => `(capture failed: ${error.message})`);
        const scoped = after !== undefined && text.includes(after) ? text.slice(text.lastIndexOf(after) + after.length) : after === undefined ? text : '';
        const match = scoped.match(pattern);
        if (match) return match;
        if (Date.now() > deadline) {
          const exited = session.hasExited() ? ` (the command exited with ${readFileSync(exitFile, 'utf8').trim()})` : '';
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${pattern} in the pane${exited}; it shows:\n${text.trimEnd()}`);
        }
        await sleep(100);
      }
    },
    async exitCode(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!session.hasExited()) {
        if (Date.now() > deadline) throw new Error(`the command did not exit within ${timeoutMs} ms; the pane shows:\n${(await session.capture()).trimEnd()}`);
        await sleep(100);
      }
      return Number(readFileSync(exitFile, 'utf8').trim());
    },
    hasExited() {
      return existsSync(exitFile);
    },
    async cursorVisible() {
      return (await tmux(socket, ['display-message', '-p', '-t', target, '#{cursor_flag}'])).trim() === '1';
    },
    async kill() {
      if (killed) return;
      killed = true;
      await tmux(socket, ['kill-server']).catch(() => undefined);
      rmSync(socket, { force: true });
    },
  };
  return session;
}
