// The plan as plain data: what a runbook would do, by whom and when, without running anything. Renderers read only this.
import { formatOffset, parseOffset } from '../runbook/duration.js';
import {
  gateId,
  isConfirmCondition,
  type EscalationRuleDoc,
  type GateDoc,
  type PhaseDoc,
  type RunbookDoc,
  type RunEventName,
  type StepDoc,
  type StepKind,
} from '../runbook/types.js';
import { failurePolicy, stepsLeftToGate, authorizeTimeoutMs, IMPLICIT_CONDITION } from '../runbook/failure-policy.js';
import { formatDuration } from '../runbook/duration.js';
import type { FailurePolicy } from '../runbook/types.js';
import { varDefaults } from '../runbook/pattern.js';
import { resolveVarTemplates } from './resolve.js';
import { buildStep } from './step.js';

/** Shown where a phase has no `at:` offset. */
export const NO_OFFSET = '—';

export interface Plan {
  name: string;
  title: string;
  description: string | null;
  target_duration: string | null;
  /** The role the plan was narrowed to (`--role`), or null for everyone. */
  role: string | null;
  roles: PlanRole[];
  timeline: TimelineEntry[];
  phases: PlanPhase[];
  success_metrics: PlanMetric[];
  escalation: PlanEscalation[];
  notify: PlanNotify | null;
  secrets: string[];
  /** Top-level `rollback:`: who authorizes a rollback deployctl would start on its own, within what time, else what. */
  rollback: { authorize: RoleRef; timeout: string; default: 'rollback' | 'abort' } | null;
}

export interface RoleRef {
  id: string;
  title: string;
}

export interface PlanRole {
  id: string;
  title: string;
  primary: string | null;
  backup: string | null;
  contact: string | null;
  escalates_to: RoleRef[];
  keys: string[];
}

export interface TimelineEntry {
  phase: string;
  title: string;
  at: string;
  offset_ms: number | null;
  owners: RoleRef[];
}

export interface PlanPhase {
  id: string;
  title: string;
  description: string | null;
  at: string;
  offset_ms: number | null;
  preflight: boolean;
  /** The ALL-CLEAR goes out when this phase completes. */
  go_live: boolean;
  steps: PlanStep[];
  gate: PlanGate | null;
  rollback: PlanStep[];
  /** Cleanup run however the phase ends. */
  finally: PlanStep[];
}

export interface PlanStep {
  id: string;
  title: string;
  description: string | null;
  owner: string;
  owner_title: string;
  person: string | null;
  kind: StepKind;
  if: string | null;
  timeout: string | null;
  retries: number;
  retry_delay: string | null;
  idempotent: boolean;
  env: string[];
  cwd: string | null;
  action: PlanAction;
  metrics: PlanThreshold[];
  /** Only for checks (prometheus, http with json_path): the condition and what no data counts as. */
  check?: { expect: string | null; no_data: 'fail' | 'inconclusive' | 'pass' };
  /** A phase's step: what its failure leads to (null for rollback and finally steps, which have their own rules). */
  on_failure: PlanFailure | null;
}

export interface PlanFailure {
  /** What happens: `gate` only with a gate ahead. */
  policy: FailurePolicy;
  /** What the runbook says, or its default. */
  declared: FailurePolicy;
  /** True when no `on_failure:` is written (the phase's default). */
  default: boolean;
  /** The gate that decides (policy gate). */
  gate: string | null;
}

export type PlanAction =
  | RunAction
  | HttpAction
  | PrometheusAction
  | WatchAction
  | { kind: 'confirm'; text: string }
  | { kind: 'ask'; text: string }
  | { kind: 'checklist'; items: string[] };

/** A monitoring window: its schedule, its limits, and each check as a step of the plan. */
export interface WatchAction {
  kind: 'watch';
  every: string;
  for: string | null;
  count: number | null;
  initial_delay: string | null;
  /** Ticks the window holds. */
  ticks: number;
  failure_limit: number;
  inconclusive_limit: number;
  checks: PlanStep[];
}

export interface RunAction {
  kind: 'run';
  /** A string runs through the shell; a list is an argv run without one. */
  shell: boolean;
  /** The command as a shell would read it: vars filled in, each template value one quoted word. */
  command: string;
  /** The argv with vars filled in, for list commands; null for shell strings. */
  argv: string[] | null;
}

export interface HttpAction {
  kind: 'http';
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
  samples: number | null;
  concurrency: number | null;
  timeout: string | null;
  interval: string | null;
  expect: { status: number[] | null; body_contains: string | null };
  /** Only when the step reads a number from the JSON answer. */
  json_path?: string;
}

