// The real HTTP port against real servers on 127.0.0.1: bodies, caps, redirects, timeouts, aborts and error reasons.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, describeFetchError, formatTimeout, sendHttp, sendHttpRequest } from '../../src/ports/http.js';
import type { HttpRequest } from '../../src/ports/types.js';
import { closedPort, startTestServer, type TestServer } from '../helpers/http-server.js';

let server: TestServer;
let other: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  other = await startTestServer();
});
afterAll(async () => {
  await server.close();
  await other.close();
});

const get = (path: string, extra: Partial<HttpRequest> = {}): HttpRequest => ({
  url: `${server.url}${path}`,
  method: 'GET',
  headers: {},
  timeoutMs: 5000,
  ...extra,
});

describe('sendHttp', () => {
  it('returns the status, the body and how long request and body took', async () => {
    const result = await sendHttpRequest(get('/health'));
    expect(result).toMatchObject({ ok: true, status: 200, body: 'ok', truncated: false });
    expect(result.durationMs).toBeGreaterThan(0);
  });

  it('reports an error status as a response, not as a failure', async () => {
    expect(await sendHttp(get('/fail?status=503'))).toMatchObject({ ok: true, status: 503, body: 'status 503' });
  });

  it('sends the method, headers and body', async () => {
    const result = await sendHttp(get('/echo', { method: 'POST', headers: { 'x-probe': 'yes', 'content-type': 'text/plain' }, body: 'hello' }));
    expect(result.ok).toBe(true);
    const echoed = JSON.parse(result.ok ? result.body : '{}') as { method: string; headers: Record<string, string>; body: string };
    expect(echoed).toMatchObject({ method: 'POST', body: 'hello', headers: { 'x-probe': 'yes' } });
  });

  it('counts the time to read the body in durationMs', async () => {
    const result = await sendHttp(get('/slow-body?ms=200'));
    expect(result).toMatchObject({ ok: true, body: 'ok' });
    expect(result.durationMs).toBeGreaterThanOrEqual(190);
  });

  it('keeps the first 1 MiB of a 10 MiB body and marks it truncated', async () => {
    const result = await sendHttpRequest(get('/huge'));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.body.length).toBe(MAX_BODY_BYTES);
    expect(result.truncated).toBe(true);
  });

  it('reads a body of exactly 1 MiB whole', async () => {
    const result = await sendHttpRequest(get(`/huge?bytes=${MAX_BODY_BYTES}`));
    expect(result).toMatchObject({ ok: true, truncated: false });
    expect(result.ok && result.body.length).toBe(MAX_BODY_BYTES);
  });

  it('cancels a body that never ends instead of reading it', async () => {
    const started = performance.now();
    const result = await sendHttpRequest(get('/endless'));
    expect(result).toMatchObject({ ok: true, truncated: true });
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it.each([1, 5])('follows a chain of %i redirects', async (hops) => {
    const before = server.requestCount('/redirect');
    expect(await sendHttp(get(`/redirect?hops=${hops}&to=/health`))).toMatchObject({ ok: true, status: 200, body: 'ok' });
    expect(server.requestCount('/redirect') - before).toBe(hops);
  });

  it('gives up after 5 redirects', async () => {
    const before = server.requestCount('/redirect');
    expect(await sendHttp(get('/redirect?hops=6&to=/health'))).toMatchObject({ ok: false, error: 'too many redirects (more than 5)', timedOut: false });
    expect(server.requestCount('/redirect') - before).toBe(6);
  });

  it.each([
    [303, 'POST', 'GET', ''],
    [302, 'POST', 'GET', ''],
    [301, 'PUT', 'PUT', 'payload'],
    [307, 'POST', 'POST', 'payload'],
    [308, 'PUT', 'PUT', 'payload'],
  ])('after a %i, a %s is repeated as %s', async (status, method, expectedMethod, expectedBody) => {
    const result = await sendHttp(get(`/redirect?status=${status}&to=/echo`, { method, body: 'payload', headers: { 'content-type': 'text/plain' } }));
    expect(result.ok).toBe(true);
    const echoed = JSON.parse(result.ok ? result.body : '{}') as { method: string; body: string };
    expect(echoed).toMatchObject({ method: expectedMethod, body: expectedBody });
  });

  it('does not send credentials to another origin after a redirect', async () => {
    const headers = { authorization: 'Bearer secret', 'x-trace': 't1' };
    const result = await sendHttp(get(`/redirect?to=${encodeURIComponent(`${other.url}/echo`)}`, { headers }));
    const echoed = JSON.parse(result.ok ? result.body : '{}') as { headers: Record<string, string> };
    expect(echoed.headers['x-trace']).toBe('t1');
    expect(echoed.headers.authorization).toBeUndefined();
    const same = await sendHttp(get('/redirect?to=/echo', { headers }));
    expect((JSON.parse(same.ok ? same.body : '{}') as { headers: Record<string, string> }).headers.authorization).toBe('Bearer secret');
  });

  it('times out a server that never answers', async () => {
    const result = await sendHttp(get('/hang', { timeoutMs: 300 }));
    expect(result).toMatchObject({ ok: false, error: 'timeout after 300 ms', timedOut: true });
    expect(result.durationMs).toBeGreaterThanOrEqual(290);
    expect(result.durationMs).toBeLessThan(2000);
  });

  it('times out a body that arrives too slowly', async () => {
    expect(await sendHttp(get('/slow-body?ms=5000', { timeoutMs: 300 }))).toMatchObject({ ok: false, error: 'timeout after 300 ms', timedOut: true });
  });

  it('stops at once when the caller aborts, and says so', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = performance.now();
    const result = await sendHttp(get('/hang', { timeoutMs: 10_000, signal: controller.signal }));
    expect(result).toMatchObject({ ok: false, error: 'aborted', timedOut: false });
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('sends nothing when the signal is already aborted', async () => {
    const before = server.requestCount('/health');
    const result = await sendHttp(get('/health', { signal: AbortSignal.abort() }));
    expect(result).toMatchObject({ ok: false, error: 'aborted' });
    expect(server.requestCount('/health')).toBe(before);
  });

  it('says "connection refused" for a port nothing listens on', async () => {
    const port = await closedPort();
    expect(await sendHttp(get('', { url: `http://127.0.0.1:${port}/health` }))).toMatchObject({ ok: false, error: 'connection refused', timedOut: false });
  });

  it('says "connection reset" when the server drops the connection', async () => {
    const rude = net.createServer((socket) => socket.on('data', () => socket.resetAndDestroy()));
    await new Promise<void>((resolve) => rude.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = rude.address() as AddressInfo;
      expect(await sendHttp(get('', { url: `http://127.0.0.1:${port}/` }))).toMatchObject({ ok: false, error: 'connection reset' });
    } finally {
      await new Promise((resolve) => rude.close(resolve));
    }
  });

  it('trusts the CA in caFile for https (a metrics server with a private CA), and says what is wrong with a bad file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-tls-ca-'));
    try {
      const key = path.join(dir, 'key.pem');
      const cert = path.join(dir, 'cert.pem');
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
        { stdio: 'ignore' },
      );
      const tls = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (_req, res) => res.end('trusted'));
      await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
      try {
        const url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/`;
        expect(await sendHttp(get('', { url, caFile: cert }))).toMatchObject({ ok: true, status: 200, body: 'trusted' });
        expect(await sendHttp(get('', { url }))).toMatchObject({ ok: false, error: expect.stringMatching(/^TLS error: /) });
        expect(await sendHttp(get('', { url, caFile: path.join(dir, 'missing.pem') }))).toMatchObject({ ok: false, error: `cannot read the CA file ${path.join(dir, 'missing.pem')}: no such file` });
        expect(await sendHttp(get('', { url, caFile: key }))).toMatchObject({ ok: false, error: `the CA file ${key} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` });
      } finally {
        tls.closeAllConnections();
        await new Promise((resolve) => tls.close(resolve));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says "TLS error" for a server with a self-signed certificate', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-tls-'));
    try {
      const key = path.join(dir, 'key.pem');
      const cert = path.join(dir, 'cert.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
      const tls = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (_req, res) => res.end('ok'));
      await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = tls.address() as AddressInfo;
        expect(await sendHttp(get('', { url: `https://127.0.0.1:${port}/` }))).toMatchObject({
          ok: false,
          error: 'TLS error: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)',
          timedOut: false,
        });
      } finally {
        tls.closeAllConnections();
        await new Promise((resolve) => tls.close(resolve));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['not a url', 'invalid URL: "not a url"'],
    ['ftp://127.0.0.1/x', 'invalid URL: "ftp://127.0.0.1/x" (only http and https are supported)'],
  ])('refuses %j without sending', async (url, error) => {
    expect(await sendHttp(get('', { url }))).toMatchObject({ ok: false, error, timedOut: false });
  });
});

