// The run as a typed event stream: the engine emits these; the journal, reporters, notifier and record subscribe.
import type { PromptRequest } from '../ports/types.js';
import type { AnswersFileRef, AnswerVia, SignedAnswer } from '../record/answers.js';
import type { CheckKind, FailurePolicy, StepKind } from '../runbook/types.js';
import type { GateCondition, GateDecision } from './gate-condition.js';

export type { GateCondition, GateDecision, LegacyEvidence } from './gate-condition.js';

/** HTTP probe measurements; also what `steps.<id>.metrics` holds in expressions. */
export interface ProbeMetrics {
  samples: number;
  errors: number;
  error_rate: number;
  success_rate: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
  /** Response status codes seen, with counts. */
  statuses: Record<string, number>;
}

/** The requests an HTTP probe sent before its samples, to warm the client: counted in no metric. */
export interface ProbeWarmup {
  /** Sent before the samples; 0 when the origin's connections were still warm from an earlier probe. */
  requests: number;
  /** Of those, how many failed (a failure fails the step). */
  failed: number;
  /** The slowest of them, ms: the client's start-up shows here, not in the samples. */
  maxMs: number;
}

/** Output kept for the record and for `steps.<id>.stdout`: masked, capped to the last bytes. */
export interface OutputTail {
  text: string;
  /** Bytes dropped before the tail. */
  truncatedBytes: number;
}

/**
 * `inconclusive`: a check found no data (or NaN, ±Inf). It is not a pass (`ok` is false), and it is handled as a failure
 * is (the step's `on_failure`, src/runbook/failure-policy.ts): a gate that decides it sees `steps.<id>.status == 'inconclusive'`.
 */
export type StepStatus = 'succeeded' | 'failed' | 'skipped' | 'interrupted' | 'inconclusive';

/** One series a check read: its labels and its number (`"NaN"`, `"+Inf"`, `"-Inf"` for the non-finite, as JSON cannot hold them). */
export interface CheckSeries {
  labels: Record<string, string>;
  value: number | string;
}

/** What a `prometheus` (or `http` with `json_path`) check read and concluded: kept in the journal and the record. */
export interface CheckReading {
  source: 'prometheus' | 'json';
  /** The PromQL as sent (templates rendered), or the json_path. */
  query: string;
  /** The request URL (masked). */
  url: string;
  /** The time the query was evaluated at (a range query: its end), ms since the epoch. */
  evaluatedAt: number;
  range?: { startMs: number; stepMs: number; reduce: string };
  /** The number `expect:` judged: a scalar, the single series' value; null when there was none or it was not finite. */
  result: number | null;
  results: CheckSeries[];
  verdict: 'pass' | 'fail' | 'inconclusive';
  /** The condition, as written. */
  expect?: string;
  /** Prometheus's own warnings about the answer. */
  warnings?: string[];
}

/** Who acted on a step or gate: the role, its named person, and the operator at the keyboard. */
export interface Actor {
  role: string;
  person?: string;
  operator: string;
}

/** The result of one step, as a value (expected failures are never exceptions). */
export interface StepOutcome {
  status: StepStatus;
  /** Why it failed or was skipped, in a sentence (e.g. `p95 612 ms > max 500 ms`, `if: steps.x.ok was false`). */
  reason?: string;
  /** Each failed expectation, measured against expected. */
  failures?: string[];
  attempts: number;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  /** run: the command as executed (templates resolved, secrets masked). http: `GET url`. */
  command?: string;
  exitCode?: number | null;
  signal?: string | null;
  timedOut?: boolean;
  stdout?: OutputTail;
  stderr?: OutputTail;
  /**
   * The last 64 KiB of each stream (masked), when longer than the tails: what `steps.<id>.stdout` / `.stderr` hold
   * in later expressions. Journaled, so a resumed run decides from the same text; never put in the record.
   */
  kept?: { stdout: string; stderr: string };
  metrics?: ProbeMetrics;
  /** prometheus, or http with json_path: what the check read and its verdict. */
  check?: CheckReading;
  /** A watch: its ticks when it ended (the window's full tally is in the run's state, every tick in the journal). */
  ticks?: { planned: number; recorded: number; passed: number; failed: number; inconclusive: number; missed: number };
  /** http: the warm-up before the samples (not in `metrics`; ports/warmup-ledger.ts). */
  warmup?: ProbeWarmup;
  /** confirm → boolean, checklist → ticked items, ask → text. */
  answer?: boolean | string | string[];
  by?: Actor;
  /** The answer came from --answers, not from a person at a prompt. */
  answeredFrom?: 'prompt' | 'answers-file';
  /** Set when the outcome is carried over from an earlier, interrupted run. */
  resumedFrom?: string;
  dryRun?: boolean;
}

