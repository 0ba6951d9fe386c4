// `prometheus:` checks: one PromQL query through the HTTP port, judged by `expect:`; usable as a step, and per tick by a watch.
import * as path from 'node:path';
import type { CheckReading } from '../engine/events.js';
import type { CelContext, CompiledExpression } from '../expr/cel.js';
import type { Clock, HttpSend } from '../ports/types.js';
import { parseDuration } from '../runbook/duration.js';
import type { NoDataPolicy, PrometheusDoc, Reducer } from '../runbook/types.js';
import { judgeCheck, type CheckVerdict } from './check.js';
import { defaultStepMs, parseQueryResponse, queryUrl, type QueryWindow } from './prometheus-api.js';
import { renderStepText } from './render.js';
import { renderPromqlQuery } from '../expr/promql-placement.js';
import type { StepResult, StepRunContext } from './types.js';

/** A `prometheus:` check with its templates rendered, secrets read into headers and durations in ms. */
export interface PrometheusCheckSpec {
  /** Base URL of Prometheus. */
  url: string;
  query: string;
  /** A range query over the last `rangeMs`, at `stepMs` resolution (default: range / 60), reduced with `reduce`. */
  rangeMs?: number;
  stepMs?: number;
  reduce?: Reducer;
  /** Per request; default 10 s. */
  timeoutMs?: number;
  /** Sent as they are (auth included): never shown anywhere. */
  headers?: Record<string, string>;
  /** Absolute path of a PEM CA file to trust for https. */
  caFile?: string;
  /** What the number is: `error rate` in `error rate 0.0021 ≥ 0.001 (query: …)`. */
  label?: string;
  expect?: string | CompiledExpression;
  noData?: NoDataPolicy;
}

export const PROMETHEUS_DEFAULT_TIMEOUT_MS = 10_000;

/** What one check concluded: a plain value, so a watch tick, a step and a test read it the same way. */
export interface CheckOutcome {
  verdict: CheckVerdict;
  /** Why it did not pass: `error rate 0.0021 ≥ 0.001 (query: …)`, `no data: …`, `could not read Prometheus: …`. */
  reason?: string;
  result: number | null;
  results: CheckReading['results'];
  reading: CheckReading;
}

export interface CheckPorts {
  send: HttpSend;
  clock: Clock;
  /** Steps, vars, answers, env and run, for an `expect:` that uses them. */
  context?: CelContext;
  /** Applied to every text that leaves the check (URL, reason): secrets become ***. */
  mask?: (text: string) => string;
}

/**
 * Run one Prometheus check now: send the query (instant, or over the last `rangeMs`), read the answer, judge it. Never
 * throws. A bad query, a refused credential or another 4xx is a `fail` (a mistake to fix, not missing data); an
 * unreachable server, a timeout or a 5xx is `inconclusive` (the metrics system could not say); then `judgeCheck` rules.
 */
