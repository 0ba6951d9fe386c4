// Where the run stands against its plan, for status updates: `📍 T+12m · Verification · 2m behind`, and each watch at work.
import type { RunState } from '../engine/state.js';
import { standing } from '../engine/timeline.js';
import { formatDuration, formatOffset } from '../runbook/duration.js';
import { phaseTitle, stepTitle } from '../runbook/labels.js';
import type { RunbookDoc } from '../runbook/types.js';

const hhmm = (ms: number) => `${new Date(ms).toISOString().slice(11, 16)} UTC`;

/** `📍 T+12m · Post-deployment verification · 2m behind`: empty when the runbook has no timeline (or T is not known yet). */
export function timelineLine(doc: RunbookDoc, state: RunState, now: number): string[] {
  const where = standing(doc, state, now);
  if (where === undefined || state.finished !== undefined) return [];
  const pace = Math.abs(where.behindMs) < 60_000 ? 'on plan' : where.behindMs > 0 ? `${formatDuration(where.behindMs)} behind` : `${formatDuration(-where.behindMs)} ahead`;
  return [`📍 ${formatOffset(Math.round(where.offsetMs / 60_000) * 60_000)}${where.phase !== undefined ? ` · ${phaseTitle(where.phase)}` : ''} · ${pace}`];
}

/** `👀 Hour 1-4 watch: tick 5 of 12 · 5 passed · next 10:45 UTC`, for every watch at work. */
export function watchLines(doc: RunbookDoc, state: RunState): string[] {
  const lines: string[] = [];
  for (const phase of doc.phases) {
    for (const step of phase.steps ?? []) {
      const s = state.steps.get(step.id);
      const w = s?.watch;
      if (w === undefined || s?.outcome !== undefined) continue;
      const nextDue = w.plan.startedAt + w.plan.initialDelayMs + w.lastSlot * w.plan.everyMs;
      const tally = [`${w.passed} passed`, w.failed > 0 ? `${w.failed} failed` : '', w.inconclusive > 0 ? `${w.inconclusive} without data` : '', w.missed > 0 ? `${w.missed} missed` : ''].filter((x) => x !== '');
      const next = w.lastSlot < w.plan.plannedTicks ? ` · next ${hhmm(nextDue)}` : '';
      lines.push(`👀 ${stepTitle(step)}: tick ${w.lastSlot} of ${w.plan.plannedTicks} · ${tally.join(', ')}${w.last !== undefined && w.last.status !== 'passed' ? ` · last ${w.last.status}` : ''}${next}`);
    }
  }
  return lines;
}
