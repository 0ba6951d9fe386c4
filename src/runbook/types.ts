// The typed shape of a valid runbook (version 1), mirroring schemas/runbook.schema.json key for key.

export type Scalar = string | number | boolean;

/** A var with a constraint: every value it takes must match `pattern` (src/runbook/pattern.ts). */
export interface VarSpecDoc {
  default: Scalar;
  pattern?: string;
}

/** A var as written: its default value, or {default, pattern}. */
export type VarDoc = Scalar | VarSpecDoc;

export interface RoleDoc {
  title: string;
  primary?: string;
  backup?: string;
  contact?: string;
  escalates_to?: string[];
  keys?: string[];
}

export interface ChannelDoc {
  id: string;
  webhook?: string;
  file?: string;
  if?: string;
}

export interface NotifyDoc {
  status_every?: string;
  channels?: ChannelDoc[];
}

export type RunEventName = 'failure' | 'rollback' | 'no-go' | 'aborted' | 'overrun';

export interface EscalationRuleDoc {
  name: string;
  after?: string;
  on?: RunEventName | RunEventName[];
  when?: string;
  to?: string[];
  severity?: 'critical' | 'high' | 'medium' | 'low';
  action?: string;
}

export interface SuccessMetricDoc {
  id: string;
  title: string;
  target: string;
  actual?: string;
  ok?: string;
  unit?: string;
  /** Where the figure comes from (text with ${{ }} templates), e.g. `prometheus` or `probes`: kept in the record. */
  source?: string;
}

export interface Threshold {
  max?: number;
  min?: number;
}

