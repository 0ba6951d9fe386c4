// Ids a runbook may not use: names JavaScript objects give a meaning of their own, and words CEL reads as its own.
import type { Problem } from './problem.js';
import type { RunbookDoc } from './types.js';
import { RESERVED_KEYS, type Locator } from './yaml.js';

/**
 * `steps.true`, `steps.in`, `vars.null`: CEL parses these as its own literals and operator, so the id could only be
 * written `steps['in']`; a plain "invalid CEL expression" later would not say why. (Other CEL words, such as `if` or
 * `import`, are accepted after a dot and are fine as ids.)
 */
export const CEL_WORDS = new Set(['true', 'false', 'null', 'in']);

type Path = (string | number)[];

/**
 * Refused at validate time, where they are written: an id such as `__proto__` validated, then could not be answered
 * (the answers file refuses the key) or reached Object.prototype at run time (issue 12).
 */
export function checkReservedIds(doc: RunbookDoc, locate: Locator): Problem[] {
  const problems: Problem[] = [];
  const refuse = (path: Path, what: string, id: string, atKey: boolean, referencedAs?: string) => {
    const pos = atKey ? locate.key(path) : locate.value(path);
    const why = RESERVED_KEYS.has(id)
      ? `JavaScript objects give '${id}' a meaning of its own, so an answers file, a record or an expression could not name it safely`
      : `CEL reads '${id}' as its own word, so ${referencedAs ?? 'an expression'} could not be written`;
    problems.push({ file: locate.file, line: pos.line, col: pos.col, code: 'reserved-id', message: `${what} '${id}' is reserved: ${why}; rename it` });
  };
  const check = (id: string | undefined, path: Path, what: string, referencedAs?: (id: string) => string) => {
    if (id === undefined) return;
    if (RESERVED_KEYS.has(id)) refuse(path, what, id, false);
    else if (referencedAs !== undefined && CEL_WORDS.has(id)) refuse(path, what, id, false, referencedAs(id));
  };
  doc.phases.forEach((phase, p) => {
    // A gate without an id of its own is answered and referenced by its phase's id.
    check(phase.id, ['phases', p, 'id'], 'phase id', phase.gate !== undefined && phase.gate.id === undefined ? (id) => `answers.${id}` : undefined);
    check(phase.gate?.id, ['phases', p, 'gate', 'id'], 'gate id', (id) => `answers.${id}`);
    (phase.steps ?? []).forEach((step, s) => check(step.id, ['phases', p, 'steps', s, 'id'], 'step id', (id) => `steps.${id}`));
    (phase.rollback ?? []).forEach((step, s) => check(step.id, ['phases', p, 'rollback', s, 'id'], 'step id', (id) => `steps.${id}`));
  });
  doc.notify?.channels?.forEach((channel, i) => check(channel.id, ['notify', 'channels', i, 'id'], 'channel id'));
  doc.success_metrics?.forEach((metric, i) => check(metric.id, ['success_metrics', i, 'id'], 'success metric id'));
  // Keys: __proto__ and the like are refused as keys already (yaml.ts); what is left is CEL's words.
  for (const name of Object.keys(doc.vars ?? {})) {
    if (CEL_WORDS.has(name)) refuse(['vars', name], 'var name', name, true, `vars.${name}`);
  }
  return problems;
}
