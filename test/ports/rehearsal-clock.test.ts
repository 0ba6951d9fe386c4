// The rehearsal clock (run --time-scale): plan time runs N times faster while deployctl waits (sleeps, prompts), at the real pace while it works.
import { describe, expect, it } from 'vitest';
import { createManualClock, systemClock } from '../../src/ports/clock.js';
import { rehearsalClock } from '../../src/ports/rehearsal-clock.js';

const START = Date.UTC(2026, 10, 26, 5, 0, 0);
const MIN = 60_000;

function setup(scale = 720) {
  const base = createManualClock(START);
  return { base, clock: rehearsalClock(base, scale, { plan: START, real: START }) };
}

describe('rehearsalClock', () => {
  it('reads real time while deployctl works: a command that takes a second takes a second of plan', async () => {
    const { base, clock } = setup();
    await base.advance(1000);
    expect(clock.now()).toBe(START + 1000);
  });

  it('makes a sleep last 1/N of its plan duration in real time, and moves plan time by all of it', async () => {
    const { base, clock } = setup();
    let woke = 0;
    void clock.sleep(15 * MIN).then(() => (woke = clock.now()));
    await base.advance(1249);
    expect(woke).toBe(0);
    await base.advance(1);
    expect(base.monotonic()).toBe(1250);
    expect(woke).toBe(START + 15 * MIN);
    // Back at work: real pace again.
    await base.advance(500);
    expect(clock.now()).toBe(START + 15 * MIN + 500);
  });

  it('runs plan time N times faster while a person is asked (waitingOn), at the real pace again once answered', async () => {
    const { base, clock } = setup();
    let answer: (v: string) => void = () => undefined;
    const asked = clock.waitingOn(new Promise<string>((resolve) => (answer = resolve)));
    await base.advance(5000);
    expect(clock.now()).toBe(START + 5000 * 720);
    answer('yes');
    expect(await asked).toBe('yes');
    await base.advance(1000);
    expect(clock.now()).toBe(START + 5000 * 720 + 1000);
  });

  it('fires a timer when plan time reaches it: slowly during work, N times faster during a wait', async () => {
    const { base, clock } = setup();
    const fired: [string, number][] = [];
    clock.setTimer(5 * MIN, () => fired.push(['status', base.monotonic()]));
    // Two real seconds of work: 2 s of plan, the 5-minute timer is far off.
    await base.advance(2000);
    expect(fired).toEqual([]);
    // Then a 15-minute sleep: the rest of the 5 planned minutes (298 s) passes in 298/720 s of it.
    void clock.sleep(15 * MIN);
    await base.advance(1250);
    expect(fired).toEqual([['status', 2000 + Math.ceil(298_000 / 720)]]);
  });

  it('lets a cancelled timer never fire, and the others still fire in due order', async () => {
    const { base, clock } = setup(10);
    const log: string[] = [];
    const a = clock.setTimer(3000, () => log.push('a'));
    clock.setTimer(2000, () => log.push('b'));
    clock.setTimer(1000, () => log.push('c'));
    a.cancel();
    await base.advance(5000);
    expect(log).toEqual(['c', 'b']);
  });

  it('ends a sleep early when its signal aborts, and the plan clock is back at the real pace', async () => {
    const { base, clock } = setup();
    const controller = new AbortController();
    let done = false;
    void clock.sleep(60 * MIN, controller.signal).then(() => (done = true));
    await base.advance(100);
    controller.abort();
    await base.advance(0);
    expect(done).toBe(true);
    const at = clock.now();
    expect(at).toBe(START + 100 * 720);
    await base.advance(1000);
    expect(clock.now()).toBe(at + 1000);
  });

  it('starts a resumed rehearsal where its plan time stood', () => {
    const base = createManualClock(START + 10_000);
    const clock = rehearsalClock(base, 720, { plan: START + 3 * 3_600_000, real: START + 10_000 });
    expect(clock.now()).toBe(START + 3 * 3_600_000);
  });

  it('refuses a scale that is not a positive number', () => {
    for (const scale of [0, -2, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => rehearsalClock(systemClock, scale, { plan: START, real: START })).toThrow(/positive/);
  });

  it('on the real system clock, a planned minute of sleep at N = 600 passes in about 100 ms', async () => {
    const now = Date.now();
    const clock = rehearsalClock(systemClock, 600, { plan: now, real: now });
    const started = performance.now();
    await clock.sleep(60_000);
    expect(performance.now() - started).toBeGreaterThanOrEqual(99);
    expect(clock.now() - now).toBeGreaterThanOrEqual(60_000);
  });
});
