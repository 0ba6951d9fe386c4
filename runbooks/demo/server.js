// The demo target's HTTP service: the chat assistant's API on 127.0.0.1, misbehaving as the current version's faults say.
//
// Started by `demo.js start` (run directly: node server.js --port N). It never writes the state
// file; it re-reads it whenever the file changes, so deploy/rollback/fault take effect at once.
import fs from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { HOST, DEFAULT_PORT, stateDir, statePath, readState, initialState, effectiveFaults, describeFaults, sleep } from './state.js';
import { createMetrics, routeOf } from './metrics.js';
import { startTraffic } from './traffic.js';

const BODY_LIMIT = 64 * 1024;   // larger request bodies get 413
const DRAIN_LIMIT = 8 << 20;    // past this, an oversized body is cut off instead of drained

const CATALOGUE = [
  { id: 'p-101', title: 'Classic Cotton T-Shirt', price: 19.99 },
  { id: 'p-102', title: 'Slim Fit Denim Jeans', price: 59.0 },
  { id: 'p-103', title: 'Merino Wool Sweater', price: 89.5 },
  { id: 'p-104', title: 'Canvas Sneakers', price: 45.0 },
  { id: 'p-105', title: 'Leather Belt', price: 29.95 },
  { id: 'p-106', title: 'Waterproof Rain Jacket', price: 120.0 },
  { id: 'p-107', title: 'Organic Cotton Hoodie', price: 64.0 },
  { id: 'p-108', title: 'Wool Beanie', price: 22.0 },
  { id: 'p-109', title: 'Linen Summer Shirt', price: 48.0 },
  { id: 'p-110', title: 'Trail Running Shoes', price: 110.0 },
];

const ORDERS = {
  1001: { items: ['Classic Cotton T-Shirt'], carrier: 'UPS', tracking: '1Z999AA10123456784', eta: '2 days' },
  1002: { items: ['Slim Fit Denim Jeans', 'Leather Belt'], carrier: 'FedEx', tracking: '794644790132', eta: '3 days' },
  1003: { items: ['Merino Wool Sweater'], carrier: 'USPS', tracking: '9400111899223197428490', eta: '1 day' },
  1004: { items: ['Canvas Sneakers'], carrier: 'DHL', tracking: 'JD014600006281230704', eta: '4 days' },
  1005: { items: ['Waterproof Rain Jacket', 'Wool Beanie'], carrier: 'UPS', tracking: '1Z999AA10123456785', eta: '2 days' },
};

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Deterministic error injection: request n fails when floor(n*R) steps, i.e. exactly R of any long run. */
export function failsAt(n, rate) {
  const eps = 1e-9; // so that e.g. 100 * 0.29 = 28.999999999999996 still counts as 29
  return Math.floor(n * rate + eps) !== Math.floor((n - 1) * rate + eps);
}

export function searchProducts(q) {
  const needle = q.toLowerCase();
  return CATALOGUE.filter((p) => p.title.toLowerCase().includes(needle));
}

/** A canned but relevant answer: orders, products, or a greeting. */
function chatReply(message) {
  const text = message.toLowerCase();
  const orderId = /\b(\d{4})\b/.exec(text)?.[1];
  if (orderId && ORDERS[orderId]) {
    const o = ORDERS[orderId];
    return `Order ${orderId} has shipped with ${o.carrier} (tracking ${o.tracking}) and should arrive in ${o.eta}.`;
  }
  if (/\b(order|track|shipping|delivery)\b/.test(text)) {
    return 'I can track your order: tell me its number (for example 1001).';
  }
  const words = text.match(/[a-z]{3,}/g) ?? [];
  const hits = CATALOGUE.filter((p) => words.some((w) => p.title.toLowerCase().includes(w)));
  if (hits.length) {
    return `Here is what I found: ${hits.slice(0, 3).map((p) => `${p.title} ($${p.price.toFixed(2)})`).join(', ')}.`;
  }
  return 'Hi! I am the store assistant. Ask me about products or track an order.';
}

