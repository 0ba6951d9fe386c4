// The effects the engine needs, as interfaces: exec, fetch, prompt, clock. Real implementations live beside this file; tests pass fakes.
import type { WarmupLedger } from './warmup-ledger.js';

/** What to spawn: a shell string (run by /bin/sh -c) or an argv list (no shell). */
export type CommandSpec = { shell: string } | { argv: string[] };

export interface ExecRequest {
  command: CommandSpec;
  cwd: string;
  /** The complete environment of the child (not merged with anything). */
  env: Record<string, string>;
  /** Kill the whole process group after this long (SIGTERM, then SIGKILL after `killGraceMs`). */
  timeoutMs?: number;
  /** Aborting kills the whole process group the same way (Ctrl-C, SIGTERM of deployctl). */
  signal?: AbortSignal;
  /** Grace period between SIGTERM and SIGKILL; default 5 s. */
  killGraceMs?: number;
  /** Raw output as it arrives. The port keeps none of it: memory stays flat however much a step prints. */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: string) => void;
  /** Called once the child exists, with its pid (the process group id too). */
  onSpawn?: (pid: number) => void;
  /**
   * `NAME=value` entries of `env` that every process the command starts inherits (the run and step ids). After a
   * timeout or an abort, processes that left the group (setsid, a daemonizing double fork) but carry all of them are
   * stopped as well.
   */
  marks?: readonly string[];
}

export interface ExecResult {
  /** Exit code, or null when the child was killed by a signal or never started. */
  exitCode: number | null;
  /** The signal that ended the child, e.g. 'SIGKILL'. */
  signal: string | null;
  timedOut: boolean;
  /** Ended because `signal` was aborted. */
  interrupted: boolean;
  durationMs: number;
  /** The child could not be started (ENOENT, EACCES…): a sentence saying so. */
  spawnError?: string;
  /** Processes outside the group that carried the request's `marks` and were stopped after a timeout or an abort. */
  swept?: { pid: number; name: string }[];
}

export type Exec = (request: ExecRequest) => Promise<ExecResult>;

export interface HttpRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** A PEM file of the CA(s) to trust for https instead of the system's (a metrics server with a private CA). */
  caFile?: string;
}

export type HttpResult =
  | { ok: true; status: number; body: string; durationMs: number }
  | { ok: false; error: string; durationMs: number; timedOut: boolean };

/** One HTTP request. Bodies are read up to a cap; the probe only needs to search them. */
/**
 * Send one request. A port that keeps connections open between requests (the real one: undici's pool, one per
 * process) carries the ledger of what it knows about them (`warmups`, ports/warmup-ledger.ts), so every probe through
 * it shares one; a port without one (a test's scripted port) makes each probe warm up (review 1 #21).
 */
export type HttpSend = ((request: HttpRequest) => Promise<HttpResult>) & { readonly warmups?: WarmupLedger };

export interface Clock {
  /** Wall-clock time in ms since the epoch (for records). */
  now(): number;
  /** Monotonic ms (for durations). */
  monotonic(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** A cancellable timer (escalations, status updates). */
  setTimer(ms: number, callback: () => void): { cancel(): void };
}

/** One question for a person. `who` is the role's title and person, shown before the question. */
export type PromptRequest =
  | { kind: 'confirm'; id: string; who: string; message: string }
  | { kind: 'checklist'; id: string; who: string; message: string; items: string[]; ticked?: string[] }
  | { kind: 'ask'; id: string; who: string; message: string; /** The whole answer must match (the prompt says so and asks again). */ pattern?: string }
  | { kind: 'decide'; id: string; who: string; message: string; choices: { value: string; label: string; disabled?: string }[] };

export type PromptAnswer = boolean | string | string[];

export interface PromptOptions {
  /** Closes the question without an answer (a timeout ran out): the prompter rejects with PromptCancelledError. */
  signal?: AbortSignal;
}

export interface Prompter {
  ask(request: PromptRequest, options?: PromptOptions): Promise<PromptAnswer>;
}

/** Raised by a prompter when its question was closed by `PromptOptions.signal` (no answer in time), not by a person. */
export class PromptCancelledError extends Error {
  constructor() {
    super('prompt closed without an answer');
    this.name = 'PromptCancelledError';
  }
}

/** Raised by a prompter when the person pressed Ctrl-C: a clean abort, never a stack trace. */
export class PromptAbortedError extends Error {
  constructor() {
    super('prompt aborted');
    this.name = 'PromptAbortedError';
  }
}
