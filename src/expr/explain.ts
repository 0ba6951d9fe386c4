// Why a CEL condition did not hold, with the values it saw: `result < 0.001` → `0.0021 ≥ 0.001`.
import type { ASTNode } from '@marcbachmann/cel-js';
import { compileExpression, evaluateExpression, type CelContext, type CompiledExpression } from './cel.js';

/** The operator that held instead, for a comparison that was false. */
const NEGATED: Record<string, string> = { '<': '≥', '<=': '>', '>': '≤', '>=': '<', '==': '≠', '!=': '=' };

export interface ExplainOptions {
  /** Names shown before the value of a bare identifier: `{ result: 'error rate' }` → `error rate 0.0021 ≥ 0.001`. */
  names?: Record<string, string>;
}

/**
 * The parts of a false condition that made it false, each rendered with the values it compared. A comparison shows
 * its operands' values and the relation that held instead (`0.0021 ≥ 0.001`); `a && b` explains the operand that was
 * false; `a || b` explains every operand; `c ? a : b` explains the branch taken. Anything else is `<text> is false`.
 * Sub-expressions are re-evaluated from their own text against the same context: never throws, and an operand that
 * does not evaluate is shown as its text.
 */
export function explainFalse(expression: CompiledExpression, context: CelContext, options: ExplainOptions = {}): string {
  const explainer = new Explainer(expression, context, options);
  return explainer.why(expression.ast) ?? `${expression.source} is false`;
}

class Explainer {
  constructor(
    private readonly expression: CompiledExpression,
    private readonly context: CelContext,
    private readonly options: ExplainOptions,
  ) {}

  /** Why `node` was false; undefined when it was not false (or could not be told). */
  why(node: ASTNode, depth = 0): string | undefined {
    if (depth > 16) return undefined;
    const value = this.valueOf(node);
    if (value.ok && value.value !== false) return undefined;
    const args = node.args as unknown;
    switch (node.op) {
      case '&&': {
        const parts = (args as ASTNode[]).map((arg) => this.why(arg, depth + 1)).filter((p): p is string => p !== undefined);
        return parts.length > 0 ? parts.join('; ') : this.plain(node);
      }
      case '||': {
        const parts = (args as ASTNode[]).map((arg) => this.why(arg, depth + 1) ?? this.plain(arg));
        return parts.join(' and ');
      }
      case '?:': {
        const [condition, yes, no] = args as [ASTNode, ASTNode, ASTNode];
        const chosen = this.valueOf(condition);
        if (!chosen.ok || typeof chosen.value !== 'boolean') return this.plain(node);
        return this.why(chosen.value ? yes : no, depth + 1) ?? this.plain(node);
      }
      case '<':
      case '<=':
      case '>':
      case '>=':
      case '==':
      case '!=': {
        const [left, right] = args as [ASTNode, ASTNode];
        return `${this.operand(left)} ${NEGATED[node.op]} ${this.operand(right)}`;
      }
      default:
        return this.plain(node);
    }
  }

  private plain(node: ASTNode): string {
    const value = this.valueOf(node);
    const text = this.text(node);
    return value.ok ? `${text} is ${formatCelValue(value.value)}` : `${text}: ${value.message}`;
  }

  /** An operand as shown: a literal as written, a bare name with its label and value, anything else as its value. */
  private operand(node: ASTNode): string {
    if (node.op === 'value' || (node.op === '-_' && (node.args as ASTNode).op === 'value')) return this.text(node);
    const value = this.valueOf(node);
    if (!value.ok) return this.text(node);
    const shown = formatCelValue(value.value);
    if (node.op === 'id' && typeof node.args === 'string') {
      const name = this.options.names?.[node.args] ?? node.args;
      return `${name} ${shown}`;
    }
    return shown;
  }

  private text(node: ASTNode): string {
    const { start, end } = node as ASTNode & { start?: number; end?: number };
    if (start === undefined || end === undefined) return this.expression.source;
    return this.expression.source.slice(start, end);
  }

  private valueOf(node: ASTNode): { ok: true; value: unknown } | { ok: false; message: string } {
    if (node === this.expression.ast) return evaluateExpression(this.expression, this.context);
    const compiled = compileExpression(this.text(node), this.expression.dialect);
    if (!compiled.ok) return { ok: false, message: compiled.message };
    return evaluateExpression(compiled.expression, this.context);
  }
}

/** A value as a person reads it in a sentence: numbers to 4 significant digits, strings quoted, lists and maps as JSON. */
export function formatCelValue(value: unknown): string {
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}…` : value);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return String(value);
  const json = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
  return json === undefined ? String(value) : json.length > 120 ? `${json.slice(0, 117)}…` : json;
}

/** `0.0021`, `612.3`, `1`, `NaN`: up to 4 significant digits, never an exponent below 1e-6. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf';
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const text = String(Number(value.toPrecision(4)));
  return /e/.test(text) && Math.abs(value) >= 1e-6 ? value.toFixed(8).replace(/0+$/, '') : text;
}
