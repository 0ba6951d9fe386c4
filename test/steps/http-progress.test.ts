// A long probe reports its progress (samples measured of samples to send) as it goes, against a real server on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/ports/clock.js';
import { sendHttp } from '../../src/ports/http.js';
import { journalPolicy, type RunEvent } from '../../src/engine/events.js';
import { probeHttp } from '../../src/steps/http.js';
import { harness, inlineRunbook } from '../helpers/engine-fakes.js';
import { startTestServer, testRoutes, type TestServer } from '../helpers/http-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ '/slow': testRoutes.slow(20) });
});
afterAll(() => server.close());

describe('probe progress', () => {
  it('calls onProgress after every measured sample, 1..N of N, while the probe runs', async () => {
    const seen: [number, number][] = [];
    let requestsWhenFirstReported = -1;
    const result = await probeHttp({ url: `${server.url}/slow`, samples: 12, concurrency: 3 }, { send: sendHttp, clock: systemClock }, undefined, (done, total) => {
      if (seen.length === 0) requestsWhenFirstReported = server.requestCount('/slow');
      seen.push([done, total]);
    });
    expect(result.metrics.samples).toBe(12);
    expect(seen.map(([done]) => done)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(seen.every(([, total]) => total === 12)).toBe(true);
    // Reported while the probe was still working, not all at the end.
    expect(requestsWhenFirstReported).toBeLessThan(12);
  });

  it('reaches the task list as step-progress events, which the journal skips', async () => {
    const runbook = inlineRunbook(`
version: 1
name: progress
roles: { qa: { title: QA } }
phases:
  - id: verify
    steps:
      - { id: health, owner: qa, http: { url: "${server.url}/slow", samples: 5, concurrency: 1 } }
`);
    const h = harness();
    await h.run(runbook, {}, { send: sendHttp });
    const progress = h.events.filter((e): e is Extract<RunEvent, { kind: 'step-progress' }> => e.kind === 'step-progress');
    expect(progress.map((e) => `${e.stepId} ${e.done}/${e.total} ${e.unit}`)).toEqual([1, 2, 3, 4, 5].map((n) => `health ${n}/5 samples`));
    expect(progress.every((e) => journalPolicy(e) === 'skip')).toBe(true);
  });
});
