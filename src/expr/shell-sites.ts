// The templates of a shell `run:` string and the verdicts on them: the shared vocabulary of shell-placement.ts and shell-tree.ts.
import type { CommandInspection, ReparseWarning } from './shell-commands.js';
import { splitTemplate } from './template.js';

/** Where a template may stand: its value is one literal word the shell passes on without reading it again. */
export const ALLOWED_CONTEXTS = ['argument', 'command-name', 'assignment', 'redirect-target', 'for-list', 'test-operand'] as const;

/** Where a template is refused, innermost first when contexts nest. */
export const REFUSED_CONTEXTS = [
  'single-quotes',
  'double-quotes',
  'ansi-c-quotes',
  'here-document',
  'comment',
  'arithmetic',
  'after-backslash',
  'backticks',
  'command-substitution',
  'process-substitution',
  'parameter-expansion',
  'case-pattern',
  'case-subject',
  'double-brackets',
  'declaration',
  'array',
  'descriptor',
  'here-string',
  'unparsed',
  'other',
] as const;

export type AllowedContext = (typeof ALLOWED_CONTEXTS)[number];
export type RefusedContext = (typeof REFUSED_CONTEXTS)[number];
export type ShellContext = AllowedContext | RefusedContext;

export interface PlacedTemplate {
  /** Offset of `${{` in the script. */
  start: number;
  /** Offset just after `}}`. */
  end: number;
  /** The CEL expression, as written. */
  source: string;
  context: ShellContext;
  allowed: boolean;
  /** For `unparsed`: where in the script the parser got lost (offset). */
  errorAt?: number;
}

export interface ShellTemplateReport {
  templates: PlacedTemplate[];
  warnings: ReparseWarning[];
}

export interface Site {
  start: number;
  end: number;
  source: string;
}

export function sitesOf(script: string): Site[] {
  const split = splitTemplate(script);
  // An unclosed or empty template is reported by the template check itself (semantic.ts).
  if (!split.ok) return [];
  return split.parts.flatMap((p) => (p.kind === 'expr' ? [{ start: p.start, end: p.end, source: p.source }] : []));
}

/** Refusals from what a command does with its words (let, declarations) override the word's own verdict. */
export function applyInspection(templates: PlacedTemplate[], inspection: CommandInspection): ShellTemplateReport {
  for (const refusal of inspection.refusals) {
    const t = templates.find((x) => x.start === refusal.start);
    if (t !== undefined) Object.assign(t, { context: refusal.context, allowed: false });
  }
  const refused = new Set(templates.filter((t) => !t.allowed).map((t) => t.start));
  return { templates, warnings: inspection.warnings.filter((w) => !refused.has(w.start)) };
}
