// How deep a shell command nests, found by a linear scan before the bash grammar ever sees it: a command nesting deeper than a real one is refused unparsed (issue 15 of review 1).
//
// Why: tree-sitter-bash parses in time linear in the text, but every level of `$( … )`, `( )`, `{ }`, `${ }`, quotes or
// backticks costs it and the template placement (a path from the root to each template) far more than plain text:
// 6,500 levels of `$(` in a 20 KB command took seconds and 100 MB more memory to refuse. No real command nests more
// than a dozen levels, so past MAX_SHELL_NESTING the command is refused before parsing, at the place it goes too deep.
//
// `a && b && c` nests too (the grammar makes each `&&`, `||` and `|` a level of the tree): within one statement, each
// counts as a level, and `;`, `&` or a newline ends the statement.
//
// The scan follows quotes the way the shell does (a `)` inside '…' or "…" closes nothing) and skips here-document
// bodies, so brackets in text cannot lower the count it measures. Where it cannot tell, it counts high: an opener it
// is unsure of opens a level, and a closer only closes a level of its own kind.

/** Deeper than any real command (levels of brackets and quotes, plus `&&`, `||` and `|` chained in one statement); far below where parsing becomes costly. */
export const MAX_SHELL_NESTING = 64;

export interface Nesting {
  /** The deepest level reached (0 for a command with no brackets or quotes). */
  depth: number;
  /** Offset of the opener that first went past `limit`, when one did. */
  tooDeepAt?: number;
}

/** `((`: the inner level of `((`/`$((` (arithmetic, where `<<` is a shift, not a here-document). */
type Frame = '(' | '$(' | '((' | '{' | '${' | '"' | '`' | '[';

const CLOSER: Record<Frame, string> = { '(': ')', '$(': ')', '((': ')', '{': '}', '${': '}', '"': '"', '`': '`', '[': ']' };

/** The deepest nesting of `script`, stopping at the first opener past `limit`. */
export function shellNesting(script: string, limit = MAX_SHELL_NESTING): Nesting {
  const stack: Frame[] = [];
  /** `&&`, `||` and `|` so far in the statement at each level (index 0: the top level): each nests the tree one deeper. */
  const chains: number[] = [0];
  let chained = 0;
  let depth = 0;
  /** Here-documents whose bodies start after the next newline: [delimiter, strip leading tabs]. */
  let pendingHeredocs: [string, boolean][] = [];
  let i = 0;
  const n = script.length;
  const reached = (at: number): boolean => {
    if (stack.length + chained > depth) depth = stack.length + chained;
    return depth > limit ? ((tooDeepAt = at), true) : false;
  };
  const push = (frame: Frame, at: number): boolean => {
    stack.push(frame);
    chains.push(0);
    return reached(at);
  };
  const pop = () => {
    stack.pop();
    chained -= chains.pop()!;
  };
  let tooDeepAt: number | undefined;
  while (i < n) {
    const c = script[i]!;
    const top = stack.at(-1);
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '$' && script.startsWith('{{', i + 1)) {
      // A template: rendered as one single-quoted word, so it nests nothing.
      const end = script.indexOf('}}', i + 3);
      i = end === -1 ? n : end + 2;
      continue;
    }
    if (top === '"') {
      // Inside double quotes only $( ), ${ }, backticks and the closing quote mean anything.
      if (c === '"') pop();
      else if (c === '$' && script[i + 1] === '(') {
        if (push('$(', i)) break;
        i++;
      } else if (c === '$' && script[i + 1] === '{') {
        if (push('${', i)) break;
        i++;
      } else if (c === '`') {
        if (push('`', i)) break;
      }
      i++;
      continue;
    }
    if (c === '\n' && pendingHeredocs.length > 0) {
      chained -= chains[chains.length - 1]!;
      chains[chains.length - 1] = 0;
      i = skipHeredocBodies(script, i + 1, pendingHeredocs);
      pendingHeredocs = [];
      continue;
    }
    if (c === "'") {
      // Single quotes (and $'…', whose escapes only matter for finding its end): nothing nests inside.
      const ansi = script[i - 1] === '$';
      let j = i + 1;
      while (j < n && script[j] !== "'") j += ansi && script[j] === '\\' ? 2 : 1;
      i = j + 1;
      continue;
    }
    if (c === '#' && (i === 0 || /[\s;&|()]/.test(script[i - 1]!)) && top !== '${') {
      const end = script.indexOf('\n', i);
      i = end === -1 ? n : end;
      continue;
    }
    if (c === '<' && script[i + 1] === '<' && script[i + 2] !== '<' && !stack.includes('((')) {
      const heredoc = /^<<(-?)[ \t]*((?:[^\s;&|<>()]|\\.)+)/.exec(script.slice(i, i + 300));
      if (heredoc !== null) {
        pendingHeredocs.push([heredoc[2]!.replace(/\\(.)/g, '$1').replace(/["']/g, ''), heredoc[1] === '-']);
        i += heredoc[0].length;
        continue;
      }
    }
    let opened: Frame | undefined;
    let width = 1;
    if (c === '$' && (script[i + 1] === '(' || script[i + 1] === '{')) {
      opened = script[i + 1] === '(' ? '$(' : '${';
      width = 2;
    } else if (c === '(' || c === '{' || c === '[' || c === '"') opened = c;
    else if (c === '`') {
      if (top === '`') pop();
      else opened = '`';
    } else if (c === ')' || c === '}' || c === ']') {
      if (top !== undefined && CLOSER[top] === c) pop();
    } else if ((c === '&' && script[i + 1] === '&') || c === '|') {
      chains[chains.length - 1]!++;
      chained++;
      if (reached(i)) break;
      if (script[i + 1] === c || script[i + 1] === '&') width = 2;
    } else if (c === ';' || c === '\n' || c === '&') {
      chained -= chains[chains.length - 1]!;
      chains[chains.length - 1] = 0;
    }
    if (opened !== undefined && push(opened, i)) break;
    if ((opened === '$(' || opened === '(') && script[i + width] === '(') {
      if (push('((', i)) break;
      width++;
    }
    i += width;
  }
  return tooDeepAt === undefined ? { depth } : { depth, tooDeepAt };
}

/** The offset after the here-document bodies that start at `from`, each ending at a line equal to its delimiter. */
function skipHeredocBodies(script: string, from: number, heredocs: readonly [string, boolean][]): number {
  let at = from;
  for (const [delimiter, stripTabs] of heredocs) {
    for (;;) {
      if (at >= script.length) return script.length;
      const end = script.indexOf('\n', at);
      const line = script.slice(at, end === -1 ? script.length : end);
      at = end === -1 ? script.length : end + 1;
      if ((stripTabs ? line.replace(/^\t+/, '') : line) === delimiter) break;
    }
  }
  return at;
}
