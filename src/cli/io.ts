// The terminal as a port: commands write lines here (made inert on the way out), tests capture them.
import { inertForTerminal } from '../inert.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal (colour, spinners). */
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

/**
 * The process's stdout and stderr. Everything written here is made inert on the way out (`inertForTerminal`): a
 * runbook title, a --var, an answer, a journal or a record can put any bytes into a message, and none of them may
 * act on the terminal. The renderers escape what they quote too; this is the one place nothing gets past.
 */
export function processIo(): Io {
  // The same rule as plan/style.ts wantsColour (not imported: that module loads chalk).
  const colour = (stream: NodeJS.WriteStream) => stream.isTTY === true && (process.env['NO_COLOR'] ?? '') === '' && process.env['TERM'] !== 'dumb';
  const write = (stream: NodeJS.WriteStream, keepColour: boolean, text: string) => {
    const shown = inertForTerminal(text, keepColour);
    stream.write(shown.endsWith('\n') ? shown : `${shown}\n`);
  };
  const outColour = colour(process.stdout);
  const errColour = colour(process.stderr);
  return {
    out: (text) => write(process.stdout, outColour, text),
    err: (text) => write(process.stderr, errColour, text),
    isTTY: process.stdout.isTTY === true,
    env: process.env,
  };
}

/** Collects output in memory; for tests and for commands that render before printing. */
export function bufferIo(env: NodeJS.ProcessEnv = {}): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (text) => stdout.push(text.replace(/\n$/, '')),
    err: (text) => stderr.push(text.replace(/\n$/, '')),
    isTTY: false,
    env,
  };
}