export async function runPrometheusCheck(spec: PrometheusCheckSpec, ports: CheckPorts, signal?: AbortSignal): Promise<CheckOutcome> {
  const mask = ports.mask ?? ((text: string) => text);
  const evaluatedAt = ports.clock.now();
  const reduce = spec.reduce ?? 'last';
  const window: QueryWindow =
    spec.rangeMs !== undefined
      ? { endMs: evaluatedAt, range: { startMs: evaluatedAt - spec.rangeMs, stepMs: spec.stepMs ?? defaultStepMs(spec.rangeMs), reduce } }
      : { endMs: evaluatedAt };
  const timeoutMs = spec.timeoutMs ?? PROMETHEUS_DEFAULT_TIMEOUT_MS;
  const source = `query: ${spec.query}`;
  let url: string | undefined;
  try {
    if (/^https?:\/\//i.test(spec.url)) url = queryUrl(spec.url, spec.query, window, timeoutMs);
  } catch {
    url = undefined;
  }
  const reading = (verdict: CheckVerdict, results: CheckReading['results'] = [], result: number | null = null, warnings: string[] = []): CheckReading => ({
    source: 'prometheus',
    query: mask(spec.query),
    url: mask(url ?? spec.url),
    evaluatedAt,
    ...(window.range ? { range: { startMs: window.range.startMs, stepMs: window.range.stepMs, reduce } } : {}),
    result,
    results,
    verdict,
    ...(spec.expect !== undefined ? { expect: typeof spec.expect === 'string' ? spec.expect : spec.expect.source } : {}),
    ...(warnings.length > 0 ? { warnings: warnings.slice(0, 10).map(mask) } : {}),
  });
  const unjudged = (verdict: CheckVerdict, why: string): CheckOutcome => ({ verdict, reason: mask(`${why} (${source})`), result: null, results: [], reading: reading(verdict) });

  if (url === undefined) return unjudged('fail', `invalid Prometheus URL ${JSON.stringify(spec.url)}: give its base, e.g. http://127.0.0.1:9090`);

  const response = await ports.send({
    url,
    method: 'GET',
    headers: { Accept: 'application/json', ...spec.headers },
    timeoutMs,
    ...(signal !== undefined ? { signal } : {}),
    ...(spec.caFile !== undefined ? { caFile: spec.caFile } : {}),
  });
  if (!response.ok) return unjudged('inconclusive', `could not read Prometheus at ${spec.url}: ${response.error}`);
  const answer = parseQueryResponse(response.status, response.body, reduce);
  if (!answer.ok) {
    const serverSide = response.status >= 500 || response.status === 429;
    const hint = response.status === 401 || response.status === 403 ? ' (check auth: the credentials were refused)' : '';
    return unjudged(serverSide ? 'inconclusive' : 'fail', `Prometheus refused the query: ${answer.error}${hint}`);
  }
  const judged = judgeCheck(answer.series, {
    ...(spec.expect !== undefined ? { expect: spec.expect } : {}),
    ...(spec.noData !== undefined ? { noData: spec.noData } : {}),
    ...(spec.label !== undefined ? { label: spec.label } : {}),
    ...(ports.context !== undefined ? { context: ports.context } : {}),
    source,
  });
  return {
    verdict: judged.verdict,
    ...(judged.reason !== undefined ? { reason: mask(judged.reason) } : {}),
    result: judged.result,
    results: judged.results,
    reading: reading(judged.verdict, judged.results, judged.result, answer.warnings),
  };
}

/** `prometheus http://…:9090: sum(rate(…)) [range 10m, step 10s, max]`: the check as the record's `command`. */
export function describePrometheusCheck(spec: Pick<PrometheusCheckSpec, 'url' | 'query' | 'rangeMs' | 'stepMs' | 'reduce'>, doc?: Pick<PrometheusDoc, 'range' | 'step' | 'reduce'>): string {
  const range = doc?.range ?? (spec.rangeMs !== undefined ? `${spec.rangeMs}ms` : undefined);
  if (range === undefined) return `prometheus ${spec.url}: ${spec.query}`;
  const step = doc?.step ?? (spec.stepMs !== undefined ? `${spec.stepMs}ms` : 'auto');
  return `prometheus ${spec.url}: ${spec.query} [range ${range}, step ${step}, ${doc?.reduce ?? spec.reduce ?? 'last'}]`;
}

export type ResolvedSpec = { ok: true; spec: PrometheusCheckSpec } | { ok: false; reason: string; unresolved: boolean };

/**
 * The step's `prometheus:` with templates rendered and credentials read from the secrets the runbook names. A template
 * that cannot be resolved yet (a dry run) is `unresolved`; a secret missing from the environment is a plain failure.
 */
export function resolvePrometheusSpec(ctx: Pick<StepRunContext, 'step' | 'context' | 'env' | 'source'>): ResolvedSpec {
  const doc = ctx.step.prometheus!;
  const render = (text: string, what: string): { ok: true; value: string } | { ok: false; reason: string; unresolved: true } => {
    const rendered = renderStepText(text, ctx.context);
    return rendered.ok ? rendered : { ok: false, reason: `${what}: ${rendered.reason}`, unresolved: true };
  };
  const url = render(doc.url, 'url');
  if (!url.ok) return url;
  // Values in a query are escaped as PromQL string text, or must be one whole token: they never change its syntax.
  const renderedQuery = renderPromqlQuery(doc.query, ctx.context);
  const query = renderedQuery.ok ? renderedQuery : { ok: false as const, reason: `query: ${renderedQuery.reason}`, unresolved: true as const };
  if (!query.ok) return query;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(doc.headers ?? {})) {
    const rendered = render(value, `header ${name}`);
    if (!rendered.ok) return rendered;
    headers[name] = rendered.value;
  }
  const secret = (name: string, what: string): { ok: true; value: string } | { ok: false; reason: string; unresolved: false } => {
    const value = ctx.env[name];
    return value !== undefined && value !== ''
      ? { ok: true, value }
      : { ok: false, reason: `${what} names the secret ${name}, which is not set in the environment: export ${name}=… before the run`, unresolved: false };
  };
  if (doc.auth?.bearer !== undefined) {
    const token = secret(doc.auth.bearer, 'auth.bearer');
    if (!token.ok) return token;
    headers['Authorization'] = `Bearer ${token.value}`;
  } else if (doc.auth?.basic !== undefined) {
    const username = render(doc.auth.basic.username, 'auth.basic.username');
    if (!username.ok) return username;
    const password = secret(doc.auth.basic.password, 'auth.basic.password');
    if (!password.ok) return password;
    headers['Authorization'] = `Basic ${Buffer.from(`${username.value}:${password.value}`, 'utf8').toString('base64')}`;
  }
  const ms = (text: string | undefined) => (text === undefined ? undefined : parseDuration(text));
  const spec: PrometheusCheckSpec = {
    url: url.value,
    query: query.value,
    headers,
    ...(doc.range !== undefined ? { rangeMs: ms(doc.range)! } : {}),
    ...(doc.step !== undefined ? { stepMs: ms(doc.step)! } : {}),
    ...(doc.reduce !== undefined ? { reduce: doc.reduce } : {}),
    ...(doc.timeout !== undefined ? { timeoutMs: ms(doc.timeout)! } : {}),
    ...(doc.ca_file !== undefined ? { caFile: path.resolve(ctx.source.dir, doc.ca_file) } : {}),
    ...(doc.label !== undefined ? { label: doc.label } : {}),
    ...(ctx.step.expect !== undefined ? { expect: ctx.step.expect } : {}),
    ...(ctx.step.no_data !== undefined ? { noData: ctx.step.no_data } : {}),
  };
  return { ok: true, spec };
}

