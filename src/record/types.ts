// The deployment record predicate, as TypeScript: mirrors schemas/record.schema.json field for field (snake_case, ISO-8601 times, ms durations).

/** ISO-8601 date-time with a zone, e.g. `2025-06-01T12:00:00.000Z`. */
export type IsoTime = string;

export type RecordRunStatus = 'succeeded' | 'failed' | 'no-go' | 'rolled-back' | 'aborted';
export type RecordPhaseStatus = 'succeeded' | 'failed' | 'skipped' | 'not-run';
export type RecordStepStatus = 'succeeded' | 'failed' | 'skipped' | 'interrupted' | 'inconclusive' | 'not-run';
export type RecordStepKind = 'run' | 'http' | 'prometheus' | 'watch' | 'confirm' | 'checklist' | 'ask';

/**
 * A JSON value of bounded depth (3 levels of arrays/objects, bounded sizes), as recorded for CEL
 * results: records are untrusted input, and an unbounded value would be a way to exhaust the reader.
 */
export type RecordValue = string | number | boolean | null | RecordValue[] | { [key: string]: RecordValue };

/** Who acted: the role, its named person, and the operator at the keyboard. */
export interface RecordActor {
  role: string;
  person?: string;
  operator: string;
  /** Who gave the answer: the operator (at the prompt, or through the answers file they passed). */
  answered_by?: string;
  /** The role's holder the answer was given for. */
  on_behalf_of?: string;
}

/** The masked tail of an output stream. */
export interface RecordOutput {
  text: string;
  /** Bytes dropped before the tail. */
  truncated_bytes: number;
}

export interface RecordMetrics {
  samples: number;
  errors: number;
  error_rate: number;
  success_rate: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
  /** Status code (or error class) → count. */
  statuses: Record<string, number>;
}

/** What a prometheus check (or an http step with json_path) read, when, and its verdict. */
export interface RecordCheck {
  source: 'prometheus' | 'json';
  /** The PromQL as sent, or the json_path. */
  query: string;
  url: string;
  evaluated_at: IsoTime;
  range?: { start: IsoTime; step_ms: number; reduce: 'max' | 'min' | 'avg' | 'last' };
  /** The number judged; null when there was none (no data, several series) or it was not finite. */
  result: number | null;
  /** Every series read (at most 100), non-finite values as "NaN", "+Inf", "-Inf". */
  results: { labels: Record<string, string>; value: number | string }[];
  verdict: 'pass' | 'fail' | 'inconclusive';
  expect?: string;
  warnings?: string[];
}

/** One check at one tick, compact (a day of ticks stays a few tens of KiB): its verdict and its key numbers. */
export interface RecordTickCheck {
  id: string;
  status: 'passed' | 'failed' | 'inconclusive' | 'skipped';
  reason?: string;
  /** http: requests sent, failed, and the latency percentiles (ms). */
  samples?: number;
  errors?: number;
  p50_ms?: number;
  p95_ms?: number;
  /** run: the exit code. */
  exit_code?: number | null;
  /** prometheus, json_path: the number read. */
  result?: number | null;
  duration_ms: number;
}

/** One tick of a watch; `through` makes it a run of missed ticks (`n` to `through`). */
export interface RecordTick {
  n: number;
  through?: number;
  /** When it ran (a missed one: when it was due). */
  at: IsoTime;
  status: 'passed' | 'failed' | 'inconclusive' | 'missed';
  reason?: string;
  checks?: RecordTickCheck[];
}

/** A watch step's window: its plan, the tally, each check over the window, the owner's decisions, and every tick. */
export interface RecordWatch {
  every_ms: number;
  initial_delay_ms: number;
  /** `for:`: the window's length; absent for `count:`. */
  window_ms?: number;
  planned_ticks: number;
  failure_limit: number;
  inconclusive_limit: number;
  started_at: IsoTime;
  ticks: number;
  passed: number;
  failed: number;
  inconclusive: number;
  missed: number;
  /** passed ÷ ticks. */
  uptime: number;
  checks: { id: string; kind: 'run' | 'http' | 'prometheus'; passed: number; failed: number; inconclusive: number; skipped: number; metrics?: RecordMetrics; last_result?: number | null }[];
  decisions: { at: IsoTime; decision: 'continue' | 'fail'; by: RecordActor; answered_from: 'prompt' | 'answers-file' | 'automatic'; inconclusive: number }[];
  /** Every tick, in order (from the journal); absent only if the journal could not be read when the record was sealed. */
  tick_log?: RecordTick[];
}

export interface RecordWarmup {
  /** Sent before the samples; 0 when the connections were still warm from an earlier probe. */
  requests: number;
  failed: number;
  /** The slowest warm-up request: the client's start-up, kept out of the samples. */
  max_ms: number;
}

