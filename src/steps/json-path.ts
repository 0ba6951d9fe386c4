// A small JSONPath subset (RFC 9535 singular queries): `$`, `.name`, `['name']`, `[0]`, `[-1]`; one value, never a list.
//
// Why not a library: `json_path` reads ONE number out of a status API's answer, which only needs the singular
// queries of RFC 9535. The libraries that do the full language (jsonpath-plus, jsonpath) evaluate filter expressions,
// and jsonpath-plus had a remote code execution through them in 2024 (CVE-2024-21534): runbooks are untrusted input,
// and a subset with no filters has nothing to execute. Every branch is tested in test/steps/json-path.test.ts.

export type JsonPathSegment = { kind: 'name'; name: string } | { kind: 'index'; index: number };

export type ParsedJsonPath = { ok: true; segments: JsonPathSegment[] } | { ok: false; message: string; offset: number };

/** Shorthand member names (`.name`): letters, digits, `_` (not first a digit); anything else goes in brackets. */
const SHORTHAND = /^[A-Za-z_\u0080-\uFFFF][A-Za-z0-9_\u0080-\uFFFF]*/u;

export function parseJsonPath(text: string): ParsedJsonPath {
  if (!text.startsWith('$')) return { ok: false, message: "a JSONPath starts with '$' (the whole document), e.g. $.data.value", offset: 0 };
  const segments: JsonPathSegment[] = [];
  let i = 1;
  const fail = (message: string, offset = i): ParsedJsonPath => ({ ok: false, message, offset });
  while (i < text.length) {
    const c = text[i];
    if (c === '.') {
      if (text[i + 1] === '.') return fail("'..' (descendants) is not supported: give the full path to one value");
      const match = SHORTHAND.exec(text.slice(i + 1));
      if (match === null) {
        if (text[i + 1] === '*') return fail("'*' (wildcards) is not supported: json_path reads one value", i + 1);
        return fail(`a name after '.' must start with a letter or '_'; write ['…'] for other names`, i + 1);
      }
      segments.push({ kind: 'name', name: match[0] });
      i += 1 + match[0].length;
      continue;
    }
    if (c === '[') {
      const rest = text.slice(i + 1);
      const quote = rest[0];
      if (quote === "'" || quote === '"') {
        const parsed = readQuoted(rest, quote);
        if (!parsed.ok) return fail(parsed.message, i + 1 + parsed.offset);
        if (rest[parsed.length] !== ']') return fail("expected ']' after the quoted name", i + 1 + parsed.length);
        segments.push({ kind: 'name', name: parsed.value });
        i += 1 + parsed.length + 1;
        continue;
      }
      const index = /^(-?(?:0|[1-9][0-9]{0,8}))\]/.exec(rest);
      if (index !== null) {
        segments.push({ kind: 'index', index: Number(index[1]) });
        i += 1 + index[0].length;
        continue;
      }
      if (rest.startsWith('*') || rest.startsWith('?') || rest.includes(':')) return fail('wildcards, filters and slices are not supported: json_path reads one value', i + 1);
      return fail("inside [ ] write a quoted name ['name'] or a whole index [0]", i + 1);
    }
    return fail(`unexpected ${JSON.stringify(c)}: continue the path with .name, ['name'] or [index]`);
  }
  return { ok: true, segments };
}

function readQuoted(text: string, quote: string): { ok: true; value: string; length: number } | { ok: false; message: string; offset: number } {
  let value = '';
  for (let i = 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === quote) return { ok: true, value, length: i + 1 };
    if (c === '\\') {
      const next = text[i + 1];
      if (next === undefined) break;
      const simple: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '/': '/', '\\': '\\', "'": "'", '"': '"' };
      if (next in simple) {
        value += simple[next];
        i++;
        continue;
      }
      if (next === 'u' && /^[0-9A-Fa-f]{4}$/.test(text.slice(i + 2, i + 6))) {
        value += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 5;
        continue;
      }
      return { ok: false, message: `unknown escape \\${next}`, offset: i };
    }
    value += c;
  }
  return { ok: false, message: `unclosed ${quote}`, offset: 0 };
}

/** The value at the path, or `undefined` when the document has nothing there (a missing member, an index out of range). */
export function selectJsonPath(document: unknown, segments: readonly JsonPathSegment[]): unknown {
  let current = document;
  for (const segment of segments) {
    if (segment.kind === 'name') {
      if (current === null || typeof current !== 'object' || Array.isArray(current) || !Object.hasOwn(current, segment.name)) return undefined;
      current = (current as Record<string, unknown>)[segment.name];
    } else {
      if (!Array.isArray(current)) return undefined;
      const at = segment.index < 0 ? current.length + segment.index : segment.index;
      if (at < 0 || at >= current.length) return undefined;
      current = current[at];
    }
  }
  return current;
}
