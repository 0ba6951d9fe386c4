// `run:` steps: a shell string (template values become single quoted words) or an argv list (no shell), in the runbook's directory.
import * as path from 'node:path';
import { createOutputCollector } from '../engine/output.js';
import { inert } from '../inert.js';
import { shellQuote } from '../expr/template.js';
import type { CommandSpec } from '../ports/types.js';
import { parseDuration } from '../runbook/duration.js';
import { checkThresholds } from './metrics.js';
import { renderStepText } from './render.js';
import type { StepResult, StepRunContext } from './types.js';

export type RenderedCommand = { ok: true; command: CommandSpec; display: string } | { ok: false; reason: string };

/** Resolve templates: in a shell string each value is one quoted word; in an argv list each item stays one argument. */
export function renderCommand(run: string | string[], ctx: Pick<StepRunContext, 'context'>): RenderedCommand {
  if (typeof run === 'string') {
    const rendered = renderStepText(run, ctx.context, 'shell');
    return rendered.ok ? { ok: true, command: { shell: rendered.value }, display: rendered.value } : rendered;
  }
  const argv: string[] = [];
  for (const item of run) {
    const rendered = renderStepText(item, ctx.context);
    if (!rendered.ok) return rendered;
    if (rendered.value.includes('\0')) return { ok: false, reason: 'an argument contains a NUL character, which no command can receive' };
    argv.push(rendered.value);
  }
  return { ok: true, command: { argv }, display: argv.map(shellQuote).join(' ') };
}

export function renderEnv(env: Record<string, string> | undefined, ctx: Pick<StepRunContext, 'context'>): { ok: true; env: Record<string, string> } | { ok: false; reason: string } {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env ?? {})) {
    const rendered = renderStepText(value, ctx.context);
    if (!rendered.ok) return { ok: false, reason: `env.${name}: ${rendered.reason}` };
    if (rendered.value.includes('\0')) return { ok: false, reason: `env.${name} contains a NUL character` };
    out[name] = rendered.value;
  }
  return { ok: true, env: out };
}

/**
 * Secrets reach steps through the environment only: a command line is visible to every user of the machine (ps).
 * In a shell string a value is single quoted, so a secret with a ' in it is there as '\'' quoting spells it. Case is
 * ignored, as the masker ignores it: an upper-cased token on a command line gives most of it away.
 */
