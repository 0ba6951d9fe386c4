// Markdown building blocks for the printable plan and the exported record: tables, escaping, code spans, fences.

/** One line: newlines, tabs and control characters (which could drive a terminal) become single spaces. */
export function oneLine(text: string): string {
  return text.replace(/[\s\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
}

/** A table cell: one line, `|` escaped (GFM applies the escape inside code spans too). */
export function cell(text: string): string {
  return oneLine(text).replace(/\|/g, '\\|');
}

/** Text from a runbook or record in running Markdown: one line; only characters that would start markup are escaped (`< 20 min` stays). */
export function inline(text: string): string {
  return oneLine(text)
    .replace(/[\\`*[\]]/g, '\\$&')
    .replace(/(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, '\\_')
    .replace(/<(?=[A-Za-z/!?])/g, '\\<');
}

/** A code span that survives backticks in its content. */
export function code(text: string): string {
  const single = oneLine(text);
  const longest = Math.max(0, ...[...single.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  const pad = single.startsWith('`') || single.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${single}${pad}${ticks}`;
}

/** A fenced block that survives backtick runs in its content, indented to sit inside a list item when `indent` is given. */
export function fence(text: string, indent = ''): string[] {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  const body = text.split('\n').map((l) => l.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, ' '));
  return [`${indent}${ticks}`, ...body.map((l) => (l === '' ? '' : `${indent}${l}`)), `${indent}${ticks}`];
}

export interface TableOptions {
  /** Columns whose cells are already Markdown, `|` escaped by their builder: used as they are. */
  raw?: number[];
}

export function table(headers: string[], rows: string[][], options: TableOptions = {}): string[] {
  const raw = new Set(options.raw ?? []);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map((row) => line(row.map((value, i) => (raw.has(i) ? value : cell(inline(value))))))];
}
