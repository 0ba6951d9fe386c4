// The spellings of a secret that are masked (plain, quoted, base64, hex, URL, JSON, escapes, C arrays), each as units with what tools put between them; and the regular expression and the cut-off check built from them.

/**
 * What may lie between two units of a form, as tools lay it out (whitespace is JavaScript's `\s`):
 * - `none`: nothing;
 * - `lines`: up to 2 whitespace characters (a line break, `\r\n`): wrapped base64;
 * - `hex`: up to 5 (spaces, a line break and the indentation after it): hex dumps (`xxd -p`, `od -An -tx1`);
 * - `c-array`: a comma, then up to 4 whitespace characters: `xxd -i` (`0x73, 0x65,` 12 to a line);
 * - `noise`: up to 4 whitespace characters or terminal escape sequences (CSI, also as C1 `\x9b`, and two-character
 *   ESC sequences): the secret itself wrapped across lines (`\n`, `\r\n` and an indent), with a CR in it, or with
 *   colour codes in it (`grep --color` highlighting part of it). OSC sequences are not gaps.
 */
export type Spread = 'none' | 'lines' | 'hex' | 'c-array' | 'noise';

export interface SecretForm {
  /** Each unit's first alternative, joined: for ordering and for `secretVariants`. */
  text: string;
  /** In order; each unit is one of its alternatives (a character, a byte's hex, a code point's escapes). */
  units: string[][];
  spread: Spread;
}

/** Secrets of 1–2 characters are not masked at all; 3 only as they are (in any case); 4 and more in every form. */
export const MIN_PLAIN_LENGTH = 3;
export const MIN_ENCODED_LENGTH = 4;
/** A base64 fragment shorter than this could turn up by chance. */
const MIN_FRAGMENT_LENGTH = 4;

/** One terminal escape sequence: CSI (ESC [ or C1 CSI, parameters, intermediates, final), or ESC, intermediates and a final (not [ or ]). */
const ESCAPE_SEQUENCE = '\\x1b\\[[0-?]{0,16}[ -/]{0,2}[@-~]|\\x9b[0-?]{0,16}[ -/]{0,2}[@-~]|\\x1b[ -/]{0,2}[0-Z\\\\^-~]';
const ESCAPE_MAX_LENGTH = 21;
const NOISE_ITEMS = 4;

/**
 * One quantifier per gap (`\s{0,5}`), never `\s?` repeated: `\s?\s?\s?\s?\s?` can take one space five ways, and a
 * text that ends in the middle of a spread-out form (a chunk of a hex dump) then makes the engine try every way
 * through every gap, 5ⁿ. With one quantifier each count is one way, and a count that leaves whitespace before a
 * unit that is not whitespace fails at once.
 */
const GAP_SOURCE: Record<Spread, string> = {
  none: '',
  lines: '\\s{0,2}',
  hex: '\\s{0,5}',
  'c-array': ',\\s{0,4}',
  noise: `(?:\\s|${ESCAPE_SEQUENCE}){0,${NOISE_ITEMS}}`,
};
const GAP_MAX_LENGTH: Record<Spread, number> = { none: 0, lines: 2, hex: 5, 'c-array': 5, noise: NOISE_ITEMS * ESCAPE_MAX_LENGTH };

