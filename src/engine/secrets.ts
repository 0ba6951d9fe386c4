// Secret masking: every secret value and its common encodings become `***`, in whole strings, JSON-like values and streamed output.

/** What a masked secret is replaced with. */
export const MASK = '***';

/**
 * Which secrets are masked, and how (the rule, in one place):
 * - empty secrets are ignored;
 * - 1–2 characters are not masked at all (they would hit ordinary text everywhere); `unmaskable` counts them so the caller can warn;
 * - 3 characters: masked where they appear as they are (and as written inside a single-quoted shell word), but not in encoded form;
 * - 4 characters or more: also base64 (standard and URL-safe, padded or not, and the stable middle of the secret's base64 at each of the
 *   three byte alignments inside a longer base64 text, where at least 4 characters long), hex (lower and upper case),
 *   URL-encoded (encodeURIComponent, `+` for spaces, lowercase `%xx`, WHATWG form encoding, RFC 3986 as Python's quote/quote_plus)
 *   and JSON string escaping;
 * - base64 is also masked when wrapped onto several lines (`base64` wraps at 76, `openssl base64` at 64), and hex when its bytes are
 *   spread out by spaces and line breaks (`xxd -p` wraps at 60, `od -An -tx1` prints ` 5a 71 …` 16 bytes a line): see `Spread`. A hex dump with
 *   offsets or a character column between its lines (`xxd`, `hexdump -C`, `od` without -An) is not: those columns break the sequence.
 *   A masked form that spans lines becomes one `***`, like a secret with a newline in it.
 */
export const MIN_PLAIN_LENGTH = 3;
export const MIN_ENCODED_LENGTH = 4;
/** A base64 fragment shorter than this could turn up by chance. */
const MIN_FRAGMENT_LENGTH = 4;

/**
 * How a tool may lay an encoded form out: as it is; `lines`: wrapped, up to 2 whitespace characters (a line break, `\r\n`)
 * between any two characters (base64); `hex`: up to 5 whitespace characters between any two bytes (spaces, a line break and
 * the indentation after it, as hex dumps print them). Whitespace is JavaScript's `\s`.
 */
type Spread = 'none' | 'lines' | 'hex';
interface SecretForm {
  text: string;
  spread: Spread;
}
/** The most whitespace characters a gap holds. */
const GAP_LENGTH: Record<Spread, number> = { none: 0, lines: 2, hex: 5 };
/** `\s?` repeated rather than `\s{0,n}` or `(?:\r?\n)?`: V8 scans text for the first about as fast as for plain literals, for the others 3–4× slower (Node 20). */
const gapSource = (spread: Spread) => '\\s?'.repeat(GAP_LENGTH[spread]);
const WHITESPACE = /\s/;

export interface Masker {
  /** `text` with every secret and encoding of one replaced by `***`, longest forms first. */
  mask(text: string): string;
  /** A copy of a JSON-like value with every string (keys too) masked. Non-plain objects (Date, Map…) are returned as they are. */
  maskDeep<T>(value: T): T;
  /** Length of the longest text a match can be, gaps of wrapped forms included (0 when nothing is masked): a stream masker holds back one character less. */
  readonly longest: number;
  /** How many non-empty secrets are too short to be masked (under 3 characters). */
  readonly unmaskable: number;
}

/** Chunks in, masked text out, so that a secret split between chunks is still masked. */
export interface StreamMasker {
  /** Masked text that is safe to emit now; up to `longest − 1` characters (none after a newline, unless a secret has one or a wrapped form may continue past it) are held back for the next chunk. */
  push(chunk: string): string;
  /** The held-back rest, masked. The stream masker can be used again afterwards. */
  flush(): string;
}

/** Every form of `secret` that `createMasker` masks (empty when it is too short), longest first, as written before any wrapping. */
export function secretVariants(secret: string): string[] {
  return secretForms(secret).map((form) => form.text);
}