export async function runPrometheusStep(ctx: StepRunContext): Promise<StepResult> {
  const doc = ctx.step.prometheus!;
  const resolved = resolvePrometheusSpec(ctx);
  if (!resolved.ok) {
    // A dry run sends nothing, so it needs no secret either: it says what the real run will need.
    if (ctx.dryRun) {
      const why = resolved.unresolved ? `resolved at run time (${resolved.reason})` : `the real run needs it: ${resolved.reason}`;
      return { status: 'skipped', dryRun: true, command: ctx.mask(describePrometheusCheck({ url: doc.url, query: doc.query }, doc)), reason: ctx.mask(`dry run: no query sent; ${why}`) };
    }
    return { status: 'failed', reason: ctx.mask(resolved.reason) };
  }
  const { spec } = resolved;
  const command = ctx.mask(describePrometheusCheck(spec, doc));
  if (ctx.dryRun) return { status: 'skipped', dryRun: true, command, reason: 'dry run: no query sent' };
  return withStepTimeout(ctx, command, (signal) => runPrometheusCheck(spec, { send: ctx.send, clock: ctx.clock, context: ctx.context, mask: ctx.mask }, signal));
}

/** Run a check under the step's `timeout:` and the run's signal; turn its outcome into the step's result. */
export async function withStepTimeout(ctx: StepRunContext, command: string, check: (signal: AbortSignal) => Promise<CheckOutcome>): Promise<StepResult> {
  const stepTimeout = ctx.step.timeout !== undefined ? parseDuration(ctx.step.timeout) : undefined;
  // One controller per step (AbortSignal.any leaks on Node 20; see ports/http.ts).
  const controller = new AbortController();
  const onAbort = () => controller.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const timer = stepTimeout !== undefined ? ctx.clock.setTimer(stepTimeout, () => controller.abort('timeout')) : undefined;
  let outcome: CheckOutcome;
  try {
    outcome = await check(controller.signal);
  } finally {
    timer?.cancel();
    ctx.signal.removeEventListener('abort', onAbort);
  }
  if (ctx.signal.aborted) return { status: 'interrupted', command, check: outcome.reading, reason: 'interrupted' };
  if (controller.signal.aborted) return { status: 'failed', command, check: { ...outcome.reading, verdict: 'fail' }, timedOut: true, reason: `timed out after ${ctx.step.timeout}` };
  return stepResultOf(outcome, command);
}

export function stepResultOf(outcome: CheckOutcome, command: string): StepResult {
  const status = outcome.verdict === 'pass' ? 'succeeded' : outcome.verdict === 'fail' ? 'failed' : 'inconclusive';
  return {
    status,
    command,
    check: outcome.reading,
    ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
    ...(outcome.verdict === 'fail' && outcome.reason !== undefined ? { failures: [outcome.reason] } : {}),
  };
}
