// Linux /proc: which processes there are, and each one's state and process group (where there is no /proc, nothing is found).
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  /** R, S, D, T, Z (zombie), X (dead), … */
  state: string;
  pgrp: number;
}

/** The process ids in /proc, as its entries name them; undefined where there is no /proc to look in. */
export function listProcessIds(): string[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  return entries.filter((entry) => /^\d+$/.test(entry));
}

/** /proc/<pid>/stat, parsed; undefined when it cannot be read (the process is gone, or is not ours to look at). */
export function readProcStat(pid: number | string): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, so parse after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', pgrp: Number(fields[2]) };
}

/** /proc/<pid>/environ: the `NAME=value` entries the process started with; undefined when it cannot be read (gone, or another user's). */
export function readProcEnvironment(pid: number | string): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
}

/** A zombie (exited, not yet reaped by its parent) or a dead entry: it runs no code and holds no pipe. */
export function isZombieState(state: string): boolean {
  return state === 'Z' || state === 'X';
}
