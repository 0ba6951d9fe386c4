// Secret masking: every secret value and its common encodings become `***`, in whole strings, JSON-like values and streamed output.

import { crossesLines, fold, formMaxLength, formSource, isCutOffMatch, MIN_ENCODED_LENGTH, MIN_PLAIN_LENGTH, secretForms, type SecretForm } from './secret-forms.js';

export { MIN_ENCODED_LENGTH, MIN_PLAIN_LENGTH };

/** What a masked secret is replaced with. */
export const MASK = '***';

/*
 * Which secrets are masked, and how (the rule, in one place; the forms are in secret-forms.ts):
 * - empty secrets are ignored;
 * - 1–2 characters are not masked at all (they would hit ordinary text everywhere); `unmaskable` counts them so the caller can warn;
 * - 3 characters: masked where they appear as they are (and as written inside a single-quoted shell word), but not in encoded form;
 * - 4 characters or more: also wrapped across lines, with a CR or colour codes inside (terminal escapes between its characters
 *   are skipped); base64 (standard and URL-safe, padded or not, and the stable middle of the secret's base64 at each of the three
 *   byte alignments inside a longer base64 text, where at least 4 characters long), hex, `xxd -i` C arrays, backslash escapes
 *   (`\x73` per byte, Python's bytes repr and ascii()), URL-encoded (encodeURIComponent, `+` for spaces, WHATWG form encoding,
 *   RFC 3986 as Python's quote/quote_plus) and JSON string escaping;
 * - every form in any case: a DNS error lower-cases a host name, `tr` or a log formatter upper-cases, hex comes in both;
 * - base64 is also masked when wrapped onto several lines (`base64` wraps at 76, `openssl base64` at 64), and hex when its bytes are
 *   spread out by spaces and line breaks (`xxd -p` wraps at 60, `od -An -tx1` prints ` 5a 71 …` 16 bytes a line). A hex dump with
 *   offsets or a character column between its lines (`xxd`, `hexdump -C`, `od` without -An) is not: those columns break the sequence.
 *   A masked form that spans lines becomes one `***`, like a secret with a newline in it.
 */

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

/** What a stream masker needs from its masker, kept off the public interface. */
interface MaskerInternals {
  pattern: RegExp | undefined;
  /** A form itself contains a newline (a multi-line secret): matches may cross lines anywhere. */
  literalNewline: boolean;
  /** Where, in `text`, a match of a form that may cross lines may have begun that more text could complete (`text.length` if nowhere). */
  cutOffStart(text: string): number;
}
const internals = new WeakMap<Masker, MaskerInternals>();

export function createMasker(secrets: readonly string[]): Masker {
  const byKey = new Map<string, SecretForm>();
  let unmaskable = 0;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    if (secret.length < MIN_PLAIN_LENGTH) unmaskable++;
    for (const form of secretForms(secret)) {
      const key = `${form.spread}:${formSource(form).toLowerCase()}`;
      if (!byKey.has(key)) byKey.set(key, form);
    }
  }
  // Longest first: at any position the alternation takes the first form that matches, so a longer
  // form (a whole base64 text) wins over a shorter one it contains (a fragment, the plain secret).
  const sorted = [...byKey.values()].sort((a, b) => b.text.length - a.text.length);
  const pattern = sorted.length === 0 ? undefined : new RegExp(sorted.map(formSource).join('|'), 'gi');
  const longest = Math.max(0, ...sorted.map(formMaxLength));

  const mask = (text: string): string => {
    if (pattern === undefined || text.length === 0) return text;
    pattern.lastIndex = 0;
    return text.replace(pattern, MASK);
  };

  const maskDeep = <T>(value: T): T => maskDeepWith(value, mask);

  const masker: Masker = { mask, maskDeep, longest, unmaskable };
  internals.set(masker, {
    pattern,
    literalNewline: sorted.some((form) => form.units.some((unit) => unit.some((alternative) => alternative.includes('\n')))),
    cutOffStart: cutOffFinder(sorted.filter(crossesLines)),
  });
  return masker;
}

/**
 * For the stream masker: the first position in `text` from which the rest of `text` is the beginning of a match of a
 * form that may cross lines, cut off by the end of the text (more output could complete it). Only the last
 * `longest − 1` characters can hold such a start; forms are looked up by their first character (case folded), and
 * each check stops at the first character that does not fit, so this costs little per chunk.
 */
function cutOffFinder(forms: SecretForm[]): (text: string) => number {
  // One scanner per kind of gap: a secret wrapped with colour codes in it can be far longer than its hex dump, and
  // only its own first characters need looking for that far back.
  const scanners = [...new Set(forms.map((form) => form.spread))].map((spread) => scannerFor(forms.filter((form) => form.spread === spread)));
  return (text) => Math.min(text.length, ...scanners.map((scan) => scan(text)));
}

/**
 * Candidates are found by a regular expression of the forms' first characters (case ignored, as in the pattern), at
 * native speed over the last `window` characters of the text; each is then checked against the forms that start
 * with it and can reach the end of the text from there.
 */
function scannerFor(forms: SecretForm[]): (text: string) => number {
  const byFirst = new Map<string, { form: SecretForm; maxLength: number }[]>();
  let window = 0;
  for (const form of forms) {
    const maxLength = formMaxLength(form);
    for (const first of new Set(form.units[0]!.map((alternative) => fold(alternative[0]!)))) byFirst.set(first, [...(byFirst.get(first) ?? []), { form, maxLength }]);
    window = Math.max(window, maxLength);
  }
  const firstChars = [...new Set(forms.flatMap((form) => form.units[0]!.map((alternative) => alternative[0]!)))];
  const candidate = new RegExp(`[${firstChars.map((c) => c.replace(/[\\\]^-]/g, '\\$&')).join('')}]`, 'gi');
  return (text) => {
    candidate.lastIndex = Math.max(0, text.length - window + 1);
    for (let found = candidate.exec(text); found !== null; found = candidate.exec(text)) {
      const i = found.index;
      const c = found[0];
      const starting = byFirst.get(c.charCodeAt(0) < 128 ? c.toUpperCase() : fold(c));
      if (starting !== undefined && starting.some(({ form, maxLength }) => text.length - i <= maxLength && isCutOffMatch(text, i, form))) return i;
    }
    return text.length;
  };
}

/** A copy of a JSON-like value with every string masked by `mask` (a Masker's maskDeep for a bare mask function). */
export function maskDeepWith<T>(value: T, mask: (text: string) => string): T {
  return maskValue(value, mask, new Map()) as T;
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
 * When no secret contains a newline, only a wrapped form (the secret itself, base64, hex) can cross one,
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
  // The masker's own compiled pattern, not a copy: compiling it is what costs (hundreds of milliseconds for a few
  // long secrets, and every step opens two streams). Its lastIndex is set before each use, and nothing else runs it
  // while push() does (push and mask are synchronous).
  const regex = pattern;
  const holdBack = masker.longest - 1;
  let held = '';

  return {
    push(chunk) {
      const text = held + chunk;
      // A match starting before `safeEnd` is final: even the longest form starting there lies wholly
      // inside `text`, so more input cannot change it. Nor can a match before a newline, when no form
      // holds one and no spread-out form (a wrapped secret, base64, hex dumps) has begun there that the end of the
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