/** What follows a phase step's failure: stop and roll back, go on, stop without rolling back, or leave it to a gate. */
export type FailureAction = 'rollback' | 'continue' | 'abort' | 'gate';

/** Where a decision came from: a person at the prompt, the answers file, or the rule for when nobody answered. */
export type FailureAnsweredFrom = 'prompt' | 'answers-file' | 'default';

/** How a rollback authorization was decided: by a person (prompt, answers file, or their `on_failure: ask` choice), or by the default (no terminal, timeout). */
export type AuthorizationSource = 'prompt' | 'answers-file' | 'chosen' | 'timeout' | 'no-terminal';

/** One check's result at one tick of a watch: compact, as a 24-hour window has a hundred ticks of four checks. */
export interface TickCheck {
  id: string;
  kind: CheckKind;
  /** `skipped`: its `if:` was false at this tick (it does not count). */
  status: 'passed' | 'failed' | 'inconclusive' | 'skipped';
  /** Why it did not pass. */
  reason?: string;
  durationMs: number;
  /** http: the probe's numbers. */
  metrics?: ProbeMetrics;
  /** run: the command's exit code. */
  exitCode?: number | null;
  /** prometheus, or http with json_path: the number read (null: none). */
  result?: number | null;
}

/** One tick of a watch (or, for missed ones, a run of them: slots `n` to `through`). */
export interface WatchTick {
  /** The tick's slot in the window's schedule, from 1. */
  n: number;
  /** Missed ticks only: the last slot of this run of missed ticks. */
  through?: number;
  /** When the tick was due (the window's start + initial_delay + (n - 1) × every). */
  due: number;
  /**
   * passed: every check that ran passed. failed: a check failed. inconclusive: no data (and none failed), or every check
   * was skipped. missed: deployctl was not running when it was due (a crash), never a pass.
   */
  status: 'passed' | 'failed' | 'inconclusive' | 'missed';
  reason?: string;
  checks: TickCheck[];
}

/** How a watch window is laid out, fixed when it opens: a resumed run continues this very window. */
export interface WatchPlan {
  /** When the window opened (wall time). */
  startedAt: number;
  everyMs: number;
  initialDelayMs: number;
  /** Ticks the window holds. */
  plannedTicks: number;
  /** `for:`: when the window closes (wall time); the step ends then. Absent for `count:` (it ends after its last tick). */
  closesAt?: number;
}

export type RunStatus = 'succeeded' | 'failed' | 'no-go' | 'rolled-back' | 'aborted';

/**
 * What of the `deployctl run` command line a later command must repeat to do what the operator meant (the options a
 * resume or a new run takes again): journaled with run-started and run-resumed, so `status` and a refused new run
 * can print the command that continues a run as it was started. Never the state URL (it may hold a password), never
 * one-session choices (--in-flight, --resume, --new, --dry-run).
 */
export interface RunInvocation {
  /** The runbook file, as given. */
  runbook: string;
  /** `--var name=value`, as given, in order. */
  vars?: string[];
  answers?: string;
  /** The signing key's file (a path, never the key). */
  key?: string;
  operator?: string;
  out?: string;
  statusEvery?: string;
  /** `--time-scale N`, as given: a rehearsal's --new hint stays a rehearsal. */
  timeScale?: string;
  /** `--t0 TIME`, as given. */
  t0?: string;
  nonInteractive?: boolean;
}

export interface RunbookRef {
  name: string;
  title?: string;
  path: string;
  sha256: string;
}

interface EventBase {
  /** Wall-clock ms since the epoch. */
  at: number;
}

