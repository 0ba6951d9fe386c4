// What `deployctl preflight` works with: the checks it found, each check's result, the report, and the events reporters follow.
import type { ProbeMetrics, ProbeWarmup } from '../engine/events.js';
import type { Position } from '../runbook/problem.js';
import type { PhaseDoc, StepDoc, StepKind } from '../runbook/types.js';

/** One step of a `preflight: true` phase. Manual steps are checks too: listed, never run. */
export interface Check {
  step: StepDoc;
  phase: PhaseDoc;
  kind: StepKind;
  manual: boolean;
  /** Where the step is written in the runbook (annotations point there). */
  position: Position;
}

export type CheckStatus = 'passed' | 'failed' | 'skipped';

/** Why a check failed, as a category CI reporters can group by (JUnit `type`). */
export type FailureType = 'threshold' | 'http' | 'exit-code' | 'timeout' | 'error';

/** One expectation not met: a sentence, plus the measured and expected values when there are numbers to compare. */
export interface FailedCondition {
  /** `p95 612 ms > max 500 ms`, `status 500, expected 200 (×3)`, `exit code 1, expected 0`. */
  message: string;
  /** The metric or property measured: `p95_ms`, `error_rate`, `exit_code`, `duration_ms`. */
  metric?: string;
  measured?: number;
  expected?: { max?: number; min?: number; equals?: number };
}

export interface CheckResult {
  id: string;
  phase: string;
  phaseTitle: string;
  /** Role id of the step's owner, and its title (`QA Lead`). */
  owner: string;
  ownerTitle: string;
  /** `[QA Lead · Elif Yilmaz]`. */
  who: string;
  title: string;
  kind: StepKind;
  manual: boolean;
  status: CheckStatus;
  /** One line: why it failed or was skipped, measured against expected. */
  reason?: string;
  failureType?: FailureType;
  failures: FailedCondition[];
  /** Stopped or never started because preflight was interrupted (Ctrl-C, SIGTERM). */
  interrupted?: boolean;
  /** Wall time of every attempt and the pauses between them. */
  durationMs: number;
  attempts: number;
  /** Why each earlier attempt failed, oldest first (empty when the first attempt decided). */
  retriedAfter: string[];
  /** run: the command as executed (templates resolved, secrets masked); http: `GET url ×N`. */
  command?: string;
  /** http: the URL probed and the method. */
  url?: string;
  method?: string;
  exitCode?: number | null;
  timedOut?: boolean;
  metrics?: ProbeMetrics;
  /** http: the warm-up before the samples (not in `metrics`). */
  warmup?: ProbeWarmup;
  /** The last bytes of a command's output, masked. */
  output?: { stdout: string; stderr: string };
  position: Position;
}

export interface PreflightSummary {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  /** Of the skipped: manual steps (not run in CI). */
  manual: number;
}

export interface PreflightReport {
  runbook: { name: string; title?: string; path: string; sha256: string };
  startedAt: number;
  durationMs: number;
  concurrency: number;
  /** `interrupted` when Ctrl-C or SIGTERM stopped it. */
  status: 'passed' | 'failed' | 'interrupted';
  summary: PreflightSummary;
  /** Phases marked `preflight: true`, in runbook order. */
  phases: { id: string; title: string }[];
  /** In runbook order, whatever order they finished in. */
  checks: CheckResult[];
}

export type PreflightEvent =
  | { kind: 'preflight-started'; runbook: PreflightReport['runbook']; phases: number; automated: number; manual: number; concurrency: number; ids: string[] }
  | { kind: 'check-started'; id: string; attempt: number; title: string }
  | { kind: 'check-retrying'; id: string; attempt: number; delayMs: number; reason: string }
  | { kind: 'check-finished'; result: CheckResult }
  | { kind: 'preflight-finished'; report: PreflightReport };
