// The real HTTP port: one request with Node's fetch (undici), a timeout, capped redirects and body, errors as short sentences.
import { readFile } from 'node:fs/promises';
import type { HttpRequest, HttpResult, HttpSend } from './types.js';
import { createWarmupLedger } from './warmup-ledger.js';

/** Bodies are read up to this many bytes; the rest is never downloaded (the stream is cancelled). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Redirects followed per request; one more is an error. */
export const MAX_REDIRECTS = 5;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Credentials are not sent to another origin after a redirect (fetch drops them too on a cross-origin redirect). */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'];

/**
 * `HttpResult` plus `truncated` on responses: true when the body went over `MAX_BODY_BYTES` and
 * only its first `MAX_BODY_BYTES` are in `body`. (Candidate for `HttpResult` itself in ports/types.ts.)
 */
export type SentHttpResult =
  | (Extract<HttpResult, { ok: true }> & { truncated: boolean })
  | Extract<HttpResult, { ok: false }>;

/** Why a request ended early; the request's own timer and the caller's signal are told apart. */
type Interruption = { kind: 'timeout'; ms: number } | { kind: 'aborted' };

/**
 * Send one request and read its body (up to `MAX_BODY_BYTES`). Redirects are followed, at most
 * `MAX_REDIRECTS`, with fetch's rules (303, and 301/302 after POST, become GET without a body).
 * `timeoutMs` covers connecting, every redirect and reading the body; `durationMs` the same span.
 * Never throws: failures come back as `{ ok: false, error }` with a short reason.
 */
export async function sendHttpRequest(request: HttpRequest): Promise<SentHttpResult> {
  const started = performance.now();
  const elapsed = (): number => performance.now() - started;

  let url: URL;
  try {
    url = parseHttpUrl(request.url);
  } catch (error) {
    return { ok: false, error: errorMessage(error), durationMs: elapsed(), timedOut: false };
  }

  // One controller per request, fed by its own timer and the caller's signal. Not AbortSignal.any:
  // on Node 20 each any() signal stays referenced by a long-lived source signal (the run's), so a
  // probe of many samples would leak one signal per request (nodejs/node#55351).
  const controller = new AbortController();
  let interruption: Interruption | undefined;
  const interrupt = (why: Interruption): void => {
    interruption ??= why;
    controller.abort();
  };
  const onCallerAbort = (): void => interrupt({ kind: 'aborted' });
  if (request.signal?.aborted === true) {
    return { ok: false, error: 'aborted', durationMs: elapsed(), timedOut: false };
  }
  let dispatcher: unknown;
  if (request.caFile !== undefined) {
    const trusted = await trustingCa(request.caFile);
    if (!trusted.ok) return { ok: false, error: trusted.error, durationMs: elapsed(), timedOut: false };
    dispatcher = trusted.dispatcher;
  }
  request.signal?.addEventListener('abort', onCallerAbort, { once: true });
  // Clamped: Node fires a setTimeout above 2^31-1 ms at once.
  const timer = setTimeout(() => interrupt({ kind: 'timeout', ms: request.timeoutMs }), Math.min(Math.max(0, request.timeoutMs), 2 ** 31 - 1));

  try {
    let method = request.method.toUpperCase();
    let headers = { ...request.headers };
    let body = request.body;
    for (let redirects = 0; ; redirects++) {
      // `dispatcher` is undici's own option of Node's fetch (not in the DOM RequestInit type).
      const init = { method, headers, body, redirect: 'manual', signal: controller.signal, ...(dispatcher !== undefined ? { dispatcher } : {}) } as RequestInit;
      const response = await fetch(url, init);
      const location = response.headers.get('location');
      if (!REDIRECT_STATUSES.has(response.status) || location === null) {
        const read = await readCapped(response, MAX_BODY_BYTES);
        return { ok: true, status: response.status, body: read.text, truncated: read.truncated, durationMs: elapsed() };
      }
      await response.body?.cancel().catch(() => undefined);
      if (redirects === MAX_REDIRECTS) {
        return { ok: false, error: `too many redirects (more than ${MAX_REDIRECTS})`, durationMs: elapsed(), timedOut: false };
      }
      const next = parseHttpUrl(location, url);
      if (next.origin !== url.origin) headers = withoutHeaders(headers, CREDENTIAL_HEADERS);
      if (response.status === 303 ? method !== 'HEAD' : (response.status === 301 || response.status === 302) && method === 'POST') {
        method = 'GET';
        body = undefined;
        headers = withoutHeaders(headers, BODY_HEADERS);
      }
      url = next;
    }
  } catch (error) {
    if (interruption?.kind === 'timeout') {
      return { ok: false, error: `timeout after ${formatTimeout(interruption.ms)}`, durationMs: elapsed(), timedOut: true };
    }
    if (interruption?.kind === 'aborted') return { ok: false, error: 'aborted', durationMs: elapsed(), timedOut: false };
    const described = describeFetchError(error, url);
    return { ok: false, error: described.error, durationMs: elapsed(), timedOut: described.timedOut };
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', onCallerAbort);
  }
}

