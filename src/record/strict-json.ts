// JSON for signed records: JSON.parse, then refuse any object with a key twice (RFC 8259 leaves duplicates to each reader; readers disagree).
//
// Why a scanner of our own and not a library: JSON.parse already checks the syntax (and gives the messages users see);
// all that is missing is "which key appears twice". Over text JSON.parse has accepted, that is a short, iterative
// (no recursion, so no stack limit) and linear scan with one Set per open object. The parsers that report duplicates
// build a full syntax tree with positions for every value (many times the size of an 8 MiB payload) or are lenient
// by default (comments, trailing commas), and the record path is what an auditor's machine runs: no new dependency.

export interface DuplicateKey {
  /** The key, decoded (`"\u0070ayload"` is `payload`). */
  key: string;
  /** RFC 6901 JSON pointer to the second occurrence. */
  pointer: string;
  /** UTF-16 offset of the second occurrence in the text. */
  offset: number;
}

export type StrictJsonResult = { ok: true; value: unknown } | { ok: false; kind: 'syntax'; message: string } | ({ ok: false; kind: 'duplicate-key' } & DuplicateKey);

/** JSON.parse, refusing a duplicate key at any depth. Never throws. */
export function parseJsonStrict(text: string): StrictJsonResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, kind: 'syntax', message: (error as Error).message };
  }
  const duplicate = findDuplicateKey(text);
  return duplicate === undefined ? { ok: true, value } : { ok: false, kind: 'duplicate-key', ...duplicate };
}

type Frame = { object: true; keys: Set<string>; expectKey: boolean; key: string } | { object: false; index: number };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The first key that appears twice in one object, or undefined. `text` must be JSON that JSON.parse accepts: outside
 * strings only structure, numbers and literals remain, so `{`, `}`, `[`, `]`, `,` and `"` are all that need reading.
 */
export function findDuplicateKey(text: string): DuplicateKey | undefined {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      const top = stack[stack.length - 1];
      if (top !== undefined && top.object && top.expectKey) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        if (top.keys.has(key)) return { key, pointer: pointerOf(stack, key), offset: i };
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */) stack.push({ object: true, keys: new Set(), expectKey: true, key: '' });
    else if (c === 0x5b /* [ */) stack.push({ object: false, index: 0 });
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) stack.pop();
    else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top === undefined) continue;
      if (top.object) top.expectKey = true;
      else top.index++;
    }
  }
  return undefined;
}

/** The index of the quote that closes the string opening at `start` (a quote preceded by an even run of backslashes). */
function stringEnd(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote === -1) return text.length; // Not JSON.parse-accepted text; nothing more to read.
    let backslashes = 0;
    for (let b = quote - 1; b > start && text.charCodeAt(b) === BACKSLASH; b--) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

function pointerOf(stack: readonly Frame[], key: string): string {
  const parts: string[] = [];
  // Every frame but the innermost is inside a value: of its current key, or at its current index.
  for (const frame of stack.slice(0, -1)) parts.push(frame.object ? escapePointer(frame.key) : String(frame.index));
  parts.push(escapePointer(key));
  return `/${parts.join('/')}`;
}

function escapePointer(part: string): string {
  return part.replace(/~/g, '~0').replace(/\//g, '~1');
}