/** Reads the body, capped at BODY_LIMIT (an oversized body is drained, then answered 413). */
function readBody(req) {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > DRAIN_LIMIT) {
      reject(new HttpError(413, `request body larger than ${BODY_LIMIT} bytes`));
      return;
    }
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= BODY_LIMIT) chunks.push(chunk);
      else if (size > DRAIN_LIMIT) req.destroy();
    });
    req.on('end', () => {
      if (size > BODY_LIMIT) reject(new HttpError(413, `request body larger than ${BODY_LIMIT} bytes`));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

/**
 * `metrics`: from createMetrics() (metrics.js), or null; then /metrics answers 503 saying what is missing. GET /metrics
 * answers whatever the faults: it is the process's own endpoint, and a -down version's 503s are what it must show.
 */
export function createDemoServer({ dir = stateDir(), log = () => {}, metrics = null } = {}) {
  const file = statePath(dir);
  const startedAt = Date.now();
  let current = snapshot(readStateOrInitial());
  let signature = null;
  let requests = 0;
  const uptime = () => Math.round((Date.now() - startedAt) / 100) / 10;

  function readStateOrInitial() {
    try {
      return readState(dir);
    } catch {
      return initialState(); // unreadable state file: serve the initial version until it is fixed
    }
  }

  function snapshot(state) {
    return { version: state.version, faults: effectiveFaults(state, state.version) };
  }

  /** One stat per request; the file is re-read only when it was replaced or changed. */
  function refresh() {
    let st;
    try {
      st = fs.statSync(file);
    } catch {
      return; // no state file (yet): keep what we have
    }
    const sig = `${st.ino}:${st.mtimeMs}:${st.size}`;
    if (sig === signature) return;
    try {
      const next = snapshot(readState(dir));
      signature = sig;
      if (next.version !== current.version || JSON.stringify(next.faults) !== JSON.stringify(current.faults)) {
        log(`now serving version ${next.version} (faults: ${describeFaults(next.faults)})`);
      }
      current = next;
    } catch {
      // half-edited or corrupt file: keep serving the last good state
    }
  }

  async function route(req, pathname, params, version) {
    const method = req.method;
    if (pathname === '/api/health' && method === 'GET') {
      return [200, { status: 'ok', version, uptime_s: uptime() }];
    }
    if (pathname === '/api/chat' && (method === 'POST' || method === 'GET')) {
      let message;
      if (method === 'GET') {
        message = params.get('message');
      } else {
        const body = await readBody(req);
        let parsed;
        try {
          parsed = JSON.parse(body);
        } catch {
          throw new HttpError(400, 'request body is not valid JSON: send {"message": "..."}');
        }
        message = parsed && typeof parsed === 'object' ? parsed.message : undefined;
      }
      if (typeof message !== 'string' || !message.trim()) throw new HttpError(400, 'message must be a non-empty string');
      return [200, { reply: chatReply(message), version }];
    }
    if (pathname === '/api/products/search' && method === 'GET') {
      const q = (params.get('q') ?? '').trim();
      if (!q) throw new HttpError(400, 'query parameter q is required');
      return [200, { query: q, results: searchProducts(q) }];
    }
    const order = /^\/api\/orders\/([^/]+)$/.exec(pathname);
    if (order && method === 'GET') {
      let id;
      try {
        id = decodeURIComponent(order[1]);
      } catch {
        id = order[1];
      }
      const o = Object.hasOwn(ORDERS, id) ? ORDERS[id] : null;
      if (!o) return [404, { error: 'order not found' }];
      return [200, { id, status: 'shipped', ...o }];
    }
    return [404, { error: 'not found', method, path: pathname }];
  }

  async function handle(req, res) {
    refresh();
    const q = req.url.indexOf('?');
    const pathname = q === -1 ? req.url : req.url.slice(0, q);
    if (pathname === '/metrics' && req.method === 'GET') return sendMetrics(res);
    const started = performance.now();
    const n = ++requests;
    const { version, faults } = current;
    const send = (status, body) => {
      metrics?.observe(routeOf(pathname), req.method, status, version, (performance.now() - started) / 1000);
      const data = JSON.stringify(body);
      const headers = {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(data),
        'cache-control': 'no-store',
        'x-demo-pid': String(process.pid),
        'x-demo-version': version,
      };
      if (status === 413) headers.connection = 'close';
      res.writeHead(status, headers);
      res.end(data);
    };
    const params = new URLSearchParams(q === -1 ? '' : req.url.slice(q + 1));
    try {
      if (faults.latency_ms > 0) await sleep(faults.latency_ms);
      if (faults.down) {
        return send(503, pathname === '/api/health' ? { status: 'down', version, uptime_s: uptime() } : { error: 'service unavailable', version });
      }
      if (faults.error_rate > 0 && failsAt(n, faults.error_rate)) {
        return send(500, { error: 'internal server error (injected fault)', version });
      }
      const [status, body] = await route(req, pathname, params, version);
      send(status, body);
    } catch (err) {
      if (res.headersSent || res.destroyed) return;
      if (err instanceof HttpError) return send(err.status, { error: err.message });
      log(`error handling ${req.method} ${pathname}: ${err.stack || err}`);
      send(500, { error: 'internal server error' });
    }
  }

  async function sendMetrics(res) {
    if (metrics === null) {
      const data = 'prom-client is not installed: run npm install in the deployctl checkout (runbooks/demo uses its node_modules)\n';
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(data) });
      return res.end(data);
    }
    metrics.serving(current.version, current.faults);
    let data;
    try {
      data = await metrics.text();
    } catch (err) {
      log(`cannot render /metrics: ${err.stack || err}`);
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      return res.end('cannot render the metrics; see the server log\n');
    }
    res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(data), 'cache-control': 'no-store' });
    res.end(data);
  }

  const server = http.createServer({ keepAlive: true }, (req, res) => void handle(req, res));
  server.keepAliveTimeout = 5000;
  server.currentVersion = () => current.version;
  return server;
}

