// Linux /proc: which processes there are, and each one's state and process group (where there is no /proc, nothing is found).
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  /** The executable's name, at most 15 characters (`comm`). */
  comm: string;
  /** R, S, D, T, Z (zombie), X (dead), … */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** Clock ticks after boot: with the pid, names one process for good (a pid is reused, this pair is not). */
  startTime: number;
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
  // pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
  // priority nice num_threads itrealvalue starttime …: comm may hold spaces and parentheses, so parse after the last ')'.
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  return {
    comm: stat.slice(stat.indexOf('(') + 1, close),
    state: fields[0] ?? '',
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    session: Number(fields[3]),
    startTime: Number(fields[19]),
  };
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

export interface MarkedProcess {
  pid: number;
  pgid: number;
  /** The rest of what /proc/<pid>/stat said when it was found. */
  stat: ProcStat;
  /** The entry of `anyOf` found in its environment (undefined when `anyOf` was not given). */
  mark: string | undefined;
}

/**
 * Live processes (zombies and this process left out) whose environment holds every `NAME=value` entry of `all` and,
 * when `anyOf` is given, one of its entries (none found where there is no /proc). Environments are inherited, so this
 * finds what a step started even after it left the step's process group (setsid, a double fork), and a resume finds
 * a step's orphans this way: a kill -9 between spawning a step and journaling its pid leaves one that no journaled
 * pid points to.
 */
export function findProcessesWithEnv(all: readonly string[], anyOf?: readonly string[]): MarkedProcess[] {
  if (anyOf !== undefined && anyOf.length === 0) return [];
  const found: MarkedProcess[] = [];
  for (const entry of listProcessIds() ?? []) {
    if (Number(entry) === process.pid) continue;
    const vars = readProcEnvironment(entry);
    if (vars === undefined || !all.every((m) => vars.includes(m))) continue; // gone, another user's, or not one of ours
    const mark = anyOf?.find((m) => vars.includes(m));
    if (anyOf !== undefined && mark === undefined) continue;
    const stat = readProcStat(entry);
    if (stat === undefined || isZombieState(stat.state)) continue; // gone, or a zombie
    found.push({ pid: Number(entry), pgid: stat.pgrp, stat, mark });
  }
  return found;
}

/** The process ids from `pid` up to init through each parent (`pid` included); stops where /proc cannot tell. */
export function ancestorsOf(pid: number): Set<number> {
  const chain = new Set<number>();
  for (let current = pid; current > 0 && !chain.has(current); ) {
    chain.add(current);
    const stat = readProcStat(current);
    if (stat === undefined) break;
    current = stat.ppid;
  }
  return chain;
}

/** Whether `pid` is still the very process found earlier (same start time), alive and not a zombie. */
export function isSameLiveProcess(pid: number, startTime: number): boolean {
  const stat = readProcStat(pid);
  return stat !== undefined && stat.startTime === startTime && !isZombieState(stat.state);
}
