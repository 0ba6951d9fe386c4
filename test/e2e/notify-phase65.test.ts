// Issue 6's demo: phase65 against the demo target with a Slack-style webhook receiver on 127.0.0.1: status updates,
// the alert and escalation when the release fails verification, the all-clear on success, all in the signed record.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cliEnv, freePort, killAllClis, reapProcessesIn, readRecord, recordFiles, runCli, stackTraceLines } from '../helpers/cli.js';

const RUNBOOKS = fileURLToPath(new URL('../../runbooks', import.meta.url));

interface Receiver {
  url: string;
  texts: string[];
  close(): Promise<void>;
}

function startReceiver(): Promise<Receiver> {
  const texts: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      texts.push((JSON.parse(body) as { text: string }).text);
      res.writeHead(200).end('ok');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/services/T000/B000/xyz`,
        texts,
        close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
      });
    }),
  );
}

interface Predicate {
  status: string;
  escalations: { rule: string; to: { role: string }[] }[];
  notifications: { channel: string; kind: string; delivered: boolean }[];
}

describe('phase65 with a webhook receiver', () => {
  let dir: string;
  let env: Record<string, string>;
  let baseUrl: string;
  let receiver: Receiver;

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-notify65-'));
    cpSync(RUNBOOKS, path.join(dir, 'runbooks'), { recursive: true, filter: (src) => !src.includes(`${path.sep}.state`) });
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    receiver = await startReceiver();
    env = { CI: 'true', DEMO_PORT: String(port), DEMO_STATE_DIR: path.join(dir, 'demo-state'), DEMO_FAST: '1', SLACK_WEBHOOK_URL: receiver.url };
  });

  afterAll(async () => {
    await killAllClis();
    spawnSync(process.execPath, [path.join(dir, 'runbooks/demo/demo.js'), 'stop'], { env: cliEnv(env), timeout: 20_000 });
    reapProcessesIn(dir);
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (extra: string[]) =>
    runCli(['run', 'runbooks/phase65.yaml', '--answers', 'runbooks/phase65.answers.yaml', '--var', `base_url=${baseUrl}`, '--status-every', '300ms', ...extra], { cwd: dir, env, timeoutMs: 90_000 });

  const newestPredicate = (): Predicate => {
    const files = recordFiles(dir);
    return readRecord(files[files.length - 1]!).statement.predicate as unknown as Predicate;
  };

  it('alerts, escalates to the Deployment Lead and announces the rollback when the release fails verification', async () => {
    receiver.texts.length = 0;
    const result = await run(['--var', 'version=6.5.0-errors']);
    expect(stackTraceLines(result.stderr)).toEqual([]);
    expect(result.code, result.stderr).toBe(4);

    const texts = receiver.texts;
    expect(texts.filter((t) => t.startsWith('[Deployment Status')).length).toBeGreaterThanOrEqual(1);
    expect(texts.find((t) => t.startsWith('🚨 ALERT: Step failed'))).toMatch(/error_rate 0\.0\d+ > max 0\.001/);
    expect(texts.find((t) => t.startsWith('🚨 ALERT: Rollback needed'))).toContain('Assignee: Deployment Lead · Ana Torres');
    expect(texts.at(-1)).toMatch(/^↩️ DEPLOYMENT ROLLED BACK/);
    // The webhook URL is a secret of phase65: it appears in no message.
    expect(texts.join('\n')).not.toContain(receiver.url);

    const predicate = newestPredicate();
    expect(predicate.status).toBe('rolled-back');
    expect(predicate.escalations.map((e) => [e.rule, e.to.map((t) => t.role)])).toContainEqual(['Rollback needed', ['lead']]);
    const webhook = predicate.notifications.filter((n) => n.channel === 'deployment');
    expect(webhook.length).toBe(texts.length);
    expect([...new Set(webhook.map((n) => n.kind))]).toEqual(expect.arrayContaining(['status', 'issue', 'escalation', 'failure']));
    expect(webhook.every((n) => n.delivered)).toBe(true);
  });

  it('sends the all-clear when go-live completes (go_live: true), counted from the run, then a last status update at the end; listed in the record', { timeout: 90_000 }, async () => {
    receiver.texts.length = 0;
    // The whole day, rehearsed at 3600x: a status update every 20 planned minutes is one every 1/3 s of waiting.
    const result = await run(['--time-scale', '3600', '--status-every', '20m']);
    expect(result.code, result.stderr).toBe(0);
    // Issue 13: the ALL-CLEAR goes out at go-live (the run goes on for the monitoring hours), once.
    const allClears = receiver.texts.filter((t) => t.startsWith('🎉 DEPLOYMENT COMPLETE'));
    expect(allClears).toHaveLength(1);
    expect(allClears[0]).toMatch(/^🎉 DEPLOYMENT COMPLETE\nDeployment: SUCCESS\nDuration: \S+\nChecks: \d+ of \d+ passed\n/);
    expect(allClears[0]).toContain('\nNext: Hour 1-4: active monitoring (T+1h)');
    const after = receiver.texts.slice(receiver.texts.indexOf(allClears[0]!) + 1);
    expect(after.some((t) => t.includes('ALERT'))).toBe(false);
    expect(receiver.texts.at(-1)).toMatch(/^\[Deployment Status - \d\d:\d\d UTC\]\n📊 Status: SUCCEEDED/);
    const predicate = newestPredicate();
    expect(predicate.status).toBe('succeeded');
    expect(predicate.notifications.filter((n) => n.channel === 'deployment').map((n) => n.kind)).toContain('all-clear');
  });
});
