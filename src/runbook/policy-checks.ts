// Meaning checks for the failure policy: where on_failure applies, the implicit gate condition's reserved name, rollback authorization, go_live.
import { parseDuration } from './duration.js';
import { IMPLICIT_CONDITION } from './failure-policy.js';
import type { Problem } from './problem.js';
import { gateId, type RunbookDoc } from './types.js';
import type { Locator } from './yaml.js';

type Path = (string | number)[];

export function checkFailurePolicy(doc: RunbookDoc, locate: Locator): Problem[] {
  const problems: Problem[] = [];
  const report = (path: Path, code: string, message: string, useKey = false) => {
    const pos = useKey ? locate.key(path) : locate.value(path);
    problems.push({ file: locate.file, line: pos.line, col: pos.col, code, message });
  };
  const liveAt: string[] = [];
  doc.phases.forEach((phase, p) => {
    for (const part of ['rollback', 'finally'] as const) {
      (phase[part] ?? []).forEach((step, s) => {
        if (step.on_failure === undefined) return;
        const why = part === 'rollback' ? 'a failing rollback step stops the rollback (what follows may depend on it)' : 'a failing finally step fails its phase and the other cleanup steps still run';
        report(['phases', p, part, s, 'on_failure'], 'on-failure-not-here', `on_failure applies to a phase's steps, not to its ${part} steps: ${why}; remove it`, true);
      });
    }
    if (phase.gate !== undefined && IMPLICIT_CONDITION in phase.gate.require) {
      report(['phases', p, 'gate', 'require', IMPLICIT_CONDITION], 'reserved-condition', `'${IMPLICIT_CONDITION}' is the condition deployctl adds to a gate for the failures left to it (on_failure: gate): give yours another name`, true);
    }
    if (phase.go_live === true) liveAt.push(phase.id);
    if (phase.go_live === true && liveAt.length > 1) {
      report(['phases', p, 'go_live'], 'go-live-twice', `phase '${phase.id}' is go_live, and so is '${liveAt[0]}': the release goes live once (the ALL-CLEAR is sent when that phase completes)`, true);
    }
  });
  if (doc.rollback !== undefined) {
    // `rollback:` in the answers file authorizes the rollback: no step or gate may have that id too.
    doc.phases.forEach((phase, p) => {
      (phase.steps ?? []).forEach((step, s) => {
        if (step.id === 'rollback') report(['phases', p, 'steps', s, 'id'], 'reserved-id', "a step named 'rollback' would share the answers key 'rollback' with the rollback authorization: rename it");
      });
      if (phase.gate !== undefined && gateId(phase) === 'rollback') {
        report(['phases', p, phase.gate.id !== undefined ? 'gate' : 'id'], 'reserved-id', "a gate named 'rollback' would share the answers key 'rollback' with the rollback authorization: give it another id");
      }
    });
    if (doc.rollback.timeout !== undefined && parseDuration(doc.rollback.timeout) === 0) {
      report(['rollback', 'timeout'], 'zero-duration', 'a timeout of 0 makes no sense: give a positive duration such as 5m');
    }
    if (!doc.phases.some((phase) => (phase.rollback ?? []).length > 0)) {
      report(['rollback'], 'nothing-to-roll-back', 'rollback: asks to authorize rollbacks, but no phase has rollback steps: add rollback steps or remove it', true);
    }
  }
  return problems;
}
