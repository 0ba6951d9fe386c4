// The clock port: the manual clock tests drive by hand, and the system clock's sleep and timers.
import { describe, expect, it } from 'vitest';
import { createManualClock, systemClock } from '../../src/ports/clock.js';

describe('createManualClock', () => {
  it('starts at the given wall time with monotonic time at 0, and moves only when advanced', async () => {
    const clock = createManualClock(1_700_000_000_000);
    expect(clock.now()).toBe(1_700_000_000_000);
    expect(clock.monotonic()).toBe(0);
    await clock.advance(1500);
    expect(clock.now()).toBe(1_700_000_001_500);
    expect(clock.monotonic()).toBe(1500);
  });

  it('fires timers and resolves sleeps in due order, each seeing its own due time', async () => {
    const clock = createManualClock();
    const log: string[] = [];
    clock.setTimer(300, () => log.push(`timer 300 at ${clock.monotonic()}`));
    void clock.sleep(100).then(() => log.push(`sleep 100 at ${clock.monotonic()}`));
    clock.setTimer(200, () => log.push(`timer 200 at ${clock.monotonic()}`));
    await clock.advance(250);
    expect(log).toEqual(['sleep 100 at 100', 'timer 200 at 200']);
    expect(clock.monotonic()).toBe(250);
    await clock.advance(50);
    expect(log).toEqual(['sleep 100 at 100', 'timer 200 at 200', 'timer 300 at 300']);
  });

  it('fires timers due at the same time in the order they were set', async () => {
    const clock = createManualClock();
    const log: number[] = [];
    for (const n of [1, 2, 3]) clock.setTimer(100, () => log.push(n));
    await clock.advance(100);
    expect(log).toEqual([1, 2, 3]);
  });

  it('does not fire a cancelled timer', async () => {
    const clock = createManualClock();
    const log: string[] = [];
    const timer = clock.setTimer(100, () => log.push('cancelled'));
    clock.setTimer(100, () => log.push('kept'));
    timer.cancel();
    timer.cancel();
    await clock.advance(1000);
    expect(log).toEqual(['kept']);
    expect(clock.pending()).toBe(0);
  });

  it('lets a timer cancel another one due later in the same advance', async () => {
    const clock = createManualClock();
    const log: string[] = [];
    const later = clock.setTimer(200, () => log.push('later'));
    clock.setTimer(100, () => later.cancel());
    await clock.advance(500);
    expect(log).toEqual([]);
  });

  it('fires what sleeps and timers schedule while it advances, if it falls due in the window', async () => {
    const clock = createManualClock();
    const log: number[] = [];
    const worker = async (): Promise<void> => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(100);
        log.push(clock.monotonic());
      }
    };
    const done = worker();
    clock.setTimer(50, () => clock.setTimer(100, () => log.push(-clock.monotonic())));
    await clock.advance(250);
    expect(log).toEqual([100, -150, 200]);
    await clock.advance(50);
    await done;
    expect(log).toEqual([100, -150, 200, 300]);
  });

  it('runs a retry loop driven by sleeps to completion with runNext', async () => {
    const clock = createManualClock();
    const attempts: number[] = [];
    const retry = (async () => {
      for (const delay of [1000, 2000, 4000]) {
        attempts.push(clock.monotonic());
        await clock.sleep(delay);
      }
      attempts.push(clock.monotonic());
    })();
    while (await clock.runNext());
    await retry;
    expect(attempts).toEqual([0, 1000, 3000, 7000]);
    expect(await clock.runNext()).toBe(false);
  });

  it('lets code that is about to sleep schedule it before runNext looks for work', async () => {
    const clock = createManualClock();
    const woke: number[] = [];
    const task = (async () => {
      await Promise.resolve();
      await Promise.resolve();
      await clock.sleep(500);
      woke.push(clock.monotonic());
    })();
    expect(await clock.runNext()).toBe(true);
    await task;
    expect(woke).toEqual([500]);
  });

  it('resolves sleep(0) at once and fires setTimer(0) on the next advance', async () => {
    const clock = createManualClock();
    await clock.sleep(0);
    await clock.sleep(-5);
    const log: string[] = [];
    clock.setTimer(0, () => log.push('zero'));
    expect(log).toEqual([]);
    await clock.advance(0);
    expect(log).toEqual(['zero']);
  });

  it('resolves a sleep early when its signal aborts, and forgets it', async () => {
    const clock = createManualClock();
    const controller = new AbortController();
    const sleeping = clock.sleep(10_000, controller.signal);
    expect(clock.pending()).toBe(1);
    controller.abort();
    await sleeping;
    expect(clock.pending()).toBe(0);
    expect(clock.monotonic()).toBe(0);
    await clock.sleep(10_000, controller.signal);
  });

  it('reports what is pending and when the next one is due', async () => {
    const clock = createManualClock();
    expect(clock.nextDue()).toBeUndefined();
    clock.setTimer(500, () => undefined);
    void clock.sleep(200);
    expect(clock.pending()).toBe(2);
    expect(clock.nextDue()).toBe(200);
    await clock.advance(300);
    expect(clock.pending()).toBe(1);
    expect(clock.nextDue()).toBe(500);
  });

  it('refuses overlapping advances', async () => {
    const clock = createManualClock();
    const first = clock.advance(100);
    await expect(clock.advance(100)).rejects.toThrow(/already running/);
    await first;
    expect(clock.monotonic()).toBe(100);
  });

  it('stops a timer that keeps re-arming itself at zero delay', async () => {
    const clock = createManualClock();
    const rearm = (): void => void clock.setTimer(0, rearm);
    clock.setTimer(0, rearm);
    await expect(clock.advance(0)).rejects.toThrow(/re-arming/);
  });

  it('passes a timer callback error to the advance that fired it', async () => {
    const clock = createManualClock();
    clock.setTimer(10, () => {
      throw new Error('escalation bug');
    });
    await expect(clock.advance(10)).rejects.toThrow('escalation bug');
    await clock.advance(10);
  });
});

describe('systemClock', () => {
  it('reads wall time and monotonic time', () => {
    expect(Math.abs(systemClock.now() - Date.now())).toBeLessThan(50);
    const a = systemClock.monotonic();
    expect(systemClock.monotonic()).toBeGreaterThanOrEqual(a);
  });

  it('sleeps for about the given time', async () => {
    const started = performance.now();
    await systemClock.sleep(50);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('wakes a sleep early when the signal aborts', async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 20);
    await systemClock.sleep(60_000, controller.signal);
    expect(performance.now() - started).toBeLessThan(1000);
    await systemClock.sleep(60_000, controller.signal);
  });

  it('fires a timer, and not a cancelled one', async () => {
    const log: string[] = [];
    systemClock.setTimer(10, () => log.push('fired'));
    systemClock.setTimer(10, () => log.push('cancelled')).cancel();
    await systemClock.sleep(60);
    expect(log).toEqual(['fired']);
  });
});

