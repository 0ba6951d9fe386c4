// The `http:` step: send N requests with bounded concurrency and measure them (latency percentiles, error rate, statuses).
import type { ProbeMetrics } from '../engine/events.js';
import { parseDuration } from '../runbook/duration.js';
import type { HttpDoc } from '../runbook/types.js';
import type { Clock, HttpResult, HttpSend } from '../ports/types.js';
import { createWarmupLedger, originOf, type WarmupLedger, type WarmupSummary } from '../ports/warmup-ledger.js';

export interface ProbeExpectation {
  /** Accepted status codes; default: any 2xx. */
  status?: number | number[];
  /** Text every response body must contain (searched in the first 1 MiB the port reads). */
  bodyContains?: string;
}

/** An `http:` step with its templates rendered and durations in ms. Unset fields take `PROBE_DEFAULTS`. */
export interface ResolvedProbe {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Requests sent, exactly. */
  samples?: number;
  /** Requests in flight at once (never more than `samples`). */
  concurrency?: number;
  /** Per-request timeout, covering redirects and the body. */
  timeoutMs?: number;
  /** Pause between one worker's successive requests. */
  intervalMs?: number;
  expect?: ProbeExpectation;
  /**
   * Warm up before the samples (ports/warmup-ledger.ts): as many requests as the concurrency, sent first and never
   * counted, unless the origin's connections are warm already. Not in `PROBE_DEFAULTS`: absent means no warm-up here,
   * while `probeFromDoc` turns it on for a runbook's GET and HEAD probes that do not say `warmup: false`. Other methods
   * have effects (a POST creates something each time): they warm up only with `warmup: true` (review 1 #21).
   */
  warmup?: boolean;
}

/**
 * Defaults for what a runbook leaves out. Concurrency 5 is the DESIGN example (`concurrency: 5`):
 * a 20-sample health probe finishes in about four round trips while staying a light load on
 * production; it is capped at `samples`, so a single-sample probe opens one connection.
 */
export const PROBE_DEFAULTS = { method: 'GET', samples: 1, concurrency: 5, timeoutMs: 10_000, intervalMs: 0 } as const;

/** Distinct failure reasons listed in a result; the rest are summed up in one last line. */
export const MAX_FAILURE_KINDS = 10;
/** Distinct reasons remembered at all (a server could vary its errors endlessly). */
const MAX_TRACKED_REASONS = 1000;

export interface ProbeResult {
  metrics: ProbeMetrics;
  /** Distinct failure reasons, most frequent first, each with its count: `status 500, expected 200 (×3)`. */
  failures: string[];
  /** The first failure seen, without a count (for a one-line reason). */
  firstError?: string;
  /** The signal was aborted: `metrics` covers only the requests that completed before it. */
  aborted: boolean;
  /** Wall time of the samples, from the clock port (the warm-up before them is not in it). */
  durationMs: number;
  /** Present when the probe warmed up (`warmup: true`), even with nothing to send. */
  warmup?: WarmupSummary;
}

/** One request's measurement. `status` is absent when no response arrived. */
export interface ProbeSample {
  durationMs: number;
  status?: number;
  /** Why the sample failed; absent when it met every expectation. */
  failure?: string;
}

/** The ResolvedProbe of an `http:` step whose templates are already rendered. */
export function probeFromDoc(http: HttpDoc): ResolvedProbe {
  return {
    url: http.url,
    method: http.method,
    headers: http.headers,
    body: http.body,
    samples: http.samples,
    concurrency: http.concurrency,
    // The schema admits only valid durations; `undefined` falls back to the default.
    timeoutMs: http.timeout === undefined ? undefined : parseDuration(http.timeout),
    intervalMs: http.interval === undefined ? undefined : parseDuration(http.interval),
    expect: http.expect === undefined ? undefined : { status: http.expect.status, bodyContains: http.expect.body_contains },
    warmup: http.warmup ?? isSafeMethod(http.method),
  };
}

/** GET and HEAD (the default method is GET): requests without effects, the only ones warmed up by default. */
export function isSafeMethod(method: string | undefined): boolean {
  const upper = (method ?? PROBE_DEFAULTS.method).toUpperCase();
  return upper === 'GET' || upper === 'HEAD';
}

/** `GET https://…/health`: the probe as the record's `command`. */
export function describeProbe(spec: ResolvedProbe): string {
  return `${(spec.method ?? PROBE_DEFAULTS.method).toUpperCase()} ${spec.url}`;
}

/**
 * Send exactly `samples` requests, at most `concurrency` at a time, and measure them. A sample
 * fails when the request failed or timed out, the status is not expected, or the body lacks the
 * expected text. Aborting `signal` stops new requests and cancels those in flight; the requests
 * the abort cut short are not counted as samples. With `warmup`, the warm-up requests the ledger
 * asks for (`warmups`, else the port's own, else a fresh one) go first, all at once, judged but not counted.
 */
