// One step of the plan: its title, owner, policy, and what it would run (vars filled in, run-time templates left as written).
import { parseDuration } from '../runbook/duration.js';
import { checkAsStep, stepKind, type HttpDoc, type PrometheusDoc, type Scalar, type StepDoc } from '../runbook/types.js';
import type { HttpAction, PlanAction, PlanRole, PlanStep, PlanThreshold, PrometheusAction } from './model.js';
import { resolveVarTemplates } from './resolve.js';

export function buildStep(step: StepDoc, vars: Record<string, Scalar>, roles: Map<string, PlanRole>): PlanStep {
  const owner = roles.get(step.owner);
  return {
    // A phase's step gets its policy where the phase is known (model.ts buildPhase).
    on_failure: null,
    id: step.id,
    title: stepTitle(step),
    description: step.description ?? null,
    owner: step.owner,
    owner_title: owner?.title ?? step.owner,
    person: owner?.primary ?? null,
    kind: stepKind(step),
    if: step.if ?? null,
    timeout: step.timeout ?? null,
    retries: step.retries ?? 0,
    retry_delay: step.retry_delay ?? null,
    idempotent: step.idempotent === true,
    env: Object.keys(step.env ?? {}),
    cwd: step.cwd === undefined ? null : resolveVarTemplates(step.cwd, vars),
    action: buildAction(step, vars, roles),
    metrics: Object.entries(step.metrics ?? {}).map(([metric, t]) => threshold(metric, t.min, t.max)),
    ...(step.prometheus !== undefined || step.http?.json_path !== undefined
      ? { check: { expect: step.expect === undefined ? null : resolveVarTemplates(step.expect, vars), no_data: step.no_data ?? 'inconclusive' } }
      : {}),
  };
}

/** The title, else what the owner is asked (confirm, ask), else the checklist's first words, else the id. */
export function stepTitle(step: StepDoc): string {
  if (step.title !== undefined) return step.title;
  if (step.confirm !== undefined) return step.confirm;
  if (step.ask !== undefined) return step.ask;
  const first = step.checklist?.[0];
  if (first !== undefined) {
    const words = first.split(/\s+/).filter(Boolean);
    const short = words.slice(0, 6).join(' ');
    return words.length > 6 || (step.checklist?.length ?? 0) > 1 ? `${short} …` : short;
  }
  return step.id;
}

function buildAction(step: StepDoc, vars: Record<string, Scalar>, roles: Map<string, PlanRole>): PlanAction {
  const kind = stepKind(step);
  switch (kind) {
    case 'run': {
      const run = step.run!;
      if (typeof run === 'string') return { kind, shell: true, command: resolveVarTemplates(run, vars, 'shell'), argv: null };
      const argv = run.map((arg) => resolveVarTemplates(arg, vars));
      return { kind, shell: false, command: argv.map(quoteWord).join(' '), argv };
    }
    case 'http':
      return buildHttp(step.http!, vars);
    case 'prometheus':
      return buildPrometheus(step.prometheus!, vars);
    case 'watch': {
      const watch = step.watch!;
      const every = parseDuration(watch.every)!;
      const delay = watch.initial_delay !== undefined ? parseDuration(watch.initial_delay)! : 0;
      return {
        kind,
        every: watch.every,
        for: watch.for ?? null,
        count: watch.count ?? null,
        initial_delay: watch.initial_delay ?? null,
        ticks: watch.count ?? Math.max(1, Math.ceil((parseDuration(watch.for!)! - delay) / every)),
        failure_limit: watch.failure_limit ?? 0,
        inconclusive_limit: watch.inconclusive_limit ?? 0,
        checks: watch.checks.map((check) => buildStep(checkAsStep(step, check), vars, roles)),
      };
    }
    case 'confirm':
      return { kind, text: step.confirm! };
    case 'ask':
      return { kind, text: step.ask! };
    case 'checklist':
      return { kind, items: [...step.checklist!] };
  }
}

/** An argv word as a shell would need it to read the same; unresolved templates stay readable. */
export function quoteWord(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word) && !word.startsWith('-')) return word;
  if (/^-[A-Za-z0-9_=.,-]*$/.test(word)) return word;
  // A template left for the run is a placeholder, not a literal: show it as written.
  if (/^\$\{\{[^\n]*\}\}$/.test(word) && word.indexOf('${{', 1) === -1) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function buildHttp(http: HttpDoc, vars: Record<string, Scalar>): HttpAction {
  const status = http.expect?.status;
  return {
    kind: 'http',
    method: http.method ?? 'GET',
    url: resolveVarTemplates(http.url, vars),
    headers: Object.fromEntries(Object.entries(http.headers ?? {}).map(([name, value]) => [name, resolveVarTemplates(value, vars)])),
    body: http.body === undefined ? null : resolveVarTemplates(http.body, vars),
    samples: http.samples ?? null,
    concurrency: http.concurrency ?? null,
    timeout: http.timeout ?? null,
    interval: http.interval ?? null,
    expect: {
      status: status === undefined ? null : Array.isArray(status) ? [...status] : [status],
      body_contains: http.expect?.body_contains === undefined ? null : resolveVarTemplates(http.expect.body_contains, vars),
    },
    ...(http.json_path !== undefined ? { json_path: http.json_path } : {}),
  };
}

function buildPrometheus(doc: PrometheusDoc, vars: Record<string, Scalar>): PrometheusAction {
  const auth = doc.auth?.bearer !== undefined ? `bearer ${doc.auth.bearer}` : doc.auth?.basic !== undefined ? `basic ${resolveVarTemplates(doc.auth.basic.username, vars)} / ${doc.auth.basic.password}` : null;
  return {
    kind: 'prometheus',
    url: resolveVarTemplates(doc.url, vars),
    query: resolveVarTemplates(doc.query, vars),
    range: doc.range ?? null,
    step: doc.step ?? null,
    reduce: doc.range !== undefined ? (doc.reduce ?? 'last') : null,
    timeout: doc.timeout ?? null,
    label: doc.label ?? null,
    auth,
    headers: Object.fromEntries(Object.entries(doc.headers ?? {}).map(([name, value]) => [name, resolveVarTemplates(value, vars)])),
    ca_file: doc.ca_file ?? null,
  };
}

function threshold(metric: string, min: number | undefined, max: number | undefined): PlanThreshold {
  const parts: string[] = [];
  if (min !== undefined) parts.push(`${metric} >= ${min}`);
  if (max !== undefined) parts.push(`${metric} <= ${max}`);
  return { metric, min: min ?? null, max: max ?? null, text: parts.join(' and ') };
}
