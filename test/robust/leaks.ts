// Canary secrets and every spelling of one that must never be found: computed here from the encodings' definitions, not with deployctl's masker.
import { randomInt } from 'node:crypto';

export interface Canary {
  name: string;
  value: string;
}

function pick(alphabet: string[], length: number): string {
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
}

const ALNUM = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'];

/**
 * Three random canaries: base64's own `+/=` in the secret; non-ASCII, a space, a ' and URL-reserved characters (40 characters,
 * more bytes); and bytes whose base64 holds `+` and `/` (so URL-safe base64 differs). ASCII where a header must carry it.
 */
export function makeCanaries(): Canary[] {
  const withBase64Chars = () => {
    for (;;) {
      const value = pick([...ALNUM, '+', '/', '='], 24);
      if (/\+/.test(value) && /\//.test(value) && /=/.test(value)) return value;
    }
  };
  const unicode = () => {
    for (;;) {
      const value = pick([...ALNUM, 'é', '€', 'ñ', '🔑', ' ', '~', '*', '!', "'", '(', ')', '+', '/', '='], 40);
      if (/[^\x00-\x7f]/.test(value) && value.includes("'") && value.includes(' ') && value.trim() === value) return value;
    }
  };
  const base64Significant = () => {
    for (;;) {
      const value = pick([...ALNUM, '>', '?', '~', '}'], 32);
      const b64 = Buffer.from(value).toString('base64');
      if (b64.includes('+') && b64.includes('/')) return value;
    }
  };
  return [
    { name: 'base64-chars', value: withBase64Chars() },
    { name: 'unicode', value: unicode() },
    { name: 'base64-significant', value: base64Significant() },
  ];
}

export interface LeakForm {
  name: string;
  text: string;
  /** Tools wrap or space this form out: look for it with whitespace removed. */
  spread: boolean;
}

/** The characters of `base64(prefix + secret + suffix)` that carry only the secret's bits, for a prefix of `offset` (mod 3) bytes. */
function base64Middle(bytes: Buffer, offset: number, encoding: 'base64' | 'base64url'): string {
  const encoded = Buffer.concat([Buffer.alloc(offset), bytes, Buffer.alloc(3)]).toString(encoding);
  return encoded.slice(Math.ceil((offset * 8) / 6), Math.floor(((offset + bytes.length) * 8) / 6));
}

/** Percent-encode every UTF-8 byte of the characters `encode` says to. */
function percentEncode(text: string, encode: (ch: string) => boolean): string {
  let out = '';
  for (const ch of text) {
    if (!encode(ch)) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Every spelling of `secret` a leak could take: as it is, quoted, base64 (whole, per alignment, of the line), hex, URL-encoded. */
export function leakForms(secret: string): LeakForm[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms: LeakForm[] = [
    { name: 'plain', text: secret, spread: false },
    { name: 'shell single-quoted', text: secret.replace(/'/g, `'\\''`), spread: false },
    { name: 'JSON-escaped', text: JSON.stringify(secret).slice(1, -1), spread: false },
    { name: 'base64', text: bytes.toString('base64'), spread: true },
    { name: 'base64url', text: bytes.toString('base64url'), spread: true },
    { name: 'base64 of the line', text: Buffer.from(`${secret}\n`).toString('base64'), spread: true },
    { name: 'hex', text: bytes.toString('hex'), spread: true },
    { name: 'HEX', text: bytes.toString('hex').toUpperCase(), spread: true },
    { name: 'encodeURIComponent', text: encodeURIComponent(secret), spread: false },
    { name: 'form-encoded', text: new URLSearchParams({ t: secret }).toString().slice(2), spread: false },
    { name: 'RFC 3986 (Python quote)', text: percentEncode(secret, (ch) => !/^[A-Za-z0-9\-._~]$/.test(ch)), spread: false },
    { name: 'RFC 3986, + for spaces (Python quote_plus)', text: percentEncode(secret, (ch) => !/^[A-Za-z0-9\-._~ ]$/.test(ch)).replace(/ /g, '+'), spread: false },
  ];
  for (const offset of [0, 1, 2]) {
    forms.push({ name: `base64 at byte offset ${offset}`, text: base64Middle(bytes, offset, 'base64'), spread: true });
    forms.push({ name: `base64url at byte offset ${offset}`, text: base64Middle(bytes, offset, 'base64url'), spread: true });
  }
  return forms;
}

/**
 * Spellings looked for in the squeezed haystack, whatever their case (DNS lower-cases a host name, `tr` upper-cases):
 * the secret itself (which `squeeze` rejoins when it was wrapped, or had colour codes or a CR put inside), each byte
 * as `\xhh` (printf, C), Python's reprs of the bytes and of the string, and `xxd -i`'s C array.
 */
export function squeezedForms(secret: string): LeakForm[] {
  const bytes = [...Buffer.from(secret, 'utf8')];
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  // Python quotes with ' unless the text holds ' and no ": then with ", and escapes only the quote it uses.
  const quote = secret.includes("'") && !secret.includes('"') ? '"' : "'";
  const pyChar = (c: string, cp: number, other: (cp: number) => string) =>
    c === '\\' ? '\\\\' : c === quote ? `\\${c}` : c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : cp >= 0x20 && cp < 0x7f ? c : other(cp);
  const pyBytes = bytes.map((b) => pyChar(String.fromCharCode(b), b, (n) => `\\x${hex(n)}`)).join('');
  const pyAscii = [...secret]
    .map((c) =>
      pyChar(c, c.codePointAt(0)!, (cp) => (cp < 0x100 ? `\\x${hex(cp)}` : cp < 0x10000 ? `\\u${cp.toString(16).padStart(4, '0')}` : `\\U${cp.toString(16).padStart(8, '0')}`)),
    )
    .join('');
  return [
    { name: 'plain, any case, rejoined', text: squeeze(secret), spread: true },
    { name: '\\x escapes', text: bytes.map((b) => `\\x${hex(b)}`).join(''), spread: true },
    { name: 'Python bytes repr', text: squeeze(pyBytes), spread: true },
    { name: 'Python ascii()', text: squeeze(pyAscii), spread: true },
    { name: 'xxd -i', text: bytes.map((b) => `0x${hex(b)}`).join(','), spread: true },
  ];
}

/** Terminal escape sequences (CSI, two-character ESC sequences), as a colouring tool puts them inside a word. */
const TERMINAL_ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u009b[0-?]*[ -/]*[@-~]|\u001b[ -/]*[0-Z\\^-~]/g;

/** The haystack with terminal escapes, whitespace, and JSON's escapes for whitespace removed: a wrapped, coloured or spaced-out form is whole again. */
function squeeze(text: string): string {
  return text.replace(TERMINAL_ESCAPES, '').replace(/\\u001b\[[0-?]*[ -/]*[@-~]/g, '').replace(/\\[nrt]|\s/g, '');
}

/** `place: canary form` for each spelling of each canary found in each place (an empty list means no leak). */
export function findLeaks(places: Record<string, string>, canaries: Canary[]): string[] {
  const found: string[] = [];
  for (const [place, text] of Object.entries(places)) {
    const squeezed = squeeze(text);
    const folded = squeezed.toLowerCase();
    for (const canary of canaries) {
      for (const form of leakForms(canary.value)) {
        if (text.includes(form.text) || (form.spread && squeezed.includes(form.text))) found.push(`${place}: ${canary.name} ${form.name}`);
      }
      for (const form of squeezedForms(canary.value)) {
        if (form.text.length > 0 && folded.includes(form.text.toLowerCase())) found.push(`${place}: ${canary.name} ${form.name}`);
      }
    }
  }
  return found;
}
