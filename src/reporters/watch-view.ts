// A watch's live view, in two short lines: ticks done of planned with the tally, the last tick's values, the time to the next tick.
import type { RunEvent, TickCheck, WatchPlan } from '../engine/events.js';
import type { RunState } from '../engine/state.js';
import { addTick, openWatch, type WatchState } from '../engine/watch-state.js';
import type { Clock } from '../ports/types.js';
import { inert } from '../inert.js';
import { formatDuration } from '../runbook/duration.js';

const hhmmss = (ms: number) => `${new Date(ms).toISOString().slice(11, 19)} UTC`;
const MARKS: Record<string, string> = { passed: '✔', failed: '✖', inconclusive: '?', missed: '∅', skipped: '↓' };

/** `12/12 ticks passed`, `11 of 12 ticks passed, 1 failed`: a finished watch beside its title. */
export function formatTicks(t: { planned: number; recorded: number; passed: number; failed: number; inconclusive: number; missed: number }): string {
  const others = [t.failed > 0 ? `${t.failed} failed` : '', t.inconclusive > 0 ? `${t.inconclusive} without data` : '', t.missed > 0 ? `${t.missed} missed` : ''].filter((s) => s !== '');
  const of = t.recorded === t.planned ? `${t.passed}/${t.planned} ticks passed` : `${t.passed} of ${t.recorded} ticks passed (${t.planned} planned)`;
  return others.length > 0 ? `${of}, ${others.join(', ')}` : of;
}

/** When slot `lastSlot + 1` is due; undefined when the window has no tick left. */
export function nextTickAt(plan: WatchPlan, lastSlot: number): number | undefined {
  return lastSlot < plan.plannedTicks ? plan.startedAt + plan.initialDelayMs + lastSlot * plan.everyMs : undefined;
}

/** `health ✔ p95 3 ms 0/100 err`, `orders ✔ exit 0`, `error-rate ✔ 0.0004`: one check at the last tick. */
function formatCheck(c: TickCheck): string {
  const mark = MARKS[c.status] ?? c.status;
  if (c.metrics !== undefined) return `${c.id} ${mark} p95 ${Math.round(c.metrics.p95_ms)} ms ${c.metrics.errors}/${c.metrics.samples} err`;
  if (c.result !== undefined) return `${c.id} ${mark} ${c.result === null ? 'no data' : Number(c.result.toPrecision(4))}`;
  if (c.exitCode !== undefined) return `${c.id} ${mark} exit ${c.exitCode ?? 'signal'}`;
  return `${c.id} ${mark}`;
}

/**
 * `tick 5/12 · 4 ✔ 1 ✖ · last ✔ health ✔ p95 3 ms 0/100 err · chat ✔ …` then `next tick 10:45:00 UTC, in 14m 59s`
 * (without `now`, just the time: plain output prints each line once, a countdown there would be noise).
 */
export function formatWatchView(w: WatchState, now?: number): string {
  const tally = [`${w.passed} ✔`, w.failed > 0 ? `${w.failed} ✖` : '', w.inconclusive > 0 ? `${w.inconclusive} ?` : '', w.missed > 0 ? `${w.missed} missed` : ''].filter((s) => s !== '').join(' ');
  const last = w.last !== undefined ? ` · last ${MARKS[w.last.status] ?? w.last.status} ${w.last.checks.map(formatCheck).join(' · ')}` : '';
  const head = inert(`tick ${w.lastSlot}/${w.plan.plannedTicks}${w.ticks > 0 ? ` · ${tally}` : ''}${last}`);
  const next = nextTickAt(w.plan, w.lastSlot);
  const closes = w.plan.closesAt;
  const tail =
    next !== undefined
      ? `next tick ${hhmmss(next)}${now !== undefined ? `, in ${formatDuration(Math.max(0, next - now))}` : ''}`
      : closes !== undefined && (now === undefined || now < closes)
        ? `window closes ${hhmmss(closes)}${now !== undefined ? `, in ${formatDuration(Math.max(0, closes - now))}` : ''}`
        : 'window complete';
  return `${head}\n${tail}`;
}

export interface WatchViews {
  onEvent(event: RunEvent): void;
}

/**
 * Keep each watch at work on its task's output: redrawn at every tick and, on screen (`countdown`), every second for
 * the time to the next tick. Display only, on the real clock: the watch itself sleeps until its tick on the run's clock.
 */
export function createWatchViews(options: { show: (stepId: string, text: string) => void; countdown: boolean; clock?: Clock; resumed?: RunState }): WatchViews {
  const watches = new Map<string, WatchState>();
  for (const [id, s] of options.resumed?.steps ?? []) if (s.watch !== undefined && s.outcome === undefined) watches.set(id, s.watch);
  const live = options.countdown && options.clock !== undefined;
  let timer: NodeJS.Timeout | undefined;
  const draw = (stepId: string) => {
    const w = watches.get(stepId);
    if (w !== undefined) options.show(stepId, formatWatchView(w, live ? options.clock!.now() : undefined));
  };
  const keepTimer = () => {
    if (!live) return;
    if (watches.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    } else if (watches.size > 0 && timer === undefined) {
      timer = setInterval(() => watches.forEach((_w, id) => draw(id)), 1000);
      timer.unref();
    }
  };
  return {
    onEvent(event) {
      switch (event.kind) {
        case 'watch-started':
          watches.set(event.stepId, watches.get(event.stepId) ?? openWatch(event.plan));
          draw(event.stepId);
          keepTimer();
          break;
        case 'watch-tick': {
          const w = watches.get(event.stepId);
          if (w !== undefined) watches.set(event.stepId, addTick(w, event.tick));
          draw(event.stepId);
          break;
        }
        case 'step-finished':
          if (watches.delete(event.stepId)) keepTimer();
          break;
        case 'run-finished':
          watches.clear();
          keepTimer();
          break;
        default:
          break;
      }
    },
  };
}
