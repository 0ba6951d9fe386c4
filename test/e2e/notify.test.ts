// The communication plan end to end: a real run with a 6-second step, a webhook receiver on 127.0.0.1, and `deployctl status` from a second process.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = path.resolve('bin/deployctl.js');

interface Received {
  text: string;
  at: number;
}

function startReceiver(failFirst = 0): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  let failures = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (failures < failFirst) {
        failures++;
        res.writeHead(500).end('try again');
        return;
      }
      received.push({ text: (JSON.parse(body) as { text: string }).text, at: Date.now() });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/hook`,
        received,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}

const RUNBOOK = `
version: 1
name: notify-demo
target_duration: 1m
roles:
  lead: { title: Deployment Lead, primary: Ana, escalates_to: [tech-lead] }
  devops: { title: DevOps Engineer, primary: Chen, escalates_to: [tech-lead] }
  tech-lead: { title: Tech Lead, primary: Kofi }
secrets: [HOOK_URL]
notify:
  status_every: 2s
  channels:
    - { id: deployment, webhook: "\${{ env.HOOK_URL }}" }
    - { id: log, file: notifications.log }
escalation:
  - { name: Issue taking too long, after: 2s, to: [tech-lead] }
phases:
  - id: prepare
    title: Pre-flight
    steps:
      - { id: check, owner: devops, run: "echo ready" }
  - id: deploy
    title: Deployment
    steps:
      - { id: ship, owner: devops, run: "sleep 6; echo shipped" }
`;

describe('communication plan during a run', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-notify-'));
    fs.writeFileSync(path.join(dir, 'notify.yaml'), RUNBOOK);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('sends status updates, escalates the long step to the Tech Lead, ends with the all-clear, and status reads it from another process', async () => {
    const receiver = await startReceiver(1);
    try {
      const child = spawn(process.execPath, [BIN, 'run', 'notify.yaml'], {
        cwd: dir,
        env: { ...process.env, CI: 'true', HOOK_URL: receiver.url, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

      // While the 6-second step runs, a second process asks for the status.
      const deadline = Date.now() + 15_000;
      let status = '';
      while (Date.now() < deadline) {
        const result = spawnSync(process.execPath, [BIN, 'status'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8' });
        if (result.stdout.includes('🟡 Deployment: IN PROGRESS')) {
          status = result.stdout;
          expect(result.status).toBe(0);
          break;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(status).toMatch(/Run \d{8}T\d{9}Z-[0-9a-f]{6} of notify-demo/);
      expect(status).toContain('📊 Status: IN PROGRESS');
      expect(status).toContain('🟢 Pre-flight: COMPLETE');

      const code = await exited;
      expect(stderr).not.toMatch(/^\s+at /m);
      expect(code).toBe(0);

      const texts = receiver.received.map((r) => r.text);
      const statusUpdates = texts.filter((t) => t.startsWith('[Deployment Status'));
      expect(statusUpdates.length).toBeGreaterThanOrEqual(2);
      expect(statusUpdates[0]).toContain('🟡 Deployment: IN PROGRESS');
      const escalation = texts.find((t) => t.startsWith('🚨 ALERT: Issue taking too long'));
      expect(escalation).toContain('Assignee: Tech Lead · Kofi');
      expect(texts.some((t) => t.startsWith("✅ RESOLVED: step 'ship'"))).toBe(true);
      expect(texts.at(-1)).toMatch(/^🎉 DEPLOYMENT COMPLETE/);
      // The webhook URL is a secret: it never reaches the log or the journal.
      const log = fs.readFileSync(path.join(dir, 'notifications.log'), 'utf8');
      expect(log).toContain('🎉 DEPLOYMENT COMPLETE');
      const runs = fs.readdirSync(path.join(dir, '.deployctl', 'runs'));
      const journal = fs.readFileSync(path.join(dir, '.deployctl', 'runs', runs[0]!, 'journal.jsonl'), 'utf8');
      expect(journal).not.toContain(receiver.url);
      expect(journal).toContain('"kind":"escalation"');

      // Every message is listed in the signed record, the first webhook attempt's 500 included as a retry.
      const recordFile = fs.readdirSync(path.join(dir, '.deployctl', 'records'))[0]!;
      const envelope = JSON.parse(fs.readFileSync(path.join(dir, '.deployctl', 'records', recordFile), 'utf8')) as { payload: string };
      const predicate = (JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as { predicate: { notifications: { channel: string; kind: string; delivered: boolean; attempts: number }[]; escalations: { rule: string; to: { role: string }[] }[] } }).predicate;
      expect(predicate.escalations.map((e) => [e.rule, e.to.map((t) => t.role)])).toEqual([['Issue taking too long', ['tech-lead']]]);
      const webhook = predicate.notifications.filter((n) => n.channel === 'deployment');
      expect(webhook.map((n) => n.kind)).toEqual(expect.arrayContaining(['status', 'escalation', 'resolved', 'all-clear']));
      expect(webhook.every((n) => n.delivered)).toBe(true);
      expect(webhook.filter((n) => n.attempts === 2)).toHaveLength(1);
      expect(predicate.notifications.filter((n) => n.channel === 'log').length).toBe(webhook.length);
      expect(stdout).toContain('SUCCEEDED');
    } finally {
      await receiver.close();
    }
  }, 40_000);

  it('never fails the run when the webhook receiver is dead', async () => {
    const receiver = await startReceiver();
    await receiver.close();
    const fast = RUNBOOK.replace('sleep 6; echo shipped', 'echo shipped').replace('name: notify-demo', 'name: notify-dead');
    fs.writeFileSync(path.join(dir, 'dead.yaml'), fast);
    const result = spawnSync(process.execPath, [BIN, 'run', 'dead.yaml'], {
      cwd: dir,
      env: { ...process.env, CI: 'true', HOOK_URL: receiver.url },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('SUCCEEDED');
  }, 40_000);

  it('prints the messages in a dry run instead of sending them', async () => {
    const receiver = await startReceiver();
    try {
      const result = spawnSync(process.execPath, [BIN, 'run', 'notify.yaml', '--dry-run'], {
        cwd: dir,
        env: { ...process.env, CI: 'true', HOOK_URL: receiver.url },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(result.status).toBe(0);
      // Named, not previewed as if live (issue 11): no "Deployment: SUCCESS" from a run that deployed nothing.
      expect(result.stdout).toContain('Messages a real run would send on this path (none was sent');
      expect(result.stdout).toContain('[deployment] all-clear message "🎉 DEPLOYMENT COMPLETE"');
      expect(result.stdout).not.toMatch(/Deployment: SUCCESS|Live in production/);
      expect(receiver.received).toHaveLength(0);
    } finally {
      await receiver.close();
    }
  });
});
