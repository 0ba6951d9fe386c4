// The real file-system port: bounded reads of regular files only (never blocking on a FIFO or a device), atomic and
// no-clobber writes with fsync, private directories, and the stat/list/remove calls the rest of src/ makes instead of importing node:fs.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { faultPoint } from '../faults.js';

export type ReadLimitedResult = { ok: true; bytes: Uint8Array } | { ok: false; reason: 'too-large'; size: number };

/** The `code` of the error thrown for a path that is there but is a FIFO, a device or a socket (a directory is EISDIR). */
export const NOT_REGULAR = 'ENOTREG';

/**
 * Directories deployctl creates (the state directory and everything under it, the host lock directory, the parents of
 * files it writes) are private to the user: 0700 whatever the umask (mkdir(2) only ever removes bits from it).
 */
export const PRIVATE_DIR_MODE = 0o700;

const { O_RDONLY, O_WRONLY, O_APPEND, O_CREAT, O_NONBLOCK, O_NOCTTY } = fs.constants;

function kindOf(stat: fs.Stats): string {
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The error for a path that is not a regular file, shaped like Node's own (code, path, syscall). */
function notRegular(file: string, stat: fs.Stats, syscall: string): NodeJS.ErrnoException {
  if (stat.isDirectory()) return Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${file}'`), { code: 'EISDIR', path: file, syscall });
  const kind = kindOf(stat);
  return Object.assign(new Error(`${file} is ${kind === 'not a regular file' ? kind : `${kind}, not a regular file`}: deployctl reads and writes regular files only`), {
    code: NOT_REGULAR,
    path: file,
    syscall,
    kind,
  });
}

/** For an ENOTREG error: what the path is instead (`a FIFO (named pipe)`, `a character device`…); else undefined. */
export function notRegularKind(error: unknown): string | undefined {
  const e = error as (NodeJS.ErrnoException & { kind?: unknown }) | undefined;
  return e?.code === NOT_REGULAR && typeof e.kind === 'string' ? e.kind : undefined;
}

/** An fd error (write, fsync) names no file: name it, so the person is told which one. */
export function withPath<E>(error: E, file: string): E {
  const e = error as NodeJS.ErrnoException | undefined;
  if (e !== undefined && e !== null && typeof e === 'object' && typeof e.code === 'string' && e.path === undefined) e.path = file;
  return error;
}

/**
 * Open an existing regular file for reading, never blocking and never opening a device: stat first, so a FIFO or a
 * device is refused without being opened at all (opening some devices does something); then open with O_NONBLOCK
 * (a FIFO swapped in between the two calls makes open return at once instead of waiting for a writer) and check the
 * opened file itself with fstat, which is what is read from. Throws Node's errors (ENOENT…), EISDIR or ENOTREG.
 */
export function openRegularFile(file: string): number {
  const before = fs.statSync(file);
  if (!before.isFile()) throw notRegular(file, before, 'open');
  const fd = fs.openSync(file, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  try {
    const opened = fs.fstatSync(fd);
    if (!opened.isFile()) throw notRegular(file, opened, 'open');
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
  return fd;
}

/**
 * Read a whole regular file, refusing (without reading it all) anything over `maxBytes`, and refusing FIFOs, devices
 * and sockets without waiting on them (ENOTREG). Throws Node's errors (ENOENT…).
 */
export function readFileLimited(file: string, maxBytes: number): ReadLimitedResult {
  const fd = openRegularFile(file);
  try {
    const stat = fs.fstatSync(fd);
    if (stat.size > maxBytes) return { ok: false, reason: 'too-large', size: stat.size };
    // Read up to one byte past the limit: /proc files report size 0, and a file may grow while it is read.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, maxBytes + 1 - total));
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > maxBytes) return { ok: false, reason: 'too-large', size: total };
    }
    return { ok: true, bytes: new Uint8Array(Buffer.concat(chunks, total)) };
  } finally {
    fs.closeSync(fd);
  }
}

/** A whole regular file as UTF-8, up to `maxBytes` (more is an error): what was just written, read back to check it. Throws Node's errors. */
export function readTextFile(file: string, maxBytes = 64 * 1024 * 1024): string {
  const read = readFileLimited(file, maxBytes);
  if (!read.ok) throw Object.assign(new Error(`${file} is ${read.size} bytes, more than the ${maxBytes} expected`), { code: 'EFBIG', path: file, syscall: 'read' });
  return Buffer.from(read.bytes.buffer, read.bytes.byteOffset, read.bytes.byteLength).toString('utf8');
}

/**
 * Open a regular file for appending, creating it with `mode` (and its directory, private), never blocking: a FIFO or
 * a device already at the path is refused (ENOTREG), not opened for writing (which waits for a reader).
 */
function openForAppend(file: string, mode: number): { fd: number; created: boolean } {
  makeDirectory(path.dirname(file));
  let existing: fs.Stats | undefined;
  try {
    existing = fs.statSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (existing !== undefined && !existing.isFile()) throw notRegular(file, existing, 'open');
  let fd: number;
  try {
    fd = fs.openSync(file, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_NOCTTY, mode);
  } catch (error) {
    // ENXIO: a FIFO with no reader appeared after the stat.
    if ((error as NodeJS.ErrnoException).code === 'ENXIO') throw notRegular(file, fs.statSync(file), 'open');
    throw error;
  }
  try {
    const opened = fs.fstatSync(fd);
    if (!opened.isFile()) throw notRegular(file, opened, 'open');
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
  return { fd, created: existing === undefined };
}

/**
 * Write a file so that a crash leaves either the old content or the new, never a torn file; a failure (a full disk, a
 * read-only file system) leaves the old file as it was and no temporary behind, and names `file`.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): void {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    makeDirectory(dir);
    const fd = fs.openSync(temp, 'wx', mode);
    try {
      writeAll(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      fs.fsyncSync(fd);
    } catch (error) {
      fs.closeSync(fd);
      fs.rmSync(temp, { force: true });
      throw error;
    }
    fs.closeSync(fd);
    faultPoint('record-temp');
    try {
      fs.renameSync(temp, file);
    } catch (error) {
      fs.rmSync(temp, { force: true });
      throw error;
    }
  } catch (error) {
    throw naming(error, file, temp);
  }
  fsyncDirectory(dir);
  faultPoint('record-renamed');
}

/** The error names `file` (the temporary it was written through means nothing to the person reading it). */
function naming<E>(error: E, file: string, temp: string): E {
  const e = error as NodeJS.ErrnoException | undefined;
  if (e !== undefined && e !== null && typeof e === 'object' && typeof e.code === 'string' && (e.path === undefined || e.path === temp)) e.path = file;
  return error;
}

export function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, O_RDONLY | O_NONBLOCK);
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic there.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** An append-only log whose durable lines are on disk (fsync) before `append` returns. */
export interface AppendLog {
  /** Throws (the error names the file) when the line cannot be written; after that every append throws the same error. */
  append(line: string, durable: boolean): void;
  close(): void;
}

/**
 * An append-only log in a regular file (created 0600, its directory 0700). A failed write (a full disk) may leave a
 * torn last line, which readers skip; the log then refuses further lines, so nothing lands after the tear.
 */
export function openAppendLog(file: string): AppendLog {
  let fd: number;
  let created: boolean;
  try {
    ({ fd, created } = openForAppend(file, 0o600));
    if (created) fsyncDirectory(path.dirname(file));
  } catch (error) {
    throw withPath(error, file);
  }
  let open = true;
  let failure: unknown;
  return {
    append(line, durable) {
      if (failure !== undefined) throw failure;
      if (!open) return;
      try {
        writeAll(fd, Buffer.from(line, 'utf8'));
        if (durable) fs.fsyncSync(fd);
      } catch (error) {
        failure = withPath(error, file);
        throw failure;
      }
    },
    close() {
      if (!open) return;
      open = false;
      try {
        fs.fsyncSync(fd);
      } catch (error) {
        // After a failed append the log already said so; a second report of the same disk would hide the first.
        if (failure === undefined) {
          fs.closeSync(fd);
          throw withPath(error, file);
        }
      }
      fs.closeSync(fd);
    },
  };
}

/** Append text to a regular file, creating it (0600) and its directory (0700): notification log channels. */
export function appendToFile(file: string, text: string): void {
  try {
    const { fd } = openForAppend(file, 0o600);
    try {
      writeAll(fd, Buffer.from(text, 'utf8'));
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    throw withPath(error, file);
  }
}

/** write(2) may write less than asked (a full disk, a signal): loop until every byte is out, or throw. */
export function writeAll(fd: number, data: Uint8Array): void {
  let offset = 0;
  while (offset < data.length) offset += fs.writeSync(fd, data, offset, data.length - offset);
}

export interface PathInfo {
  isFile: boolean;
  /** Type and permission bits (`& 0o777` for the permissions). */
  mode: number;
  mtimeMs: number;
}

/** stat(2), following symlinks; undefined when the path does not exist or cannot be looked at. */
export function statPath(file: string): PathInfo | undefined {
  try {
    const stat = fs.statSync(file);
    return { isFile: stat.isFile(), mode: stat.mode, mtimeMs: stat.mtimeMs };
  } catch {
    return undefined;
  }
}

/** Whether a regular file is there (symlinks followed). */
export function isRegularFile(file: string): boolean {
  return statPath(file)?.isFile === true;
}

/** Whether anything is at the path, a dangling symlink included (lstat). */
export function pathExists(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

/** The names in a directory, or undefined when it is not a readable directory. */
export function listDirectory(dir: string): string[] | undefined {
  try {
    return fs.readdirSync(dir);
  } catch {
    return undefined;
  }
}

/** The path with every symlink resolved, or undefined when it does not exist. */
export function realPath(file: string): string | undefined {
  try {
    return fs.realpathSync(file);
  } catch {
    return undefined;
  }
}

/** mkdir -p, new directories created with `mode` (default private, 0700); existing ones are left as they are. */
export function makeDirectory(dir: string, mode = PRIVATE_DIR_MODE): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  // Node's recursive mkdir says ENOENT when it could not make a parent (a read-only file system, no permission):
  // make each missing level in turn, so the error says why, and about which directory.
  const missing: string[] = [];
  for (let at = path.resolve(dir); !pathExists(at); at = path.dirname(at)) {
    missing.push(at);
    if (path.dirname(at) === at) break;
  }
  for (const level of missing.reverse()) {
    try {
      fs.mkdirSync(level, { mode });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** Remove a file; one that is already gone is fine. */
export function removeFile(file: string): void {
  fs.rmSync(file, { force: true });
}

/**
 * Create `file` with exactly `data` and `mode`, atomically, failing with EEXIST if it already exists: the file
 * appears whole or not at all (temp file, fsync, then a hard link that fails if the name exists), so nothing is ever
 * overwritten, not even by a concurrent writer. (writeFileAtomic renames over an existing file and leaves the mode
 * to the umask.)
 */
export function writeNewFile(file: string, data: string, mode: number): void {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = fs.openSync(temp, 'wx', mode);
    try {
      try {
        fs.fchmodSync(fd, mode); // the umask may have removed bits (0644 → 0600 under umask 077)
        writeAll(fd, Buffer.from(data, 'utf8'));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      try {
        fs.linkSync(temp, file); // atomic, and refuses an existing name (rename would replace it)
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EXDEV') throw error;
        // A file system without hard links: check, then rename (a narrow race, only there).
        if (pathExists(file)) throw Object.assign(new Error(`EEXIST: file already exists, '${file}'`), { code: 'EEXIST' });
        fs.renameSync(temp, file);
      }
    } finally {
      fs.rmSync(temp, { force: true });
    }
  } catch (error) {
    throw naming(error, file, temp);
  }
}