export const METRIC_NAMES = ['p50_ms', 'p95_ms', 'p99_ms', 'max_ms', 'mean_ms', 'error_rate', 'success_rate', 'duration_ms'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
export type MetricsDoc = Partial<Record<MetricName, Threshold>>;

export interface HttpDoc {
  url: string;
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';
  headers?: Record<string, string>;
  body?: string;
  samples?: number;
  concurrency?: number;
  timeout?: string;
  interval?: string;
  expect?: { status?: number | number[]; body_contains?: string };
  /** Read one number from the (JSON) response body: the step's `result` for `expect:` (see src/steps/json-path.ts). */
  json_path?: string;
  /** Warm-up requests before the samples (default: true for GET and HEAD, false for other methods; ports/warmup-ledger.ts). */
  warmup?: boolean;
}

/** Credentials for a metrics API: each value names a secret (an env var listed under `secrets:`), never the secret itself. */
export interface MetricsAuthDoc {
  bearer?: string;
  basic?: { username: string; password: string };
}

export const REDUCERS = ['max', 'min', 'avg', 'last'] as const;
export type Reducer = (typeof REDUCERS)[number];

/** A `prometheus:` step: one PromQL query against Prometheus's HTTP API (instant, or over a range). */
export interface PrometheusDoc {
  /** Base URL of Prometheus (templates allowed), e.g. http://127.0.0.1:9090. */
  url: string;
  /** PromQL (templates allowed). */
  query: string;
  /** A range query over the last `range` (/api/v1/query_range), each series reduced to one number. */
  range?: string;
  /** Resolution of a range query (default: range / 60, at least 1s). */
  step?: string;
  /** How a range query's values become one number per series (default: last). */
  reduce?: Reducer;
  /** Per-request timeout (default 10s); also sent to Prometheus as its query timeout. */
  timeout?: string;
  headers?: Record<string, string>;
  auth?: MetricsAuthDoc;
  /** PEM file of the CA that signs the server's certificate (relative to the runbook). */
  ca_file?: string;
  /** What the number is, in failure messages: `error rate 0.0021 ≥ 0.001`. */
  label?: string;
}

export const NO_DATA_POLICIES = ['fail', 'inconclusive', 'pass'] as const;
export type NoDataPolicy = (typeof NO_DATA_POLICIES)[number];

/** What `steps.<id>` holds in expressions (built in src/engine/context.ts). */
export const STEP_FIELDS = [
  'ok',
  'status',
  'exit_code',
  'duration_ms',
  'finished_ago_ms',
  'attempts',
  'stdout',
  'stderr',
  'metrics',
  'answer',
  'result',
  'value',
  'results',
  // A watch's window (src/engine/watch-view.ts); zero for other steps.
  'ticks',
  'planned_ticks',
  'passed_ticks',
  'failed_ticks',
  'inconclusive_ticks',
  'missed_ticks',
  'uptime',
  'last',
  'checks',
] as const;

export const STEP_KINDS = ['run', 'http', 'prometheus', 'watch', 'confirm', 'checklist', 'ask'] as const;
export type StepKind = (typeof STEP_KINDS)[number];
/** Kinds a person answers; the rest are automated. */
export const MANUAL_KINDS: readonly StepKind[] = ['confirm', 'checklist', 'ask'];
/** Kinds a watch tick can run: the automated step kinds, through the same runners. */
export const CHECK_KINDS = ['run', 'http', 'prometheus'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/** One check of a watch: a step's automated part (run, http, prometheus), run at every tick by its runner. */
export interface WatchCheckDoc {
  id: string;
  title?: string;
  run?: string | string[];
  http?: HttpDoc;
  prometheus?: PrometheusDoc;
  if?: string;
  timeout?: string;
  env?: Record<string, string>;
  cwd?: string;
  metrics?: MetricsDoc;
  expect?: string;
  no_data?: NoDataPolicy;
}

/** A monitoring window (DESIGN "Monitoring windows: watch"): ticks every `every`, for `for` (wall time) or `count` ticks. */
export interface WatchDoc {
  every: string;
  for?: string;
  count?: number;
  initial_delay?: string;
  /** Failing ticks tolerated (default 0): one more fails the step at once. */
  failure_limit?: number;
  /** Inconclusive or missed ticks tolerated (default 0): one more and the owner decides. */
  inconclusive_limit?: number;
  checks: WatchCheckDoc[];
}

export interface StepDoc {
  id: string;
  title?: string;
  description?: string;
  owner: string;
  run?: string | string[];
  http?: HttpDoc;
  prometheus?: PrometheusDoc;
  watch?: WatchDoc;
  confirm?: string;
  checklist?: string[];
  ask?: string;
  /** For ask steps: the whole answer must match. */
  pattern?: string;
  if?: string;
  timeout?: string;
  retries?: number;
  retry_delay?: string;
  env?: Record<string, string>;
  cwd?: string;
  idempotent?: boolean;
  metrics?: MetricsDoc;
  /** CEL over `result` (the number checked) and `results` (every series with its labels): prometheus, or http with json_path. */
  expect?: string;
  /** What a check with no data is (default inconclusive; never a silent pass). */
  no_data?: NoDataPolicy;
  /** What a failure of this step leads to (src/runbook/failure-policy.ts has the defaults). */
  on_failure?: FailurePolicy;
}

export const FAILURE_POLICIES = ['rollback', 'continue', 'ask', 'gate'] as const;
export type FailurePolicy = (typeof FAILURE_POLICIES)[number];

export type GateConditionDoc = string | { confirm: string };

export interface GateDoc {
  id?: string;
  title?: string;
  owner: string;
  /** CEL: when false, the gate is skipped (recorded as skipped, nobody asked) and the run goes on. */
  if?: string;
  require: Record<string, GateConditionDoc>;
  on_no_go?: 'abort' | 'rollback';
}

export interface PhaseDoc {
  id: string;
  title?: string;
  description?: string;
  at?: string;
  preflight?: boolean;
  /** The phase that puts the release live: the ALL-CLEAR goes out when it completes. */
  go_live?: boolean;
  steps?: StepDoc[];
  gate?: GateDoc;
  rollback?: StepDoc[];
  /** Cleanup run however the phase ends (succeeded, failed, NO-GO, rolled back); after its rollback when it stopped. */
  finally?: StepDoc[];
}

/** Top-level `rollback:`: a role authorizes every rollback deployctl would start on its own. */
export interface RollbackPolicyDoc {
  authorize: string;
  /** Default 5m. */
  timeout?: string;
  /** Without an answer: rollback (default) or abort. */
  default?: 'rollback' | 'abort';
  /** Template: the version the rollback restores (for the RESOLVED message). */
  version?: string;
}

/** `target_duration: { limit: 20m, from: deploy, to: verification }`: the deployment, not the whole day. */
export interface TargetDurationDoc {
  limit: string;
  from?: string;
  to?: string;
}

export interface RunbookDoc {
  version: 1;
  name: string;
  title?: string;
  description?: string;
  target_duration?: string | TargetDurationDoc;
  roles: Record<string, RoleDoc>;
  vars?: Record<string, VarDoc>;
  secrets?: string[];
  notify?: NotifyDoc;
  rollback?: RollbackPolicyDoc;
  escalation?: EscalationRuleDoc[];
  success_metrics?: SuccessMetricDoc[];
  phases: PhaseDoc[];
}

/** The exact bytes the runbook was read from: the record hashes these, never a re-read. */
export interface RunbookSource {
  /** As given by the user; used in messages. */
  path: string;
  /** Absolute directory of the runbook file: `run` steps execute here, role keys resolve from here. */
  dir: string;
  bytes: Uint8Array;
  sha256: string;
}

export function stepKind(step: StepDoc): StepKind {
  for (const kind of STEP_KINDS) if (step[kind] !== undefined) return kind;
  throw new Error(`step ${step.id} has no kind; the loader should have refused it`);
}

export function isManualStep(step: StepDoc): boolean {
  return MANUAL_KINDS.includes(stepKind(step));
}

/** A watch check as the step its runner expects: the watch's owner, the check's own fields. */
export function checkAsStep(watch: StepDoc, check: WatchCheckDoc): StepDoc {
  return { ...check, owner: watch.owner };
}

export function gateId(phase: PhaseDoc): string {
  return phase.gate?.id ?? phase.id;
}

export function isConfirmCondition(condition: GateConditionDoc): condition is { confirm: string } {
  return typeof condition === 'object';
}