export async function probeHttp(
  spec: ResolvedProbe,
  ports: { send: HttpSend; clock: Clock; warmups?: WarmupLedger },
  signal?: AbortSignal,
  /** Called after each measured sample, with the samples done so far and the samples to send (live progress). */
  onProgress?: (done: number, total: number) => void,
): Promise<ProbeResult> {
  const samples = wholeAtLeastOne(spec.samples ?? PROBE_DEFAULTS.samples);
  const concurrency = Math.min(samples, wholeAtLeastOne(spec.concurrency ?? PROBE_DEFAULTS.concurrency));
  const intervalMs = Math.max(0, spec.intervalMs ?? PROBE_DEFAULTS.intervalMs);
  const request = {
    url: spec.url,
    method: (spec.method ?? PROBE_DEFAULTS.method).toUpperCase(),
    headers: spec.headers ?? {},
    body: spec.body,
    timeoutMs: spec.timeoutMs ?? PROBE_DEFAULTS.timeoutMs,
    signal,
  };
  const judge = sampleJudge(spec.expect ?? {});
  const measured: ProbeSample[] = [];
  const isAborted = (): boolean => signal?.aborted === true;

  const lease = spec.warmup === true ? (ports.warmups ?? ports.send.warmups ?? createWarmupLedger()).lease(originOf(request.url), concurrency, ports.clock.monotonic()) : undefined;
  const warmed = lease === undefined ? undefined : await warmUp(lease.requests, () => sendSafely(ports.send, request), judge, isAborted);
  const started = ports.clock.monotonic();

  let claimed = 0;
  const worker = async (): Promise<void> => {
    for (let first = true; !isAborted() && claimed < samples; first = false) {
      if (!first && intervalMs > 0) {
        await ports.clock.sleep(intervalMs, signal);
        if (isAborted() || claimed >= samples) return;
      } else if (!first || warmed !== undefined) {
        await connectionsReleased();
        if (isAborted() || claimed >= samples) return;
      }
      claimed++;
      const result = await sendSafely(ports.send, request);
      // A request the abort cut short measured nothing.
      if (!result.ok && isAborted()) return;
      measured.push(judge(result));
      onProgress?.(measured.length, samples);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  lease?.release([...(warmed ?? []), ...measured].every(isAnswered), ports.clock.monotonic());

  const result: ProbeResult = {
    metrics: summarizeSamples(measured),
    failures: summarizeFailures(measured),
    aborted: isAborted(),
    durationMs: ports.clock.monotonic() - started,
  };
  const firstError = measured.find((sample) => sample.failure !== undefined)?.failure;
  if (firstError !== undefined) result.firstError = firstError;
  if (warmed !== undefined) result.warmup = summarizeWarmup(warmed);
  return result;
}

/**
 * The warm-up: `count` requests at once, each judged like a sample (a wrong answer is the server's, never the
 * client's start-up), none counted in the metrics. Those the abort cut short are dropped.
 */
async function warmUp(count: number, send: () => Promise<HttpResult>, judge: (result: HttpResult) => ProbeSample, isAborted: () => boolean): Promise<ProbeSample[]> {
  if (count === 0 || isAborted()) return [];
  // Connections the previous probe just used are back in the pool first, so they are reused rather than doubled.
  await connectionsReleased();
  const results = await Promise.all(Array.from({ length: count }, send));
  return results.filter((result) => result.ok || !isAborted()).map(judge);
}

function summarizeWarmup(samples: readonly ProbeSample[]): WarmupSummary {
  const summary: WarmupSummary = {
    requests: samples.length,
    failed: samples.filter((sample) => sample.failure !== undefined).length,
    maxMs: roundMs(Math.max(0, ...samples.map((sample) => sample.durationMs))),
    failures: summarizeFailures(samples),
  };
  const firstError = samples.find((sample) => sample.failure !== undefined)?.failure;
  if (firstError !== undefined) summary.firstError = firstError;
  return summary;
}

/**
 * One turn of the event loop. undici gives a connection back to its pool a macrotask after the body ends: a request
 * sent before that opens a new connection (a new handshake, measured as latency) instead of reusing a warm one.
 */
function connectionsReleased(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A response arrived (whatever its status): the connection it came on is open. */
function isAnswered(sample: ProbeSample): boolean {
  return sample.status !== undefined;
}

/** The port promises never to throw; if one does anyway (a bug), the sample fails with its message. */
async function sendSafely(send: HttpSend, request: Parameters<HttpSend>[0]): Promise<HttpResult> {
  const started = performance.now();
  try {
    return await send(request);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, error: message, durationMs: performance.now() - started, timedOut: false };
  }
}

function wholeAtLeastOne(n: number): number {
  return Number.isFinite(n) ? Math.max(1, Math.floor(n)) : 1;
}

/** Turns one HTTP result into a sample, judged against the expectation. */
function sampleJudge(expect: ProbeExpectation): (result: HttpResult) => ProbeSample {
  const accepted = expect.status === undefined ? undefined : Array.isArray(expect.status) ? expect.status : [expect.status];
  const isExpectedStatus = (status: number): boolean => (accepted === undefined ? status >= 200 && status < 300 : accepted.includes(status));
  const expectedText = describeExpectedStatus(accepted);
  return (result) => {
    if (!result.ok) return { durationMs: result.durationMs, failure: result.error };
    const sample: ProbeSample = { durationMs: result.durationMs, status: result.status };
    if (!isExpectedStatus(result.status)) {
      sample.failure = `status ${result.status}, expected ${expectedText}`;
    } else if (expect.bodyContains !== undefined && !result.body.includes(expect.bodyContains)) {
      const where = isTruncated(result) ? ' in its first 1 MiB' : '';
      sample.failure = `body does not contain ${quote(expect.bodyContains)}${where}`;
    }
    return sample;
  };
}

/** The port may say it read only part of the body (see ports/http.ts `SentHttpResult`). */
function isTruncated(result: HttpResult): boolean {
  return 'truncated' in result && result.truncated === true;
}

function describeExpectedStatus(accepted: number[] | undefined): string {
  if (accepted === undefined) return '2xx';
  if (accepted.length === 1) return String(accepted[0]);
  if (accepted.length === 2) return `${accepted[0]} or ${accepted[1]}`;
  return `one of ${accepted.join(', ')}`;
}

function quote(text: string): string {
  const shown = text.length > 60 ? `${text.slice(0, 57)}…` : text;
  return JSON.stringify(shown);
}

/**
 * Metrics over every completed sample. Latency percentiles are nearest-rank over all samples'
 * durations: a failed request counts with the time it took to fail (a 500 after 3 ms, a refused
 * connection after 1 ms, a timeout after the full timeout), so a slow failure raises p95 as a
 * user would feel it. Durations are rounded to 0.1 ms. With no samples every figure is 0 and
 * `samples` says so.
 */
export function summarizeSamples(samples: readonly ProbeSample[]): ProbeMetrics {
  const n = samples.length;
  const statuses: Record<string, number> = {};
  let errors = 0;
  let total = 0;
  const latencies: number[] = [];
  for (const sample of samples) {
    const key = sample.status === undefined ? 'error' : String(sample.status);
    statuses[key] = (statuses[key] ?? 0) + 1;
    if (sample.failure !== undefined) errors++;
    total += sample.durationMs;
    latencies.push(sample.durationMs);
  }
  latencies.sort((a, b) => a - b);
  return {
    samples: n,
    errors,
    error_rate: n === 0 ? 0 : errors / n,
    success_rate: n === 0 ? 0 : (n - errors) / n,
    p50_ms: roundMs(percentile(latencies, 50)),
    p95_ms: roundMs(percentile(latencies, 95)),
    p99_ms: roundMs(percentile(latencies, 99)),
    max_ms: roundMs(latencies.at(-1) ?? 0),
    mean_ms: roundMs(n === 0 ? 0 : total / n),
    statuses,
  };
}

/** Nearest-rank percentile of ascending values: the smallest value with at least p% of values at or below it. 0 when empty. */
export function percentile(ascending: readonly number[], p: number): number {
  if (ascending.length === 0) return 0;
  const rank = Math.min(ascending.length, Math.max(1, Math.ceil((p / 100) * ascending.length)));
  return ascending[rank - 1] ?? 0;
}

function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** Distinct failure reasons with counts, most frequent first (ties: first seen first), at most `MAX_FAILURE_KINDS` lines. */
export function summarizeFailures(samples: readonly ProbeSample[]): string[] {
  const counts = new Map<string, number>();
  let untracked = 0;
  for (const sample of samples) {
    if (sample.failure === undefined) continue;
    const count = counts.get(sample.failure);
    if (count !== undefined) counts.set(sample.failure, count + 1);
    else if (counts.size < MAX_TRACKED_REASONS) counts.set(sample.failure, 1);
    else untracked++;
  }
  const ranked = [...counts].sort((a, b) => b[1] - a[1]);
  const lines = ranked.slice(0, MAX_FAILURE_KINDS).map(([reason, count]) => `${reason} (×${count})`);
  const rest = ranked.slice(MAX_FAILURE_KINDS);
  const restSamples = rest.reduce((sum, [, count]) => sum + count, 0) + untracked;
  if (restSamples > 0) lines.push(untracked > 0 ? `other reasons (×${restSamples})` : `${rest.length} other reasons (×${restSamples})`);
  return lines;
}