async function main() {
  const log = (msg) => console.log(`${new Date().toISOString()} [pid ${process.pid}] ${msg}`);
  let port;
  let traffic = 0;
  try {
    const { values } = parseArgs({ options: { port: { type: 'string' }, traffic: { type: 'string' } }, strict: true });
    port = Number(values.port ?? process.env.DEMO_PORT ?? DEFAULT_PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port ${values.port ?? process.env.DEMO_PORT}`);
    traffic = Number(values.traffic ?? 0);
    if (!(traffic >= 0 && traffic <= 200)) throw new Error(`invalid --traffic ${values.traffic}: requests per second, 0 to 200`);
  } catch (err) {
    console.error(`server.js: ${err.message} (usage: node server.js [--port N] [--traffic RPS])`);
    process.exit(2);
  }

  const metrics = await createMetrics();
  if (metrics === null) log('prom-client not found: /metrics answers 503 (run npm install in the deployctl checkout)');
  const server = createDemoServer({ log, metrics });
  server.on('error', (err) => {
    log(`cannot listen on ${HOST}:${port}: ${err.code || err.message}`);
    if (process.send) process.send({ type: 'error', code: err.code, message: err.message }, () => process.exit(1));
    else process.exit(1);
  });
  server.listen({ host: HOST, port }, () => {
    const actual = server.address().port;
    log(`demo target listening on http://${HOST}:${actual} (version ${server.currentVersion()})`);
    if (traffic > 0) {
      startTraffic(actual, traffic);
      log(`sending itself ${traffic} requests/s (simulated shoppers, for the metrics)`);
    }
    if (process.send) process.send({ type: 'listening', port: actual, pid: process.pid });
  });
  process.on('disconnect', () => {}); // the starter went away: keep serving

  const shutdown = (signal) => {
    log(`${signal}: shutting down`);
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

// Run as a program, not when imported.
if (process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(new URL(import.meta.url))) void main();
