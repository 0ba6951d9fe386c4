// The real file-system port: bounded reads, atomic writes with fsync, the only place that imports node:fs.
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
