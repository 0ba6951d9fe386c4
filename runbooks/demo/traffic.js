// Simulated shoppers for the demo target: a steady trickle of requests over its API, so Prometheus has rates to read.
//
// A real service has users; the demo has nobody but the runbook's own probes. With Prometheus watching it
// (`demo.js start --prometheus`), the server sends itself this traffic so that `rate(...)`, error ratios and latency
// quantiles are never empty between probes, and a bad version shows in them within seconds.
import http from 'node:http';

const PATHS = [
  { method: 'GET', path: '/api/health' },
  { method: 'GET', path: '/api/chat?message=Where%20is%20my%20order%201002%3F' },
  { method: 'POST', path: '/api/chat', body: '{"message": "Do you sell hoodies?"}' },
  { method: 'GET', path: '/api/products/search?q=shirt' },
  { method: 'GET', path: '/api/orders/1001' },
  { method: 'GET', path: '/api/orders/1003' },
  { method: 'GET', path: '/api/health' },
  { method: 'GET', path: '/api/chat?message=hello' },
];

/** Send `rps` requests a second to 127.0.0.1:`port`, round-robin over the API. Returns a stop function. */
export function startTraffic(port, rps) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let n = 0;
  let inFlight = 0;
  const send = () => {
    if (inFlight >= 32) return; // a server slower than the load: do not pile up
    const { method, path, body } = PATHS[n++ % PATHS.length];
    inFlight++;
    let done = false;
    const finish = () => {
      if (!done) inFlight--;
      done = true;
    };
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers: body ? { 'content-type': 'application/json', 'user-agent': 'demo-traffic' } : { 'user-agent': 'demo-traffic' } }, (res) => {
      res.resume();
      res.on('close', finish);
    });
    req.on('error', finish);
    req.on('close', () => setImmediate(finish));
    req.end(body);
  };
  const timer = setInterval(send, Math.max(5, Math.round(1000 / rps)));
  timer.unref();
  return () => {
    clearInterval(timer);
    agent.destroy();
  };
}
