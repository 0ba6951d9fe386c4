#!/usr/bin/env node
// Baseline of bench/run-steps.mjs: N trivial steps done by hand, as a careful shell script would, in one Node process.
// Per step: spawn `sh -c true` with its output captured, then append one JSON line (the step's outcome) to a journal
// and fsync it, so a crash loses no finished step. What it leaves out is what deployctl adds: the runbook, templates,
// the task list, the record and its signature.
//
//   node bench/baselines/steps-loop.mjs JOURNAL N
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const [journal, count] = [process.argv[2], Number(process.argv[3])];
if (!journal || !(count > 0)) {
  console.error('usage: steps-loop.mjs JOURNAL N');
  process.exit(2);
}
const fd = fs.openSync(journal, 'a');
for (let i = 1; i <= count; i++) {
  const startedAt = Date.now();
  const result = spawnSync('sh', ['-c', 'true'], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) process.exit(1);
  const line = { step: `s${i}`, status: 'succeeded', exitCode: result.status, stdout: result.stdout.toString(), stderr: result.stderr.toString(), startedAt, endedAt: Date.now() };
  fs.writeSync(fd, `${JSON.stringify(line)}\n`);
  fs.fsyncSync(fd);
}
fs.closeSync(fd);
