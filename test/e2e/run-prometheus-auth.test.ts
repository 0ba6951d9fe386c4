// Credentials for Prometheus from secrets: sent (bearer, basic) to a real Prometheus behind an auth proxy, never printed, journaled or recorded.
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, killAllClis, readRecord, recordFiles, runCli } from '../helpers/cli.js';
import { startAuthProxy, startDemoTarget, startPrometheus, type AuthProxy, type DemoTarget, type PrometheusServer } from '../helpers/prometheus.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/prometheus/auth.yaml', import.meta.url));
const TOKEN = 'tok-6c1f0e2a-not-for-logs';
const PASSWORD = 'pw-93b1-not-for-logs';
const BASIC = `Basic ${Buffer.from(`deployctl:${PASSWORD}`).toString('base64')}`;

let demo: DemoTarget;
let prom: PrometheusServer;
let bearerProxy: AuthProxy;
let basicProxy: AuthProxy;

beforeAll(async () => {
  assertBuilt();
  demo = await startDemoTarget();
  prom = await startPrometheus([`127.0.0.1:${demo.port}`]);
  await prom.waitForData('up{job="demo"} == 1');
  bearerProxy = await startAuthProxy(prom.url, `Bearer ${TOKEN}`);
  basicProxy = await startAuthProxy(prom.url, BASIC);
}, 60_000);

afterAll(async () => {
  await killAllClis();
  await bearerProxy?.close();
  await basicProxy?.close();
  await prom?.stop();
  demo?.stop();
});

/** Run the fixture in a fresh directory; everything the run left behind, as text, to search for the secrets. */
async function run(mode: string, url: string, env: Record<string, string>) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployctl-prom-auth-'));
  copyFileSync(FIXTURE, path.join(dir, 'auth.yaml'));
  const result = await runCli(['run', 'auth.yaml', '--var', `prometheus_url=${url}`, '--var', `mode=${mode}`], { cwd: dir, env, timeoutMs: 30_000 });
  const left = (function walk(d: string): string {
    return readdirSync(d, { withFileTypes: true })
      .map((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : readFileSync(path.join(d, e.name), 'latin1')))
      .join('\n');
  })(path.join(dir, '.deployctl'));
  const files = recordFiles(dir);
  const predicate = files.length === 1 ? (readRecord(files[0]!).statement.predicate as Record<string, any>) : undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
  rmSync(dir, { recursive: true, force: true });
  return { result, left, predicate, everything: `${result.stdout}\n${result.stderr}\n${left}` };
}

describe('prometheus auth from secrets', { timeout: 60_000 }, () => {
  it('sends the bearer token from the secret it names, and it appears in no output, journal or record', async () => {
    const { result, predicate, everything } = await run('bearer', bearerProxy.url, { PROM_TOKEN: TOKEN });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(bearerProxy.seen.at(-1)).toBe(`Bearer ${TOKEN}`);
    expect(bearerProxy.headers.at(-1)?.['x-scope-orgid']).toBe('deployctl-tests');
    const step = (predicate!['phases'][0]['steps'] as Record<string, any>[]).find((s) => s['id'] === 'with-bearer')!; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(step['check']).toMatchObject({ verdict: 'pass', result: 1 });
    expect(everything).not.toContain(TOKEN);
  });

  it('a wrong token fails the step saying the credentials were refused, and shows neither token', async () => {
    const wrong = 'tok-wrong-also-secret';
    const { result, everything } = await run('bearer', bearerProxy.url, { PROM_TOKEN: wrong });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/Prometheus refused the query: HTTP 401: unauthorized: Unauthorized \(check auth: the credentials were refused\)/);
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(TOKEN);
  });

  it('sends basic auth (username, and the password from its secret); neither the password nor the header is kept', async () => {
    const { result, everything } = await run('basic', basicProxy.url, { PROM_PASSWORD: PASSWORD });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(basicProxy.seen.at(-1)).toBe(BASIC);
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(BASIC.slice('Basic '.length));
  });

  it('without the secret in the environment it fails before sending anything', async () => {
    const before = basicProxy.seen.length;
    const { result } = await run('basic', basicProxy.url, {});
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('auth.basic.password names the secret PROM_PASSWORD, which is not set in the environment');
    expect(basicProxy.seen.length).toBe(before);
  });
});
