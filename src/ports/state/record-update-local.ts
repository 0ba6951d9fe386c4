// updateRecord on the local directory: the record file in records/, changed under its lock file `.<name>.lock` (the lock `record sign` on a file takes), rewritten atomically and read back.
import * as path from 'node:path';
import { acquireFileLock } from '../file-lock.js';
import { readFileLimited, realPath, statPath, writeFileAtomic } from '../fs.js';
import type { RecordChange, RecordUpdate, RecordUpdateOptions } from './store.js';

/** A record is at most this big (as record files are read: src/record/read.ts). */
const MAX_RECORD_BYTES = 16 * 1024 * 1024;

export function updateRecordFile<T>(recordsDir: string, name: string, change: (current: Uint8Array) => RecordChange<T>, options: RecordUpdateOptions, show: (file: string) => string): RecordUpdate<T> {
  const file = path.join(recordsDir, name);
  // A name is a file in records/, never a path out of it (nor one of the dot files: temporaries and locks).
  if (name === '' || path.basename(name) !== name || name.startsWith('.') || statPath(file) === undefined) return { kind: 'missing', where: show(recordsDir) };
  // Rewrite the file a symlink points at, not the link; lock that file, whichever name reached it (as sign.ts does).
  const target = realPath(file) ?? file;
  const lockFile = path.join(path.dirname(target), `.${path.basename(target)}.lock`);
  const lock = acquireFileLock(lockFile, { what: options.what, waitMs: options.waitMs });
  if (!lock.ok) {
    if (lock.reason === 'held') return { kind: 'locked', lock: show(lockFile), waitedMs: lock.waitedMs, inDatabase: false, ...(lock.holder !== undefined ? { holder: lock.holder } : {}) };
    return { kind: 'failed', stage: 'lock', lock: show(lockFile), code: lock.code, message: lock.message };
  }
  try {
    const read = readFileLimited(target, MAX_RECORD_BYTES);
    // Too large to be a record: it is given to `change` empty, which refuses it as unreadable.
    const decided = change(read.ok ? read.bytes : new Uint8Array());
    const done = { kind: 'done' as const, result: decided.result, lock: show(lockFile), ...(lock.tookOverFrom !== undefined ? { tookOverFrom: lock.tookOverFrom } : {}) };
    if (decided.write === undefined) return done;
    try {
      writeFileAtomic(target, decided.write, (statPath(target)?.mode ?? 0o644) & 0o777);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      return { kind: 'failed', stage: 'write', lock: show(lockFile), code: e.code ?? 'unknown', message: e.message };
    }
    let stored: Uint8Array = new Uint8Array();
    try {
      const back = readFileLimited(target, MAX_RECORD_BYTES);
      if (back.ok) stored = back.bytes;
    } catch {
      // Unreadable after the write: `stored` stays empty, and the caller finds its change missing from it.
    }
    return { ...done, stored };
  } finally {
    lock.release();
  }
}