export interface PrometheusAction {
  kind: 'prometheus';
  url: string;
  query: string;
  /** A range query's window, resolution and reduction; null for an instant query. */
  range: string | null;
  step: string | null;
  reduce: string | null;
  timeout: string | null;
  label: string | null;
  /** `bearer PROM_TOKEN`, `basic deployctl / PROM_PASSWORD`: which secrets, never their values. */
  auth: string | null;
  headers: Record<string, string>;
  ca_file: string | null;
}

export interface PlanThreshold {
  metric: string;
  min: number | null;
  max: number | null;
  /** `p95_ms <= 500`, `success_rate >= 1` */
  text: string;
}

export interface PlanGate {
  id: string;
  title: string;
  owner: string;
  owner_title: string;
  person: string | null;
  conditions: PlanCondition[];
  /** `GO = a AND b AND …` */
  formula: string;
  on_no_go: 'abort' | 'rollback';
}

/** `implicit`: earlier_steps_ok, which holds when none of the listed steps' failures (left to the gate) happened. */
export type PlanCondition = { name: string; kind: 'cel'; expression: string } | { name: string; kind: 'confirm'; text: string } | { name: string; kind: 'implicit'; steps: string[] };

export interface PlanMetric {
  id: string;
  title: string;
  target: string;
  unit: string | null;
}

export interface PlanEscalation {
  name: string;
  after: string | null;
  on: RunEventName[];
  when: string | null;
  /** `after 15m`, `on rollback`, `when <expr>`, joined with `; ` */
  trigger: string;
  to: RoleRef[];
  severity: string | null;
  action: string | null;
}

export interface PlanNotify {
  status_every: string | null;
  channels: PlanChannel[];
}

export interface PlanChannel {
  id: string;
  kind: 'webhook' | 'file';
  /** For a webhook never the URL (it is a secret): `webhook (from template)` or `webhook`; for a file its path. */
  target: string;
  if: string | null;
}

/** Build the whole plan from a valid runbook. Pure: no files, no environment, no clock. */
export function buildPlan(doc: RunbookDoc): Plan {
  const roles = resolveRoles(doc);
  const phases = doc.phases.map((phase) => buildPhase(phase, doc, roles));
  return {
    name: doc.name,
    title: doc.title ?? doc.name,
    description: doc.description ?? null,
    target_duration:
      doc.target_duration === undefined
        ? null
        : typeof doc.target_duration === 'string'
          ? doc.target_duration
          : `${doc.target_duration.limit}${doc.target_duration.from !== undefined || doc.target_duration.to !== undefined ? ` from ${doc.target_duration.from ?? doc.phases[0]!.id} to ${doc.target_duration.to ?? doc.phases.at(-1)!.id}` : ''}`,
    role: null,
    roles: [...roles.values()],
    timeline: phases.map((phase) => timelineEntry(phase, roles)),
    phases,
    success_metrics: (doc.success_metrics ?? []).map((m) => ({ id: m.id, title: m.title, target: m.target, unit: m.unit ?? null })),
    escalation: (doc.escalation ?? []).map((rule) => buildEscalation(rule, roles)),
    notify: doc.notify === undefined ? null : buildNotify(doc),
    secrets: [...(doc.secrets ?? [])],
    rollback:
      doc.rollback === undefined
        ? null
        : { authorize: roleRef(roles, doc.rollback.authorize), timeout: doc.rollback.timeout ?? formatDuration(authorizeTimeoutMs(doc)), default: doc.rollback.default ?? 'rollback' },
  };
}

function resolveRoles(doc: RunbookDoc): Map<string, PlanRole> {
  const titleOf = (id: string): RoleRef => ({ id, title: doc.roles[id]?.title ?? id });
  const roles = new Map<string, PlanRole>();
  for (const [id, role] of Object.entries(doc.roles)) {
    roles.set(id, {
      id,
      title: role.title,
      primary: role.primary ?? null,
      backup: role.backup ?? null,
      contact: role.contact ?? null,
      escalates_to: (role.escalates_to ?? []).map(titleOf),
      keys: [...(role.keys ?? [])],
    });
  }
  return roles;
}

function roleRef(roles: Map<string, PlanRole>, id: string): RoleRef {
  return { id, title: roles.get(id)?.title ?? id };
}

