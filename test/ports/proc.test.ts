// /proc reading: a process is named for good by its pid and start time, so a pid the system has reused is never mistaken for it.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ancestorsOf, isSameLiveProcess, readProcStat } from '../../src/ports/proc.js';

describe('readProcStat and isSameLiveProcess', () => {
  it('recognise a live process only with the start time it was found with, and not once it is gone', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = child.pid!;
    const stat = readProcStat(pid)!;
    expect(stat).toMatchObject({ comm: 'sleep', ppid: process.pid });
    expect(stat.startTime).toBeGreaterThan(0);
    expect(isSameLiveProcess(pid, stat.startTime)).toBe(true);
    // The same pid with another start time is another process (what a reused pid looks like).
    expect(isSameLiveProcess(pid, stat.startTime + 1)).toBe(false);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(isSameLiveProcess(pid, stat.startTime)).toBe(false);
  });

  it('ancestorsOf walks from a process up through its parents', () => {
    const chain = ancestorsOf(process.pid);
    expect(chain.has(process.pid)).toBe(true);
    expect(chain.has(process.ppid)).toBe(true);
  });
});
