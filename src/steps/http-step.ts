// `http:` steps: resolve templates, probe with the shared HTTP prober, judge the metrics against the step's thresholds.
import { parseDuration } from '../runbook/duration.js';
import { describeProbe, probeFromDoc, probeHttp } from './http.js';
import { runJsonMetricCheck } from './json-metric.js';
import { withStepTimeout } from './prometheus.js';
import { judgeProbe } from './metrics.js';
import { renderStepText } from './render.js';
import type { StepResult, StepRunContext } from './types.js';

export async function runHttpStep(ctx: StepRunContext): Promise<StepResult> {
  const http = ctx.step.http!;
  // A dry run cannot resolve templates that need step results or answers: show the probe as written.
  const unresolved = (why: string): StepResult =>
    ctx.dryRun
      ? { status: 'skipped', dryRun: true, command: ctx.mask(`${http.method ?? 'GET'} ${http.url}`), reason: `dry run: no request sent; resolved at run time (${why})` }
      : { status: 'failed', reason: why };
  const url = renderStepText(http.url, ctx.context);
  if (!url.ok) return unresolved(`url: ${url.reason}`);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(http.headers ?? {})) {
    const rendered = renderStepText(value, ctx.context);
    if (!rendered.ok) return unresolved(`header ${name}: ${rendered.reason}`);
    headers[name] = rendered.value;
  }
  const body = http.body !== undefined ? renderStepText(http.body, ctx.context) : undefined;
  if (body !== undefined && !body.ok) return unresolved(`body: ${body.reason}`);
  const contains = http.expect?.body_contains !== undefined ? renderStepText(http.expect.body_contains, ctx.context) : undefined;
  if (contains !== undefined && !contains.ok) return unresolved(`expect.body_contains: ${contains.reason}`);

  // The probe as the step describes it, with its templates rendered.
  const probe = probeFromDoc({
    ...http,
    url: url.value,
    headers,
    ...(body?.ok ? { body: body.value } : {}),
    ...(http.expect !== undefined ? { expect: { ...http.expect, ...(contains?.ok ? { body_contains: contains.value } : {}) } } : {}),
  });
  const samples = http.samples ?? 1;
  if (http.json_path !== undefined) {
    const command = ctx.mask(`${describeProbe(probe)} → ${http.json_path}`);
    if (ctx.dryRun) return { status: 'skipped', dryRun: true, command, reason: 'dry run: no request sent' };
    const jsonPath = http.json_path;
    return withStepTimeout(ctx, command, (signal) =>
      runJsonMetricCheck(
        {
          url: probe.url,
          ...(probe.method !== undefined ? { method: probe.method } : {}),
          ...(probe.headers !== undefined ? { headers: probe.headers } : {}),
          ...(probe.body !== undefined ? { body: probe.body } : {}),
          ...(probe.timeoutMs !== undefined ? { timeoutMs: probe.timeoutMs } : {}),
          ...(probe.expect !== undefined ? { expect: probe.expect } : {}),
          jsonPath,
          ...(ctx.step.expect !== undefined ? { check: ctx.step.expect } : {}),
          ...(ctx.step.no_data !== undefined ? { noData: ctx.step.no_data } : {}),
        },
        { send: ctx.send, clock: ctx.clock, context: ctx.context, mask: ctx.mask },
        signal,
      ),
    );
  }
  const command = ctx.mask(`${describeProbe(probe)}${samples > 1 ? ` ×${samples}` : ''}`);
  if (ctx.dryRun) return { status: 'skipped', dryRun: true, command, reason: 'dry run: no request sent' };

  // The step's own timeout bounds the whole probe; one controller per step (AbortSignal.any leaks on Node 20).
  const stepTimeout = ctx.step.timeout !== undefined ? parseDuration(ctx.step.timeout) : undefined;
  const controller = new AbortController();
  const onAbort = () => controller.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const timer = stepTimeout !== undefined ? ctx.clock.setTimer(stepTimeout, () => controller.abort('timeout')) : undefined;
  let result;
  try {
    result = await probeHttp(probe, { send: ctx.send, clock: ctx.clock }, controller.signal, ctx.onProgress && ((done, total) => ctx.onProgress!(done, total, 'samples')));
  } finally {
    timer?.cancel();
    ctx.signal.removeEventListener('abort', onAbort);
  }
  const { metrics } = result;
  // The warm-up goes beside the metrics, never into them (ports/warmup-ledger.ts).
  const warmup = result.warmup !== undefined ? { warmup: { requests: result.warmup.requests, failed: result.warmup.failed, maxMs: result.warmup.maxMs } } : {};
  if (ctx.signal.aborted) return { status: 'interrupted', command, metrics, ...warmup, reason: 'interrupted' };
  if (controller.signal.aborted) {
    return { status: 'failed', command, metrics, ...warmup, timedOut: true, reason: `timed out after ${ctx.step.timeout} (${metrics.samples} of ${samples} samples done)` };
  }
  const verdict = judgeProbe(result, ctx.step.metrics);
  if (!verdict.ok) return { status: 'failed', command, metrics, ...warmup, failures: verdict.failures.map(ctx.mask), reason: ctx.mask(verdict.reason ?? 'probe failed') };
  return { status: 'succeeded', command, metrics, ...warmup };
}