function buildPhase(phase: PhaseDoc, doc: RunbookDoc, roles: Map<string, PlanRole>): PlanPhase {
  const offset = phase.at === undefined ? undefined : parseOffset(phase.at);
  const toStep = (step: StepDoc) => buildStep(step, varDefaults(doc), roles);
  return {
    id: phase.id,
    title: phase.title ?? phase.id,
    description: phase.description ?? null,
    at: offset === undefined ? NO_OFFSET : formatOffset(offset),
    offset_ms: offset ?? null,
    preflight: phase.preflight === true,
    go_live: phase.go_live === true,
    steps: (phase.steps ?? []).map((step) => {
      const policy = failurePolicy(doc, phase, step);
      return { ...toStep(step), on_failure: { policy: policy.policy, declared: policy.declared, default: policy.byDefault, gate: policy.gate ?? null } };
    }),
    gate: phase.gate === undefined ? null : buildGate(phase, phase.gate, roles, stepsLeftToGate(doc, phase).map((s) => s.id)),
    rollback: (phase.rollback ?? []).map(toStep),
    finally: (phase.finally ?? []).map(toStep),
  };
}

/** The roles acting in a phase (steps, gate, rollback), in the order the runbook declares roles. */
export function phaseOwners(phase: PlanPhase): string[] {
  const ids = new Set<string>([...phase.steps.map((s) => s.owner), ...(phase.gate ? [phase.gate.owner] : []), ...phase.finally.map((s) => s.owner), ...phase.rollback.map((s) => s.owner)]);
  return [...ids];
}

function timelineEntry(phase: PlanPhase, roles: Map<string, PlanRole>): TimelineEntry {
  const acting = new Set(phaseOwners(phase));
  return {
    phase: phase.id,
    title: phase.title,
    at: phase.at,
    offset_ms: phase.offset_ms,
    owners: [...roles.keys()].filter((id) => acting.has(id)).map((id) => roleRef(roles, id)),
  };
}

function buildGate(phase: PhaseDoc, gate: GateDoc, roles: Map<string, PlanRole>, leftToGate: string[]): PlanGate {
  const conditions: PlanCondition[] = Object.entries(gate.require).map(([name, condition]) =>
    isConfirmCondition(condition) ? { name, kind: 'confirm', text: condition.confirm } : { name, kind: 'cel', expression: condition },
  );
  // The failures left to this gate (on_failure: gate) come first, as the run evaluates them.
  if (leftToGate.length > 0) conditions.unshift({ name: IMPLICIT_CONDITION, kind: 'implicit', steps: leftToGate });
  return {
    id: gateId(phase),
    title: gate.title ?? phase.title ?? gateId(phase),
    owner: gate.owner,
    owner_title: roles.get(gate.owner)?.title ?? gate.owner,
    person: roles.get(gate.owner)?.primary ?? null,
    conditions,
    formula: `GO = ${conditions.map((c) => c.name).join(' AND ')}`,
    on_no_go: gate.on_no_go ?? 'abort',
  };
}

function buildEscalation(rule: EscalationRuleDoc, roles: Map<string, PlanRole>): PlanEscalation {
  const on = rule.on === undefined ? [] : Array.isArray(rule.on) ? [...rule.on] : [rule.on];
  const trigger: string[] = [];
  if (rule.after !== undefined) trigger.push(`after ${rule.after}`);
  if (on.length > 0) trigger.push(`on ${on.join(', ')}`);
  if (rule.when !== undefined) trigger.push(`when ${oneLine(rule.when)}`);
  return {
    name: rule.name,
    after: rule.after ?? null,
    on,
    when: rule.when ?? null,
    trigger: trigger.join('; '),
    to: (rule.to ?? []).map((id) => roleRef(roles, id)),
    severity: rule.severity ?? null,
    action: rule.action ?? null,
  };
}

function buildNotify(doc: RunbookDoc): PlanNotify {
  const vars = varDefaults(doc);
  return {
    status_every: doc.notify?.status_every ?? null,
    channels: (doc.notify?.channels ?? []).map((channel): PlanChannel => {
      const common = { id: channel.id, if: channel.if ?? null };
      if (channel.webhook !== undefined) {
        // Never resolved, never printed: a webhook URL is a credential.
        return { id: common.id, kind: 'webhook', target: channel.webhook.includes('${{') ? 'webhook (from template)' : 'webhook', if: common.if };
      }
      return { id: common.id, kind: 'file', target: resolveVarTemplates(channel.file ?? '', vars), if: common.if };
    }),
  };
}

/** Folded YAML and long CEL read better on one line in tables and terminals. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
