// Engine events, in order, settling the task list's board: which task a line goes under, when a step or gate ends, when the rollback begins.
import type { RunEvent } from '../engine/events.js';
import { inertOutputLine } from '../inert.js';
import { formatDuration } from '../runbook/duration.js';
import type { RunbookDoc } from '../runbook/types.js';
import { formatCondition } from './evidence.js';
import { setOutput, type TaskBoard } from './listr-board.js';
import { lateFinallyKey, rollbackKey } from './listr-rollback.js';
import { answerCredit, teamLine } from './team-lines.js';
import type { createWatchViews } from './watch-view.js';

export interface EventContext {
  doc: RunbookDoc;
  /** The default renderer (a terminal) rather than plain lines. */
  defaultRenderer: boolean;
  /** A joining terminal's view: every answer is credited on its line. */
  joined: boolean;
  watchViews: ReturnType<typeof createWatchViews>;
}

export function eventHandler(board: TaskBoard, { doc, defaultRenderer, joined, watchViews }: EventContext): (event: RunEvent) => void {
  const { keyOf, show } = board;
  /** Plain mode: the last quarter of each step's progress printed (a retry starts over). */
  const quartersShown = new Map<string, number>();

  return (event: RunEvent) => {
    switch (event.kind) {
      case 'phase-started':
        board.phaseStart(event.phaseId).resolve(true);
        break;
      case 'phase-finished': {
        const phase = doc.phases.find((p) => p.id === event.phaseId);
        if (phase !== undefined) board.endPhaseGroup(phase);
        break;
      }
      case 'step-started': {
        // A `finally:` step of a phase whose group has ended (it stopped) runs in the Finally group.
        const late = event.finally === true && (board.endedPhases.has(event.phaseId) || board.forwardOver !== undefined);
        const key = event.rollback ? rollbackKey(event.stepId) : late ? lateFinallyKey(event.stepId) : event.stepId;
        if (late) board.lateFinally.resolve(event.phaseId);
        board.activeKey.set(event.stepId, key);
        board.running.add(key);
        quartersShown.delete(key);
        break;
      }
      // The engine runs ahead of listr2: a step's first lines often arrive before listr2 has started its task, so they
      // wait for the task rather than being dropped (a step that prints one line and then works for minutes showed nothing).
      case 'step-output':
        show(keyOf(event.stepId), inertOutputLine(event.line));
        break;
      case 'step-progress': {
        const key = keyOf(event.stepId);
        if (!defaultRenderer) {
          // Plain lines stay: one per quarter, not one per sample (290 of 546 lines of a phase65 log were `N/M samples`).
          const quarter = event.total > 0 ? Math.floor((event.done * 4) / event.total) : 0;
          if (quarter <= (quartersShown.get(key) ?? 0) || event.done >= event.total) break;
          quartersShown.set(key, quarter);
        }
        show(key, `${event.done}/${event.total} ${event.unit}`);
        break;
      }
      case 'step-retrying':
        quartersShown.delete(keyOf(event.stepId));
        show(keyOf(event.stepId), `attempt ${event.attempt} in ${formatDuration(event.delayMs)}: ${event.reason}`);
        break;
      case 'escalation': {
        const key = event.stepId !== undefined ? keyOf(event.stepId) : undefined;
        const d = key !== undefined ? board.tasks.get(key) : undefined;
        const line = `⚠ ${event.rule}: escalated to ${event.to.map((t) => (t.person ? `${t.title} · ${t.person}` : t.title)).join(', ')}`;
        if (d?.settled) void d.promise.then((task) => setOutput(task, line));
        break;
      }
      case 'watch-started':
      case 'watch-tick':
        watchViews.onEvent(event);
        break;
      case 'step-finished': {
        const key = keyOf(event.stepId);
        board.running.delete(key);
        watchViews.onEvent(event);
        // A phase step's failure is followed by what it leads to (its owner may be asked, under its task).
        if (!event.rollback && event.finally !== true && (event.outcome.status === 'failed' || event.outcome.status === 'inconclusive')) {
          board.awaitingHandling.set(key, event.outcome);
          break;
        }
        board.stepEnding(key).resolve({ kind: 'outcome', outcome: event.outcome });
        break;
      }
      case 'failure-handled': {
        const key = keyOf(event.stepId);
        const outcome = board.awaitingHandling.get(key);
        if (outcome === undefined) break;
        board.awaitingHandling.delete(key);
        board.stepEnding(key).resolve({ kind: 'outcome', outcome, handled: { action: event.action, ...(event.gateId !== undefined ? { gateId: event.gateId } : {}) } });
        break;
      }
      case 'interrupted':
        board.settleAwaiting();
        break;
      case 'gate-evaluated':
        board.evaluated.set(event.gateId, event.conditions);
        // A holding condition is its name: its whole expression (three wrapped lines for a ternary at 80 columns) pushed
        // the phase off a 24-line screen. The failing ones keep their values, the evidence a decision needs.
        show(event.gateId, event.conditions.map((c) => (c.ok ? `✔ ${c.name}` : formatCondition(c))).join('\n'));
        break;
      case 'gate-skipped':
        board.gateEnding(event.gateId).resolve({ kind: 'skipped', why: event.reason });
        break;
      case 'gate-decided':
        board.gateEnding(event.gateId).resolve({
          kind: 'decided',
          decision: event.decision,
          ...(event.note !== undefined ? { note: event.note } : {}),
          ...(event.reason !== undefined ? { reason: event.reason } : {}),
          ...(event.answeredFrom === 'answers-file' ? { fromFile: true } : {}),
        });
        break;
      // A team run (issue 14): whom the run waits for, and who answered at another terminal.
      case 'prompt-opened':
      case 'prompt-offered':
      case 'prompt-answered':
      case 'answer-refused':
      case 'prompt-closed': {
        const line = teamLine(doc, event);
        if (line !== undefined) show(board.promptKey(event.promptId), line);
        const credit = event.kind === 'prompt-answered' && !event.promptId.includes('.') ? answerCredit(doc, event, joined) : undefined;
        if (credit !== undefined) board.credits.set(board.promptKey(event.promptId), credit);
        break;
      }
      case 'rollback-requested':
        board.settleAwaiting();
        board.rollbackStart.resolve({ phases: event.phases, authorize: event });
        board.endForward('the run is about to roll back');
        break;
      case 'rollback-authorized':
        board.authorization.resolve(event);
        break;
      case 'rollback-started':
        board.settleAwaiting();
        board.rollbackStart.resolve({ phases: event.phases });
        board.endForward('the run is rolling back');
        break;
      case 'run-finished':
        watchViews.onEvent(event);
        board.endRun();
        break;
      default:
        break;
    }
  };
}
