// A real HTTP server on 127.0.0.1 for probe tests: healthy, slow, failing, flaky, redirecting, huge, hanging endpoints, with per-path counters.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface RouteContext {
  /** The request URL (query parameters configure the built-in routes). */
  url: URL;
  /** 1-based number of this request among those to the same path. */
  count: number;
  /** The request body, fully read. */
  body: string;
  /** Run `fn` after `ms` unless the client went away first. */
  later(ms: number, fn: () => void): void;
  /** Count bytes a streaming route wrote, for `bytesSent(path)`. */
  addBytesSent(bytes: number): void;
}

export type TestRoute = (req: http.IncomingMessage, res: http.ServerResponse, ctx: RouteContext) => void;

export interface TestServer {
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  url: string;
  port: number;
  /** Requests received for a path (`/flaky`), or for all paths. */
  requestCount(path?: string): number;
  /** The most requests that were in flight at once, for a path or for all paths. */
  maxInFlight(path?: string): number;
  /** Body bytes streaming routes (`/huge`, `/endless`) wrote for a path. */
  bytesSent(path: string): number;
  /** TCP connections accepted so far (keep-alive reuses one for many requests). */
  connections(): number;
  /** Stop listening and destroy every connection, keep-alive and hanging ones included. */
  close(): Promise<void>;
}

const int = (url: URL, name: string, fallback: number): number => {
  const raw = url.searchParams.get(name);
  return raw === null ? fallback : Number(raw);
};

/** Write `total` bytes (Infinity: until the client leaves) of `x` in 64 KiB chunks, honouring backpressure. */
function stream(res: http.ServerResponse, ctx: RouteContext, total: number): void {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  let sent = 0;
  const pump = (): void => {
    while (!res.destroyed && sent < total) {
      const piece = total - sent >= chunk.length ? chunk : chunk.subarray(0, total - sent);
      sent += piece.length;
      ctx.addBytesSent(piece.length);
      if (!res.write(piece)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  res.writeHead(200, Number.isFinite(total) ? { 'content-type': 'text/plain', 'content-length': String(total) } : { 'content-type': 'text/plain' });
  pump();
}

const text = (res: http.ServerResponse, status: number, body: string): void => {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(body);
};

/** Route factories, for mounting the behaviours at other paths or with fixed settings. */
export const testRoutes = {
  /** 200 with `body` (default "ok"). */
  ok: (body = 'ok'): TestRoute => (_req, res) => text(res, 200, body),
  /** `status` with `body`. */
  status: (status: number, body = `status ${status}`): TestRoute => (_req, res) => text(res, status, body),
  /** 200 "ok" after `ms`. */
  slow: (ms: number): TestRoute => (_req, res, ctx) => ctx.later(ms, () => text(res, 200, 'ok')),
  /** Every `every`-th request to this path gets `status` (default 500); the others 200 "ok". */
  flaky: (every: number, status = 500): TestRoute => (_req, res, ctx) =>
    ctx.count % every === 0 ? text(res, status, 'flaky failure') : text(res, 200, 'ok'),
  /** The n-th request to this path waits (n-1)·`stepMs` before answering 200 "ok". */
  delayByIndex: (stepMs: number): TestRoute => (_req, res, ctx) => ctx.later((ctx.count - 1) * stepMs, () => text(res, 200, 'ok')),
  /** A redirect to `location`. */
  redirect: (location: string, status = 302): TestRoute => (_req, res) => {
    res.writeHead(status, { location });
    res.end();
  },
  /** `bytes` of body, streamed. */
  huge: (bytes: number): TestRoute => (_req, res, ctx) => stream(res, ctx, bytes),
  /** A body that never ends. */
  endless: (): TestRoute => (_req, res, ctx) => stream(res, ctx, Infinity),
  /** Never answers. */
  hang: (): TestRoute => () => undefined,
  /** Headers at once, the body "ok" after `ms`. */
  slowBody: (ms: number): TestRoute => (_req, res, ctx) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.flushHeaders();
    ctx.later(ms, () => res.end('ok'));
  },
  /** 200 with JSON `{method, path, headers, body}`. */
  echo: (): TestRoute => (req, res, ctx) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, path: ctx.url.pathname + ctx.url.search, headers: req.headers, body: ctx.body }));
  },
};

