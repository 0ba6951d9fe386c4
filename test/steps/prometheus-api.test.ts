// Prometheus API responses (recorded from a real Prometheus 2.42 in test/fixtures/prometheus/) read into series; request URLs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultStepMs, parseQueryResponse, queryUrl, reduceValues } from '../../src/steps/prometheus-api.js';

const recorded = (name: string) => readFileSync(new URL(`../fixtures/prometheus/${name}.json`, import.meta.url), 'utf8');

describe('parseQueryResponse on recorded answers', () => {
  it('reads a vector with its labels, one series per code', () => {
    expect(parseQueryResponse(200, recorded('vector-by-code'))).toEqual({
      ok: true,
      resultType: 'vector',
      series: [
        { labels: { code: '200' }, value: 175 },
        { labels: { code: '500' }, value: 9 },
      ],
      warnings: [],
    });
  });

  it('reads a single-sample vector (an error ratio)', () => {
    const answer = parseQueryResponse(200, recorded('vector-error-ratio'));
    expect(answer.ok && answer.series).toEqual([{ labels: {}, value: 0.04891304347826087 }]);
  });

  it('reads an empty vector as no series', () => {
    expect(parseQueryResponse(200, recorded('vector-empty'))).toMatchObject({ ok: true, series: [] });
  });

  it.each([
    ['scalar', 0.05],
    ['scalar-nan', Number.NaN],
    ['scalar-inf', Number.POSITIVE_INFINITY],
  ])('reads a scalar (%s) as one unlabelled series', (name, value) => {
    const answer = parseQueryResponse(200, recorded(name));
    expect(answer).toMatchObject({ ok: true, resultType: 'scalar' });
    expect(answer.ok && answer.series).toEqual([{ labels: {}, value }]);
  });

  it.each([
    ['max', 366],
    ['min', 278],
    ['avg', 322],
    ['last', 366],
  ] as const)('reduces a matrix with %s', (reduce, value) => {
    const answer = parseQueryResponse(200, recorded('matrix'), reduce);
    expect(answer.ok && answer.series).toEqual([{ labels: {}, value }]);
  });

  it('turns an API error into its sentence', () => {
    expect(parseQueryResponse(400, recorded('error-bad-data'))).toEqual({
      ok: false,
      error: 'HTTP 400: bad_data: invalid parameter "query": 1:33: parse error: unclosed left parenthesis',
    });
  });

  it('refuses a string result: it is not a number', () => {
    expect(parseQueryResponse(200, recorded('string'))).toEqual({ ok: false, error: 'the query gives a string, not a number: check the PromQL' });
  });
});

describe('parseQueryResponse on what is not an API answer', () => {
  it.each([
    ['an HTML page', 200, '<html><body>Grafana</body></html>', /^HTTP 200: not a Prometheus API response \("<html>/],
    ['a 502 from a proxy', 502, 'Bad Gateway', /^HTTP 502: not a Prometheus API response/],
    ['an empty body', 200, '', /^HTTP 200: not a Prometheus API response$/],
    ['JSON without data', 200, '{"status":"success"}', /no data/],
    ['a vector of non-samples', 200, '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,2]}]}}', /malformed/],
    ['a sample that is not a number', 200, '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"abc"]}]}}', /malformed/],
    ['an unknown result type', 200, '{"status":"success","data":{"resultType":"histogram","result":[]}}', /malformed.*histogram/],
    ['a 401 with an error body', 401, '{"status":"error","errorType":"unauthorized","error":"Unauthorized"}', /^HTTP 401: unauthorized: Unauthorized$/],
  ])('%s is an error, not a throw', (_what, status, body, message) => {
    const answer = parseQueryResponse(status, body);
    expect(answer.ok).toBe(false);
    expect(!answer.ok && answer.error).toMatch(message);
  });

  it('keeps at most 500 series, and labels as strings', () => {
    const result = Array.from({ length: 600 }, (_, i) => ({ metric: { pod: `p${i}`, n: 1 }, value: [1, String(i)] }));
    const answer = parseQueryResponse(200, JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
    expect(answer.ok && answer.series.length).toBe(500);
    expect(answer.ok && answer.series[0]).toEqual({ labels: { pod: 'p0' }, value: 0 });
  });

  it('leaves out a matrix series with no points', () => {
    const body = JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [{ metric: { a: 'x' }, values: [] }] } });
    expect(parseQueryResponse(200, body)).toMatchObject({ ok: true, series: [] });
  });

  it('passes warnings on', () => {
    const body = JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] }, warnings: ['query hit the sample limit'] });
    expect(parseQueryResponse(200, body)).toMatchObject({ ok: true, warnings: ['query hit the sample limit'] });
  });
});

describe('reduceValues', () => {
  it('a NaN or an Inf anywhere wins: the series is inconclusive whatever the rest says', () => {
    expect(reduceValues([1, Number.NaN, 3], 'max')).toBeNaN();
    expect(reduceValues([1, Number.POSITIVE_INFINITY], 'last')).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('queryUrl', () => {
  it('an instant query at a time, with the timeout passed on', () => {
    expect(queryUrl('http://127.0.0.1:9090', 'sum(up)', { endMs: 1_700_000_000_123 }, 10_000)).toBe(
      'http://127.0.0.1:9090/api/v1/query?query=sum%28up%29&time=1700000000.123&timeout=10s',
    );
  });

  it('a range query from start to end at a step, keeping a path prefix', () => {
    const url = new URL(queryUrl('https://metrics.example.com/prometheus/', 'up{job="demo"}', { endMs: 1_700_000_600_000, range: { startMs: 1_700_000_000_000, stepMs: 30_000, reduce: 'max' } }));
    expect(url.pathname).toBe('/prometheus/api/v1/query_range');
    expect(Object.fromEntries(url.searchParams)).toEqual({ query: 'up{job="demo"}', start: '1700000000', end: '1700000600', step: '30' });
  });

  it('the default step is 60 points over the range, never under a second', () => {
    expect(defaultStepMs(600_000)).toBe(10_000);
    expect(defaultStepMs(30_000)).toBe(1000);
  });
});
