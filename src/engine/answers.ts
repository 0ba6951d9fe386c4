// The answers file (`--answers`): every manual step and gate answered ahead of time, checked like a runbook.
import { readFileLimited } from '../ports/fs.js';
import { capProblems, shorten, type LazyProblem, type Problem } from '../runbook/problem.js';
import { matchesPattern } from '../runbook/pattern.js';
import { readSource } from '../runbook/source.js';
import { didYouMean } from '../runbook/suggest.js';
import { gateId, isConfirmCondition, stepKind, type RunbookDoc, type StepDoc } from '../runbook/types.js';
import { parseStrictYaml } from '../runbook/yaml.js';

export type AnswerValue = boolean | string | string[];

/** Answers by key: a step id, a gate id (go | no-go), or `<gate id>.<condition>` for an attestation. */
export type Answers = ReadonlyMap<string, AnswerValue>;

export interface AnswerKey {
  key: string;
  kind: 'confirm' | 'checklist' | 'ask' | 'gate' | 'attestation' | 'reason' | 'on-failure' | 'rollback' | 'watch';
  /** Asked only sometimes (a NO-GO's reason when every condition held): never listed as missing. */
  optional?: boolean;
  owner: string;
  /** What the person is asked. */
  text: string;
  /** A line to paste into the answers file. */
  example: string;
  /** Allowed checklist items. */
  items?: string[];
  /** An ask step's pattern: the whole answer must match. */
  pattern?: string;
}

/** Every key a non-interactive run needs, in run order. */
export function answerKeys(doc: RunbookDoc): AnswerKey[] {
  const keys: AnswerKey[] = [];
  const forStep = (step: StepDoc) => {
    const kind = stepKind(step);
    if (kind === 'confirm') keys.push({ key: step.id, kind, owner: step.owner, text: step.confirm!, example: `${step.id}: true` });
    if (kind === 'checklist') keys.push({ key: step.id, kind, owner: step.owner, text: step.title ?? step.id, example: `${step.id}: true`, items: step.checklist! });
    if (kind === 'ask') keys.push({ key: step.id, kind, owner: step.owner, text: step.ask!, example: `${step.id}: "…"`, ...(step.pattern !== undefined ? { pattern: step.pattern } : {}) });
    // Asked only when a watch runs out of data (more inconclusive ticks than its inconclusive_limit).
    if (kind === 'watch') keys.push({ key: `${step.id}.inconclusive`, kind, optional: true, owner: step.owner, text: `keep watching '${step.id}' when its ticks have no data`, example: `${step.id}.inconclusive: continue` });
  };
  for (const phase of doc.phases) {
    for (const step of phase.steps ?? []) {
      forStep(step);
      // Asked only when the step fails: never missing, a run without it falls back to the step's default policy.
      if (step.on_failure === 'ask') {
        keys.push({ key: `${step.id}.on_failure`, kind: 'on-failure', optional: true, owner: step.owner, text: `what follows if ${step.id} fails`, example: `${step.id}.on_failure: continue` });
      }
    }
    if (phase.gate) {
      const id = gateId(phase);
      for (const [name, condition] of Object.entries(phase.gate.require)) {
        if (isConfirmCondition(condition)) {
          keys.push({ key: `${id}.${name}`, kind: 'attestation', owner: phase.gate.owner, text: condition.confirm, example: `${id}.${name}: true` });
        }
      }
      keys.push({ key: id, kind: 'gate', owner: phase.gate.owner, text: phase.gate.title ?? `go/no-go ${id}`, example: `${id}: go` });
      keys.push({ key: `${id}.reason`, kind: 'reason', owner: phase.gate.owner, text: `why NO-GO at ${id}`, example: `${id}.reason: "…"`, optional: true });
    }
    (phase.finally ?? []).forEach(forStep);
  }
  for (const phase of doc.phases) (phase.rollback ?? []).forEach(forStep);
  // Asked only before a rollback; without it, the runbook's default happens.
  if (doc.rollback !== undefined) {
    keys.push({ key: 'rollback', kind: 'rollback', optional: true, owner: doc.rollback.authorize, text: 'authorize a rollback', example: 'rollback: rollback' });
  }
  return keys;
}

/** `sha256`: hex digest of the file's bytes as read (what a signed answer taken from it names). */
export type LoadAnswersResult = { ok: true; answers: Answers; sha256: string } | { ok: false; problems: Problem[] };

