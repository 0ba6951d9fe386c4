// Read a record file: bounded, never a stack trace for a bad file, and strictly parsed as a DSSE envelope without looking inside the payload.
import * as path from 'node:path';
import { notRegularKind, readFileLimited } from '../ports/fs.js';
import { parseEnvelope, type EnvelopeProblem, type ParsedEnvelope } from './dsse.js';
import { parseJsonStrict } from './strict-json.js';

/** A record is a few hundred KiB at most; anything this big is not one, and is refused before it is read whole. */
export const MAX_RECORD_FILE_BYTES = 16 * 1024 * 1024;

export interface ReadProblem {
  code: 'missing' | 'unreadable' | 'not-a-file' | 'empty' | 'too-large' | 'not-json' | 'duplicate-key' | 'not-envelope';
  /** One sentence naming the file and what is wrong with it. */
  message: string;
  /** The envelope's problems, one per line. */
  details: string[];
}

export type ReadRecordResult = { ok: true; parsed: ParsedEnvelope; bytes: Uint8Array } | { ok: false; problem: ReadProblem };

/** Read and strictly parse a record file. Never throws on a bad file; never looks inside the payload. */
export function readRecordFile(file: string, cwd: string): ReadRecordResult {
  const fail = (code: ReadProblem['code'], message: string): ReadRecordResult => ({ ok: false, problem: { code, message, details: [] } });
  let bytes: Uint8Array;
  try {
    const read = readFileLimited(path.resolve(cwd, file), MAX_RECORD_FILE_BYTES);
    if (!read.ok) return fail('too-large', `${file} is ${read.size} bytes, more than the ${MAX_RECORD_FILE_BYTES / 1024 / 1024} MiB a record may be: it is not a deployment record`);
    bytes = read.bytes;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail('missing', `${file}: no such file`);
    if (code === 'EISDIR') return fail('unreadable', `${file} is a directory, not a record file`);
    if (code === 'ENOTREG') return fail('not-a-file', `${file} is ${notRegularKind(error)}, not a regular file: it is not a record file`);
    if (code === 'EACCES' || code === 'EPERM') return fail('unreadable', `${file}: permission denied`);
    return fail('unreadable', `cannot read ${file}: ${(error as Error).message}`);
  }
  return parseRecordBytes(file, bytes);
}

/** Parse the bytes of a record file (read by readRecordFile, or again under the sign lock). */
export function parseRecordBytes(file: string, bytes: Uint8Array): ReadRecordResult {
  const fail = (code: ReadProblem['code'], message: string, details: string[] = []): ReadRecordResult => ({ ok: false, problem: { code, message, details } });
  if (isBlank(bytes)) {
    return fail('empty', `${file} is empty: it is not a deployment record (was it truncated while being copied?)`);
  }
  const json = parseJsonStrict(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  if (!json.ok && json.kind === 'syntax') {
    const truncated = /end of (JSON )?input|Unterminated/i.test(json.message);
    return fail('not-json', `${file} is not JSON${truncated ? ' (it ends too early: truncated?)' : ''}: it is not a deployment record`, [clip(json.message)]);
  }
  if (!json.ok) {
    // JSON.parse would keep the last one, another reader the first: which payload was checked would depend on the reader.
    return fail(
      'duplicate-key',
      `${file} has the key "${clip(json.key)}" twice (at ${clip(json.pointer)}): a record with a duplicate key is refused, since JSON readers disagree on which one counts`,
    );
  }
  const parsed = parseEnvelope(json.value);
  if (!parsed.ok) {
    return fail('not-envelope', `${file} is not a DSSE envelope (payloadType, payload, signatures): it is not a deployment record`, parsed.problems.slice(0, 10).map(formatEnvelopeProblem));
  }
  return { ok: true, parsed: parsed.parsed, bytes };
}

/** Empty, or only JSON whitespace. */
function isBlank(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return false;
  return true;
}

function formatEnvelopeProblem(problem: EnvelopeProblem): string {
  return clip(problem.message);
}

/** One line of at most 200 characters, control characters blanked: for text taken from a file in a message. */
export function clip(text: string): string {
  const one = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return one.length > 200 ? `${one.slice(0, 200)}…` : one;
}
