// The HTTP port's ledger of warm connections, per origin: which probes must warm up first, so the client's own start-up is never a sample (issue 11 item 3).

/**
 * How long connections an earlier probe left open to an origin are trusted to still be open. Well below the keep-alive
 * of the usual peers: undici (Node's fetch) closes an idle socket after 4 s, or the server's `Keep-Alive: timeout`
 * less 2 s; Node servers close after 5 s, nginx after 75 s. A probe after a longer pause warms up again.
 */
export const WARM_FOR_MS = 1000;

/** What the warm-up before a probe's samples did; in the step's outcome and the record beside `metrics`. */
export interface WarmupSummary {
  /**
   * Requests sent before the samples and not counted in any metric: the probe's concurrency, so every connection
   * the samples use is open and every code path has run once. 0 when an earlier probe of this run left enough warm
   * connections to the same origin (`WARM_FOR_MS`).
   */
  requests: number;
  /** Of those, the ones that failed (no answer, or one the step's `expect` rejects). Any failure fails the step. */
  failed: number;
  /** The slowest warm-up request, ms: where the client's start-up and new connections show. */
  maxMs: number;
  /** Distinct failure reasons with counts, as in a probe's own `failures`. */
  failures: string[];
  /** The first failure, without a count. */
  firstError?: string;
}

/** One probe's claim on an origin's connections, from `lease` until `release`. */
export interface WarmupLease {
  /** Warm-up requests to send, all at once, before the samples: 0, or the probe's concurrency. */
  readonly requests: number;
  /** The probe is over (at `now`, monotonic ms). `answered`: every request got a response, so its connections stay open. */
  release(answered: boolean, now: number): void;
}

/**
 * What this process knows about its open connections, per origin (scheme, host and port: the unit of undici's pool).
 * Probes that run one after another, or side by side as preflight's checks do, share it: only the connections that
 * are not known to be open and idle are warmed.
 */
export interface WarmupLedger {
  /** Reserve `connections` to `origin` for one probe starting `now` (monotonic ms): how many warm-up requests it needs first. */
  lease(origin: string, connections: number, now: number): WarmupLease;
}

interface OriginState {
  /** Connections believed open: the most requests in flight at once since the origin was last cold. */
  open: number;
  /** Connections leased by probes running now. */
  busy: number;
  /** When the last probe to this origin ended (monotonic ms). */
  idleSince: number;
}

/**
 * A ledger; time comes from the caller's clock port. A probe needs no warm-up only when at least its concurrency of connections is open
 * and idle (not leased by a probe running now) and the origin was busy less than `warmForMs` ago. Otherwise it sends
 * as many warm-up requests as its concurrency, all at once: the pool reuses the idle connections and opens the rest,
 * so afterwards every request the probe keeps in flight has a warm connection. A probe that saw a request go
 * unanswered leaves the origin cold (its connections may be gone).
 */
export function createWarmupLedger(warmForMs = WARM_FOR_MS): WarmupLedger {
  const origins = new Map<string, OriginState>();
  return {
    lease(origin, connections, now) {
      let state = origins.get(origin);
      if (state === undefined) {
        state = { open: 0, busy: 0, idleSince: Number.NEGATIVE_INFINITY };
        origins.set(origin, state);
      }
      const entry = state;
      if (entry.busy === 0 && now - entry.idleSince > warmForMs) entry.open = 0;
      const requests = entry.open - entry.busy >= connections ? 0 : connections;
      entry.busy += connections;
      entry.open = Math.max(entry.open, entry.busy);
      let released = false;
      return {
        requests,
        release(answered, end) {
          if (released) return;
          released = true;
          entry.busy -= connections;
          entry.idleSince = Math.max(entry.idleSince, end);
          if (!answered) entry.open = 0;
        },
      };
    },
  };
}

/** The ledger's key for a URL: its origin, or the text itself when it does not parse (the request then fails anyway). */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
