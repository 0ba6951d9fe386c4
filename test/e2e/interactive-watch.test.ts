// A watch at a real terminal (tmux): the live view (ticks done of planned, the last tick's values, the time to the next tick) and the owner's decision when the data runs out.
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/http-server.js';
import { prompt, readRecords, ROOT, STACK_FRAME, stepOf, terminals, WAIT } from '../helpers/interactive.js';
import { TMUX } from '../helpers/tmux.js';

const TEST_TIMEOUT = 120_000;
const term = terminals();
let server: TestServer;

beforeAll(async () => {
  if (!existsSync(TMUX)) throw new Error(`these tests need tmux at ${TMUX} (apt-get install tmux)`);
  if (!existsSync(path.join(ROOT, 'dist/cli/entry.js'))) throw new Error('build first: npm run build (npm test does it through pretest)');
  server = await startTestServer({
    '/stats': (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"uptime": 1}'),
  });
});
afterEach(async () => term.cleanup());
afterAll(async () => server.close());

function runbook(dir: string, watch: string): void {
  writeFileSync(
    path.join(dir, 'watch.yaml'),
    `version: 1
name: live-watch
roles: { oncall: { title: On-Call Engineer, primary: Gus } }
phases:
  - id: monitor
    steps:
      - id: w
        title: Hourly health
        owner: oncall
        watch:
${watch
  .trim()
  .split('\n')
  .map((l) => `          ${l}`)
  .join('\n')}
`,
  );
}

describe('the live view of a watch', () => {
  it('shows ticks done of planned, the last tick’s values and a countdown to the next tick that runs down, then the tally', { timeout: TEST_TIMEOUT }, async () => {
    const dir = term.workdir();
    runbook(
      dir,
      `every: 1h
count: 3
checks:
  - { id: health, http: { url: "${server.url}/health", samples: 5 } }
  - { id: disk, run: "true" }`,
    );
    // One planned hour every 5 real seconds: long enough to watch the countdown move.
    const t = await term.run(dir, ['run', 'watch.yaml', '--time-scale', '720'], { width: 110, height: 30 });
    await t.waitFor(/tick 1\/3 · 1 ✔ · last ✔ health ✔ p95 \d+ ms 0\/5 err · disk ✔ exit 0/, WAIT);
    const first = await t.waitFor(/next tick \d\d:\d\d:\d\d UTC, in (\d+)m/, WAIT);
    // Two real seconds later the countdown shows 24 planned minutes less (it is redrawn every second).
    await new Promise((r) => setTimeout(r, 2000));
    const later = (await t.screen()).match(/next tick \d\d:\d\d:\d\d UTC, in (\d+)m/);
    expect(later, await t.screen()).not.toBeNull();
    expect(Number(later![1])).toBeLessThan(Number(first[1]) - 10);
    await t.waitFor(/tick 2\/3 · 2 ✔/, WAIT);
    await t.waitFor(/^Run \S+: SUCCEEDED in 2h/m, WAIT);
    expect(await t.exitCode()).toBe(0);
    expect(await t.capture()).not.toMatch(STACK_FRAME);
    expect(stepOf(readRecords(dir)[0]!, 'w').watch).toMatchObject({ ticks: 3, passed: 3, planned_ticks: 3 });
  });
});

describe("the owner's decision when a watch has no data", () => {
  it('asks the owner, the safe answer first; keep watching starts the count again, stop makes the watch INCONCLUSIVE (exit 1); the record says who decided', { timeout: TEST_TIMEOUT }, async () => {
    const dir = term.workdir();
    runbook(
      dir,
      `every: 1h
count: 4
checks:
  - { id: errors, http: { url: "${server.url}/stats", json_path: $.errors }, expect: result < 1.0 }`,
    );
    const t = await term.run(dir, ['run', 'watch.yaml', '--time-scale', '3600'], { width: 120, height: 30 });
    await t.waitFor(prompt("Watch 'w': 1 ticks without data, more than its inconclusive_limit of 0"), WAIT);
    const screen = await t.screen();
    expect(screen).toMatch(/❯ Stop: the watch is INCONCLUSIVE/);
    expect(screen).toContain('Keep watching (the count of ticks without data starts again)');
    expect(screen).toContain('[On-Call Engineer · Gus]');
    await t.sendKeys('Down');
    await t.sendKeys('Enter');
    // The next tick has no data either: asked again; this time stop.
    await t.waitFor(/tick 2\/4/, WAIT);
    await t.waitFor(prompt("Watch 'w': 1 ticks without data"), WAIT);
    await t.sendKeys('Enter');
    await t.waitFor(/^Run \S+: FAILED/m, WAIT);
    expect(await t.exitCode()).toBe(1);
    const record = readRecords(dir)[0]!;
    const watch = stepOf(record, 'w');
    expect(watch.status).toBe('inconclusive');
    expect(watch.watch.decisions.map((d: { decision: string; answered_from: string; by: { answered_by?: string } }) => [d.decision, d.answered_from, d.by.answered_by])).toEqual([
      ['continue', 'prompt', 'e2e-operator'],
      ['fail', 'prompt', 'e2e-operator'],
    ]);
    expect(watch.watch).toMatchObject({ ticks: 2, passed: 0, inconclusive: 2 });
  });
});