/** One undici Agent per CA file, for the life of the process: connections to the server are reused across requests. */
const agents = new Map<string, Promise<{ ok: true; dispatcher: unknown } | { ok: false; error: string }>>();

/**
 * An undici dispatcher that trusts the CA in `file` (PEM). Node's fetch takes a custom CA only this way; the `undici`
 * package is the same major version as the one inside Node 20, so its Agent plugs into the built-in fetch. Loaded on
 * first use only: most runs never need it.
 */
function trustingCa(file: string): Promise<{ ok: true; dispatcher: unknown } | { ok: false; error: string }> {
  let agent = agents.get(file);
  if (agent === undefined) {
    agent = (async () => {
      let ca: string;
      try {
        ca = await readFile(file, 'utf8');
      } catch (error) {
        const code = (error as { code?: string }).code;
        return { ok: false as const, error: `cannot read the CA file ${file}: ${code === 'ENOENT' ? 'no such file' : errorMessage(error)}` };
      }
      if (!ca.includes('-----BEGIN CERTIFICATE-----')) return { ok: false as const, error: `the CA file ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` };
      const { Agent } = await import('undici');
      return { ok: true as const, dispatcher: new Agent({ connect: { ca } }) };
    })();
    agents.set(file, agent);
  }
  return agent;
}

/** The port as the engine sees it. */
/** The port as the engine sees it, with the ledger of the connections it keeps open (undici's global pool: one per process). */
export const sendHttp: HttpSend = Object.assign((request: HttpRequest) => sendHttpRequest(request), { warmups: createWarmupLedger() });

/** Read a body as UTF-8 text, stopping after `maxBytes`: the rest is cancelled, never buffered. */
async function readCapped(response: Response, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  if (response.body === null) return { text: '', truncated: false };
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: text + decoder.decode(), truncated: false };
    const room = maxBytes - total;
    if (value.byteLength > room) {
      text += decoder.decode(value.subarray(0, room));
      await reader.cancel().catch(() => undefined);
      return { text, truncated: true };
    }
    total += value.byteLength;
    text += decoder.decode(value, { stream: true });
  }
}

/** An absolute http(s) URL, or a TypeError whose message is the user-facing reason. */
function parseHttpUrl(text: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    throw new TypeError(`invalid URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`invalid URL: ${JSON.stringify(text)} (only http and https are supported)`);
  }
  return url;
}

function withoutHeaders(headers: Record<string, string>, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name.toLowerCase())));
}

/** `2s`, `1.5s`, `300 ms`: the timeout as a person would have written it. */
export function formatTimeout(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(3))}s`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

/**
 * A failed fetch as a short reason. undici rejects with `TypeError('fetch failed')` whose `cause`
 * carries the system or undici error code; that code decides the sentence.
 */
export function describeFetchError(error: unknown, url: URL): { error: string; timedOut: boolean } {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const code = (cause as { code?: unknown } | undefined)?.code;
  const detail = cause?.message ?? errorMessage(error);
  switch (code) {
    case 'ECONNREFUSED':
      return { error: 'connection refused', timedOut: false };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return { error: `DNS lookup failed for ${url.hostname}`, timedOut: false };
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return { error: 'connection reset', timedOut: false };
    case 'EHOSTUNREACH':
      return { error: `host unreachable: ${url.hostname}`, timedOut: false };
    case 'ENETUNREACH':
      return { error: 'network unreachable', timedOut: false };
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { error: 'timeout while connecting', timedOut: true };
    case 'UND_ERR_HEADERS_TIMEOUT':
      return { error: 'timeout waiting for response headers', timedOut: true };
    case 'UND_ERR_BODY_TIMEOUT':
      return { error: 'timeout reading the response body', timedOut: true };
    default:
      break;
  }
  if (typeof code === 'string' && TLS_CODE.test(code)) return { error: `TLS error: ${detail} (${code})`, timedOut: false };
  if (code === 'ERR_INVALID_URL') return { error: `invalid URL: ${JSON.stringify(url.href)}`, timedOut: false };
  if (detail === 'bad port') return { error: `port ${url.port} is blocked by fetch (a "bad port")`, timedOut: false };
  return { error: detail, timedOut: false };
}