export function secretInCommand(command: CommandSpec, secretValues: readonly string[]): boolean {
  const parts = ('shell' in command ? [command.shell] : command.argv).map((part) => part.toLowerCase());
  const spellings = (secret: string) => ('shell' in command && secret.includes("'") ? [secret, secret.replace(/'/g, `'\\''`)] : [secret]).map((form) => form.toLowerCase());
  return secretValues.some((secret) => secret.length > 0 && spellings(secret).some((form) => parts.some((part) => part.includes(form))));
}

export async function runCommandStep(ctx: StepRunContext): Promise<StepResult> {
  const { step } = ctx;
  const rendered = renderCommand(step.run!, ctx);
  if (!rendered.ok) return ctx.dryRun ? unresolvedInDryRun(step.run!, rendered.reason, ctx) : { status: 'failed', reason: rendered.reason };
  const command = ctx.mask(rendered.display);
  if (secretInCommand(rendered.command, ctx.secretValues)) {
    return { status: 'failed', command, reason: 'refused to run: a secret value would appear on the command line; pass it through the environment ($NAME) instead' };
  }
  const env = renderEnv(step.env, ctx);
  if (!env.ok) return ctx.dryRun ? unresolvedInDryRun(step.run!, env.reason, ctx) : { status: 'failed', command, reason: env.reason };
  let cwd = ctx.source.dir;
  if (step.cwd !== undefined) {
    const dir = renderStepText(step.cwd, ctx.context);
    if (!dir.ok) return ctx.dryRun ? unresolvedInDryRun(step.run!, `cwd: ${dir.reason}`, ctx) : { status: 'failed', command, reason: `cwd: ${dir.reason}` };
    cwd = path.resolve(ctx.source.dir, dir.value);
  }
  if (ctx.dryRun) return { status: 'skipped', dryRun: true, command, reason: 'dry run: not executed' };

  const timeoutMs = step.timeout !== undefined ? parseDuration(step.timeout) : undefined;
  const output = createOutputCollector({ ...(ctx.masker !== undefined ? { masker: ctx.masker } : { mask: ctx.mask }), onLine: ctx.onLine });
  const result = await ctx.exec({
    command: rendered.command,
    cwd,
    env: { ...ctx.env, ...env.env, ...ctx.processMarks },
    signal: ctx.signal,
    onOutput: (stream, chunk) => output.push(stream, chunk),
    ...(ctx.onSpawn !== undefined ? { onSpawn: ctx.onSpawn } : {}),
    ...(ctx.processMarks !== undefined ? { marks: Object.entries(ctx.processMarks).map(([name, value]) => `${name}=${value}`) } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(ctx.killGraceMs !== undefined ? { killGraceMs: ctx.killGraceMs } : {}),
  });
  const collected = output.finish();
  const base: StepResult = {
    status: 'failed',
    command,
    exitCode: result.exitCode,
    signal: result.signal,
    stdout: collected.stdout.tail,
    stderr: collected.stderr.tail,
    fullOutput: { stdout: collected.stdout.kept, stderr: collected.stderr.kept },
    ...(result.timedOut ? { timedOut: true } : {}),
  };
  if (result.spawnError !== undefined) return { ...base, reason: result.spawnError };
  if (result.interrupted) return { ...base, status: 'interrupted', reason: `interrupted: the process tree was stopped${sweptNote(result.swept)}` };
  if (result.timedOut) return { ...base, reason: `timed out after ${step.timeout}: the process tree was stopped${sweptNote(result.swept)}` };
  if (result.exitCode !== 0) {
    const how = result.exitCode === null ? `killed by ${result.signal ?? 'a signal'}` : `exit code ${result.exitCode}`;
    const last = lastLine(collected.stderr.tail.text) ?? lastLine(collected.stdout.tail.text);
    return { ...base, reason: last ? `${how}: ${last}` : how };
  }
  const failures = step.metrics ? checkThresholds({ duration_ms: result.durationMs }, step.metrics) : [];
  if (failures.length > 0) return { ...base, failures, reason: failures.join('; ') };
  return { ...base, status: 'succeeded' };
}

/** The output's last line, quoted in the failure reason: inert, because reasons are printed to terminals. */
function lastLine(text: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const last = lines.at(-1);
  if (last === undefined) return undefined;
  const shown = inert(last);
  return shown.length > 200 ? `${shown.slice(0, 200)}…` : shown;
}

/** In a dry run, a template that needs a step's output or an answer cannot be resolved yet: show it as written. */
export function unresolvedInDryRun(run: string | string[], why: string, ctx: Pick<StepRunContext, 'mask'>): StepResult {
  const text = typeof run === 'string' ? run : run.map((a) => (a.includes('${{') ? a : shellQuote(a))).join(' ');
  return { status: 'skipped', dryRun: true, command: ctx.mask(text), reason: `dry run: not executed; resolved at run time (${why})` };
}

/** `; so were 2 processes it had moved out of its process group: sleep (pid 4242), ssh (pid 4250)`, or nothing. */
function sweptNote(swept: readonly { pid: number; name: string }[] | undefined): string {
  if (swept === undefined || swept.length === 0) return '';
  const listed = swept.map((p) => `${inert(p.name)} (pid ${p.pid})`).join(', ');
  return `; so ${swept.length === 1 ? 'was 1 process' : `were ${swept.length} processes`} it had moved out of its process group: ${listed}`;
}
