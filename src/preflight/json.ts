// `deployctl preflight --json`: exactly one JSON document on stdout, snake_case, stable key order, times in ms.
import type { CheckResult, FailedCondition, PreflightReport } from './types.js';

export const JSON_FORMAT_VERSION = 1;

export interface JsonCheck {
  id: string;
  phase: string;
  owner: string;
  owner_title: string;
  title: string;
  kind: string;
  status: CheckResult['status'];
  reason: string | null;
  failure_type: string | null;
  duration_ms: number;
  attempts: number;
  retried_after: string[];
  command: string | null;
  method: string | null;
  url: string | null;
  exit_code: number | null;
  timed_out: boolean;
  metrics: CheckResult['metrics'] | null;
  /** http: requests sent before the samples to warm the client, in no metric (ports/warmup-ledger.ts). */
  warmup: { requests: number; failed: number; max_ms: number } | null;
  failures: FailedCondition[];
  output_tail: { stdout: string; stderr: string } | null;
  manual: boolean;
  interrupted: boolean;
  line: number;
  col: number;
}

export function preflightJson(report: PreflightReport, tool: { version: string }): object {
  return {
    format: JSON_FORMAT_VERSION,
    tool: { name: 'deployctl', version: tool.version },
    runbook: { name: report.runbook.name, title: report.runbook.title ?? null, path: report.runbook.path, sha256: report.runbook.sha256 },
    status: report.status,
    started_at: new Date(report.startedAt).toISOString(),
    duration_ms: report.durationMs,
    concurrency: report.concurrency,
    summary: report.summary,
    phases: report.phases,
    checks: report.checks.map(jsonCheck),
  };
}

export function renderPreflightJson(report: PreflightReport, tool: { version: string }): string {
  return `${JSON.stringify(preflightJson(report, tool), null, 2)}\n`;
}

function jsonCheck(check: CheckResult): JsonCheck {
  return {
    id: check.id,
    phase: check.phase,
    owner: check.owner,
    owner_title: check.ownerTitle,
    title: check.title,
    kind: check.kind,
    status: check.status,
    reason: check.reason ?? null,
    failure_type: check.failureType ?? null,
    duration_ms: check.durationMs,
    attempts: check.attempts,
    retried_after: check.retriedAfter,
    command: check.command ?? null,
    method: check.method ?? null,
    url: check.url ?? null,
    exit_code: check.exitCode ?? null,
    timed_out: check.timedOut === true,
    metrics: check.metrics ?? null,
    warmup: check.warmup !== undefined ? { requests: check.warmup.requests, failed: check.warmup.failed, max_ms: check.warmup.maxMs } : null,
    failures: check.failures,
    output_tail: check.output ?? null,
    manual: check.manual,
    interrupted: check.interrupted === true,
    line: check.position.line,
    col: check.position.col,
  };
}