/** Every form of `secret`, longest first (empty when it is too short to mask). */
export function secretForms(secret: string): SecretForm[] {
  if (secret.length < MIN_PLAIN_LENGTH) return [];
  const forms = new Map<string, SecretForm>();
  // Matching ignores case: forms that differ only in case are one. A plain text that is also an encoded one is
  // masked however it is spread out.
  const add = (form: SecretForm) => {
    const key = `${form.units.map((u) => u.join('\u0000')).join('\u0001')}`.toLowerCase();
    const known = forms.get(key);
    if (known === undefined || (known.spread === 'none' && form.spread !== 'none')) forms.set(key, form);
  };
  const literal = (text: string): SecretForm => ({ text, units: [[text]], spread: 'none' });
  const spread = (units: string[], how: Spread): SecretForm => ({ text: units.join(''), units: units.map((u) => [u]), spread: how });

  const chars = [...secret];
  add(secret.length >= MIN_ENCODED_LENGTH ? spread(chars, 'noise') : literal(secret));
  // Inside a single-quoted shell word (how commands are displayed, src/expr/template.ts shellQuote) each ' is written '\''.
  if (secret.includes("'")) add(literal(secret.replace(/'/g, `'\\''`)));
  if (secret.length >= MIN_ENCODED_LENGTH) {
    const bytes = Buffer.from(secret, 'utf8');
    for (const b64 of base64Forms(bytes)) add(spread([...b64], 'lines'));
    const hex = bytes.toString('hex');
    add(spread(hex.match(/../g) ?? [], 'hex'));
    add(spread([...bytes].map((b) => `0x${b.toString(16).padStart(2, '0')}`), 'c-array'));
    add(escapedForm(chars));
    const uri = encodeURIComponent(secret);
    add(literal(uri));
    add(literal(uri.replace(/%20/g, '+')));
    add(literal(new URLSearchParams([['', secret]]).toString().slice(1)));
    // RFC 3986: only A–Z a–z 0–9 - . _ ~ stay as they are (Python's urllib.parse.quote(s, safe='') and quote_plus).
    const rfc3986 = uri.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    add(literal(rfc3986));
    add(literal(rfc3986.replace(/%20/g, '+')));
    const json = JSON.stringify(secret).slice(1, -1);
    add(literal(json));
    // JSON with every non-ASCII unit escaped (Python's json.dumps by default, jq -a): `\u00e9`, an emoji as two escapes.
    add(literal(json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)));
  }
  return [...forms.values()].filter((form) => form.text.length >= MIN_PLAIN_LENGTH).sort((a, b) => b.text.length - a.text.length);
}

/**
 * The secret in backslash escapes, each code point as it is or escaped, however a tool chose: `\x73` per byte (printf,
 * C, Python's bytes repr: `b'ab\xc3\xa9'`), `\xe9`, `\u20ac`, `\U0001f511` per code point (Python's ascii()), `\\`,
 * `\'` and `\"` for the quoting characters. Case is ignored, so `\X73` and `\xAB` are the same.
 */
function escapedForm(chars: string[]): SecretForm {
  const hex2 = (n: number) => n.toString(16).padStart(2, '0');
  const units = chars.map((c) => {
    const cp = c.codePointAt(0)!;
    const alternatives = [...Buffer.from(c, 'utf8')].map((b) => `\\x${hex2(b)}`).join('');
    const unit = [alternatives];
    if (cp < 0x100 && cp >= 0x80) unit.push(`\\x${hex2(cp)}`);
    if (cp >= 0x80 && cp < 0x10000) unit.push(`\\u${cp.toString(16).padStart(4, '0')}`);
    if (cp >= 0x10000) {
      unit.push(`\\U${cp.toString(16).padStart(8, '0')}`);
      unit.push(Array.from({ length: c.length }, (_, i) => `\\u${c.charCodeAt(i).toString(16)}`).join('')); // its UTF-16 pair, escaped
    }
    if (c === '\\' || c === "'" || c === '"') unit.push(`\\${c}`);
    if (c === '\t') unit.push('\\t');
    if (c === '\n') unit.push('\\n');
    if (c === '\r') unit.push('\\r');
    if (c !== '\\' && (cp >= 0x20 ? cp !== 0x7f : false)) unit.push(c);
    return unit;
  });
  return { text: units.map((u) => u[0]!).join(''), units, spread: 'none' };
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
  return [...forms, ...forms.map((b) => b.replace(/\+/g, '-').replace(/\//g, '_'))];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The form as a regular expression (to be compiled with the `i` flag). */
export function formSource(form: SecretForm): string {
  const unit = (alternatives: string[]) => (alternatives.length === 1 ? escapeRegExp(alternatives[0]!) : `(?:${alternatives.map(escapeRegExp).join('|')})`);
  return form.units.map(unit).join(GAP_SOURCE[form.spread]);
}

/** The longest text a match of `form` can be. */
export function formMaxLength(form: SecretForm): number {
  const units = form.units.reduce((n, u) => n + Math.max(...u.map((a) => a.length)), 0);
  return units + GAP_MAX_LENGTH[form.spread] * Math.max(0, form.units.length - 1);
}

/** Whether a form's gaps can hold a line break: a match of it may cross lines. */
export function crossesLines(form: SecretForm): boolean {
  return form.spread !== 'none';
}

/** A regular expression's case folding without the `u` flag (ECMA-262 Canonicalize): what `i` compares. */
export function fold(c: string): string {
  const upper = c.toUpperCase();
  if (upper.length !== 1) return c;
  if (c.charCodeAt(0) >= 128 && upper.charCodeAt(0) < 128) return c;
  return upper;
}

/** `fold(a) === fold(b)`, without folding in the common cases: the same character, or two ASCII characters. */
export function sameFolded(a: string, b: string): boolean {
  if (a === b) return true;
  const x = a.charCodeAt(0);
  const y = b.charCodeAt(0);
  // fold never takes a character outside ASCII into it (Canonicalize's rule), nor one inside out of it.
  if (x < 128 || y < 128) return x < 128 && y < 128 && (x | 0x20) === (y | 0x20) && (x | 0x20) >= 0x61 && (x | 0x20) <= 0x7a;
  return fold(a) === fold(b);
}

/**
 * Whether `text` from `start` on is the beginning of a match of `form` that the end of the text cut off (more text
 * could complete it). Mirrors `formSource` with the `i` flag, every alternative and every way through a gap tried:
 * it must never say no where the regular expression could still match.
 */
export function isCutOffMatch(text: string, start: number, form: SecretForm): boolean {
  return unitFrom(text, form, 0, start);
}

function unitFrom(text: string, form: SecretForm, u: number, pos: number): boolean {
  const units = form.units;
  for (const alternative of units[u]!) {
    let at = pos;
    let fits = true;
    for (let k = 0; k < alternative.length; k++, at++) {
      if (at >= text.length) return true;
      if (!sameFolded(text[at]!, alternative[k]!)) {
        fits = false;
        break;
      }
    }
    if (fits && u + 1 < units.length && gapFrom(text, form, u + 1, at)) return true;
  }
  return false; // a whole match fits in the text (the regular expression finds it), or none starts here
}

function gapFrom(text: string, form: SecretForm, u: number, pos: number): boolean {
  if (pos >= text.length) return true;
  switch (form.spread) {
    case 'none':
      return unitFrom(text, form, u, pos);
    case 'lines':
    case 'hex':
      return whitespaceThen(text, form, u, pos, GAP_MAX_LENGTH[form.spread]);
    case 'c-array':
      return text[pos] === ',' && whitespaceThen(text, form, u, pos + 1, 4);
    case 'noise':
      return noiseThen(text, form, u, pos, NOISE_ITEMS);
  }
}

function whitespaceThen(text: string, form: SecretForm, u: number, pos: number, most: number): boolean {
  for (let n = 0, at = pos; n <= most; n++, at++) {
    if (at >= text.length) return true;
    if (unitFrom(text, form, u, at)) return true;
    if (!isWhitespace(text.charCodeAt(at))) return false;
  }
  return false;
}

function noiseThen(text: string, form: SecretForm, u: number, pos: number, itemsLeft: number): boolean {
  if (pos >= text.length) return true;
  if (unitFrom(text, form, u, pos)) return true;
  if (itemsLeft === 0) return false;
  const item = noiseItemLength(text, pos);
  if (item === CUT) return true;
  return item > 0 && noiseThen(text, form, u, pos + item, itemsLeft - 1);
}

/** JavaScript's `\s`: what the pattern's gaps accept. */
const WHITESPACE = /\s/;
function isWhitespace(code: number): boolean {
  if (code < 128) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  return WHITESPACE.test(String.fromCharCode(code));
}

/** `CUT`: the text ended inside an escape sequence. */
const CUT = -1;

/** The length of the whitespace character or escape sequence at `pos` (0: neither), or CUT when the text ends inside one. Mirrors ESCAPE_SEQUENCE. */
function noiseItemLength(text: string, pos: number): number {
  const c = text[pos]!;
  if (isWhitespace(c.charCodeAt(0))) return 1;
  if (c !== '\u001b' && c !== '\u009b') return 0;
  let at = pos + 1;
  const csi = c === '\u009b' || text[at] === '[';
  if (c === '\u001b') {
    if (at >= text.length) return CUT;
    if (text[at] === '[') at++;
  }
  const within = (lo: number, hi: number) => at < text.length && text.charCodeAt(at) >= lo && text.charCodeAt(at) <= hi;
  if (csi) {
    for (let n = 0; n < 16 && within(0x30, 0x3f); n++) at++;
    for (let n = 0; n < 2 && within(0x20, 0x2f); n++) at++;
    if (at >= text.length) return CUT;
    return within(0x40, 0x7e) ? at + 1 - pos : 0;
  }
  for (let n = 0; n < 2 && within(0x20, 0x2f); n++) at++;
  if (at >= text.length) return CUT;
  const f = text.charCodeAt(at);
  return f >= 0x30 && f <= 0x7e && f !== 0x5b && f !== 0x5d ? at + 1 - pos : 0;
}
