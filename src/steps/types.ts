// What every step runner receives and returns.
import type { Actor, StepOutcome } from '../engine/events.js';
import type { CelContext } from '../expr/cel.js';
import type { Answers } from '../engine/answers.js';
import type { Masker } from '../engine/secrets.js';
import type { Clock, Exec, HttpSend, Prompter } from '../ports/types.js';
import type { PhaseDoc, RunbookSource, StepDoc } from '../runbook/types.js';

export interface StepRunContext {
  step: StepDoc;
  phase: PhaseDoc;
  source: RunbookSource;
  /** Expression values as of now (steps so far, vars, answers, env, run). */
  context: CelContext;
  actor: Actor;
  /** `[QA Lead · Carol]`: shown before every question and in task titles. */
  who: string;
  signal: AbortSignal;
  dryRun: boolean;
  /** Undefined without a terminal: manual steps then take their answers from `answers`. */
  prompter: Prompter | undefined;
  answers: Answers;
  exec: Exec;
  send: HttpSend;
  clock: Clock;
  /** Environment for child processes (the operator's environment, secrets included). */
  env: Record<string, string>;
  /**
   * Variables naming this run and step, set for the command over anything in `env` or the step's `env:`: how a resume
   * finds a step still running, and how a timed-out or interrupted step's escaped processes are found.
   */
  processMarks?: Readonly<Record<string, string>>;
  /** Secret values: never allowed in a command line. */
  secretValues: readonly string[];
  mask: (text: string) => string;
  /** When present, output is masked as a stream: a secret split across chunks or lines is still caught. */
  masker?: Masker;
  /** The step's command started, with this process (and process group) id. */
  onSpawn?: (pid: number) => void;
  /** How far a long step is (an HTTP probe: samples measured of samples to send), for the live display. */
  onProgress?: (done: number, total: number, unit: string) => void;
  /** Live output lines, already masked. */
  onLine: (stream: 'stdout' | 'stderr', line: string) => void;
  killGraceMs?: number;
  /** What failing this step would lead to, in words (`the run stops here and ROLLS BACK deploy, …`): asked about before a person fails it. */
  ifFailed?: string;
}

/** A step's result before the engine adds attempts and timing. */
export type StepResult = Omit<StepOutcome, 'attempts' | 'startedAt' | 'endedAt' | 'durationMs'> & {
  /** Longer output kept for `steps.<id>.stdout` in later expressions. */
  fullOutput?: { stdout: string; stderr: string };
};
