// The T-minus timeline (DESIGN "The timeline is tracked"): T, each phase's planned window, where the run stands, how long the deployment took.
import { parseDuration, parseOffset } from '../runbook/duration.js';
import type { PhaseDoc, RunbookDoc } from '../runbook/types.js';
import type { RunState } from './state.js';

export interface PlannedWindow {
  /** T + the phase's `at`; undefined for a phase without `at` (it runs inside the window of the phase before it). */
  start?: number;
  /** T + the `at` of the next phase that has one; undefined for the last such phase (its window stays open). */
  end?: number;
}

/**
 * T, the moment the `at:` offsets count from: `--t0` when given; else when the first phase whose `at` is `T` (or `T+0`)
 * started; else, once the first phase with an `at` has started, its start minus its offset (a run that opens at T-30m
 * puts T 30 minutes after its start). Undefined while nothing tells.
 */
export function resolveT0(doc: RunbookDoc, state: RunState): number | undefined {
  if (state.t0 !== undefined) return state.t0;
  const atT = doc.phases.find((p) => p.at !== undefined && parseOffset(p.at) === 0);
  const started = atT !== undefined ? state.phases.get(atT.id)?.startedAt : undefined;
  if (started !== undefined) return started;
  const first = doc.phases.find((p) => p.at !== undefined && state.phases.has(p.id));
  if (first === undefined) return undefined;
  return state.phases.get(first.id)!.startedAt - parseOffset(first.at!)!;
}

/** Every phase's planned window, by phase id: empty when T is not known yet or the runbook has no `at:`. */
export function plannedWindows(doc: RunbookDoc, t0: number | undefined): Map<string, PlannedWindow> {
  const windows = new Map<string, PlannedWindow>();
  if (t0 === undefined) return windows;
  doc.phases.forEach((phase, i) => {
    const offset = phase.at !== undefined ? parseOffset(phase.at) : undefined;
    const next = doc.phases.slice(i + 1).find((p) => p.at !== undefined);
    const nextOffset = next !== undefined ? parseOffset(next.at!) : undefined;
    windows.set(phase.id, {
      ...(offset !== undefined ? { start: t0 + offset } : {}),
      ...(nextOffset !== undefined ? { end: t0 + nextOffset } : {}),
    });
  });
  // Before the first `at`, phases have no plan to be held to.
  if (!doc.phases.some((p) => p.at !== undefined)) windows.clear();
  return windows;
}

/** When the phase should be over, if the timeline says: the end of its planned window. */
export function plannedEnd(doc: RunbookDoc, state: RunState, phase: PhaseDoc): number | undefined {
  return plannedWindows(doc, resolveT0(doc, state)).get(phase.id)?.end;
}

export interface Standing {
  /** now − T (negative before T). */
  offsetMs: number;
  /** The phase running now (or, between phases, the next one to run). */
  phase?: PhaseDoc;
  /** How far the run is behind its plan (positive) or ahead of it (negative); 0 on plan. */
  behindMs: number;
}

/**
 * Where the run stands against the plan: the phase at work, and how far behind (or ahead) — from when the phase started
 * against its planned start, or how far it is past its planned end if it still runs. Undefined while T is not known.
 */
export function standing(doc: RunbookDoc, state: RunState, now: number): Standing | undefined {
  const t0 = resolveT0(doc, state);
  if (t0 === undefined) return undefined;
  const windows = plannedWindows(doc, t0);
  const phase = doc.phases.find((p) => state.phases.get(p.id)?.status === 'running') ?? doc.phases.find((p) => !state.phases.has(p.id));
  let behindMs = 0;
  if (phase !== undefined) {
    const window = windows.get(phase.id);
    const startedAt = state.phases.get(phase.id)?.startedAt;
    if (window?.end !== undefined && now > window.end) behindMs = now - window.end;
    else if (window?.start !== undefined && startedAt !== undefined) behindMs = startedAt - window.start;
    else if (window?.start !== undefined && startedAt === undefined && now > window.start) behindMs = now - window.start;
  }
  return { offsetMs: now - t0, ...(phase !== undefined ? { phase } : {}), behindMs };
}

/** `target_duration`'s limit (ms), in either form. */
export function targetLimitMs(doc: RunbookDoc): number | undefined {
  const target = doc.target_duration;
  if (target === undefined) return undefined;
  return parseDuration(typeof target === 'string' ? target : target.limit);
}

/** The phases `target_duration: { from, to }` measures (all of them for the plain form, or without from/to). */
export function measuredPhases(doc: RunbookDoc): PhaseDoc[] {
  const target = doc.target_duration;
  const ids = doc.phases.map((p) => p.id);
  const from = typeof target === 'object' && target.from !== undefined ? ids.indexOf(target.from) : 0;
  const to = typeof target === 'object' && target.to !== undefined ? ids.indexOf(target.to) : ids.length - 1;
  return doc.phases.slice(Math.max(0, from), to < 0 ? ids.length : to + 1);
}

/**
 * How long the deployment took: with `target_duration: { from, to }`, from the first step (or gate) of the measured
 * phases to the last one that finished; with the plain form, the whole run (to `now` while it runs). Undefined before
 * anything of it ran.
 */
export function deployDurationMs(doc: RunbookDoc, state: RunState, now: number): number | undefined {
  if (typeof doc.target_duration !== 'object') {
    if (state.startedAt === undefined) return undefined;
    return Math.max(0, (state.finished?.at ?? now) - state.startedAt);
  }
  let first: number | undefined;
  let last: number | undefined;
  const see = (start: number | undefined, end: number | undefined) => {
    if (start !== undefined && (first === undefined || start < first)) first = start;
    if (end !== undefined && (last === undefined || end > last)) last = end;
  };
  for (const phase of measuredPhases(doc)) {
    for (const step of [...(phase.steps ?? []), ...(phase.finally ?? [])]) {
      const s = state.steps.get(step.id);
      if (s === undefined || s.rollback) continue;
      see(s.outcome?.startedAt ?? s.startedAt, s.outcome?.endedAt);
    }
    const gate = [...state.gates.values()].find((g) => g.phaseId === phase.id);
    if (gate !== undefined) see(gate.evaluatedAt, gate.decidedAt);
  }
  if (first === undefined) return undefined;
  return Math.max(0, (last ?? now) - first);
}