export interface RecordStep {
  id: string;
  title: string;
  kind: RecordStepKind;
  /** The owning role id. */
  owner: string;
  actor?: RecordActor;
  status: RecordStepStatus;
  reason?: string;
  failures?: string[];
  attempts: number;
  started_at?: IsoTime;
  ended_at?: IsoTime;
  duration_ms?: number;
  /** run: the command as executed (masked); http: `GET url`. */
  command?: string;
  exit_code?: number | null;
  signal?: string | null;
  timed_out?: boolean;
  stdout?: RecordOutput;
  stderr?: RecordOutput;
  metrics?: RecordMetrics;
  check?: RecordCheck;
  watch?: RecordWatch;
  /** http: the requests sent before the samples to warm the client, counted in no metric. */
  warmup?: RecordWarmup;
  /** confirm → boolean, ask → text, checklist → ticked items. */
  answer?: boolean | string | string[];
  answered_from?: 'prompt' | 'answers-file';
  /** The run id whose outcome this step carries over. */
  resumed_from?: string;
  /** What its failure led to (a phase step that failed or was inconclusive). */
  on_failure?: RecordFailureHandling;
}

/** A step's failure policy as it applied: the policy, what followed, and who chose (on_failure: ask). */
export interface RecordFailureHandling {
  policy: 'rollback' | 'continue' | 'ask' | 'gate';
  action: 'rollback' | 'continue' | 'abort' | 'gate';
  /** The gate that decided (action gate). */
  gate?: string;
  decided_by?: RecordActor;
  decided_at: IsoTime;
  answered_from?: 'prompt' | 'answers-file' | 'default';
  note?: string;
}

/** The `rollback.authorize` role's answer before an automatic rollback. */
export interface RecordRollbackAuthorization {
  role: string;
  reason: string;
  phases: string[];
  timeout_ms: number;
  default: 'rollback' | 'abort';
  /** When the role was asked (absent when their own on_failure: ask choice authorized it). */
  requested_at?: IsoTime;
  decision: 'rollback' | 'abort' | null;
  decided_by?: RecordActor;
  decided_at?: IsoTime;
  answered_from?: 'prompt' | 'answers-file' | 'chosen' | 'timeout' | 'no-terminal';
  note?: string;
}

export interface RecordGateCondition {
  name: string;
  /** `implicit`: earlier_steps_ok, added for the failures left to the gate (on_failure: gate). */
  kind: 'expression' | 'confirm' | 'implicit';
  /** The CEL expression, or the attestation text. */
  text: string;
  value: RecordValue;
  ok: boolean;
  error?: string;
  /** The evidence behind an expression's value: its parts with their values (src/expr/evidence.ts). */
  tree?: RecordEvidenceNode;
  /** A false condition: why the steps it reads did not pass; earlier_steps_ok: the failures left to the gate. */
  notes?: string[];
  /** Records of earlier builds only: a false condition with the values it compared, `0.0476 ≥ 0.001` (now rendered from `tree`). */
  explained?: string;
  /** Records of earlier builds only: the top-level operator and each operand's value (now in `tree`). */
  evidence?: { operator: string; operands: { text: string; value: RecordValue; error?: string }[] };
}

/** One part of a gate condition and its value (src/expr/evidence.ts EvidenceNode, with record values). */
export interface RecordEvidenceNode {
  text: string;
  op: string;
  value?: RecordValue;
  double?: true;
  error?: string;
  children?: RecordEvidenceNode[];
}

export interface RecordGate {
  id: string;
  owner: string;
  conditions: RecordGateCondition[];
  decision: 'go' | 'no-go' | null;
  decided_by?: RecordActor;
  decided_at?: IsoTime;
  answered_from?: 'prompt' | 'answers-file' | 'automatic';
  note?: string;
  reason?: string;
  /** The gate's `if:` was false: `if: … was false`. Nothing was asked or decided (`decision` is null). */
  skipped?: string;
}

export interface RecordPhase {
  id: string;
  title: string;
  /** Timeline offset from T: `T`, `T-20m`, `T+4h`. */
  at?: string;
  status: RecordPhaseStatus;
  /** The timeline's plan: T + `at`, and T + the next phase's `at` (DESIGN "The timeline is tracked"). */
  planned_start?: IsoTime;
  planned_end?: IsoTime;
  started_at?: IsoTime;
  ended_at?: IsoTime;
  /** It ran past its planned end by this much (the ALERT went out when its window closed). */
  overrun_ms?: number;
  steps: RecordStep[];
  gate?: RecordGate;
  finally?: RecordStep[];
}

export interface RecordRollback {
  reason: string;
  started_at: IsoTime;
  ended_at?: IsoTime;
  status: 'succeeded' | 'failed';
  steps: RecordStep[];
}