export type RunEvent = EventBase &
  (
    | {
        kind: 'run-started';
        runId: string;
        runbook: RunbookRef;
        tool: { name: 'deployctl'; version: string };
        operator: string;
        host: string;
        vars: Record<string, string | number | boolean>;
        dryRun: boolean;
        resumedFrom?: string;
        invocation?: RunInvocation;
        /** `--time-scale N`: a rehearsal, whose waits ran N times faster (src/ports/rehearsal-clock.ts); its times are plan times. */
        rehearsal?: { timeScale: number };
        /** `--t0 TIME`: the run's T (wall ms), which the phases' `at:` offsets count from. */
        t0?: number;
      }
    | { kind: 'run-resumed'; runId: string; by: string; pid: number; invocation?: RunInvocation }
    | { kind: 'phase-started'; phaseId: string }
    | { kind: 'phase-finished'; phaseId: string; status: 'succeeded' | 'failed' | 'skipped' }
    /** The phase is still running at the end of its window on the timeline (its planned end: the next phase's `at`). */
    | { kind: 'phase-overrun'; phaseId: string; plannedEnd: number }
    | {
        kind: 'step-started';
        stepId: string;
        phaseId: string;
        stepKind: StepKind;
        attempt: number;
        rollback: boolean;
        command?: string;
        /** One of the phase's `finally:` steps (run however the phase ended). */
        finally?: true;
      }
    | { kind: 'step-spawned'; stepId: string; pid: number }
    | { kind: 'step-output'; stepId: string; stream: 'stdout' | 'stderr'; line: string }
    | { kind: 'step-retrying'; stepId: string; attempt: number; delayMs: number; reason: string }
    /** How far a long step is (an HTTP probe: samples done of samples to send). Shown live, never journaled. */
    | { kind: 'step-progress'; stepId: string; done: number; total: number; unit: string }
    | { kind: 'step-finished'; stepId: string; phaseId: string; rollback: boolean; outcome: StepOutcome; finally?: true }
    /** A watch's window opened (once: a resumed run continues it). */
    | { kind: 'watch-started'; stepId: string; phaseId: string; plan: WatchPlan }
    | { kind: 'watch-tick'; stepId: string; tick: WatchTick }
    /** More inconclusive (or missed) ticks than `inconclusive_limit`: what the owner decided. `continue` starts the count again. */
    | {
        kind: 'watch-decided';
        stepId: string;
        decision: 'continue' | 'fail';
        by: Actor;
        answeredFrom: 'prompt' | 'answers-file' | 'automatic';
        /** The inconclusive and missed ticks the decision was about. */
        inconclusive: number;
      }
    | { kind: 'gate-opened'; gateId: string; phaseId: string }
    | { kind: 'gate-evaluated'; gateId: string; phaseId: string; conditions: GateCondition[] }
    /** The gate's `if:` was false: nothing asked or decided, the run goes on. `reason`: `if: … was false`. */
    | { kind: 'gate-skipped'; gateId: string; phaseId: string; reason: string }
    | {
        kind: 'gate-decided';
        gateId: string;
        phaseId: string;
        decision: GateDecision;
        by: Actor;
        answeredFrom: 'prompt' | 'answers-file' | 'automatic';
        note?: string;
        /** Why a person chose NO-GO although every condition held (asked at the prompt, or `<gate>.reason` in the answers file). */
        reason?: string;
      }
    | {
        kind: 'failure-handled';
        stepId: string;
        phaseId: string;
        /** The policy that applied: the step's `on_failure`, or its default. */
        policy: FailurePolicy;
        action: FailureAction;
        /** The gate that decides (action `gate`). */
        gateId?: string;
        /** Who chose (policy `ask`). */
        by?: Actor;
        answeredFrom?: FailureAnsweredFrom;
        note?: string;
      }
    /** A rollback waits for the `rollback.authorize` role: asked now, the default after `timeoutMs`. */
    | { kind: 'rollback-requested'; reason: string; phases: string[]; authorize: string; timeoutMs: number; default: 'rollback' | 'abort' }
    | { kind: 'rollback-authorized'; decision: 'rollback' | 'abort'; by: Actor; answeredFrom: AuthorizationSource; note?: string }
    | { kind: 'rollback-started'; reason: string; phases: string[] }
    | { kind: 'rollback-finished'; status: 'succeeded' | 'failed' }
    | { kind: 'interrupted'; signal: string; stepId?: string }
    | {
        kind: 'escalation';
        rule: string;
        reason: string;
        to: { role: string; title: string; person?: string }[];
        severity: string;
        /** 1 for the first level up the owner's path, 2 for the next… */
        level: number;
        stepId?: string;
      }
    | {
        kind: 'notification';
        channel: string;
        messageKind: 'status' | 'issue' | 'resolved' | 'escalation' | 'all-clear' | 'failure';
        text: string;
        delivered: boolean;
        attempts: number;
        error?: string;
        /** Printed, not sent (dry run). */
        dryRun?: boolean;
      }
    | { kind: 'run-finished'; status: RunStatus; exitCode: number; reason?: string }
    // A team (runbooks with `people:`, issue 14): who runs this session, each prompt as it opens, who answered it.
    | {
        kind: 'team-host';
        /** The operator of this session (a name), and the person they are when the runbook knows them. */
        operator: string;
        person?: string;
        /** The key this session signs its own answers with (the person's, else the run key): SPKI PEM and its keyid. */
        keyid: string;
        publicKey: string;
      }
    | {
        kind: 'prompt-opened';
        promptId: string;
        /** The first claim slot this asking reads (slot 1 is the prompt id itself, slot k > 1 is `<prompt id>~k`). */
        slot: number;
        /** The role that answers it, when the prompt belongs to one. */
        role?: string;
        /** The question, as a joining terminal draws it. */
        request: PromptRequest;
        /** The people it is offered to now (person ids): the role's primary, its backup once `backup_after` passed. */
        offeredTo: string[];
        /** The running terminal may answer it (its person holds the role, or the role has `delegate: true`). */
        hostAnswers: boolean;
      }
    /** A prompt offered to more people while open (a backup after the role's `backup_after`). */
    | { kind: 'prompt-offered'; promptId: string; to: string[]; reason: string }
    | {
        kind: 'prompt-answered';
        promptId: string;
        slot: number;
        role?: string;
        answer: unknown;
        /** Who answered: a person id… */
        person?: string;
        /** …or the operator of the running terminal, when it is nobody of the runbook's. */
        operator?: string;
        /** The role holder it was answered for, when the person who answered does not hold the role (delegate). */
        onBehalfOf?: string;
        via: AnswerVia;
        /** Taken from `--answers` (via `answers-file`): the file and its sha256, as signed. */
        answersFile?: AnswersFileRef;
        /** The answer as its giver signed it (src/record/answers.ts). */
        signature?: SignedAnswer;
        /** When it was given (the answerer's clock); `at` is when this run took it. */
        answeredAt: number;
      }
    /** A claim on a prompt that does not count (a key that is not the person's, a person without the role, a bad answer): logged, never used. */
    | { kind: 'answer-refused'; promptId: string; slot?: number; claimedBy: string; reason: string; keyid?: string }
    /** A prompt closed without an answer (nobody answered within --wait, an approval timeout). */
    | { kind: 'prompt-closed'; promptId: string; slot: number; reason: string }
  );

export type RunEventKind = RunEvent['kind'];
export type EventOf<K extends RunEventKind> = Extract<RunEvent, { kind: K }>;

/**
 * How the journal keeps each event. `fsync`: on disk before the engine goes on (DESIGN: before a step starts and after
 * it ends; gate decisions, rollback (its authorization asked and answered: `status` shows whom the run waits for) and the
 * run's start and end). `write`: appended, and on disk with the next fsync
 * (nothing is decided from them alone on resume). `skip`: output lines, whose tails the step-finished event carries.
 */
export function journalPolicy(event: RunEvent): 'fsync' | 'write' | 'skip' {
  switch (event.kind) {
    case 'step-output':
    case 'step-progress':
      return 'skip';
    case 'step-spawned':
    case 'step-retrying':
    case 'phase-started':
    case 'phase-finished':
    case 'gate-opened':
    case 'gate-evaluated':
    case 'notification':
    case 'escalation':
    case 'team-host':
    case 'prompt-opened':
    case 'prompt-offered':
    case 'prompt-closed':
    case 'phase-overrun':
      return 'write';
    default:
      return 'fsync';
  }
}
