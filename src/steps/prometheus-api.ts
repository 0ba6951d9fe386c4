// Prometheus's HTTP API (/api/v1/query, /api/v1/query_range): the request URL, and the response parsed into numbered series.
import type { Reducer } from '../runbook/types.js';

/** One series with its labels and one number (a range query's values reduced). Non-finite values stay as they are. */
export interface Series {
  labels: Record<string, string>;
  value: number;
}

export type QueryAnswer =
  | { ok: true; resultType: 'scalar' | 'vector' | 'matrix'; series: Series[]; warnings: string[] }
  | { ok: false; error: string };

export interface QueryWindow {
  /** Evaluation time (instant) or the range's end, ms since the epoch. */
  endMs: number;
  /** Set for a range query. */
  range?: { startMs: number; stepMs: number; reduce: Reducer };
}

/** Series kept per answer: a query that matches thousands is a mistake, and the record must stay small. */
export const MAX_SERIES = 500;

/** The default resolution of a range query: 60 points over the range, never finer than a second. */
export function defaultStepMs(rangeMs: number): number {
  return Math.max(1000, Math.ceil(rangeMs / 60 / 1000) * 1000);
}

/**
 * The request URL: `<base>/api/v1/query?query=…&time=…` or `<base>/api/v1/query_range?…&start=…&end=…&step=…`. A base
 * with a path (a Prometheus behind a prefix, `https://host/prometheus`) keeps it. Times are Unix seconds with
 * millisecond precision, as the API takes them. `timeoutMs` is passed on so Prometheus stops a query nobody waits for.
 */
export function queryUrl(base: string, query: string, window: QueryWindow, timeoutMs?: number): string {
  const url = new URL(base);
  const prefix = url.pathname.replace(/\/+$/, '');
  url.pathname = `${prefix}/api/v1/${window.range ? 'query_range' : 'query'}`;
  url.search = '';
  url.hash = '';
  const params = url.searchParams;
  params.set('query', query);
  if (window.range) {
    params.set('start', seconds(window.range.startMs));
    params.set('end', seconds(window.endMs));
    params.set('step', seconds(window.range.stepMs));
  } else {
    params.set('time', seconds(window.endMs));
  }
  if (timeoutMs !== undefined) params.set('timeout', `${Math.max(1, Math.round(timeoutMs / 1000))}s`);
  return url.href;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3).replace(/\.?0+$/, '');
}

/**
 * Read an API response. Success: `{"status":"success","data":{"resultType":…,"result":…}}`; failure: `{"status":"error",
 * "errorType":…,"error":…}` (with HTTP 400, 422 or 503). Sample values are strings ("0.5", "NaN", "+Inf"). A matrix
 * (range query) has each series' values reduced to one number with `reduce`; a non-finite value in a series is that
 * series' value (it is inconclusive, whatever the others say). Anything else is an error sentence, never a throw.
 */
export function parseQueryResponse(status: number, body: string, reduce: Reducer = 'last'): QueryAnswer {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    const start = body.trim().slice(0, 80);
    return { ok: false, error: `HTTP ${status}: not a Prometheus API response${start ? ` (${JSON.stringify(start)})` : ''}` };
  }
  if (!isObject(json)) return { ok: false, error: `HTTP ${status}: not a Prometheus API response` };
  if (json['status'] === 'error' || status >= 400) {
    const type = typeof json['errorType'] === 'string' ? `${json['errorType']}: ` : '';
    const error = typeof json['error'] === 'string' ? json['error'] : 'no error message';
    return { ok: false, error: `HTTP ${status}: ${type}${error}` };
  }
  const data = json['data'];
  if (json['status'] !== 'success' || !isObject(data)) return { ok: false, error: `HTTP ${status}: not a Prometheus API response (no data)` };
  const warnings = Array.isArray(json['warnings']) ? json['warnings'].filter((w): w is string => typeof w === 'string') : [];
  const result = data['result'];
  switch (data['resultType']) {
    case 'scalar': {
      const value = sampleValue(result);
      if (value === undefined) return malformed('scalar');
      return { ok: true, resultType: 'scalar', series: [{ labels: {}, value }], warnings };
    }
    case 'vector': {
      if (!Array.isArray(result)) return malformed('vector');
      const series: Series[] = [];
      for (const item of result.slice(0, MAX_SERIES)) {
        if (!isObject(item)) return malformed('vector');
        const value = sampleValue(item['value']);
        if (value === undefined) return malformed('vector');
        series.push({ labels: labelsOf(item['metric']), value });
      }
      return { ok: true, resultType: 'vector', series, warnings };
    }
    case 'matrix': {
      if (!Array.isArray(result)) return malformed('matrix');
      const series: Series[] = [];
      for (const item of result.slice(0, MAX_SERIES)) {
        if (!isObject(item) || !Array.isArray(item['values'])) return malformed('matrix');
        const values: number[] = [];
        for (const pair of item['values'] as unknown[]) {
          const value = sampleValue(pair);
          if (value === undefined) return malformed('matrix');
          values.push(value);
        }
        // A series with no point in the range says nothing: leave it out (an all-empty answer is "no data").
        if (values.length > 0) series.push({ labels: labelsOf(item['metric']), value: reduceValues(values, reduce) });
      }
      return { ok: true, resultType: 'matrix', series, warnings };
    }
    case 'string':
      return { ok: false, error: 'the query gives a string, not a number: check the PromQL' };
    default:
      return malformed(String(data['resultType']));
  }
}

/** One number out of a series' values: max, min, avg (the mean) or last. A NaN or ±Inf anywhere makes it NaN or that Inf. */
export function reduceValues(values: readonly number[], reduce: Reducer): number {
  const nonFinite = values.find((v) => !Number.isFinite(v));
  if (nonFinite !== undefined) return nonFinite;
  switch (reduce) {
    case 'max':
      return Math.max(...values);
    case 'min':
      return Math.min(...values);
    case 'avg':
      return values.reduce((sum, v) => sum + v, 0) / values.length;
    case 'last':
      return values[values.length - 1]!;
  }
}

function malformed(type: string): QueryAnswer {
  return { ok: false, error: `malformed Prometheus response (result type ${JSON.stringify(type)})` };
}

/** `[1700000000.123, "0.5"]` → 0.5; "NaN", "+Inf" and "-Inf" are numbers too. Undefined when it is not a sample. */
function sampleValue(pair: unknown): number | undefined {
  if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[1] !== 'string') return undefined;
  const text = pair[1];
  if (text === 'NaN') return Number.NaN;
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text.trim() === '') return undefined;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}

function labelsOf(metric: unknown): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!isObject(metric)) return labels;
  for (const [name, value] of Object.entries(metric).slice(0, 64)) {
    if (typeof value === 'string') labels[name] = value.length > 200 ? `${value.slice(0, 200)}…` : value;
  }
  return labels;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
