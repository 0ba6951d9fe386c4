// What the loader says about prometheus steps, expect:, no_data: and json_path: each mistake at its line:col with the fix.
import { describe, expect, it } from 'vitest';
import { loadRunbook } from '../../src/runbook/load.js';

function problems(steps: string, extra = ''): { line: number; col: number; code: string; message: string }[] {
  const yaml = `version: 1
name: checks
roles: { ops: { title: Ops } }
vars: { prom: "http://127.0.0.1:9090" }
secrets: [PROM_TOKEN]
${extra}phases:
  - id: check
    steps:
${steps}`;
  const result = loadRunbook('checks.yaml', () => ({ ok: true, bytes: new TextEncoder().encode(yaml) }));
  return result.ok ? [] : result.problems.map(({ line, col, code, message }) => ({ line, col, code, message }));
}

describe('loading prometheus checks', () => {
  it('accepts a complete prometheus step', () => {
    expect(
      problems(`      - id: p95
        owner: ops
        prometheus:
          url: "\${{ vars.prom }}"
          query: histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m])))
          range: 10m
          step: 30s
          reduce: max
          auth: { bearer: PROM_TOKEN }
          label: p95
        expect: "result < 0.5 && results.size() == 1"
        no_data: fail
`),
    ).toEqual([]);
  });

  it.each([
    ['an auth secret not listed under secrets', `prometheus: { url: "http://p:9090", query: up, auth: { bearer: OTHER } }`, 'auth-not-secret', 'auth.bearer: OTHER is not listed under secrets'],
    ['a basic auth password not listed under secrets', `prometheus: { url: "http://p:9090", query: up, auth: { basic: { username: u, password: PW } } }`, 'auth-not-secret', 'auth.basic.password: PW'],
    ['step without range', `prometheus: { url: "http://p:9090", query: up, step: 30s }`, 'needs-range', 'step applies to range queries only'],
    ['reduce without range', `prometheus: { url: "http://p:9090", query: up, reduce: max }`, 'needs-range', 'reduce applies to range queries only'],
    ['a step longer than the range', `prometheus: { url: "http://p:9090", query: up, range: 1m, step: 5m }`, 'step-over-range', 'step 5m is longer than range 1m'],
    ['a url that is no URL', `prometheus: { url: "prometheus:9090", query: up }`, 'bad-url', 'url must start with http:// or https://'],
    ['an unknown var in the query', `prometheus: { url: "http://p:9090", query: "up{job='\${{ vars.jbo }}'}" }`, 'unknown-var', 'vars.jbo is not declared'],
    ['a zero range', `prometheus: { url: "http://p:9090", query: up, range: 0s }`, 'zero-duration', 'a range of 0 makes no sense'],
  ])('refuses %s', (_what, body, code, message) => {
    const found = problems(`      - id: q\n        owner: ops\n        ${body}\n`);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ code });
    expect(found[0]!.message).toContain(message);
  });

  it('refuses both bearer and basic at once (one credential per check)', () => {
    const found = problems(`      - id: q\n        owner: ops\n        prometheus: { url: "http://p:9090", query: up, auth: { bearer: PROM_TOKEN, basic: { username: u, password: PROM_TOKEN } } }\n`);
    expect(found.length).toBeGreaterThan(0);
  });

  it.each([
    ['expect on a run step', `run: "true"\n        expect: result < 1`, 'not-a-check', "expect applies to checks only (prometheus, or http with json_path); this step is 'run'", 12, 9],
    ['no_data on an http probe', `http: { url: "http://x/" }\n        no_data: fail`, 'not-a-check', 'add json_path, or judge the probe with metrics:', 12, 9],
    ['an expect that is not a condition', `prometheus: { url: "http://p:9090", query: up }\n        expect: result + 1.0`, 'not-boolean', 'not true or false', 12, 17],
    ['an expect naming a later step', `prometheus: { url: "http://p:9090", query: up }\n        expect: "steps.q.ok"`, 'step-not-yet-run', 'is this very step', 12, 24],
    ['an expect that does not parse', `prometheus: { url: "http://p:9090", query: up }\n        expect: "result <"`, 'bad-cel', 'invalid CEL expression', 12, 26],
  ])('refuses %s at its line:col', (_what, body, code, message, line, col) => {
    const found = problems(`      - id: q\n        owner: ops\n        ${body}\n`);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ code, line, col });
    expect(found[0]!.message).toContain(message);
  });

  it('refuses a json_path outside the subset, pointing inside it, and json_path with samples', () => {
    const found = problems(`      - id: q\n        owner: ops\n        http: { url: "http://x/", json_path: "$.items[*].v", samples: 3 }\n`);
    expect(found.map((p) => p.code).sort()).toEqual(['bad-json-path', 'json-path-samples']);
    const bad = found.find((p) => p.code === 'bad-json-path')!;
    expect(bad.message).toContain('wildcards, filters and slices are not supported');
    expect(bad.col).toBe(55); // the '*'
  });

  it('checks the templates of a success metric source', () => {
    const found = problems(`      - { id: q, owner: ops, run: "true" }\n`, `success_metrics:\n  - { id: m, title: M, target: "0", source: "\${{ vars.nope }}" }\n`);
    expect(found).toEqual([expect.objectContaining({ code: 'unknown-var' })]);
  });
});
