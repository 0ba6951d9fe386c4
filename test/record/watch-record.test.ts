// A watch in the signed record: every tick, compact (a 24-hour window of 96 ticks stays small), the tally, the timeline, the rehearsal mark; valid by the record schema.
import { describe, expect, it } from 'vitest';
import type { EventOf, RunEvent } from '../../src/engine/events.js';
import { foldEvents } from '../../src/engine/state.js';
import { collectTicks } from '../../src/engine/watch-state.js';
import { validate as validateRecordSchema } from '../../src/generated/record-validator.js';
import type { HttpSend } from '../../src/ports/types.js';
import { buildRecordPredicate } from '../../src/record/build.js';
import { describeWatch } from '../../src/record/timeline-format.js';
import { fakeExec, harness, inlineRunbook } from '../helpers/engine-fakes.js';

const START = Date.UTC(2026, 10, 26, 10, 0, 0);

const DAY = inlineRunbook(`
version: 1
name: day
roles: { oncall: { title: On-Call, primary: Gus } }
vars: { base: "http://127.0.0.1:9" }
phases:
  - id: monitor
    at: T
    steps:
      - id: w
        owner: oncall
        watch:
          every: 15m
          for: 24h
          failure_limit: 5
          checks:
            - { id: health, http: { url: "\${{ vars.base }}/health", samples: 20 }, metrics: { p95_ms: { max: 500 } } }
            - { id: chat, http: { url: "\${{ vars.base }}/chat", samples: 5, warmup: false } }
            - { id: orders, run: check-orders }
            - { id: errors, http: { url: "\${{ vars.base }}/stats", json_path: $.errors }, expect: result < 1.0 }
  - id: close
    at: T+23h
    steps: [{ id: bye, owner: oncall, run: "true" }]
`);

/** Healthy, except that /chat fails at its 200th request (one failing tick). */
function send(): HttpSend {
  let chat = 0;
  return async (request) => {
    const path = new URL(request.url).pathname;
    if (path === '/chat' && ++chat === 200) return { ok: true, status: 500, body: 'no', durationMs: 4 };
    return { ok: true, status: 200, body: path === '/stats' ? '{"errors": 0}' : 'ok', durationMs: 4 };
  };
}

async function runDay(): Promise<RunEvent[]> {
  const h = harness();
  await h.run(DAY, { rehearsal: { timeScale: 720 } }, { send: send(), exec: fakeExec({ 'check-orders': {}, true: {} }) });
  return h.events;
}

describe('a 24-hour watch in the record', () => {
  it('keeps every one of its 96 ticks, compactly, and the record is valid by its schema', async () => {
    const events = await runDay();
    const state = foldEvents(events);
    const predicate = buildRecordPredicate({ doc: DAY.doc, state, env: {}, now: state.finished!.at, ticks: collectTicks(events) });
    expect(validateRecordSchema(predicate), JSON.stringify(validateRecordSchema.errors?.slice(0, 3))).toBe(true);

    const step = predicate.phases[0]!.steps[0]!;
    expect(step.kind).toBe('watch');
    const watch = step.watch!;
    expect(watch).toMatchObject({ every_ms: 900_000, window_ms: 86_400_000, planned_ticks: 96, ticks: 96, passed: 95, failed: 1, missed: 0, failure_limit: 5 });
    expect(watch.uptime).toBeCloseTo(95 / 96, 6);
    expect(watch.tick_log).toHaveLength(96);
    expect(watch.tick_log![0]).toEqual({
      n: 1,
      at: '2026-11-26T10:00:00.000Z',
      status: 'passed',
      checks: [
        { id: 'health', status: 'passed', samples: 20, errors: 0, p50_ms: 4, p95_ms: 4, duration_ms: 0 },
        { id: 'chat', status: 'passed', samples: 5, errors: 0, p50_ms: 4, p95_ms: 4, duration_ms: 0 },
        { id: 'orders', status: 'passed', exit_code: 0, duration_ms: 0 },
        { id: 'errors', status: 'passed', result: 0, duration_ms: 0 },
      ],
    });
    const failed = watch.tick_log!.find((t) => t.status === 'failed')!;
    expect(failed).toMatchObject({ n: 40, reason: 'chat: 1 of 5 requests failed: status 500, expected 2xx (×1)' });
    // Each check over the window: every request, the worst tick.
    expect(watch.checks.find((c) => c.id === 'health')).toMatchObject({ kind: 'http', passed: 96, metrics: { samples: 1920, errors: 0 } });
    expect(watch.checks.find((c) => c.id === 'chat')).toMatchObject({ passed: 95, failed: 1, metrics: { samples: 480, errors: 1 } });
    expect(watch.checks.find((c) => c.id === 'errors')).toMatchObject({ kind: 'http', last_result: 0 });
    // Compact: a day of ticks of four checks stays under 40 KiB (about 400 bytes a tick), the full metrics stay in the journal.
    const bytes = JSON.stringify(watch.tick_log).length;
    expect(bytes).toBeLessThan(40 * 1024);
    expect(JSON.stringify(watch.tick_log![0])).not.toContain('statuses');
  });

  it('says it is a rehearsal, with the timeline: T, each phase planned against actual, the overrun', async () => {
    const events = await runDay();
    const state = foldEvents(events);
    const predicate = buildRecordPredicate({ doc: DAY.doc, state, env: {}, now: state.finished!.at, ticks: collectTicks(events) });
    expect(predicate).toMatchObject({ rehearsal: true, time_scale: 720, t0: '2026-11-26T10:00:00.000Z' });
    // The 24-hour window ran past the next phase's at (T+23h): an hour over.
    expect(predicate.phases[0]).toMatchObject({ planned_start: '2026-11-26T10:00:00.000Z', planned_end: '2026-11-27T09:00:00.000Z', overrun_ms: 3_600_000 });
    expect(predicate.phases[1]).toMatchObject({ planned_start: '2026-11-27T09:00:00.000Z', started_at: '2026-11-27T10:00:00.000Z' });
    expect(predicate.phases[1]!.planned_end).toBeUndefined();
    expect(events.filter((e): e is EventOf<'phase-overrun'> => e.kind === 'phase-overrun').map((e) => e.phaseId)).toEqual(['monitor']);
  });

  it('reads for people in a bounded number of lines, however many ticks', async () => {
    const events = await runDay();
    const state = foldEvents(events);
    const predicate = buildRecordPredicate({ doc: DAY.doc, state, env: {}, now: state.finished!.at, ticks: collectTicks(events) });
    const lines = describeWatch(predicate.phases[0]!.steps[0]!.watch!, predicate);
    expect(lines[0]).toBe('window every 15m for 24h: 96/96 ticks, 95 passed, 1 failed (limit 5); uptime 98.96%');
    expect(lines).toContain('  chat (http): 95 passed, 1 failed; 480 requests, 1 failed (0.208%), worst tick p95 4 ms');
    expect(lines.filter((l) => l.startsWith('  ticks '))).toEqual([`  ticks   1: ${'✔'.repeat(39)}✖${'✔'.repeat(8)}`, `  ticks  49: ${'✔'.repeat(48)}`]);
    expect(lines).toContain('  ✖ tick 40 at T+9h45m: failed: chat: 1 of 5 requests failed: status 500, expected 2xx (×1)');
    expect(lines.length).toBeLessThan(12);
  });
});
