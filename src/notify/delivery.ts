// Where the notifier's messages go: channels (a Slack-style webhook, a file), masked, in order per channel, retried; never an exception.
import { inertText } from '../inert.js';
import { compileExpression, evaluateExpression } from '../expr/cel.js';
import { compileTemplate, renderTemplate } from '../expr/template.js';
import type { MessageKind } from './messages.js';
import type { NotifierDeps } from './notifier.js';

export interface Delivery {
  /** Send one message to every enabled channel (printed, not sent, in a dry run); the outcome is an event. */
  deliver(kind: MessageKind, rawText: string): void;
  /** Webhook deliveries still in flight. */
  pending: Set<Promise<void>>;
}

export function createDelivery(deps: NotifierDeps): Delivery {
  const { doc, clock } = deps;
  const pending = new Set<Promise<void>>();
  const queues = new Map<string, Promise<void>>();

  const channelEnabled = (condition: string | undefined): boolean => {
    if (condition === undefined) return true;
    const compiled = compileExpression(condition);
    if (!compiled.ok) return false;
    const result = evaluateExpression(compiled.expression, { env: deps.env });
    return result.ok && result.value === true;
  };
  const renderChannelTemplate = (text: string): string | undefined => {
    const compiled = compileTemplate(text);
    if (!compiled.ok) return undefined;
    const rendered = renderTemplate(compiled.template, { env: deps.env });
    return rendered.ok ? rendered.value : undefined;
  };

  function deliver(kind: MessageKind, rawText: string): void {
    // Masked, then made inert: a message quotes step reasons, titles and answers, and ends up in chat clients, log
    // files people tail, and terminals; what it says is kept, what it would do to a terminal is not.
    const text = inertText(deps.mask(rawText));
    for (const channel of doc.notify?.channels ?? []) {
      if (!channelEnabled(channel.if)) continue;
      const base = { kind: 'notification' as const, channel: channel.id, messageKind: kind, text };
      if (deps.dryRun) {
        // Its headline only: the body's figures (duration, checks, "Live in production") would be this dry run's, not a
        // deployment's, and read as if it had happened.
        deps.print(`[${channel.id}] ${kind} message "${text.split('\n')[0]!.trim()}"`);
        deps.emit({ ...base, at: clock.now(), delivered: false, attempts: 0, dryRun: true });
        continue;
      }
      if (channel.file !== undefined) {
        const file = renderChannelTemplate(channel.file);
        try {
          if (file === undefined || file === '') throw new Error(`the file template ${channel.file} gives no path`);
          deps.appendFile(deps.resolvePath(file), `--- ${new Date(clock.now()).toISOString()} ${kind}\n${text}\n\n`);
          deps.emit({ ...base, at: clock.now(), delivered: true, attempts: 1 });
        } catch (error) {
          deps.emit({ ...base, at: clock.now(), delivered: false, attempts: 1, error: deps.mask((error as Error).message) });
        }
      } else if (channel.webhook !== undefined) {
        const url = renderChannelTemplate(channel.webhook);
        if (url === undefined || url === '') {
          deps.emit({ ...base, at: clock.now(), delivered: false, attempts: 0, error: 'the webhook URL is empty (is its environment variable set?)' });
          continue;
        }
        // One message at a time per channel, so the channel reads in order (an alert is not overtaken by the all-clear).
        const previous = queues.get(channel.id) ?? Promise.resolve();
        const delivery = previous.then(() => postWebhook(url, text)).then((result) => deps.emit({ ...base, at: clock.now(), ...result }));
        queues.set(channel.id, delivery);
        pending.add(delivery);
        void delivery.finally(() => pending.delete(delivery));
      }
    }
  }

  /** Slack-compatible POST {"text": …}: a short timeout, a few retries with backoff, never an exception. */
  async function postWebhook(url: string, text: string): Promise<{ delivered: boolean; attempts: number; error?: string }> {
    const attempts = deps.webhook?.attempts ?? 3;
    const backoff = deps.webhook?.backoffMs ?? 500;
    let error = 'not sent';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const result = await deps.send({
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
        timeoutMs: deps.webhook?.timeoutMs ?? 5000,
      });
      if (result.ok && result.status >= 200 && result.status < 300) return { delivered: true, attempts: attempt };
      error = result.ok ? `HTTP ${result.status}` : result.error;
      if (attempt < attempts) await (deps.deliveryClock ?? clock).sleep(backoff * 2 ** (attempt - 1));
    }
    return { delivered: false, attempts, error: deps.mask(error) };
  }

  return { deliver, pending };
}
