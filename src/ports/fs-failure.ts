// What a file-system refusal means to the person at the terminal: a full disk, a read-only or foreign-owned directory, a FIFO where a file belongs. The machine's state, not a bug: one line naming the path, and what to do.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { NOT_REGULAR, notRegularKind } from './fs.js';

/** errno codes that say something about the disk or the directory, never about deployctl. */
const STORAGE: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error (the disk may be failing)',
};

/** `read-only file system (EROFS)`: the words for an errno code, with the code (only the code when it is not a storage one). */
export function storageWords(code: string): string {
  return STORAGE[code] !== undefined ? `${STORAGE[code]} (${code})` : code;
}

const READING = new Set(['read', 'scandir', 'readdir', 'stat', 'lstat', 'fstat', 'realpath']);

/** Whether `error` is a file-system refusal `fileFailure` can explain (it names a path, or the code alone says enough). */
export function isFileFailure(error: unknown): error is NodeJS.ErrnoException {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && (code === NOT_REGULAR || STORAGE[code] !== undefined) && error instanceof Error;
}

/**
 * The user-facing error for a file-system refusal: `cannot write .deployctl/runs/…/journal.jsonl: no space left on the
 * device (ENOSPC)`, with a hint that says how to fix it and what to do then (`then`, default: run the command again).
 * Storage problems exit 1 (the machine's state); a FIFO or a device where a file belongs exits 2 (the path is wrong).
 */
export function fileFailure(error: NodeJS.ErrnoException, cwd: string, then = 'run the command again'): CliError {
  const file = error.path !== undefined ? shown(error.path, cwd) : undefined;
  const code = error.code ?? 'EIO';
  if (code === NOT_REGULAR) {
    return new CliError(`${file ?? 'a path'} is ${notRegularKind(error) ?? 'not a regular file'}, not a regular file; deployctl reads and writes only regular files and never waits on a pipe or a device`, {
      exitCode: ExitCode.usage,
      hint: 'give the path of a regular file (remove whatever put a FIFO or a device there)',
    });
  }
  const verb = READING.has(error.syscall ?? '') ? 'read' : 'write';
  const message = `cannot ${verb} ${file ?? '(unknown path)'}: ${STORAGE[code] ?? code} (${code})`;
  const dir = file === undefined ? '.' : shown(path.dirname(path.resolve(cwd, error.path!)), cwd);
  let fix: string;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EFBIG':
      fix = `free space on the file system that holds ${dir} (df -h ${dir}); what was written before this is kept`;
      break;
    case 'EROFS':
      fix = 'that file system is mounted read-only: remount it read-write, or use a writable directory (DEPLOYCTL_STATE_DIR for the state directory, --out for a record)';
      break;
    case 'EACCES':
    case 'EPERM':
      fix = `${ownerOf(error.path, cwd)}run deployctl as the user who owns it, or use a directory of your own (DEPLOYCTL_STATE_DIR for the state directory)`;
      break;
    default:
      fix = 'check the disk (dmesg)';
  }
  return new CliError(message, { exitCode: ExitCode.failed, hint: `${fix}; then ${then}` });
}

/** `.deployctl belongs to uid 0 and is mode 0700, you are uid 65534: ` — the nearest existing directory on the way to `file`. */
function ownerOf(file: string | undefined, cwd: string): string {
  if (file === undefined) return '';
  for (let at = path.resolve(cwd, file); ; at = path.dirname(at)) {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(at);
    } catch {
      stat = undefined;
    }
    if (stat !== undefined) {
      const me = typeof process.getuid === 'function' ? process.getuid() : undefined;
      if (me === undefined || stat.uid === me) return `${shown(at, cwd)} is mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}: `;
      return `${shown(at, cwd)} belongs to uid ${stat.uid}, and you are uid ${me}: `;
    }
    if (path.dirname(at) === at) return '';
  }
}

function shown(file: string, cwd: string): string {
  const relative = path.relative(cwd, path.resolve(cwd, file));
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}
