// Short human phrases for plan items (a probe, a command, a step's retry policy), shared by the text and Markdown renderers.
import { oneLine, type HttpAction, type PlanEscalation, type PlanStep, type PrometheusAction, type RunAction, type WatchAction } from './model.js';
import { quoteWord } from './step.js';

/** A command as one line, with any multi-line script (a shell script, a `node -e` program) lifted out into blocks. */
export interface CommandView {
  line: string;
  scripts: string[];
}

export function describeCommand(action: RunAction): CommandView {
  if (action.shell) {
    const script = trimNewlines(action.command);
    return script.includes('\n') ? { line: '[shell script ↓]', scripts: [script] } : { line: script, scripts: [] };
  }
  const argv = action.argv ?? [];
  const scripts = argv.filter(isScript).map(trimNewlines);
  if (scripts.length === 0) return { line: action.command, scripts: [] };
  let n = 0;
  const line = argv.map((arg) => (isScript(arg) ? (scripts.length === 1 ? '[script ↓]' : `[script ${++n} ↓]`) : quoteWord(arg))).join(' ');
  return { line, scripts };
}

function isScript(arg: string): boolean {
  return trimNewlines(arg).includes('\n');
}

function trimNewlines(text: string): string {
  return text.replace(/\n+$/, '');
}

/** `GET http://…/api/health ×20 (concurrency 4)` */
export function describeProbe(action: HttpAction): string {
  let text = `${action.method} ${action.url}`;
  if (action.samples !== null) text += ` ×${action.samples}`;
  if (action.concurrency !== null) text += ` (concurrency ${action.concurrency})`;
  return text;
}

/** `query sum(rate(…)) at http://…:9090 over 10m (step 30s, max)` */
export function describeQuery(action: PrometheusAction): string {
  const range = action.range === null ? '' : ` over ${action.range} (${action.step === null ? '' : `step ${action.step}, `}${action.reduce ?? 'last'})`;
  // An empty URL is a var left empty (phase65's prometheus_url): say so rather than end on "at".
  return `query ${oneLine(action.query)} at ${action.url === '' ? '(no URL: its var is empty)' : action.url}${range}`;
}

/** `every 15m for 3h (12 ticks), failure_limit 1: health, chat` */
export function describeWatch(action: WatchAction): string {
  const length = action.for !== null ? `for ${action.for} (${action.ticks} ticks)` : `${action.ticks} ticks`;
  const delay = action.initial_delay !== null ? `, first after ${action.initial_delay}` : '';
  const limits = [action.failure_limit > 0 ? `failure_limit ${action.failure_limit}` : '', action.inconclusive_limit > 0 ? `inconclusive_limit ${action.inconclusive_limit}` : ''].filter((s) => s !== '');
  return `every ${action.every} ${length}${delay}${limits.length > 0 ? `, ${limits.join(', ')}` : ''}: ${action.checks.map((c) => c.id).join(', ')}`;
}

/** What a probe sends beyond the URL and what it expects back: `expect status 200`, `body contains "ok"`, thresholds. */
export function describeExpectations(step: PlanStep): string[] {
  const parts: string[] = [];
  if (step.action.kind === 'http') {
    const http = step.action;
    for (const [name, value] of Object.entries(http.headers)) parts.push(`header ${name}: ${value}`);
    if (http.body !== null) parts.push(`body ${oneLine(http.body)}`);
    if (http.expect.status !== null) parts.push(`expect status ${http.expect.status.join(' or ')}`);
    if (http.expect.body_contains !== null) parts.push(`body contains ${JSON.stringify(http.expect.body_contains)}`);
    if (http.json_path !== undefined) parts.push(`read ${http.json_path}`);
  }
  if (step.action.kind === 'prometheus') {
    for (const name of Object.keys(step.action.headers)) parts.push(`header ${name}`);
    if (step.action.auth !== null) parts.push(`auth ${step.action.auth}`);
    if (step.action.ca_file !== null) parts.push(`CA ${step.action.ca_file}`);
  }
  if (step.check !== undefined) {
    if (step.check.expect !== null) parts.push(`expect ${oneLine(step.check.expect)}`);
    parts.push(`no data: ${step.check.no_data}`);
  }
  for (const threshold of step.metrics) parts.push(threshold.text);
  return parts;
}

/** `if …`, timeout, retries, idempotence: the conditions around a step, in a fixed order. */
export function describeConditions(step: PlanStep): string[] {
  const parts: string[] = [];
  if (step.if !== null) parts.push(`only if ${oneLine(step.if)}`);
  if (step.timeout !== null) parts.push(`timeout ${step.timeout}`);
  if (step.action.kind === 'http' && step.action.timeout !== null) parts.push(`request timeout ${step.action.timeout}`);
  if (step.action.kind === 'http' && step.action.interval !== null) parts.push(`interval ${step.action.interval}`);
  if (step.action.kind === 'prometheus' && step.action.timeout !== null) parts.push(`request timeout ${step.action.timeout}`);
  if (step.retries > 0) parts.push(`retries ${step.retries}${step.retry_delay === null ? '' : ` every ${step.retry_delay}`}`);
  if (step.idempotent) parts.push('idempotent');
  if (step.cwd !== null) parts.push(`cwd ${step.cwd}`);
  if (step.env.length > 0) parts.push(`env ${step.env.join(', ')}`);
  const failure = describeFailure(step);
  if (failure !== undefined) parts.push(failure);
  return parts;
}

/** What the step's failure leads to, when it is not the plain "stop and roll back": `on failure: gate go-no-go decides`. */
export function describeFailure(step: PlanStep): string | undefined {
  const f = step.on_failure;
  if (f === null) return undefined;
  switch (f.policy) {
    case 'continue':
      return 'on failure: continue (recorded, alerted, the run goes on)';
    case 'ask':
      return 'on failure: ask the owner (roll back, continue or abort)';
    case 'gate':
      return `on failure: gate ${f.gate ?? '?'} decides${f.default ? ' (default here)' : ''}`;
    case 'rollback':
      return f.declared === 'gate' ? 'on failure: rollback (on_failure: gate, but no gate is ahead)' : undefined;
  }
}

/** The one-line gist of a step: the probe, the command, the items, the question. */
export function describeAction(step: PlanStep): string {
  const action = step.action;
  switch (action.kind) {
    case 'run':
      return describeCommand(action).line;
    case 'http':
      return describeProbe(action);
    case 'prometheus':
      return describeQuery(action);
    case 'watch':
      return describeWatch(action);
    case 'checklist':
      return action.items.join(', ');
    case 'confirm':
    case 'ask':
      return action.text;
  }
}

/** `Deployment Lead · Ana Torres`, or the title alone when nobody is named. */
export function describeOwner(title: string, person: string | null): string {
  return person === null ? title : `${title} · ${person}`;
}

/** `Tech Lead, CTO` */
export function describeTargets(rule: PlanEscalation): string {
  return rule.to.map((r) => r.title).join(', ');
}

/** True when the title only repeats the start of the detail, so printing both says it twice. */
export function isTitleRedundant(step: PlanStep, detail: string): boolean {
  const title = step.title.toLowerCase().replace(/[ …]+$/, '');
  return step.title === step.id || detail.toLowerCase().startsWith(title);
}