function secretForms(secret: string): SecretForm[] {
  if (secret.length < MIN_PLAIN_LENGTH) return [];
  const forms = new Map<string, Spread>([[secret, 'none']]);
  // A text that is both a plain form and an encoded one is masked however it is spread out.
  const add = (text: string, spread: Spread) => {
    if (forms.get(text) === undefined || spread !== 'none') forms.set(text, spread);
  };
  // Inside a single-quoted shell word (how commands are displayed, src/expr/template.ts shellQuote) each ' is written '\''.
  if (secret.includes("'")) add(secret.replace(/'/g, `'\\''`), 'none');
  if (secret.length >= MIN_ENCODED_LENGTH) {
    const bytes = Buffer.from(secret, 'utf8');
    for (const b64 of base64Forms(bytes)) add(b64, 'lines');
    const hex = bytes.toString('hex');
    add(hex, 'hex');
    add(hex.toUpperCase(), 'hex');
    const uri = encodeURIComponent(secret);
    add(uri, 'none');
    add(uri.replace(/%20/g, '+'), 'none');
    add(uri.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()), 'none');
    add(new URLSearchParams([['', secret]]).toString().slice(1), 'none');
    // RFC 3986: only A–Z a–z 0–9 - . _ ~ stay as they are (Python's urllib.parse.quote(s, safe='') and quote_plus).
    const rfc3986 = uri.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    add(rfc3986, 'none');
    add(rfc3986.replace(/%20/g, '+'), 'none');
    const json = JSON.stringify(secret).slice(1, -1);
    add(json, 'none');
    // JSON with every non-ASCII unit escaped (Python's json.dumps by default, jq -a): `\u00e9`, an emoji as two escapes.
    const asciiJson = json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    add(asciiJson, 'none');
    add(asciiJson.replace(/\\u[0-9a-f]{4}/g, (escape) => escape.toUpperCase().replace('\\U', '\\u')), 'none');
  }
  return [...forms]
    .map(([text, spread]) => ({ text, spread }))
    .filter((form) => form.text.length >= MIN_PLAIN_LENGTH)
    .sort((a, b) => b.text.length - a.text.length);
}

/** The characters (base64) or bytes (hex) between which a gap may fall. */
function formUnits(form: SecretForm): string[] {
  if (form.spread === 'none') return [form.text];
  if (form.spread === 'lines') return [...form.text];
  return form.text.match(/../g) ?? [];
}

function formSource(form: SecretForm): string {
  return form.spread === 'none' ? escapeRegExp(form.text) : formUnits(form).map(escapeRegExp).join(gapSource(form.spread));
}

/** The longest text a match of `form` can be. */
function formMaxLength(form: SecretForm): number {
  return form.text.length + GAP_LENGTH[form.spread] * Math.max(0, formUnits(form).length - 1);
}

/**
 * Base64 of the secret on its own (standard/URL-safe, with/without padding), and the characters that
 * encode only the secret's bits when it starts at byte offset 0, 1 or 2 of a group of three inside
 * a longer base64 text (the characters at either end also carry bits of the neighbouring bytes).
 */
function base64Forms(bytes: Buffer): string[] {
  const forms: string[] = [];
  const whole = bytes.toString('base64');
  forms.push(whole, whole.replace(/=+$/, ''));
  for (let offset = 0; offset < 3; offset++) {
    const padded = Buffer.concat([Buffer.alloc(offset), bytes, Buffer.alloc(3)]).toString('base64');
    const firstBit = offset * 8;
    const endBit = firstBit + bytes.length * 8;
    const fragment = padded.slice(Math.ceil(firstBit / 6), Math.floor(endBit / 6));
    if (fragment.length >= MIN_FRAGMENT_LENGTH) forms.push(fragment);
  }
  return [...forms, ...forms.map(toBase64Url)];
}

function toBase64Url(base64: string): string {
  return base64.replace(/\+/g, '-').replace(/\//g, '_');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** What a stream masker needs from its masker, kept off the public interface. */
interface MaskerInternals {
  pattern: RegExp | undefined;
  /** A form itself contains a newline (a multi-line secret): matches may cross lines anywhere. */
  literalNewline: boolean;
  /** Where, in `text`, a match of a spread-out form may have begun that more text could complete (`text.length` if nowhere). */
  cutOffStart(text: string): number;
}
const internals = new WeakMap<Masker, MaskerInternals>();

export function createMasker(secrets: readonly string[]): Masker {
  const byText = new Map<string, SecretForm>();
  let unmaskable = 0;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    if (secret.length < MIN_PLAIN_LENGTH) unmaskable++;
    for (const form of secretForms(secret)) {
      if (!byText.has(form.text) || form.spread !== 'none') byText.set(form.text, form);
    }
  }
  // Longest first: at any position the alternation takes the first form that matches, so a longer
  // form (a whole base64 text) wins over a shorter one it contains (a fragment, the plain secret).
  const sorted = [...byText.values()].sort((a, b) => b.text.length - a.text.length);
  const pattern = sorted.length === 0 ? undefined : new RegExp(sorted.map(formSource).join('|'), 'g');
  const longest = Math.max(0, ...sorted.map(formMaxLength));

  const mask = (text: string): string => {
    if (pattern === undefined || text.length === 0) return text;
    pattern.lastIndex = 0;
    return text.replace(pattern, MASK);
  };

  const maskDeep = <T>(value: T): T => maskValue(value, mask, new Map()) as T;

  const masker: Masker = { mask, maskDeep, longest, unmaskable };
  internals.set(masker, {
    pattern,
    literalNewline: sorted.some((form) => form.text.includes('\n')),
    cutOffStart: cutOffFinder(sorted.filter((form) => form.spread !== 'none')),
  });
  return masker;
}

/**
 * For the stream masker: the first position in `text` from which the rest of `text` is the beginning of a match of a
 * spread-out form, cut off by the end of the text (more output could complete it). Only the last `longest − 1`
 * characters can hold such a start; forms are looked up by their first character, and each check stops at the first
 * character that does not fit, so this costs little per chunk.
 */
function cutOffFinder(forms: SecretForm[]): (text: string) => number {
  if (forms.length === 0) return (text) => text.length;
  const byFirst = new Map<string, { units: string[]; spread: Spread }[]>();
  let window = 0;
  for (const form of forms) {
    const units = formUnits(form);
    const first = form.text[0]!;
    byFirst.set(first, [...(byFirst.get(first) ?? []), { units, spread: form.spread }]);
    window = Math.max(window, formMaxLength(form));
  }
  return (text) => {
    for (let i = Math.max(0, text.length - window + 1); i < text.length; i++) {
      const candidates = byFirst.get(text[i]!);
      if (candidates !== undefined && candidates.some((form) => isCutOffMatch(text, i, form.units, form.spread))) return i;
    }
    return text.length;
  };
}

/** `CUT`: the text ended inside a gap. */
const CUT = -1;

/** Whether `text` from `start` on is a match of the form's units (and gaps) cut off by the end of the text. Mirrors `formSource`. */
function isCutOffMatch(text: string, start: number, units: string[], spread: Spread): boolean {
  let pos = start;
  for (let u = 0; u < units.length; u++) {
    if (u > 0) {
      pos = skipGap(text, pos, spread);
      if (pos === CUT) return true;
    }
    const unit = units[u]!;
    for (let k = 0; k < unit.length; k++, pos++) {
      if (pos >= text.length) return true;
      if (text[pos] !== unit[k]) return false;
    }
  }
  return false; // a whole match fits in the text: the regular expression finds it
}

/** The position after the gap at `pos` (unchanged when there is none), or CUT when the text ends inside it (it could go on). */
function skipGap(text: string, pos: number, spread: Spread): number {
  let at = pos;
  for (let n = 0; n < GAP_LENGTH[spread] && at < text.length && WHITESPACE.test(text[at]!); n++) at++;
  return at >= text.length ? CUT : at;
}

function maskValue(value: unknown, mask: (text: string) => string, seen: Map<object, unknown>): unknown {
  if (typeof value === 'string') return mask(value);
  if (typeof value !== 'object' || value === null) return value;
  const already = seen.get(value);
  if (already !== undefined) return already; // shared and circular references stay shared
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const item of value) out.push(maskValue(item, mask, seen));
    return out;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  seen.set(value, out);
  for (const [key, item] of Object.entries(value)) out[mask(key)] = maskValue(item, mask, seen);
  return out;
}

/** Without a Masker's pattern, a bare mask function is applied to whole lines, up to this many characters. */
const FALLBACK_LINE_LIMIT = 8192;

/**
 * A masker for a stream of chunks. Given a Masker, it masks exactly as `mask` would mask the whole
 * text, holding back at most `longest − 1` characters (one more rather than split a surrogate pair).
 * When no secret contains a newline, only a wrapped form (base64 or hex across lines) can cross one,
 * so everything up to the last newline goes out at once unless the end of the text could be the start
 * of a wrapped form: a complete line is held back only while it might be part of a masked form.
 * Given only a mask function, it can only mask whole lines: it holds back the text after the last
 * newline (up to 8192 characters), so a secret that spans a newline, or a longer line, may escape.
 */
export function createStreamMasker(masker: Masker | ((text: string) => string)): StreamMasker {
  const inside = typeof masker === 'function' ? undefined : internals.get(masker);
  if (typeof masker === 'function' || inside === undefined) {
    return createLineStreamMasker(typeof masker === 'function' ? masker : masker.mask);
  }
  const { pattern, literalNewline, cutOffStart } = inside;
  if (pattern === undefined) return { push: (chunk) => chunk, flush: () => '' };
  // Our own copy: the masker's pattern is shared and stateful (lastIndex).
  const regex = new RegExp(pattern.source, 'g');
  const holdBack = masker.longest - 1;
  let held = '';

  return {
    push(chunk) {
      const text = held + chunk;
      // A match starting before `safeEnd` is final: even the longest form starting there lies wholly
      // inside `text`, so more input cannot change it. Nor can a match before a newline, when no form
      // holds one and no spread-out form (wrapped base64, hex dumps) has begun there that the end of the
      // text cuts off. Anything after the cut is looked at again with the next chunk.
      const safeEnd = Math.max(text.length - holdBack, literalNewline ? 0 : Math.min(text.lastIndexOf('\n') + 1, cutOffStart(text)));
      if (safeEnd <= 0) {
        held = text;
        return '';
      }
      let out = '';
      let emitted = 0;
      regex.lastIndex = 0;
      for (let match = regex.exec(text); match !== null && match.index < safeEnd; match = regex.exec(text)) {
        out += text.slice(emitted, match.index) + MASK;
        emitted = match.index + match[0].length;
      }
      let cut = Math.max(emitted, safeEnd);
      if (cut > emitted && isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
      out += text.slice(emitted, cut);
      held = text.slice(cut);
      return out;
    },
    flush() {
      const rest = masker.mask(held);
      held = '';
      return rest;
    },
  };
}

function createLineStreamMasker(mask: (text: string) => string): StreamMasker {
  let held = '';
  return {
    push(chunk) {
      const text = held + chunk;
      let cut = text.lastIndexOf('\n') + 1;
      if (text.length - cut > FALLBACK_LINE_LIMIT) {
        cut = text.length;
        if (isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
      }
      held = text.slice(cut);
      return mask(text.slice(0, cut));
    },
    flush() {
      const rest = mask(held);
      held = '';
      return rest;
    },
  };
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
