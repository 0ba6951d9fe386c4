// The real file-system port: bounded reads, atomic and no-clobber writes with fsync, and the stat/list/remove calls the rest of src/ makes instead of importing node:fs.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { faultPoint } from '../faults.js';

export type ReadLimitedResult = { ok: true; bytes: Uint8Array } | { ok: false; reason: 'too-large'; size: number };

/** Read a whole file, refusing (without reading it all) anything over `maxBytes`. Throws Node's errors (ENOENT…). */
export function readFileLimited(file: string, maxBytes: number): ReadLimitedResult {
  const fd = fs.openSync(file, 'r');
  try {
    const stat = fs.fstatSync(fd);
    if (stat.isDirectory()) {
      throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${file}'`), { code: 'EISDIR' });
    }
    if (stat.isFile() && stat.size > maxBytes) return { ok: false, reason: 'too-large', size: stat.size };
    // Read up to one byte past the limit: pipes and /proc files report size 0.
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

/** Write a file so that a crash leaves either the old content or the new, never a torn file. */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
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
  fs.renameSync(temp, file);
  fsyncDirectory(dir);
  faultPoint('record-renamed');
}

export function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic there.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** An append-only log whose durable lines are on disk (fsync) before `append` returns. */
export interface AppendLog {
  append(line: string, durable: boolean): void;
  close(): void;
}

export function openAppendLog(file: string): AppendLog {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const existed = fs.existsSync(file);
  const fd = fs.openSync(file, 'a', 0o600);
  if (!existed) fsyncDirectory(path.dirname(file));
  let open = true;
  return {
    append(line, durable) {
      if (!open) return;
      writeAll(fd, Buffer.from(line, 'utf8'));
      if (durable) fs.fsyncSync(fd);
    },
    close() {
      if (!open) return;
      open = false;
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    },
  };
}

/** Append text to a file, creating it and its directory (notification log channels). */
export function appendToFile(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, text, { mode: 0o600 });
}

/** write(2) may write less than asked (a full disk, a signal): loop until every byte is out, or throw. */
export function writeAll(fd: number, data: Uint8Array): void {
  let offset = 0;
  while (offset < data.length) offset += fs.writeSync(fd, data, offset, data.length - offset);
}

/** Read a whole (small) file as UTF-8: what was just written, read back to check it. Throws Node's errors. */
export function readTextFile(file: string): string {
  return fs.readFileSync(file, 'utf8');
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

/** mkdir -p, new directories created with `mode`. */
export function makeDirectory(dir: string, mode?: number): void {
  fs.mkdirSync(dir, mode === undefined ? { recursive: true } : { recursive: true, mode });
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
  const fd = fs.openSync(temp, 'wx', mode);
  try {
    try {
      fs.fchmodSync(fd, mode); // the umask may have removed bits (0644 → 0600 under umask 077)
      fs.writeSync(fd, data);
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
}