/**
 * The built-in endpoints, configured by query parameters:
 * `/health` 200 "ok" · `/slow?ms=200` · `/fail?status=500` · `/flaky?every=5` (the 5th, 10th… request fails with 500) ·
 * `/wrong-body` 200 without "ok" · `/redirect?hops=3&to=/health&status=302` (a chain of `hops` redirects) ·
 * `/huge?bytes=10485760` (10 MiB streamed) · `/endless` · `/hang` · `/by-index?step=20` (n-th request waits (n-1)·step ms) ·
 * `/slow-body?ms=200` · `/echo`.
 */
export const DEFAULT_ROUTES: Record<string, TestRoute> = {
  '/health': testRoutes.ok(),
  '/slow': (req, res, ctx) => testRoutes.slow(int(ctx.url, 'ms', 200))(req, res, ctx),
  '/fail': (req, res, ctx) => testRoutes.status(int(ctx.url, 'status', 500))(req, res, ctx),
  '/flaky': (req, res, ctx) => testRoutes.flaky(int(ctx.url, 'every', 5))(req, res, ctx),
  '/wrong-body': testRoutes.ok('service degraded'),
  '/redirect': (req, res, ctx) => {
    const hops = int(ctx.url, 'hops', 1);
    const to = ctx.url.searchParams.get('to') ?? '/health';
    const status = int(ctx.url, 'status', 302);
    const next = new URLSearchParams({ hops: String(hops - 1), to, status: String(status) });
    testRoutes.redirect(hops > 1 ? `/redirect?${next.toString()}` : to, status)(req, res, ctx);
  },
  '/huge': (req, res, ctx) => testRoutes.huge(int(ctx.url, 'bytes', 10 * 1024 * 1024))(req, res, ctx),
  '/endless': testRoutes.endless(),
  '/hang': testRoutes.hang(),
  '/by-index': (req, res, ctx) => testRoutes.delayByIndex(int(ctx.url, 'step', 20))(req, res, ctx),
  '/slow-body': (req, res, ctx) => testRoutes.slowBody(int(ctx.url, 'ms', 200))(req, res, ctx),
  '/echo': testRoutes.echo(),
};

interface PathStats {
  count: number;
  inFlight: number;
  maxInFlight: number;
  bytesSent: number;
}

/** Start a server on 127.0.0.1 on a free port with `DEFAULT_ROUTES` plus `routes` (which win on the same path). Unknown paths get 404. */
export async function startTestServer(routes: Record<string, TestRoute> = {}): Promise<TestServer> {
  const table = { ...DEFAULT_ROUTES, ...routes };
  const stats = new Map<string, PathStats>();
  const total: PathStats = { count: 0, inFlight: 0, maxInFlight: 0, bytesSent: 0 };
  const statsOf = (path: string): PathStats => {
    let entry = stats.get(path);
    if (entry === undefined) {
      entry = { count: 0, inFlight: 0, maxInFlight: 0, bytesSent: 0 };
      stats.set(path, entry);
    }
    return entry;
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = statsOf(url.pathname);
    for (const s of [path, total]) {
      s.count++;
      s.inFlight++;
      s.maxInFlight = Math.max(s.maxInFlight, s.inFlight);
    }
    const count = path.count;
    const timers = new Set<NodeJS.Timeout>();
    // 'close' fires once the response is finished or the connection is gone, whichever is first.
    res.once('close', () => {
      path.inFlight--;
      total.inFlight--;
      for (const timer of timers) clearTimeout(timer);
    });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const ctx: RouteContext = {
        url,
        count,
        body: Buffer.concat(chunks).toString('utf8'),
        later(ms, fn) {
          const timer = setTimeout(() => {
            timers.delete(timer);
            if (!res.destroyed) fn();
          }, ms);
          timers.add(timer);
        },
        addBytesSent(bytes) {
          path.bytesSent += bytes;
          total.bytesSent += bytes;
        },
      };
      const route = table[url.pathname];
      if (route === undefined) text(res, 404, `no route ${url.pathname}`);
      else route(req, res, ctx);
    });
  });

  let connections = 0;
  server.on('connection', () => connections++);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requestCount: (path) => (path === undefined ? total : statsOf(path)).count,
    maxInFlight: (path) => (path === undefined ? total : statsOf(path)).maxInFlight,
    bytesSent: (path) => statsOf(path).bytesSent,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago): connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
