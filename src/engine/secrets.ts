// Secret masking: every secret value and its common encodings become `***`, in whole strings, JSON-like values and streamed output.

/** What a masked secret is replaced with. */
export const MASK = '***';

/**
 * Which secrets are masked, and how (the rule, in one place):
 * - empty secrets are ignored;
 * - 1–2 characters are not masked at all (they would hit ordinary text everywhere); `unmaskable` counts them so the caller can warn;
 * - 3 characters: masked where they appear as they are, but not in encoded form;
 * - 4 characters or more: also base64 (standard and URL-safe, padded or not, and the stable middle of the secret's base64 at each of the
 *   three byte alignments inside a longer base64 text, where at least 4 characters long), hex (lower and upper case),
 *   URL-encoded (encodeURIComponent, `+` for spaces, lowercase `%xx`, WHATWG form encoding) and JSON string escaping.
 */
export const MIN_PLAIN_LENGTH = 3;
export const MIN_ENCODED_LENGTH = 4;
/** A base64 fragment shorter than this could turn up by chance. */
const MIN_FRAGMENT_LENGTH = 4;

export interface Masker {
  /** `text` with every secret and encoding of one replaced by `***`, longest forms first. */
  mask(text: string): string;
  /** A copy of a JSON-like value with every string (keys too) masked. Non-plain objects (Date, Map…) are returned as they are. */
  maskDeep<T>(value: T): T;
  /** Length of the longest masked form (0 when nothing is masked): a stream masker holds back one character less. */
  readonly longest: number;
  /** How many non-empty secrets are too short to be masked (under 3 characters). */
  readonly unmaskable: number;
}

/** Chunks in, masked text out, so that a secret split between chunks is still masked. */
export interface StreamMasker {
  /** Masked text that is safe to emit now; up to `longest − 1` characters (none after a newline, unless a secret has one) are held back for the next chunk. */
  push(chunk: string): string;
  /** The held-back rest, masked. The stream masker can be used again afterwards. */
  flush(): string;
}

/** Every form of `secret` that `createMasker` masks (empty when it is too short), longest first. */
export function secretVariants(secret: string): string[] {
  if (secret.length < MIN_PLAIN_LENGTH) return [];
  const forms = new Set<string>([secret]);
  if (secret.length >= MIN_ENCODED_LENGTH) {
    const bytes = Buffer.from(secret, 'utf8');
    for (const b64 of base64Forms(bytes)) forms.add(b64);
    const hex = bytes.toString('hex');
    forms.add(hex);
    forms.add(hex.toUpperCase());
    const uri = encodeURIComponent(secret);
    forms.add(uri);
    forms.add(uri.replace(/%20/g, '+'));
    forms.add(uri.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()));
    forms.add(new URLSearchParams([['', secret]]).toString().slice(1));
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  return [...forms].filter((form) => form.length >= MIN_PLAIN_LENGTH).sort((a, b) => b.length - a.length);
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
  /** No masked form contains a newline, so no match can cross one. */
  newlineFree: boolean;
}
const internals = new WeakMap<Masker, MaskerInternals>();

export function createMasker(secrets: readonly string[]): Masker {
  const variants = new Set<string>();
  let unmaskable = 0;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    if (secret.length < MIN_PLAIN_LENGTH) unmaskable++;
    for (const form of secretVariants(secret)) variants.add(form);
  }
  // Longest first: at any position the alternation takes the first form that matches, so a longer
  // form (a whole base64 text) wins over a shorter one it contains (a fragment, the plain secret).
  const sorted = [...variants].sort((a, b) => b.length - a.length);
  const pattern = sorted.length === 0 ? undefined : new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
  const longest = sorted[0]?.length ?? 0;

  const mask = (text: string): string => {
    if (pattern === undefined || text.length === 0) return text;
    pattern.lastIndex = 0;
    return text.replace(pattern, MASK);
  };

  const maskDeep = <T>(value: T): T => maskValue(value, mask, new Map()) as T;

  const masker: Masker = { mask, maskDeep, longest, unmaskable };
  internals.set(masker, { pattern, newlineFree: sorted.every((form) => !form.includes('\n')) });
  return masker;
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
 * When no secret contains a newline, no match can cross one, so everything up to the last newline
 * goes out at once: a complete line is never held back waiting for more output.
 * Given only a mask function, it can only mask whole lines: it holds back the text after the last
 * newline (up to 8192 characters), so a secret that spans a newline, or a longer line, may escape.
 */
export function createStreamMasker(masker: Masker | ((text: string) => string)): StreamMasker {
  const inside = typeof masker === 'function' ? undefined : internals.get(masker);
  if (typeof masker === 'function' || inside === undefined) {
    return createLineStreamMasker(typeof masker === 'function' ? masker : masker.mask);
  }
  const { pattern, newlineFree } = inside;
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
      // holds one. Anything after the cut is looked at again with the next chunk.
      const safeEnd = Math.max(text.length - holdBack, newlineFree ? text.lastIndexOf('\n') + 1 : 0);
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
