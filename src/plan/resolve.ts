// Fill in the `${{ }}` templates a plan can know before the run: those that read only `vars`, from the runbook's defaults.
import { compileTemplate, renderTemplate, type RenderMode } from '../expr/template.js';
import type { Scalar } from '../runbook/types.js';

/** Roots whose values exist only during a run (or must never be printed, like env). */
const RUN_TIME_ROOT = /(?<![.\w])(steps|answers|env|run)(?!\w)/;

/**
 * Each template whose expression uses nothing but `vars` is rendered (shell-quoted in `shell` mode);
 * the others stay as their `${{ … }}` text, so the plan shows what it cannot know yet.
 */
export function resolveVarTemplates(text: string, vars: Record<string, Scalar>, mode: RenderMode = 'text'): string {
  const compiled = compileTemplate(text);
  if (!compiled.ok) return text;
  let out = '';
  for (const part of compiled.template.parts) {
    if (part.kind === 'text') {
      out += part.text;
      continue;
    }
    const source = part.expression.source;
    const verbatim = `\${{ ${source} }}`;
    if (usesRunTimeValues(source)) {
      out += verbatim;
      continue;
    }
    const rendered = renderTemplate({ source: verbatim, parts: [part] }, { vars }, mode);
    out += rendered.ok ? rendered.value : verbatim;
  }
  return out;
}

/** True when the expression names steps, answers, env or run anywhere outside a string literal. */
export function usesRunTimeValues(source: string): boolean {
  return RUN_TIME_ROOT.test(stripStringLiterals(source));
}

function stripStringLiterals(source: string): string {
  return source.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, '""');
}
