// `http:` with `json_path`: one request to any status or metrics API, one number read from its JSON, judged like a Prometheus check.
import type { CheckReading } from '../engine/events.js';
import type { CompiledExpression } from '../expr/cel.js';
import type { NoDataPolicy } from '../runbook/types.js';
import { judgeCheck, type CheckVerdict } from './check.js';
import { parseJsonPath, selectJsonPath } from './json-path.js';
import type { CheckOutcome, CheckPorts } from './prometheus.js';
import type { ProbeExpectation } from './http.js';

export interface JsonMetricSpec {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  /** Accepted statuses (default any 2xx). */
  expect?: ProbeExpectation;
  jsonPath: string;
  label?: string;
  check?: string | CompiledExpression;
  noData?: NoDataPolicy;
}

/**
 * Send one request, read the number at `jsonPath` from the JSON body, judge it. A number, or a string that is one
 * (`"0.5"`, as Prometheus writes values), counts; null or nothing at the path is no data; any other type is a failure.
 * An unreachable server or a 5xx is inconclusive (nothing was read), any other unexpected status a failure.
 */
export async function runJsonMetricCheck(spec: JsonMetricSpec, ports: CheckPorts, signal?: AbortSignal): Promise<CheckOutcome> {
  const mask = ports.mask ?? ((text: string) => text);
  const evaluatedAt = ports.clock.now();
  const source = `json_path ${spec.jsonPath} of ${spec.url}`;
  const reading = (verdict: CheckVerdict, results: CheckReading['results'] = [], result: number | null = null): CheckReading => ({
    source: 'json',
    query: spec.jsonPath,
    url: mask(spec.url),
    evaluatedAt,
    result,
    results,
    verdict,
    ...(spec.check !== undefined ? { expect: typeof spec.check === 'string' ? spec.check : spec.check.source } : {}),
  });
  const unjudged = (verdict: CheckVerdict, why: string): CheckOutcome => ({ verdict, reason: mask(`${why} (${source})`), result: null, results: [], reading: reading(verdict) });

  const parsed = parseJsonPath(spec.jsonPath);
  if (!parsed.ok) return unjudged('fail', `json_path: ${parsed.message}`);
  const response = await ports.send({
    url: spec.url,
    method: (spec.method ?? 'GET').toUpperCase(),
    headers: { Accept: 'application/json', ...spec.headers },
    ...(spec.body !== undefined ? { body: spec.body } : {}),
    timeoutMs: spec.timeoutMs ?? 10_000,
    ...(signal !== undefined ? { signal } : {}),
  });
  if (!response.ok) return unjudged('inconclusive', `could not read ${spec.url}: ${response.error}`);
  const accepted = spec.expect?.status === undefined ? undefined : Array.isArray(spec.expect.status) ? spec.expect.status : [spec.expect.status];
  const statusOk = accepted === undefined ? response.status >= 200 && response.status < 300 : accepted.includes(response.status);
  if (!statusOk) return unjudged(response.status >= 500 ? 'inconclusive' : 'fail', `HTTP ${response.status} from ${spec.url}`);
  let document: unknown;
  try {
    document = JSON.parse(response.body);
  } catch {
    return unjudged('fail', `the response is not JSON${'truncated' in response && response.truncated === true ? ' (or longer than 1 MiB)' : ''}`);
  }
  const value = selectJsonPath(document, parsed.segments);
  let number: number | undefined;
  if (typeof value === 'number') number = value;
  else if (typeof value === 'string' && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$|^\s*([-+]?Inf|NaN)\s*$/.test(value)) {
    const text = value.trim();
    number = text === 'NaN' ? Number.NaN : /Inf$/.test(text) ? (text.startsWith('-') ? -Infinity : Infinity) : Number(text);
  } else if (value !== undefined && value !== null) {
    return unjudged('fail', `the value at json_path is ${Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value).slice(0, 60)}`}, not a number`);
  }
  const judged = judgeCheck(number === undefined ? [] : [{ labels: {}, value: number }], {
    ...(spec.check !== undefined ? { expect: spec.check } : {}),
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
    reading: reading(judged.verdict, judged.results, judged.result),
  };
}
