// End-to-end test of the demo target: spawns the real runbooks/demo/demo.js and talks HTTP to the real server.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNBOOKS = fileURLToPath(new URL('../../runbooks/', import.meta.url));
const DEMO_ABS = path.join(RUNBOOKS, 'demo', 'demo.js');

interface Result { code: number; stdout: string; stderr: string }

let stateDir = '';
let otherStateDir = '';
let port = 0;
let pid = 0;

/** Runs demo.js the way a runbook does: `./demo/demo.js ...` from runbooks/ (through its shebang). */
function demo(args: string[], opts: { cwd?: string; env?: Record<string, string>; cmd?: string } = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      opts.cmd ?? './demo/demo.js',
      args,
      {
        cwd: opts.cwd ?? RUNBOOKS,
        timeout: 20_000,
        env: { ...process.env, DEMO_STATE_DIR: stateDir, DEMO_PORT: '0', DEMO_FAST: '1', ...opts.env },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

const url = (p: string) => `http://127.0.0.1:${port}${p}`;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response shapes are asserted by the tests
const json = (res: Response): Promise<any> => res.json();

async function health(): Promise<{ status: number; body: { status: string; version: string; uptime_s: number } }> {
  const res = await fetch(url('/api/health'));
  return { status: res.status, body: await json(res) };
}

/** Alive and not a zombie (the server is reparented when demo.js exits). */
function alive(p: number): boolean {
  try {
    process.kill(p, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return true;
  }
}

async function deploy(version: string): Promise<Result> {
  const r = await demo(['deploy', version]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r;
}

describe('demo target (runbooks/demo)', { timeout: 30_000 }, () => {
  beforeAll(() => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-target-'));
    otherStateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-target-other-'));
  });

  afterAll(async () => {
    await demo(['stop']);
    await demo(['stop'], { env: { DEMO_STATE_DIR: otherStateDir } });
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL'); // last resort: never leave a server behind
    fs.rmSync(stateDir, { recursive: true, force: true });
    fs.rmSync(otherStateDir, { recursive: true, force: true });
  }, 30_000);

  it('is executable and prints help', async () => {
    expect(fs.statSync(DEMO_ABS).mode & 0o111).not.toBe(0);
    const r = await demo(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['start', 'stop', 'status', 'backup', 'deploy', 'rollback', 'fault']) expect(r.stdout).toContain(cmd);
    expect((await demo(['no-such-command'])).code).toBe(2);
  });

  it('reports down and refuses to deploy before start', async () => {
    const s = await demo(['status']);
    expect(s.code).toBe(1);
    expect(s.stderr).toContain('run ./demo/demo.js start');
    const d = await demo(['deploy', '1.1.0']);
    expect(d.code).toBe(1);
    expect(d.stderr).toContain('demo target is not running: run ./demo/demo.js start');
  });

  it('starts in the background, idempotently', async () => {
    const r = await demo(['start']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = /demo target running at http:\/\/127\.0\.0\.1:(\d+) \(version 1\.0\.0, pid (\d+)\)/.exec(r.stdout);
    expect(m).not.toBeNull();
    port = Number(m![1]);
    pid = Number(m![2]);
    expect(port).toBeGreaterThan(0);
    expect(alive(pid)).toBe(true);

    const again = await demo(['start']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`already running at http://127.0.0.1:${port}`);
    expect(again.stdout).toContain(`pid ${pid}`);

    const state = JSON.parse(fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8'));
    expect(state).toMatchObject({ version: '1.0.0', previous: null, port, pid });
  });

  it('status shows version, pid, URL and health', async () => {
    const r = await demo(['status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/version:\s+1\.0\.0/);
    expect(r.stdout).toMatch(/previous version:\s+\(none\)/);
    expect(r.stdout).toContain(String(pid));
    expect(r.stdout).toContain(`http://127.0.0.1:${port}`);
    expect(r.stdout).toMatch(/health:\s+ok/);
  });

  it('works from any working directory', async () => {
    const r = await demo(['status'], { cwd: os.tmpdir(), cmd: DEMO_ABS });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`http://127.0.0.1:${port}`);
  });

  it('answers /api/health with JSON', async () => {
    const res = await fetch(url('/api/health'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = await json(res);
    expect(body).toMatchObject({ status: 'ok', version: '1.0.0' });
    expect(typeof body.uptime_s).toBe('number');
  });

  it('serves chat, product search and order tracking', async () => {
    const chat = await fetch(url('/api/chat'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'Where is order 1002?' }),
    });
    expect(chat.status).toBe(200);
    const reply = await json(chat);
    expect(reply.version).toBe('1.0.0');
    expect(reply.reply).toContain('1002');

    const probe = await fetch(url('/api/chat?message=hello'));
    expect(probe.status).toBe(200);
    expect(typeof (await json(probe)).reply).toBe('string');

    const bad = await fetch(url('/api/chat'), { method: 'POST', body: '{not json' });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error).toBeTruthy();

    const tooBig = await fetch(url('/api/chat'), { method: 'POST', body: JSON.stringify({ message: 'x'.repeat(70 * 1024) }) });
    expect(tooBig.status).toBe(413);

    const search = await fetch(url('/api/products/search?q=COTTON'));
    expect(search.status).toBe(200);
    const found = await json(search);
    expect(found.query).toBe('COTTON');
    expect(found.results.length).toBeGreaterThan(0);
    for (const p of found.results) {
      expect(p.title.toLowerCase()).toContain('cotton');
      expect(typeof p.id).toBe('string');
      expect(typeof p.price).toBe('number');
    }
    expect((await fetch(url('/api/products/search?q=zzzz-nothing'))).status).toBe(200);
    expect((await fetch(url('/api/products/search?q='))).status).toBe(400);

    const order = await fetch(url('/api/orders/1001'));
    expect(order.status).toBe(200);
    expect(await json(order)).toMatchObject({ id: '1001', status: 'shipped' });
    const missing = await fetch(url('/api/orders/9999'));
    expect(missing.status).toBe(404);
    expect(await json(missing)).toEqual({ error: 'order not found' });

    const unknown = await fetch(url('/api/nothing-here'));
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/json');
  });

  it('handles hundreds of concurrent requests', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 300 }, () => fetch(url('/api/products/search?q=wool')).then(async (r) => (await r.arrayBuffer(), r.status))),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
  });

  it('fails rollback when there is no previous version', async () => {
    const r = await demo(['rollback']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no previous version');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('rejects an invalid version with a usage error', async () => {
    for (const args of [['deploy', 'not a version'], ['deploy', '-x'], ['deploy']]) {
      const r = await demo(args);
      expect(r.code).toBe(2);
      expect(r.stderr).not.toBe('');
    }
    expect((await health()).body.version).toBe('1.0.0');
  });

  it('deploys a version, which /api/health reports at once', async () => {
    const r = await deploy('1.1.0');
    expect(r.stdout).toContain('deployed 1.1.0 (previous: 1.0.0)');
    const h = await health();
    expect(h.status).toBe(200);
    expect(h.body.version).toBe('1.1.0');
    const s = await demo(['status']);
    expect(s.stdout).toMatch(/previous version:\s+1\.0\.0/);
  });

  it('rolls back to the previous version, once', async () => {
    const r = await demo(['rollback']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('rolled back to 1.0.0 (from 1.1.0)');
    expect((await health()).body.version).toBe('1.0.0');
    const again = await demo(['rollback']);
    expect(again.code).toBe(1);
    expect((await health()).body.version).toBe('1.0.0');
  });

  it('a "-errors" version fails exactly 5% of requests', async () => {
    await deploy('1.2.0-errors');
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await fetch(url('/api/health'));
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    expect(statuses.filter((s) => s === 500)).toHaveLength(5);
    expect(statuses.filter((s) => s === 200)).toHaveLength(95);
  });

  it('a "-slow" version adds latency', async () => {
    await deploy('1.3.0-slow');
    const t0 = performance.now();
    const h = await health();
    const ms = performance.now() - t0;
    expect(h.status).toBe(200);
    expect(h.body.version).toBe('1.3.0-slow');
    expect(ms).toBeGreaterThanOrEqual(600);
  });

  it('a "-down" version answers 503 and status says unhealthy', async () => {
    await deploy('1.4.0-down');
    const h = await fetch(url('/api/health'));
    expect(h.status).toBe(503);
    expect((await json(h)).version).toBe('1.4.0-down');
    expect((await fetch(url('/api/orders/1001'))).status).toBe(503);
    expect((await demo(['status'])).code).toBe(1);
    await demo(['rollback']);
    expect((await health()).status).toBe(200);
  });

  it('fault set/clear configures faults for a version', async () => {
    const set = await demo(['fault', 'set', '1.5.0', '--error-rate', '0.5']);
    expect(set.code).toBe(0);
    await deploy('1.5.0');
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await fetch(url('/api/health')).then(async (r) => (await r.arrayBuffer(), r.status))));
    expect(statuses.filter((s) => s === 500)).toHaveLength(5);
    expect((await demo(['fault', 'list'])).stdout).toContain('1.5.0');
    expect((await demo(['fault', 'clear', '1.5.0'])).code).toBe(0);
    expect((await health()).status).toBe(200);
    expect((await demo(['fault', 'set', '1.5.0', '--error-rate', '7'])).code).toBe(2);
  });

  it('backup writes a file holding the current version', async () => {
    const r = await demo(['backup']);
    expect(r.code).toBe(0);
    const file = /backup written: (.+)/.exec(r.stdout)?.[1]?.trim();
    expect(file).toBeTruthy();
    expect(path.resolve(file!).startsWith(fs.realpathSync(stateDir)) || path.resolve(file!).startsWith(stateDir)).toBe(true);
    const backup = JSON.parse(fs.readFileSync(file!, 'utf8'));
    expect(backup.version).toBe('1.5.0');
    expect(r.stdout).toContain('version 1.5.0');
  });

  it('backup --check says a backup can be taken and writes nothing: no file, no state change', async () => {
    const stateFile = path.join(stateDir, 'state.json');
    const before = fs.readFileSync(stateFile, 'utf8');
    const files = () => (fs.existsSync(path.join(stateDir, 'backups')) ? fs.readdirSync(path.join(stateDir, 'backups')) : []);
    const backups = files();
    const r = await demo(['backup', '--check']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('backup possible: would write');
    expect(r.stdout).toContain('holding version 1.5.0');
    expect(r.stdout).toContain('nothing written');
    expect(files()).toEqual(backups);
    expect(fs.readFileSync(stateFile, 'utf8')).toBe(before);
  });

  it('backup --check fails, exit 1, when the backups directory cannot be created', async () => {
    const blocked = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-target-blocked-'));
    try {
      // A file where the backups directory would go: neither a backup nor the check can write there.
      fs.writeFileSync(path.join(blocked, 'backups'), 'not a directory');
      const r = await demo(['backup', '--check'], { env: { DEMO_STATE_DIR: blocked } });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('backup not possible');
      expect(r.stderr).toContain('is not a directory');
    } finally {
      fs.rmSync(blocked, { recursive: true, force: true });
    }
  });

  it('refuses to start on a port taken by something else', async () => {
    const r = await demo(['start'], { env: { DEMO_STATE_DIR: otherStateDir, DEMO_PORT: String(port) } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`port ${port}`);
    expect(r.stderr).toContain('DEMO_PORT');
    const other = JSON.parse(fs.readFileSync(path.join(otherStateDir, 'state.json'), 'utf8'));
    expect(other.pid).toBeNull();
  });

  it('stops the server, idempotently', async () => {
    const r = await demo(['stop']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`stopped (pid ${pid}`);
    expect(alive(pid)).toBe(false);
    await expect(fetch(url('/api/health'))).rejects.toThrow();
    const again = await demo(['stop']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('not running');
    expect((await demo(['status'])).code).toBe(1);
  });
});
