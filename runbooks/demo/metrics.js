// The demo target's /metrics in the Prometheus text format (prom-client): requests by route, status and version, latency, faults.
//
// prom-client is the demo's one dependency, loaded when the server starts. Without it (a copy of runbooks/ outside
// the deployctl checkout) the service runs as before and /metrics says what is missing.

/** Latency buckets (seconds): fine below 100 ms, and around the 500 ms p95 target and the -slow fault's 700 ms. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5];

/** The route label: the API's paths with ids folded, so a scan of random URLs cannot grow the series without end. */
export function routeOf(pathname) {
  if (pathname === '/api/health' || pathname === '/api/chat' || pathname === '/api/products/search') return pathname;
  if (/^\/api\/orders\/[^/]+$/.test(pathname)) return '/api/orders/:id';
  return 'other';
}

/**
 * Metrics for one server: `http_requests_total{route,method,code,version}`, `http_request_duration_seconds` (a
 * histogram by route, method and version), `demo_version_info{version}` and the current faults as gauges. Null when
 * prom-client cannot be loaded.
 */
export async function createMetrics() {
  let client;
  try {
    client = (await import('prom-client')).default;
  } catch {
    return null;
  }
  const registry = new client.Registry();
  const requests = new client.Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route, method, status code and the version that answered',
    labelNames: ['route', 'method', 'code', 'version'],
    registers: [registry],
  });
  const latency = new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request (injected latency included), by route, method and version',
    labelNames: ['route', 'method', 'version'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const versionInfo = new client.Gauge({ name: 'demo_version_info', help: 'The version being served (1)', labelNames: ['version'], registers: [registry] });
  const faultErrorRate = new client.Gauge({ name: 'demo_fault_error_rate', help: 'Share of requests the current version answers 500 (injected fault)', registers: [registry] });
  const faultLatency = new client.Gauge({ name: 'demo_fault_latency_seconds', help: 'Latency added to every request (injected fault)', registers: [registry] });
  const faultDown = new client.Gauge({ name: 'demo_fault_down', help: '1 when every endpoint answers 503 (injected fault)', registers: [registry] });
  let shownVersion = null;
  return {
    /** One answered request. */
    observe(route, method, code, version, seconds) {
      requests.inc({ route, method, code: String(code), version });
      latency.observe({ route, method, version }, seconds);
    },
    /** The version and faults now in effect. */
    serving(version, faults) {
      if (version !== shownVersion) {
        versionInfo.reset();
        versionInfo.set({ version }, 1);
        shownVersion = version;
      }
      faultErrorRate.set(faults.error_rate);
      faultLatency.set(faults.latency_ms / 1000);
      faultDown.set(faults.down ? 1 : 0);
    },
    contentType: registry.contentType,
    text: () => registry.metrics(),
  };
}
