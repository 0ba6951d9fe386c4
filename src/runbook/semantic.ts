// Meaning checks after the grammar: unique ids, roles that exist, expressions that parse and name real steps, sane values.
import { compileExpression, type CelDialect, type CompiledExpression, type Reference } from '../expr/cel.js';
import { parseJsonPath } from '../steps/json-path.js';
import { compileTemplate } from '../expr/template.js';
import { placePromqlTemplates } from '../expr/promql-placement.js';
import { parseDuration } from './duration.js';
import { checkFailurePolicy } from './policy-checks.js';
import { capProblems, type LazyProblem, type Problem } from './problem.js';
import { compilePattern, isVarSpec } from './pattern.js';
import { didYouMean } from './suggest.js';
import { checkAsStep, gateId, isManualStep, STEP_FIELDS, stepKind, type PhaseDoc, type RunbookDoc, type StepDoc } from './types.js';
import type { Locator } from './yaml.js';

type Path = (string | number)[];

/** Fields of `run` available to expressions. */
export const RUN_FIELDS = ['id', 'operator', 'started_at', 'elapsed_ms', 'status', 'runbook', 'deploy_duration_ms', 'rehearsal'] as const;

/** Where each step stands in run order, so `if:` and gates can only look backwards. */
export interface StepIndexEntry {
  step: StepDoc;
  phase: PhaseDoc;
  path: Path;
  order: number;
  rollback: boolean;
}

export interface RunbookIndex {
  steps: Map<string, StepIndexEntry>;
  /** Gate id → the position its conditions are evaluated at (after its phase's steps). */
  gates: Map<string, { phase: PhaseDoc; order: number; path: Path }>;
  roles: Set<string>;
}

export function indexRunbook(doc: RunbookDoc): RunbookIndex {
  const steps = new Map<string, StepIndexEntry>();
  const gates = new Map<string, { phase: PhaseDoc; order: number; path: Path }>();
  let order = 0;
  doc.phases.forEach((phase, p) => {
    (phase.steps ?? []).forEach((step, s) => {
      if (!steps.has(step.id)) steps.set(step.id, { step, phase, path: ['phases', p, 'steps', s], order: order++, rollback: false });
    });
    if (phase.gate) gates.set(gateId(phase), { phase, order: order++, path: ['phases', p, 'gate'] });
    // `finally:` steps run when the phase is left: after its steps and gate.
    (phase.finally ?? []).forEach((step, s) => {
      if (!steps.has(step.id)) steps.set(step.id, { step, phase, path: ['phases', p, 'finally', s], order: order++, rollback: false });
    });
  });
  // Rollback steps run after everything else, so they may look at any forward step.
  doc.phases.forEach((phase, p) => {
    (phase.rollback ?? []).forEach((step, s) => {
      if (!steps.has(step.id)) steps.set(step.id, { step, phase, path: ['phases', p, 'rollback', s], order: Number.MAX_SAFE_INTEGER, rollback: true });
    });
  });
  return { steps, gates, roles: new Set(Object.keys(doc.roles)) };
}

/** Where an expression is evaluated: decides which steps it may name. */
type Scope = { kind: 'before'; order: number; what: string } | { kind: 'anywhere' };