export interface RecordSuccessMetric {
  id: string;
  title: string;
  /** As people read it, e.g. `< 500 ms`. */
  target: string;
  actual: RecordValue;
  ok: boolean | null;
  unit?: string;
  /** Where the figure comes from: `prometheus`, `probes`, … (the metric's `source:`, templates rendered). */
  source?: string;
  error?: string;
  /** Set when the run produced no evidence for it (its steps did not run, its answer was not given): `ok` is then null. */
  not_measured?: string;
}

export interface RecordEscalationTarget {
  role: string;
  title: string;
  person?: string;
}

export interface RecordEscalation {
  /** The escalation rule's name. */
  rule: string;
  reason: string;
  to: RecordEscalationTarget[];
  at: IsoTime;
  step_id?: string;
}

export interface RecordNotification {
  channel: string;
  /** e.g. `status`, `issue`, `resolved`, `all-clear`, `escalation`. */
  kind: string;
  at: IsoTime;
  delivered: boolean;
  attempts: number;
  error?: string;
}

export interface RecordRole {
  title: string;
  primary?: string;
  backup?: string;
  delegate?: true;
}

/** A person of the runbook (issue 14): a name for display, and the keyids of the keys the runbook listed. */
export interface RecordPerson {
  name: string;
  keys: string[];
}

/** One answer a person gave at a prompt, with their signature over it (src/record/answers.ts). */
export interface RecordAnswer {
  prompt_id: string;
  slot: number;
  role?: string;
  answer: RecordValue;
  /** Who answered: a person id… */
  person?: string;
  /** …or the running terminal's operator, when it is nobody of the runbook's. */
  operator?: string;
  /** The role's holder it was answered for, when whoever answered does not hold the role (delegate). */
  on_behalf_of?: string;
  /** `answers-file`: taken from the `--answers` file, signed by the running terminal's person, who vouches for it. */
  via: 'terminal' | 'join' | 'answer' | 'answers-file';
  /** With `via: answers-file`: the file as given on the command line and the sha256 (hex) of its bytes. */
  answers_file?: { path: string; sha256: string };
  /** When the run took it. */
  at: IsoTime;
  /** When it was given (the answerer's clock, as signed). */
  answered_at: IsoTime;
  signature?: { payload_type: string; payload: string; keyid: string; sig: string };
}

export interface RecordAnswerRefused {
  prompt_id: string;
  slot?: number;
  claimed_by: string;
  reason: string;
  keyid?: string;
  at: IsoTime;
}

export interface RecordRunbookRef {
  name: string;
  title?: string;
  /** The runbook path as given on the command line. */
  path: string;
  /** Hex SHA-256 of the runbook file's bytes. */
  sha256: string;
}

export interface RecordResume {
  at: IsoTime;
  by: string;
}

/** The in-toto predicate of a deployment record (predicateType https://deployctl.dev/deployment-record/v1). */
export interface RecordPredicate {
  schema_version: 1;
  run_id: string;
  runbook: RecordRunbookRef;
  tool: { name: 'deployctl'; version: string };
  operator: string;
  host: string;
  started_at: IsoTime;
  ended_at: IsoTime;
  duration_ms: number;
  target_duration_ms?: number;
  /** `target_duration: { from, to }`: what is held to the target, the deployment from `from`'s first step to `to`'s last. */
  deploy_duration_ms?: number;
  deploy_phases?: { from: string; to: string };
  /** T on the timeline, when the runbook has one. */
  t0?: IsoTime;
  /** `--time-scale N`: a rehearsal, whose times are plan times of a clock N times faster from its start. Absent: a real run. */
  rehearsal?: true;
  time_scale?: number;
  status: RecordRunStatus;
  exit_code: number;
  reason?: string;
  /** Dry runs write no record: always false. */
  dry_run: false;
  vars: Record<string, string | number | boolean>;
  resumes: RecordResume[];
  phases: RecordPhase[];
  rollback: RecordRollback | null;
  rollback_authorization?: RecordRollbackAuthorization;
  success_metrics: RecordSuccessMetric[];
  escalations: RecordEscalation[];
  notifications: RecordNotification[];
  roles: Record<string, RecordRole>;
  /** With people: (issue 14). */
  people?: Record<string, RecordPerson>;
  answers?: RecordAnswer[];
  answers_refused?: RecordAnswerRefused[];
  /** Who ran each session of the run at the terminal that runs the commands (issue 14): separation of duties is checked against it. */
  host_sessions?: RecordHostSession[];
}

/** One session of a team run: from `at`, `operator` (the person `person` when the runbook knows them) ran the deployment, signing its own answers with `keyid`. */
export interface RecordHostSession {
  at: IsoTime;
  operator: string;
  person?: string;
  keyid: string;
}
