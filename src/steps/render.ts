// A step's templated text (`${{ }}`), resolved against the expression context; a failure is a reason, not a throw.
import type { CelContext } from '../expr/cel.js';
import { compileTemplate, renderTemplate, type RenderMode } from '../expr/template.js';

export type RenderedText = { ok: true; value: string } | { ok: false; reason: string };

/** `shell` quotes each value as one word of a shell string; `text` puts it in as it is. */
export function renderStepText(text: string, context: CelContext, mode: RenderMode = 'text'): RenderedText {
  const compiled = compileTemplate(text);
  if (!compiled.ok) return { ok: false, reason: `template: ${compiled.message}` };
  const rendered = renderTemplate(compiled.template, context, mode);
  return rendered.ok ? rendered : { ok: false, reason: `template ${rendered.message}` };
}