/** At most MAX_PROBLEMS problems, then one that counts the rest; hints that search the whole runbook are made only for those shown. */
export function checkMeaning(doc: RunbookDoc, locate: Locator): Problem[] {
  const problems: LazyProblem[] = [];
  const index = indexRunbook(doc);
  const report = (path: Path, code: string, message: string | (() => string), useKey = false) => {
    const pos = useKey ? locate.key(path) : locate.value(path);
    problems.push({ file: locate.file, line: pos.line, col: pos.col, code, message });
  };
  const reportInside = (path: Path, offset: number, code: string, message: string | (() => string)) => {
    const pos = locate.inside(path, offset);
    problems.push({ file: locate.file, line: pos.line, col: pos.col, code, message });
  };
  const roleIds = [...index.roles];
  const checkRole = (role: string, path: Path, what: string) => {
    if (!index.roles.has(role)) {
      report(path, 'unknown-role', `${what} '${role}' is not a declared role${didYouMean(role, roleIds) || ` (roles: ${roleIds.join(', ')})`}`);
    }
  };

  checkUniqueIds(doc, report);

  for (const [id, role] of Object.entries(doc.roles)) {
    (role.escalates_to ?? []).forEach((target, i) => {
      checkRole(target, ['roles', id, 'escalates_to', i], 'escalates_to');
      if (target === id) report(['roles', id, 'escalates_to', i], 'self-escalation', `role '${id}' escalates to itself: name the role above it`);
    });
  }

  const varNames = Object.keys(doc.vars ?? {});
  /** A pattern must compile; `check` (a default) must match it. */
  const checkPattern = (pattern: string, path: Path, what: string, check?: { value: string | number | boolean; path: Path }) => {
    const compiled = compilePattern(pattern);
    if (!compiled.ok) {
      report(path, 'bad-pattern', `the pattern of ${what} is not a valid regular expression (JavaScript syntax): ${compiled.message}`);
    } else if (check !== undefined && !compiled.regex.test(String(check.value))) {
      const shown = typeof check.value === 'string' ? `'${check.value}'` : String(check.value);
      report(check.path, 'default-breaks-pattern', `${what}: default ${shown} does not match its own pattern ${pattern}: change the default or the pattern`);
    }
  };
  for (const [name, value] of Object.entries(doc.vars ?? {})) {
    if (isVarSpec(value) && value.pattern !== undefined) {
      checkPattern(value.pattern, ['vars', name, 'pattern'], `vars.${name}`, { value: value.default, path: ['vars', name, 'default'] });
    }
  }
  const secrets = new Set(doc.secrets ?? []);
  for (const name of doc.secrets ?? []) {
    if (name in (doc.vars ?? {})) report(['vars', name], 'secret-var', `'${name}' is both a var and a secret: secrets come from the environment only; remove it from vars`, true);
  }

  /** Check one expression's references against the runbook. */
  const checkReferences = (expression: CompiledExpression, path: Path, baseOffset: number, scope: Scope, inShellArgv: boolean) => {
    for (const ref of expression.references) {
      const where = (r: Reference) => baseOffset + r.offset;
      switch (ref.root) {
        case 'steps': {
          const target = index.steps.get(ref.name);
          if (target === undefined) {
            reportInside(path, where(ref), 'unknown-step', () => `steps.${ref.name} names no step${didYouMean(ref.name, index.steps.keys())}`);
          } else if (ref.field !== undefined && !(STEP_FIELDS as readonly string[]).includes(ref.field)) {
            reportInside(path, baseOffset + (ref.fieldOffset ?? ref.offset), 'unknown-step-field', `steps.${ref.name}.${ref.field}: a step has no '${ref.field}'${didYouMean(ref.field, STEP_FIELDS) || ` (it has ${STEP_FIELDS.join(', ')})`}`);
          } else if (scope.kind === 'before' && target.order >= scope.order) {
            const why = target.order === scope.order ? 'is this very step' : target.rollback ? 'is a rollback step, which only runs after a failure' : 'runs after it';
            reportInside(path, where(ref), 'step-not-yet-run', `${scope.what} uses steps.${ref.name}, which ${why}; it can only use steps that come earlier`);
          }
          break;
        }
        case 'answers': {
          const target = index.steps.get(ref.name);
          const isGate = index.gates.has(ref.name);
          if (!isGate && (target === undefined || !isManualStep(target.step))) {
            reportInside(path, where(ref), 'unknown-answer', () => {
              const manual = [...index.steps.values()].filter((e) => isManualStep(e.step)).map((e) => e.step.id);
              return `answers.${ref.name} names no confirm, checklist or ask step and no gate${didYouMean(ref.name, [...manual, ...index.gates.keys()])}`;
            });
          } else if (target !== undefined && scope.kind === 'before' && target.order >= scope.order) {
            const why = target.order === scope.order ? 'is its own answer' : 'is asked after it';
            reportInside(path, where(ref), 'step-not-yet-run', `${scope.what} uses answers.${ref.name}, which ${why}; it can only use earlier answers`);
          }
          break;
        }
        case 'vars':
          if (!varNames.includes(ref.name)) {
            reportInside(path, where(ref), 'unknown-var', () => `vars.${ref.name} is not declared${didYouMean(ref.name, varNames) || `: add it under 'vars:' with a default value`}`);
          }
          break;
        case 'run':
          if (!(RUN_FIELDS as readonly string[]).includes(ref.name)) {
            reportInside(path, where(ref), 'unknown-run-field', `run.${ref.name} does not exist (run has ${RUN_FIELDS.join(', ')})${didYouMean(ref.name, RUN_FIELDS)}`);
          }
          break;
        case 'env':
          if (inShellArgv && secrets.has(ref.name)) {
            reportInside(path, where(ref), 'secret-in-argv', `env.${ref.name} is a secret and would be visible in the process list: steps already receive it as the environment variable $${ref.name}; use that instead`);
          }
          break;
      }
    }
  };

  const checkCel = (text: string, path: Path, scope: Scope, expectBool: boolean, dialect: CelDialect = 'general') => {
    const compiled = compileExpression(text, dialect);
    if (!compiled.ok) {
      reportInside(path, compiled.offset, 'bad-cel', `invalid CEL expression: ${compiled.message}`);
      return;
    }
    if (expectBool && compiled.expression.type !== 'bool' && compiled.expression.type !== 'dyn') {
      report(path, 'not-boolean', `this condition gives ${/^[aeiou]/.test(compiled.expression.type) ? 'an' : 'a'} ${compiled.expression.type}, not true or false: compare it, e.g. '${text} == …'`);
    }
    checkReferences(compiled.expression, path, 0, scope, false);
  };

  // Where a template lands in a shell `run:` string is checked with the shell's grammar: src/runbook/shell-check.ts.
  const checkTemplate = (text: string, path: Path, scope: Scope, options: { shell?: boolean; argv?: boolean } = {}) => {
    const compiled = compileTemplate(text);
    if (!compiled.ok) {
      reportInside(path, compiled.offset, 'bad-template', `invalid template: ${compiled.message}`);
      return;
    }
    for (const part of compiled.template.parts) {
      if (part.kind === 'expr') checkReferences(part.expression, path, part.offset, scope, options.shell === true || options.argv === true);
    }
  };

  const checkPositiveDuration = (value: string | undefined, path: Path, what: string) => {
    if (value !== undefined && parseDuration(value) === 0) report(path, 'zero-duration', `${what} of 0 makes no sense: give a positive duration such as 30s`);
  };

  const checkStep = (step: StepDoc, path: Path, scope: Scope, isCheckOfWatch = false) => {
    if (!isCheckOfWatch) checkRole(step.owner, [...path, 'owner'], 'owner');
    if (step.if !== undefined) checkCel(step.if, [...path, 'if'], scope, true);
    checkPositiveDuration(step.timeout, [...path, 'timeout'], 'a timeout');
    const kind = stepKind(step);
    if (step.pattern !== undefined) {
      if (kind !== 'ask') report([...path, 'pattern'], 'pattern-without-ask', `pattern applies to ask steps only (the answer must match it); step '${step.id}' is '${kind}': remove it`, true);
      else checkPattern(step.pattern, [...path, 'pattern'], `step '${step.id}'`);
    }
    if (typeof step.run === 'string') {
      checkTemplate(step.run, [...path, 'run'], scope, { shell: true });
    } else if (Array.isArray(step.run)) {
      step.run.forEach((arg, i) => checkTemplate(arg, [...path, 'run', i], scope, { argv: true }));
      if (step.run[0] === '') report([...path, 'run', 0], 'empty-command', 'the command (first item of run) is empty');
    }
    if (step.http !== undefined) {
      const http = step.http;
      checkTemplate(http.url, [...path, 'http', 'url'], scope);
      if (!/^(https?:\/\/|\$\{\{)/.test(http.url)) {
        report([...path, 'http', 'url'], 'bad-url', `url must start with http:// or https://, got '${http.url}'`);
      }
      for (const [name, value] of Object.entries(http.headers ?? {})) checkTemplate(value, [...path, 'http', 'headers', name], scope);
      if (http.body !== undefined) checkTemplate(http.body, [...path, 'http', 'body'], scope);
      if (http.expect?.body_contains !== undefined) checkTemplate(http.expect.body_contains, [...path, 'http', 'expect', 'body_contains'], scope);
      checkPositiveDuration(http.timeout, [...path, 'http', 'timeout'], 'a request timeout');
      if (http.concurrency !== undefined && http.samples !== undefined && http.concurrency > http.samples) {
        report([...path, 'http', 'concurrency'], 'concurrency-over-samples', `concurrency ${http.concurrency} is more than samples ${http.samples}: at most ${http.samples} requests can be in flight`);
      }
    }
    if (step.prometheus !== undefined) {
      const prom = step.prometheus;
      const at = (...keys: (string | number)[]): Path => [...path, 'prometheus', ...keys];
      checkTemplate(prom.url, at('url'), scope);
      if (!/^(https?:\/\/|\$\{\{)/.test(prom.url)) report(at('url'), 'bad-url', `url must start with http:// or https:// (the base of Prometheus, e.g. http://127.0.0.1:9090), got '${prom.url}'`);
      checkTemplate(prom.query, at('query'), scope);
      const placement = placePromqlTemplates(prom.query);
      if (!placement.ok) reportInside(at('query'), placement.offset, 'promql-template', placement.message);
      for (const [name, value] of Object.entries(prom.headers ?? {})) checkTemplate(value, at('headers', name), scope);
      if (prom.auth?.basic !== undefined) checkTemplate(prom.auth.basic.username, at('auth', 'basic', 'username'), scope);
      const secretNamed = (name: string | undefined, keys: string[]) => {
        if (name !== undefined && !secrets.has(name)) {
          report(at(...keys), 'auth-not-secret', `${keys.join('.')}: ${name} is not listed under secrets: add it there, so its value is passed to deployctl and masked everywhere`);
        }
      };
      secretNamed(prom.auth?.bearer, ['auth', 'bearer']);
      secretNamed(prom.auth?.basic?.password, ['auth', 'basic', 'password']);
      checkPositiveDuration(prom.range, at('range'), 'a range');
      checkPositiveDuration(prom.step, at('step'), 'a step');
      checkPositiveDuration(prom.timeout, at('timeout'), 'a request timeout');
      if (prom.range === undefined) {
        for (const key of ['step', 'reduce'] as const) {
          if (prom[key] !== undefined) report(at(key), 'needs-range', `${key} applies to range queries only: add range: (e.g. range: 10m) or remove ${key}`, true);
        }
      } else if (prom.step !== undefined && parseDuration(prom.step)! > parseDuration(prom.range)!) {
        report(at('step'), 'step-over-range', `step ${prom.step} is longer than range ${prom.range}: the query would read at most one point`);
      }
    }
    const isCheck = kind === 'prometheus' || (kind === 'http' && step.http?.json_path !== undefined);
    if (step.http?.json_path !== undefined) {
      const parsed = parseJsonPath(step.http.json_path);
      if (!parsed.ok) reportInside([...path, 'http', 'json_path'], parsed.offset, 'bad-json-path', `invalid json_path: ${parsed.message}`);
      if ((step.http.samples ?? 1) > 1) {
        report([...path, 'http', 'samples'], 'json-path-samples', 'json_path reads one number from one answer: remove samples (or make it a probe without json_path)');
      }
    }
    for (const key of ['expect', 'no_data'] as const) {
      if (step[key] !== undefined && !isCheck) {
        report([...path, key], 'not-a-check', `${key} applies to checks only (prometheus, or http with json_path); this step is '${kind}'${kind === 'http' ? ': add json_path, or judge the probe with metrics:' : ''}`, true);
      }
    }
    if (step.expect !== undefined) checkCel(step.expect, [...path, 'expect'], scope, true, 'check');
    for (const [name, value] of Object.entries(step.env ?? {})) checkTemplate(value, [...path, 'env', name], scope);
    if (step.cwd !== undefined) checkTemplate(step.cwd, [...path, 'cwd'], scope);
    for (const [name, threshold] of Object.entries(step.metrics ?? {})) {
      if (kind !== 'http' && name !== 'duration_ms') {
        report([...path, 'metrics', name], 'metric-needs-http', `${name} is measured by http probes only; this step is '${kind}' (only duration_ms applies)`, true);
      }
      if (threshold.min !== undefined && threshold.max !== undefined && threshold.min > threshold.max) {
        report([...path, 'metrics', name], 'min-over-max', `${name}: min ${threshold.min} is above max ${threshold.max}; no value can pass`);
      }
    }
    if (step.retry_delay !== undefined && (step.retries ?? 0) === 0) {
      report([...path, 'retry_delay'], 'delay-without-retries', 'retry_delay without retries has no effect: add retries: N or remove it', true);
    }
    if (step.watch !== undefined) checkWatch(step, path, scope);
  };

  /** A watch: a window that can hold its ticks, and checks that are valid steps of their own. */
  const checkWatch = (step: StepDoc, path: Path, scope: Scope) => {
    const watch = step.watch!;
    const at = (...keys: (string | number)[]): Path => [...path, 'watch', ...keys];
    for (const key of ['retries', 'retry_delay', 'timeout', 'metrics', 'env', 'cwd', 'idempotent'] as const) {
      if (step[key] === undefined) continue;
      const why = key === 'retries' || key === 'retry_delay' ? 'a watch tolerates failing ticks with watch.failure_limit' : key === 'idempotent' ? 'a watch always resumes its window' : key === 'timeout' ? 'a watch lasts its window (watch.for or watch.count)' : 'put it on the checks that need it';
      report([...path, key], 'not-for-watch', `${key} does not apply to a watch: ${why}`, true);
    }
    checkPositiveDuration(watch.every, at('every'), 'every');
    checkPositiveDuration(watch.for, at('for'), 'for');
    if ((watch.for === undefined) === (watch.count === undefined)) {
      report([...path, 'watch'], 'watch-length', watch.for === undefined ? 'a watch needs its length: for (a duration, e.g. for: 3h) or count (ticks, e.g. count: 12)' : 'a watch has for and count: give one of them');
    }
    const every = parseDuration(watch.every);
    const windowMs = watch.for !== undefined ? parseDuration(watch.for) : undefined;
    const delay = watch.initial_delay !== undefined ? parseDuration(watch.initial_delay) : 0;
    if (windowMs !== undefined && delay !== undefined && delay >= windowMs && windowMs > 0) {
      report(at('initial_delay'), 'delay-past-window', `initial_delay ${watch.initial_delay} is not shorter than the window (for: ${watch.for}): no tick would ever run`);
    }
    if (every !== undefined && every > 0 && windowMs !== undefined && delay !== undefined) {
      const ticks = Math.ceil((windowMs - delay) / every);
      if (ticks > 100_000) report(at('for'), 'too-many-ticks', `for ${watch.for} every ${watch.every} is ${ticks} ticks; a watch holds at most 100000: tick less often or watch for less long`);
    }
    const ids = new Set<string>();
    watch.checks.forEach((check, i) => {
      if (ids.has(check.id)) report(at('checks', i, 'id'), 'duplicate-id', `duplicate check id '${check.id}' in watch '${step.id}'`);
      ids.add(check.id);
      checkStep(checkAsStep(step, check), at('checks', i), scope, true);
    });
  };

  const hasRollbackSoFar = (phaseIndex: number) => doc.phases.slice(0, phaseIndex + 1).some((p) => (p.rollback ?? []).length > 0);

  // Same run order as indexRunbook: each step, then its phase's gate.
  let order = 0;
  doc.phases.forEach((phase, p) => {
    const phasePath: Path = ['phases', p];
    if ((phase.steps ?? []).length === 0 && phase.gate === undefined) {
      report(phasePath, 'empty-phase', `phase '${phase.id}' has no steps and no gate: add steps, a gate, or remove it`);
    }
    (phase.steps ?? []).forEach((step, s) => {
      checkStep(step, [...phasePath, 'steps', s], { kind: 'before', order: order++, what: `step '${step.id}'` });
    });
    (phase.rollback ?? []).forEach((step, s) => checkStep(step, [...phasePath, 'rollback', s], { kind: 'anywhere' }));
    // A phase's cleanup may run after a failure, a NO-GO or the rollback: any step may have a result by then.
    (phase.finally ?? []).forEach((step, s) => checkStep(step, [...phasePath, 'finally', s], { kind: 'anywhere' }));
    if (phase.gate !== undefined) {
      const gate = phase.gate;
      const gatePath: Path = [...phasePath, 'gate'];
      checkRole(gate.owner, [...gatePath, 'owner'], 'gate owner');
      const gateOrder = order++;
      if (gate.if !== undefined) checkCel(gate.if, [...gatePath, 'if'], { kind: 'before', order: gateOrder, what: "the gate's if" }, true);
      for (const [name, condition] of Object.entries(gate.require)) {
        if (typeof condition === 'string') {
          checkCel(condition, [...gatePath, 'require', name], { kind: 'before', order: gateOrder, what: `gate condition '${name}'` }, true);
        }
      }
      if (gate.on_no_go === 'rollback' && !hasRollbackSoFar(p)) {
        report([...gatePath, 'on_no_go'], 'nothing-to-roll-back', `on_no_go: rollback, but no phase up to '${phase.id}' has rollback steps: use on_no_go: abort or add rollback steps`);
      }
    }
  });

  doc.escalation?.forEach((rule, i) => {
    const path: Path = ['escalation', i];
    const triggers = (['after', 'on', 'when'] as const).filter((k) => rule[k] !== undefined);
    if (triggers.length !== 1) {
      report(path, 'escalation-trigger', triggers.length === 0
        ? `escalation '${rule.name}' has no trigger: give it one of after (a duration), on (failure, rollback, no-go, aborted, overrun) or when (a CEL condition)`
        : `escalation '${rule.name}' has ${triggers.join(' and ')}: give it exactly one trigger; split it into ${triggers.length} rules`);
    }
    checkPositiveDuration(rule.after, [...path, 'after'], 'after');
    rule.to?.forEach((role, j) => checkRole(role, [...path, 'to', j], 'escalation target'));
    if (rule.when !== undefined) checkCel(rule.when, [...path, 'when'], { kind: 'anywhere' }, true);
  });

  doc.success_metrics?.forEach((metric, i) => {
    if (metric.actual !== undefined) checkCel(metric.actual, ['success_metrics', i, 'actual'], { kind: 'anywhere' }, false);
    if (metric.ok !== undefined) checkCel(metric.ok, ['success_metrics', i, 'ok'], { kind: 'anywhere' }, true);
    if (metric.source !== undefined) checkTemplate(metric.source, ['success_metrics', i, 'source'], { kind: 'anywhere' });
  });

  if (doc.rollback !== undefined) {
    checkRole(doc.rollback.authorize, ['rollback', 'authorize'], 'rollback authorize');
    if (doc.rollback.version !== undefined) checkTemplate(doc.rollback.version, ['rollback', 'version'], { kind: 'anywhere' });
  }
  problems.push(...checkFailurePolicy(doc, locate));

  checkPositiveDuration(doc.notify?.status_every, ['notify', 'status_every'], 'status_every');
  if (typeof doc.target_duration === 'object') {
    const target = doc.target_duration;
    const ids = doc.phases.map((p) => p.id);
    checkPositiveDuration(target.limit, ['target_duration', 'limit'], 'a target duration');
    for (const key of ['from', 'to'] as const) {
      const id = target[key];
      if (id !== undefined && !ids.includes(id)) report(['target_duration', key], 'unknown-phase', `target_duration.${key}: '${id}' names no phase${didYouMean(id, ids) || ` (phases: ${ids.join(', ')})`}`);
    }
    if (target.from !== undefined && target.to !== undefined && ids.indexOf(target.from) > ids.indexOf(target.to) && ids.includes(target.to)) {
      report(['target_duration', 'to'], 'phases-out-of-order', `target_duration runs from '${target.from}' to '${target.to}', which comes before it: swap them`);
    }
  }
  doc.notify?.channels?.forEach((channel, i) => {
    const path: Path = ['notify', 'channels', i];
    const sinks = (['webhook', 'file'] as const).filter((k) => channel[k] !== undefined);
    if (sinks.length !== 1) {
      report(path, 'channel-sink', sinks.length === 0 ? `channel '${channel.id}' goes nowhere: give it a webhook or a file` : `channel '${channel.id}' has both webhook and file: make them two channels`);
    }
    if (channel.webhook !== undefined) checkTemplate(channel.webhook, [...path, 'webhook'], { kind: 'anywhere' });
    if (channel.file !== undefined) checkTemplate(channel.file, [...path, 'file'], { kind: 'anywhere' });
    if (channel.if !== undefined) checkCel(channel.if, [...path, 'if'], { kind: 'anywhere' }, true);
  });

  return capProblems(problems);
}

function checkUniqueIds(doc: RunbookDoc, report: (path: Path, code: string, message: string) => void): void {
  const seen = new Map<string, string>();
  const claim = (id: string, path: Path, what: string) => {
    const previous = seen.get(id);
    if (previous !== undefined) {
      report(path, 'duplicate-id', `duplicate id '${id}': already used by ${previous}; ids must be unique across phases, steps and gates`);
    } else {
      seen.set(id, `${what} at ${path.join('.')}`.replace(/\.(\d+)/g, '[$1]'));
    }
  };
  doc.phases.forEach((phase, p) => {
    claim(phase.id, ['phases', p, 'id'], 'a phase');
    (phase.steps ?? []).forEach((step, s) => claim(step.id, ['phases', p, 'steps', s, 'id'], 'a step'));
    // After the steps, as it runs (and is usually written). A gate without an id takes its phase's id;
    // only an explicit one can collide.
    if (phase.gate?.id !== undefined && phase.gate.id !== phase.id) claim(phase.gate.id, ['phases', p, 'gate', 'id'], 'a gate');
    (phase.rollback ?? []).forEach((step, s) => claim(step.id, ['phases', p, 'rollback', s, 'id'], 'a rollback step'));
    (phase.finally ?? []).forEach((step, s) => claim(step.id, ['phases', p, 'finally', s, 'id'], 'a finally step'));
  });
  const checkList = (items: { id: string }[] | undefined, key: string[], what: string) => {
    const ids = new Set<string>();
    items?.forEach((item, i) => {
      if (ids.has(item.id)) report([...key, i, 'id'], 'duplicate-id', `duplicate ${what} id '${item.id}'`);
      ids.add(item.id);
    });
  };
  checkList(doc.success_metrics, ['success_metrics'], 'success metric');
  checkList(doc.notify?.channels, ['notify', 'channels'], 'channel');
}
