// Shared by the robustness suites: temp workspaces, generated runbooks, what a run left behind (record steps, marker files).
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRecord, recordFiles, reapProcessesIn } from '../helpers/cli.js';

/** A step as the record holds it (the fields these suites look at). */
export interface RecordedStep {
  id: string;
  status: string;
  reason?: string;
  exit_code?: number | null;
  timed_out?: boolean;
  answer?: unknown;
  stdout?: { text: string; truncated_bytes: number };
  stderr?: { text: string; truncated_bytes: number };
}

const workspaces = new Set<string>();

/** A fresh temp directory, removed by `cleanWorkspaces`. */
export function workspace(label: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `deployctl-robust-${label}-`));
  workspaces.add(dir);
  return dir;
}

/** For afterEach/afterAll: kill what still runs in any workspace, remove them, and return what was left running. */
export function cleanWorkspaces(): { pid: number; cmdline: string }[] {
  const left: { pid: number; cmdline: string }[] = [];
  for (const dir of workspaces) {
    left.push(...reapProcessesIn(dir));
    rmSync(dir, { recursive: true, force: true });
  }
  workspaces.clear();
  return left;
}

/** Write a runbook as JSON (YAML 1.2 reads JSON as it is), so generated ids and templates need no YAML quoting. */
export function writeRunbook(dir: string, doc: Record<string, unknown>, name = 'runbook.yaml'): string {
  writeFileSync(path.join(dir, name), `${JSON.stringify(doc, null, 1)}\n`);
  return name;
}

/** The steps of the only record in `dir`, by id. */
export function recordedSteps(dir: string): Map<string, RecordedStep> {
  const files = recordFiles(dir);
  if (files.length !== 1) throw new Error(`expected one record in ${dir}, found ${files.length}`);
  const predicate = readRecord(files[0]!).statement.predicate;
  const steps = new Map<string, RecordedStep>();
  for (const phase of predicate['phases'] as { steps: RecordedStep[] }[]) for (const step of phase.steps) steps.set(step.id, step);
  return steps;
}

/** Every file under `dir` whose name contains MARKER (a hostile value that acted). */
export function markersIn(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => path.basename(f).includes('MARKER'));
}
