// A real Prometheus and a real demo target for tests: random 127.0.0.1 ports, temp dirs, a 1 s scrape, stopped at the end.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliEnv, freePort, killGroup, waitFor } from './cli.js';

export const DEMO_JS = fileURLToPath(new URL('../../runbooks/demo/demo.js', import.meta.url));
export const PROMETHEUS_MISSING = 'prometheus is not installed: apt-get install -y prometheus';

/** The prometheus binary, or a failure that says how to get it: these tests never skip. */
export function prometheusBinary(): string {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter).concat('/usr/bin')) {
    const file = path.join(dir, 'prometheus');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      /* next */
    }
  }
  throw new Error(PROMETHEUS_MISSING);
}

export interface PrometheusServer {
  url: string;
  port: number;
  dir: string;
  /** GET /api/v1/query; the parsed `data.result`. */
  query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** Wait until `promql` returns at least one sample (the target's series are in). */
  waitForData(promql: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Start Prometheus scraping `targets` (host:port) every second, storage in a temp dir; ready when /-/ready answers. */
export async function startPrometheus(targets: string[]): Promise<PrometheusServer> {
  const binary = prometheusBinary();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployctl-prometheus-'));
  const config = path.join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    ['global:', '  scrape_interval: 1s', '  evaluation_interval: 1s', 'scrape_configs:', '  - job_name: demo', '    static_configs:', `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`, ''].join('\n'),
  );
  mkdirSync(path.join(dir, 'data'));
  const port = await freePort();
  const child: ChildProcess = spawn(binary, [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (log = (log + chunk).slice(-4000)));
  let exited = false;
  child.on('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (!exited) {
      killGroup(child.pid!, 'SIGTERM');
      await waitFor('prometheus to exit', () => exited, 10_000).catch(() => killGroup(child.pid!, 'SIGKILL'));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      'prometheus to be ready',
      async () => {
        if (exited) throw new Error(`prometheus exited at start:\n${log}`);
        const res = await fetch(`${url}/-/ready`).catch(() => undefined);
        return res?.status === 200;
      },
      30_000,
      100,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const query = async (promql: string) => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { data?: { result?: { metric: Record<string, string>; value: [number, string] }[] } };
    return body.data?.result ?? [];
  };
  return {
    url,
    port,
    dir,
    query,
    waitForData: async (promql, timeoutMs = 30_000) => {
      await waitFor(`data for ${promql}`, async () => (await query(promql)).length > 0, timeoutMs, 200);
    },
    stop,
  };
}

export interface DemoTarget {
  port: number;
  url: string;
  stateDir: string;
  env: Record<string, string>;
  /** Run demo.js with the target's environment; throws on a non-zero exit. */
  cli(...args: string[]): string;
  stop(): void;
}

/** The demo target from runbooks/demo, started with demo.js on a free port, its state in a temp dir. */
export async function startDemoTarget(options: { traffic?: number } = {}): Promise<DemoTarget> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'deployctl-demo-'));
  const port = await freePort();
  const env = { DEMO_STATE_DIR: stateDir, DEMO_PORT: String(port), DEMO_FAST: '1' };
  const cli = (...args: string[]) => {
    const result = spawnSync(process.execPath, [DEMO_JS, ...args], { env: cliEnv(env), encoding: 'utf8', timeout: 30_000 });
    if (result.status !== 0) throw new Error(`demo.js ${args.join(' ')} exited ${result.status}: ${result.stdout}${result.stderr}`);
    return result.stdout;
  };
  cli('start', ...(options.traffic !== undefined ? ['--traffic', String(options.traffic)] : []));
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    stateDir,
    env,
    cli,
    stop: () => {
      try {
        cli('stop');
      } finally {
        rmSync(stateDir, { recursive: true, force: true });
      }
    },
  };
}

export interface AuthProxy {
  url: string;
  /** The Authorization headers that arrived, in order. */
  seen: string[];
  /** Every request's headers, in order. */
  headers: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

/**
 * A reverse proxy in front of Prometheus that answers 401 unless the request carries `authorization` exactly (as
 * Prometheus's own --web.config.file basic auth would, which needs a bcrypt hash no tool here makes).
 */
export async function startAuthProxy(upstream: string, authorization: string): Promise<AuthProxy> {
  const seen: string[] = [];
  const headers: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers.authorization ?? '');
    headers.push(req.headers);
    if (req.headers.authorization !== authorization) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="prometheus"' });
      res.end('{"status":"error","errorType":"unauthorized","error":"Unauthorized"}');
      return;
    }
    void fetch(`${upstream}${req.url ?? '/'}`).then(
      async (up) => {
        res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
        res.end(await up.text());
      },
      () => {
        res.writeHead(502);
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, seen, headers, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The demo's server log, for a failure message. */
export function demoLog(target: DemoTarget): string {
  try {
    return readFileSync(path.join(target.stateDir, 'server.log'), 'utf8').slice(-2000);
  } catch {
    return '';
  }
}