export function loadAnswers(file: string, doc: RunbookDoc, readFile = readFileLimited): LoadAnswersResult {
  const read = readSource(file, readFile);
  if (!read.ok) return read;
  const { sha256 } = read.source;
  if (isOnlyComments(read.text)) return { ok: true, answers: new Map(), sha256 };
  const parsed = parseStrictYaml(read.text, file);
  if (!parsed.ok) return { ok: false, problems: capProblems(parsed.problems) };
  const { value, locate } = parsed.yaml;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, problems: [{ file, line: 1, col: 1, code: 'not-a-mapping', message: 'an answers file maps ids to answers, e.g. `briefing: true`' }] };
  }
  const known = new Map(answerKeys(doc).map((k) => [k.key, k]));
  const problems: LazyProblem[] = [];
  const answers = new Map<string, AnswerValue>();
  const problem = (key: string, code: string, message: string | (() => string), atKey = false) => {
    const pos = atKey ? locate.key([key]) : locate.value([key]);
    problems.push({ file, line: pos.line, col: pos.col, code, message });
  };
  for (const [key, answer] of Object.entries(value as Record<string, unknown>)) {
    const spec = known.get(key);
    if (spec === undefined) {
      // The hint only for the problems shown: 30,000 unknown keys each compared with every id took seconds (issue 12).
      problem(key, 'unknown-answer', () => `'${shorten(key)}' answers nothing in ${doc.name}${didYouMean(key, known.keys()) || ': keys are ids of confirm, checklist and ask steps, gate ids, <gate>.<condition>, <step>.on_failure (on_failure: ask) and rollback (rollback: authorize)'}`, true);
      continue;
    }
    // A typed answer is text: `build: 0x10` is the answer '0x10', not 16 (YAML's reading), nor …992 for 2^53 + 1.
    const checked = checkAnswer(spec, typeof answer === 'number' && spec.kind === 'ask' ? (locate.source([key]) ?? String(answer)) : answer);
    if (typeof checked === 'string') problem(key, 'bad-answer', checked);
    else answers.set(key, checked.value);
  }
  return problems.length > 0 ? { ok: false, problems: capProblems(problems) } : { ok: true, answers, sha256 };
}

/**
 * Blank, or nothing but comments. Line by line: the single regex this replaces, /^(\s*#.*\n?)*\s*$/, backtracked
 * exponentially on a comment such as ` # # # …` followed by an answer (20 pairs: 110 s; found while fuzzing).
 */
function isOnlyComments(text: string): boolean {
  // Lines end at \n (a \r before it is trimmed): like the yaml parser, which reads a lone \r as part of the line.
  return text.split('\n').every((line) => {
    const rest = line.trimStart();
    return rest === '' || rest.startsWith('#');
  });
}

function checkAnswer(spec: AnswerKey, answer: unknown): { value: AnswerValue } | string {
  switch (spec.kind) {
    case 'confirm':
    case 'attestation':
      return typeof answer === 'boolean' ? { value: answer } : `'${spec.key}' confirms '${spec.text}': answer true or false`;
    case 'checklist': {
      if (answer === true) return { value: [...spec.items!] };
      if (answer === false) return { value: [] };
      if (Array.isArray(answer) && answer.every((a) => typeof a === 'string')) {
        const unknown = answer.filter((a) => !spec.items!.includes(a));
        if (unknown.length > 0) return `'${spec.key}' ticks '${unknown[0]}', which is not on the checklist (items: ${spec.items!.join('; ')})`;
        return { value: answer };
      }
      return `'${spec.key}' is a checklist: answer true (all ticked) or a list of the ticked items`;
    }
    case 'ask':
    case 'reason': {
      const text = typeof answer === 'string' && answer.trim() !== '' ? answer : typeof answer === 'number' ? String(answer) : undefined;
      if (text === undefined) return `'${spec.key}' asks '${spec.text}': answer with text`;
      // The step keeps its answer trimmed (src/steps/manual.ts): that is what must match.
      if (spec.pattern !== undefined && !matchesPattern(spec.pattern, text.trim())) {
        return `'${spec.key}' answer ${JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)} does not match the pattern ${spec.pattern} the runbook sets for it: give an answer that matches as a whole`;
      }
      return { value: text };
    }
    case 'gate':
      if (answer === 'go' || answer === 'no-go') return { value: answer };
      return `'${spec.key}' is a go/no-go decision: answer go or no-go`;
    case 'on-failure':
      if (answer === 'rollback' || answer === 'continue' || answer === 'abort') return { value: answer };
      return `'${spec.key}' says what follows if the step fails: answer rollback, continue or abort`;
    case 'rollback':
      if (answer === 'rollback' || answer === 'abort') return { value: answer };
      return `'${spec.key}' authorizes a rollback: answer rollback (roll back) or abort (do not roll back)`;
    case 'watch':
      if (answer === 'continue' || answer === 'fail') return { value: answer };
      return `'${spec.key}' decides whether a watch without data goes on: answer continue or fail`;
  }
}

/** The keys a run without a terminal would need and does not have. */
export function missingAnswers(doc: RunbookDoc, answers: Answers): AnswerKey[] {
  return answerKeys(doc).filter((k) => k.optional !== true && !answers.has(k.key));
}
