// What a finished task in the task list shows: a step's outcome, a gate's decision, the rollback authorization; as a title, a skip or a failure.
import type { EventOf, GateCondition, StepOutcome } from '../engine/events.js';
import { formatDuration } from '../runbook/duration.js';
import { inert } from '../inert.js';
import { formatCheckReading, formatCondition, formatProbeMetrics } from './evidence.js';
import { formatTicks } from './watch-view.js';

/** What a failed phase step led to (on_failure), once decided. */
export type Handled = { action: string; gateId?: string };
export type Ending = { kind: 'outcome'; outcome: StepOutcome; handled?: Handled } | { kind: 'not-run'; why?: string };
export type GateEnding = { kind: 'decided'; decision: 'go' | 'no-go'; note?: string; reason?: string; fromFile?: boolean } | { kind: 'not-run'; why?: string } | { kind: 'skipped'; why: string };

/** `title`: the task's new title (done); `skip`: skipped with a message; `fail`: failed (`goesOn`: the run went on past it). */
export type Shown = { kind: 'title'; title: string } | { kind: 'skip'; message: string } | { kind: 'fail'; message: string; goesOn?: boolean };

export interface ShowOptions {
  /** Title and message as the renderer shows them (the default renderer replaces the title with the message). */
  said: (title: string, what: string) => string;
  answersFile?: string;
  /** Who answered the step's or gate's prompt, when the line should say (a team run, issue 14). */
  credit?: string;
  /** The plain renderer prints a failure as `✖ title [FAILED: message]`: the message then need not say FAILED. */
  plain?: boolean;
}

export function showStepEnding(title: string, ending: Ending, { said, answersFile, plain, credit }: ShowOptions): Shown {
  if (ending.kind === 'not-run') return { kind: 'skip', message: said(title, ending.why !== undefined ? `not run (${ending.why})` : 'not run') };
  const { outcome } = ending;
  const details = [
    outcome.durationMs > 0 ? formatDuration(outcome.durationMs) : '',
    outcome.attempts > 1 ? `${outcome.attempts} attempts` : '',
    outcome.answeredFrom === 'answers-file' ? `answered from ${answersFile ?? 'the answers file'}` : '',
    credit ?? '',
    outcome.ticks !== undefined ? formatTicks(outcome.ticks) : '',
    outcome.metrics !== undefined ? formatProbeMetrics(outcome.metrics) : '',
    outcome.check !== undefined ? formatCheckReading(outcome.check) : '',
  ].filter((d) => d !== '');
  const suffix = details.length > 0 ? ` (${details.join(', ')})` : '';
  const goingOn = ending.handled !== undefined && (ending.handled.action === 'gate' || ending.handled.action === 'continue');
  if (goingOn && outcome.status !== 'succeeded') {
    // The run goes on past it (on_failure): shown as failed, and its phase's list goes on too.
    const how = ending.handled!.action === 'gate' ? `gate '${ending.handled!.gateId ?? '?'}' decides` : 'the run goes on (on_failure: continue)';
    const earlier = outcome.resumedFrom !== undefined ? ` in ${outcome.resumedFrom}` : '';
    const status = outcome.status === 'inconclusive' ? `INCONCLUSIVE${earlier}, ` : plain === true ? (earlier !== '' ? `${earlier.trim()}, ` : '') : `FAILED${earlier}, `;
    return { kind: 'fail', goesOn: true, message: said(`${title}${suffix}`, `${status}${how}: ${outcome.reason ?? outcome.status}`) };
  }
  // Still the failure the run stopped at: its phase shows ✖, not ✔.
  if (outcome.resumedFrom !== undefined && outcome.status === 'failed') return { kind: 'fail', message: said(title, `failed in ${outcome.resumedFrom}: ${outcome.reason ?? 'failed'}`) };
  if (outcome.resumedFrom !== undefined) return { kind: 'skip', message: said(title, `${outcome.status} in ${outcome.resumedFrom}`) };
  if (outcome.status === 'skipped') {
    return { kind: 'skip', message: said(title, outcome.dryRun ? (outcome.command !== undefined ? `would run: ${outcome.command}` : (outcome.reason ?? '')) : (outcome.reason ?? 'skipped')) };
  }
  if (outcome.status === 'succeeded') return { kind: 'title', title: `${title}${suffix}` };
  return { kind: 'fail', message: said(`${title}${suffix}`, outcome.reason ?? outcome.status) };
}

export function showGateEnding(id: string, title: string, ending: GateEnding, conditions: readonly GateCondition[], { said, answersFile, dryRun, credit }: ShowOptions & { dryRun: boolean }): Shown {
  const failing = conditions.filter((c) => !c.ok);
  // The evidence lines leave the screen once decided (a 24-line terminal needs the room): the verdict keeps the gist.
  const evidence = conditions.length === 0 ? '' : failing.length === 0 ? `${conditions.length} of ${conditions.length} conditions hold` : `not holding: ${failing.map((c) => formatCondition(c).slice(2)).join('; ')}`;
  const note = (e: { note?: string; reason?: string; fromFile?: boolean }) =>
    [evidence, e.fromFile ? `answered from ${answersFile ?? 'the answers file'}` : '', credit ?? '', e.reason !== undefined ? `reason: ${e.reason}` : '', e.note ?? '']
      .filter((s) => s !== '')
      .join('; ');
  if (ending.kind === 'skipped') return { kind: 'skip', message: `go/no-go ${id}: skipped (${inert(ending.why)})` };
  if (ending.kind === 'not-run') return { kind: 'skip', message: `go/no-go ${id}: not run${ending.why !== undefined ? ` (${ending.why})` : ''}` };
  if (dryRun) return { kind: 'skip', message: said(title, ending.note ?? 'dry run') };
  // On screen the message replaces the title: keep the `[Role · Person]` title on a NO-GO, who decided is the point of
  // the line. Plain lines print the title before `[FAILED: …]` already: there the message is the verdict only.
  if (ending.decision === 'no-go') return { kind: 'fail', message: said(title, `NO-GO${note(ending) ? ` (${note(ending)})` : ''}`) };
  return { kind: 'title', title: `${title}: GO${note(ending) ? ` (${note(ending)})` : ''}` };
}

/** The `rollback.authorize` role's answer: authorized (the rollback steps follow), or not (they do not run). */
export function showAuthorization(title: string, decided: EventOf<'rollback-authorized'> | undefined, { said, answersFile }: ShowOptions): Shown {
  if (decided === undefined) return { kind: 'skip', message: said(title, 'not decided (the run stopped)') };
  const from =
    decided.answeredFrom === 'answers-file' ? `answered from ${answersFile ?? 'the answers file'}` : decided.answeredFrom === 'prompt' ? `by ${decided.by.operator}` : (decided.note ?? decided.answeredFrom);
  if (decided.decision === 'abort') return { kind: 'fail', message: said(title, `NOT AUTHORIZED: nothing is rolled back (${from})`) };
  return { kind: 'title', title: `${title}: authorized (${from})` };
}
