// Read a runbook's bytes once: size limit, strict UTF-8 with the position of the first bad byte, sha256.
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { notRegularKind } from '../ports/fs.js';
import type { Problem } from './problem.js';
import type { RunbookSource } from './types.js';
import { positionFromText } from './yaml.js';

export const MAX_RUNBOOK_BYTES = 1024 * 1024;

export type ReadFileLimited = (
  file: string,
  maxBytes: number,
) => { ok: true; bytes: Uint8Array } | { ok: false; reason: 'too-large'; size: number };

export type ReadSourceResult = { ok: true; source: RunbookSource; text: string } | { ok: false; problems: Problem[] };

export function readSource(file: string, readFile: ReadFileLimited, maxBytes = MAX_RUNBOOK_BYTES): ReadSourceResult {
  const fail = (message: string, code: string): ReadSourceResult => ({ ok: false, problems: [{ file, line: 1, col: 1, code, message }] });
  let result;
  try {
    result = readFile(file, maxBytes);
  } catch (error) {
    return fail(describeFsError(error, file), (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' ? 'missing' : 'unreadable');
  }
  if (!result.ok) {
    // Just over the limit, both round to the same text: then say the exact size.
    const size = formatBytes(result.size) === formatBytes(maxBytes) ? `${result.size} bytes` : formatBytes(result.size);
    return fail(`the file is ${size}, over the ${formatBytes(maxBytes)} (${maxBytes} bytes) limit for runbooks: is this the right file?`, 'too-large');
  }
  const { bytes } = result;
  const decoded = decodeUtf8(bytes);
  if (!decoded.ok) {
    const prefix = new TextDecoder('utf-8').decode(bytes.subarray(0, decoded.offset));
    const problem = positionFromText(prefix, prefix.length, file, 'not-utf8', `invalid UTF-8 (byte 0x${bytes[decoded.offset]!.toString(16).padStart(2, '0')} at offset ${decoded.offset}): save the file as UTF-8`);
    return { ok: false, problems: [problem] };
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { ok: true, text: decoded.text, source: { path: file, dir: path.dirname(path.resolve(file)), bytes, sha256 } };
}

export function describeFsError(error: unknown, file: string): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return `no such file: ${file}; check the path`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied reading ${file}`;
    case 'EISDIR':
      return `${file} is a directory; give the path of a .yaml file`;
    case 'ENOTREG':
      return `${file} is ${notRegularKind(error) ?? 'not a regular file'}, not a regular file; give the path of a .yaml file`;
    default:
      return `cannot read ${file}: ${(error as Error).message}`;
  }
}

type DecodeResult = { ok: true; text: string } | { ok: false; offset: number };

/** Decode strictly; on failure find the offset of the first invalid byte so the error can point at it. */
export function decodeUtf8(bytes: Uint8Array): DecodeResult {
  try {
    let text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return { ok: true, text };
  } catch {
    return { ok: false, offset: firstInvalidUtf8(bytes) };
  }
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let need: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else {
      return i;
    }
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return i;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
