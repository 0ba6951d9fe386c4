// The evidence behind a CEL verdict, computed once from the AST: the parts that explain the value, each with its own value or error.
import type { ASTNode } from '@marcbachmann/cel-js';
import { compileExpression, evaluateExpression, type CelContext, type CompiledExpression, type EvaluateResult } from './cel.js';

/**
 * One part of an expression and what it evaluated to. The root is the whole condition; its children are the parts
 * that explain its value: both sides of a comparison, of `in` and of arithmetic; every operand of a chain of `&&` or
 * `||` (flattened), the deciding ones taken apart further; a negation's operand; a ternary's condition and the
 * branch it took. Journals and records keep it (src/expr/explain.ts renders it), so it holds JSON values only.
 */
export interface EvidenceNode {
  /** The part as written in the expression (`double(steps.lag.stdout.trim())`). */
  text: string;
  /** Its CEL operator: `<`, `&&`, `!_`, `?:`, `in`, `+`…, `id`, `.`, `call`…, or `value` for a literal (`5.0`, `-1`, `['us', 'ap']`). */
  op: string;
  /** What it evaluated to, as JSON (CEL ints as numbers); absent when it did not evaluate (see `error`). */
  value?: unknown;
  /** The value is a CEL double (`double(…)`, `5.0`): shown `42.0`, not `42`. */
  double?: true;
  error?: string;
  children?: EvidenceNode[];
}

/** How deep the tree goes, and how many nodes it holds at most: a record stays small whatever the condition. */
export const EVIDENCE_MAX_DEPTH = 6;
export const EVIDENCE_MAX_NODES = 64;

const COMPARISONS = new Set(['<', '<=', '>', '>=', '==', '!=']);
/** Operators whose operands are shown beside the result (as leaves: their values tell the story). */
const BY_OPERANDS = new Set([...COMPARISONS, 'in', '+', '-', '*', '/', '%']);

/**
 * The evidence tree of `expression` on `context`. `result` is the expression's own evaluation when the caller has it
 * (it is not evaluated twice). Every other part is evaluated by CEL from its own text, on the same context, once.
 * Never throws: a part that does not evaluate carries its error, one whose text does not stand alone carries no value.
 */
export function buildEvidence(expression: CompiledExpression, context: CelContext, result?: EvaluateResult): EvidenceNode {
  return new TreeBuilder(expression, context, result ?? evaluateExpression(expression, context)).build();
}

class TreeBuilder {
  private nodes = 0;

  constructor(
    private readonly expression: CompiledExpression,
    private readonly context: CelContext,
    private readonly result: EvaluateResult,
  ) {}

  build(): EvidenceNode {
    const root = this.expression.ast;
    return this.expand(root, this.leaf(root, this.expression.source, this.result, this.expression.type), 0);
  }

  /** The node with its value, not taken apart. */
  private leaf(node: ASTNode, text: string, result: EvaluateResult | undefined, type: string | undefined): EvidenceNode {
    this.nodes++;
    const op = isLiteral(node) ? 'value' : node.op;
    const leaf: EvidenceNode = { text, op };
    if (result === undefined) return leaf;
    if (!result.ok) return { ...leaf, error: result.message };
    return { ...leaf, value: result.value, ...(type === 'double' && typeof result.value === 'number' ? { double: true as const } : {}) };
  }

  private evaluated(node: ASTNode): EvidenceNode {
    const text = nodeText(this.expression.source, node);
    const compiled = text === undefined ? undefined : compileExpression(text, this.expression.dialect);
    if (compiled === undefined || !compiled.ok) return this.leaf(node, text ?? '', undefined, undefined);
    return this.leaf(node, text!, evaluateExpression(compiled.expression, this.context), compiled.expression.type);
  }

  /** Its children, when its operator explains its value and the caps leave room. */
  private expand(node: ASTNode, shown: EvidenceNode, depth: number): EvidenceNode {
    if (depth >= EVIDENCE_MAX_DEPTH || this.nodes >= EVIDENCE_MAX_NODES) return shown;
    const op = shown.op;
    let children: EvidenceNode[] | undefined;
    if (BY_OPERANDS.has(op)) {
      children = (node.args as ASTNode[]).map((arg) => this.evaluated(arg));
    } else if (op === '&&' || op === '||') {
      const operands = flatten(node, op).slice(0, EVIDENCE_MAX_NODES).map((arg) => ({ arg, shown: this.evaluated(arg) }));
      children = operands.map((o) => (deciding(op, shown, o.shown) ? this.expand(o.arg, o.shown, depth + 1) : o.shown));
    } else if (op === '!_') {
      const operand = node.args as ASTNode;
      children = [this.expand(operand, this.evaluated(operand), depth + 1)];
    } else if (op === '?:') {
      const [condition, yes, no] = node.args as [ASTNode, ASTNode, ASTNode];
      const chosen = this.evaluated(condition);
      const branch = chosen.value === true ? yes : chosen.value === false ? no : undefined;
      children = branch === undefined ? [chosen] : [chosen, this.expand(branch, this.evaluated(branch), depth + 1)];
    }
    return children === undefined ? shown : { ...shown, children };
  }
}

/** Whether an operand decided its chain: the false ones of a false `&&`, the true ones of a true `||`, every one of a false `||`, the ones not holding of a chain in error. */
function deciding(op: '&&' | '||', chain: EvidenceNode, operand: EvidenceNode): boolean {
  if (chain.error !== undefined) return op === '&&' ? operand.value !== true : operand.value !== false;
  if (op === '&&') return chain.value === false && operand.value !== true;
  return chain.value === true ? operand.value === true : chain.value === false;
}

/** A literal as written: `5.0`, `-1.5`, `'eu'`, `['us', 'ap']`. */
function isLiteral(node: ASTNode): boolean {
  if (node.op === 'value') return true;
  if (node.op === '-_') return isLiteral(node.args as ASTNode);
  if (node.op === 'list') return (node.args as ASTNode[]).every(isLiteral);
  if (node.op === 'map') return (node.args as [ASTNode, ASTNode][]).every(([k, v]) => isLiteral(k) && isLiteral(v));
  return false;
}

/** `a && b && c` is one chain of three operands (CEL nests it as `(a && b) && c`). */
function flatten(node: ASTNode, op: string): ASTNode[] {
  if (node.op !== op) return [node];
  return (node.args as ASTNode[]).flatMap((arg) => flatten(arg, op));
}

/**
 * A node's text in the source. CEL's ranges leave out the parentheses around an operand but may keep one of a pair
 * (`(a || b) && c` gives the `&&` node `a || b) && c`): a range is widened to balance them, and trimmed.
 */
export function nodeText(source: string, node: ASTNode): string | undefined {
  let { start, end } = node as ASTNode & { start?: number; end?: number };
  if (typeof start !== 'number' || typeof end !== 'number' || end <= start) return undefined;
  let balance = parenBalance(source.slice(start, end));
  while (balance > 0 && /^\s*\)/.test(source.slice(end))) {
    end = source.indexOf(')', end) + 1;
    balance--;
  }
  while (balance < 0 && /\(\s*$/.test(source.slice(0, start))) {
    start = source.lastIndexOf('(', start - 1);
    balance++;
  }
  const text = source.slice(start, end).trim();
  return balance === 0 && text !== '' ? text : undefined;
}

/** Open minus closed parentheses, outside string literals. */
function parenBalance(text: string): number {
  let balance = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote !== undefined) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '(') balance++;
    else if (ch === ')') balance--;
  }
  return balance;
}
