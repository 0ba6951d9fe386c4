// Fakes for engine tests: a command table for exec, scripted answers for prompts, a manual clock driver, inline runbooks.
import { createHash } from 'node:crypto';
import { executeRun, type EngineDeps, type EngineOptions, type RunResult } from '../../src/engine/execute.js';
import type { RunEvent } from '../../src/engine/events.js';
import { createManualClock, type ManualClock } from '../../src/ports/clock.js';
import { PromptAbortedError, PromptCancelledError, type Exec, type ExecRequest, type HttpSend, type PromptAnswer, type PromptRequest, type Prompter } from '../../src/ports/types.js';
import { parseRunbookText, type LoadedRunbook } from '../../src/runbook/load.js';
import { varDefaults } from '../../src/runbook/pattern.js';

export function inlineRunbook(yaml: string, file = 'inline.yaml'): LoadedRunbook {
  const parsed = parseRunbookText(yaml, file);
  if (!parsed.ok) throw new Error(`test runbook is invalid:\n${parsed.problems.map((p) => `${p.line}:${p.col} ${p.message}`).join('\n')}`);
  const bytes = new TextEncoder().encode(yaml);
  return { doc: parsed.doc, locate: parsed.locate, source: { path: file, dir: '/tmp', bytes, sha256: createHash('sha256').update(bytes).digest('hex') } };
}

export type CommandReply = { exitCode?: number; stdout?: string; stderr?: string; hang?: boolean } | ((request: ExecRequest) => Promise<{ exitCode: number }>);

/** Exec from a table: the rendered shell string (or argv joined by spaces) → what it does. Records every call. */
export function fakeExec(table: Record<string, CommandReply | CommandReply[]>): Exec & { calls: string[] } {
  const calls: string[] = [];
  const seen = new Map<string, number>();
  const exec = (async (request: ExecRequest) => {
    const key = 'shell' in request.command ? request.command.shell : request.command.argv.join(' ');
    calls.push(key);
    const entry = table[key];
    if (entry === undefined) return { exitCode: 127, signal: null, timedOut: false, interrupted: false, durationMs: 1, spawnError: `command not found in the test table: ${key}` };
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    const reply = Array.isArray(entry) ? entry[Math.min(n, entry.length - 1)]! : entry;
    if (typeof reply === 'function') {
      const r = await reply(request);
      return { exitCode: r.exitCode, signal: null, timedOut: false, interrupted: false, durationMs: 1 };
    }
    if (reply.hang) {
      await new Promise<void>((resolve) => request.signal?.addEventListener('abort', () => resolve(), { once: true }));
      return { exitCode: null, signal: 'SIGTERM', timedOut: false, interrupted: true, durationMs: 1 };
    }
    if (reply.stdout) request.onOutput?.('stdout', reply.stdout);
    if (reply.stderr) request.onOutput?.('stderr', reply.stderr);
    return { exitCode: reply.exitCode ?? 0, signal: null, timedOut: false, interrupted: false, durationMs: 1 };
  }) as Exec & { calls: string[] };
  exec.calls = calls;
  return exec;
}

/**
 * Answers by prompt id, in order for repeated ids; 'ABORT' throws like Ctrl-C at the prompt; 'WAIT' leaves the question
 * open until its deadline closes it (PromptOptions.signal). Records every request.
 */
export function scriptedPrompter(script: Record<string, PromptAnswer | 'ABORT' | 'WAIT'>): Prompter & { requests: PromptRequest[] } {
  const requests: PromptRequest[] = [];
  return {
    requests,
    async ask(request, options) {
      requests.push(request);
      const answer = script[request.id];
      if (answer === undefined) throw new Error(`test prompter has no answer for ${request.id}`);
      if (answer === 'ABORT') throw new PromptAbortedError();
      if (answer === 'WAIT') {
        const closed = options?.signal;
        if (closed === undefined) throw new Error(`test prompter: ${request.id} waits for a deadline, but the question has none`);
        await new Promise<void>((resolve) => (closed.aborted ? resolve() : closed.addEventListener('abort', () => resolve(), { once: true })));
        throw new PromptCancelledError();
      }
      return answer;
    },
  };
}

export const noHttp: HttpSend = async () => ({ ok: false, error: 'no network in this test', durationMs: 0, timedOut: false });

export interface Harness {
  clock: ManualClock;
  events: RunEvent[];
  run(runbook: LoadedRunbook, options?: Partial<EngineOptions>, deps?: Partial<EngineDeps>): Promise<RunResult>;
}

/** Runs the engine while driving the manual clock, so retry delays pass without real waiting. */
export function harness(): Harness {
  const clock = createManualClock(Date.UTC(2026, 10, 26, 10, 0, 0));
  const events: RunEvent[] = [];
  return {
    clock,
    events,
    async run(runbook, options = {}, deps = {}) {
      const promise = executeRun(
        runbook,
        {
          runId: '20261126T100000Z-abcdef',
          operator: 'tester',
          host: 'test-host',
          toolVersion: '0.0.0-test',
          pid: 4242,
          vars: varDefaults(runbook.doc),
          dryRun: false,
          signal: new AbortController().signal,
          ...options,
        },
        {
          exec: fakeExec({}),
          send: noHttp,
          clock,
          prompter: undefined,
          answers: new Map(),
          env: {},
          secretValues: [],
          mask: (t) => t,
          emit: (e) => events.push(e),
          ...deps,
        },
      );
      let done = false;
      void promise.then(
        () => (done = true),
        () => (done = true),
      );
      while (!done) {
        // Move the clock only once the run waits on it: an http probe yields a macrotask before each sample after a
        // worker's first (steps/http.ts), and a pending timer (a watch's next tick, a phase's window) must not fire
        // in the middle of its samples.
        for (let i = 0; i < 100; i++) await new Promise((r) => setImmediate(r));
        if (!(await clock.runNext())) await new Promise((r) => setImmediate(r));
      }
      return promise;
    },
  };
}

export function kinds(events: RunEvent[]): string[] {
  return events.filter((e) => e.kind !== 'step-output').map((e) => ('stepId' in e ? `${e.kind}:${e.stepId}` : 'gateId' in e ? `${e.kind}:${e.gateId}` : 'phaseId' in e ? `${e.kind}:${e.phaseId}` : e.kind));
}