describe('describeFetchError', () => {
  const url = new URL('https://api.example.invalid:8443/health');
  const failed = (code: string, message = `${code} happened`): Error =>
    new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });

  it.each([
    ['ECONNREFUSED', 'connection refused', false],
    ['ENOTFOUND', 'DNS lookup failed for api.example.invalid', false],
    ['EAI_AGAIN', 'DNS lookup failed for api.example.invalid', false],
    ['ECONNRESET', 'connection reset', false],
    ['UND_ERR_SOCKET', 'connection reset', false],
    ['EHOSTUNREACH', 'host unreachable: api.example.invalid', false],
    ['UND_ERR_CONNECT_TIMEOUT', 'timeout while connecting', true],
    ['UND_ERR_HEADERS_TIMEOUT', 'timeout waiting for response headers', true],
    ['UND_ERR_BODY_TIMEOUT', 'timeout reading the response body', true],
    ['CERT_HAS_EXPIRED', 'TLS error: CERT_HAS_EXPIRED happened (CERT_HAS_EXPIRED)', false],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'TLS error: DEPTH_ZERO_SELF_SIGNED_CERT happened (DEPTH_ZERO_SELF_SIGNED_CERT)', false],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'TLS error: ERR_TLS_CERT_ALTNAME_INVALID happened (ERR_TLS_CERT_ALTNAME_INVALID)', false],
    ['ESOMETHING', 'ESOMETHING happened', false],
  ])('%s reads "%s"', (code, error, timedOut) => {
    expect(describeFetchError(failed(code), url)).toEqual({ error, timedOut });
  });

  it('names a port fetch refuses to use', () => {
    expect(describeFetchError(new TypeError('fetch failed', { cause: new Error('bad port') }), new URL('http://127.0.0.1:6000/'))).toEqual({
      error: 'port 6000 is blocked by fetch (a "bad port")',
      timedOut: false,
    });
  });

  it('falls back to the message of an error without a cause', () => {
    expect(describeFetchError(new Error('boom'), url)).toEqual({ error: 'boom', timedOut: false });
  });
});

describe('formatTimeout', () => {
  it.each([
    [300, '300 ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [2000, '2s'],
    [120_000, '120s'],
  ])('%i ms reads %s', (ms, text) => {
    expect(formatTimeout(ms)).toBe(text);
  });
});
