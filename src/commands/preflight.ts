// `deployctl preflight [runbook]`: run the automated checks of the preflight phases for CI; progress on stderr, --json on stdout, --junit to a file.
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { Io } from '../cli/io.js';
import { CliError, ExitCode, maskError } from '../errors.js';
import { createMasker } from '../engine/secrets.js';
import { resolveVars } from '../engine/vars.js';
import { systemClock } from '../ports/clock.js';
import { execCommand } from '../ports/exec.js';
import { isRegularFile, listDirectory, readFileLimited, writeFileAtomic } from '../ports/fs.js';
import { sendHttp } from '../ports/http.js';
import { packageVersion } from '../ports/version.js';
import type { Clock, Exec, HttpSend } from '../ports/types.js';
import { githubAnnotations, wantsGithubAnnotations } from '../preflight/annotations.js';
import { preflightPhases } from '../preflight/checks.js';
import { describeOrigin, findRunbook, type DiscoverFs } from '../preflight/discover.js';
import { renderPreflightJson } from '../preflight/json.js';
import { renderJunit } from '../preflight/junit.js';
import { messages } from '../preflight/messages.js';
import { createProgressReporter, loadColours, type Spinner } from '../preflight/progress.js';
import { DEFAULT_CONCURRENCY, runPreflight } from '../preflight/runner.js';
import type { PreflightReport } from '../preflight/types.js';
import { loadCheckedRunbook } from '../runbook/load.js';
import { countProblems, formatProblem } from '../runbook/problem.js';
import { stateSecrets } from '../ports/state/location.js';


export interface PreflightOptions {
  var?: string[];
  junit?: string;
  json?: boolean;
  /** As typed: validated here, so the message can name the fix. */
  concurrency?: string;
}

export interface PreflightPorts {
  io: Io;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Whether stderr, where progress goes, is a terminal: colour and the spinner depend on it. */
  stderrIsTTY: boolean;
  signal: AbortSignal;
  exec: Exec;
  send: HttpSend;
  clock: Clock;
  fs: DiscoverFs;
  writeFile: (file: string, text: string) => void;
  /** A spinner on stderr; called only on a terminal (ora costs ~80 ms to import). */
  createSpinner?: (colour: boolean) => Promise<Spinner>;
  killGraceMs?: number;
}

export const realDiscoverFs: DiscoverFs = { isFile: isRegularFile, listDir: listDirectory };

export function defaultPreflightPorts(io: Io, signal: AbortSignal): PreflightPorts {
  return {
    io,
    env: process.env,
    cwd: process.cwd(),
    stderrIsTTY: process.stderr.isTTY === true,
    signal,
    exec: execCommand,
    send: sendHttp,
    clock: systemClock,
    fs: realDiscoverFs,
    writeFile: (file, text) => writeFileAtomic(file, text),
    createSpinner: async (colour) => {
      const { default: ora } = await import('ora');
      // discardStdin: preflight never touches stdin, not even to swallow keystrokes.
      return ora({ stream: process.stderr, discardStdin: false, isEnabled: true, color: colour ? 'cyan' : false });
    },
  };
}

/**
 * Colour only on a terminal that wants it (https://no-color.org: any non-empty NO_COLOR; TERM=dumb). The same rule as
 * plan/style.ts `wantsColour`, kept here so that CI runs never import chalk.
 */
export function wantsColour(isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  return isTTY && (env['NO_COLOR'] ?? '') === '' && env['TERM'] !== 'dumb';
}

/** A spinner only on a terminal that is not a CI log (and not TERM=dumb). */
export function wantsSpinner(ports: Pick<PreflightPorts, 'stderrIsTTY' | 'env'>): boolean {
  return ports.stderrIsTTY && ports.env['TERM'] !== 'dumb' && ports.env['CI'] !== 'true';
}

export function parseConcurrency(value: string | undefined): number {
  if (value === undefined) return DEFAULT_CONCURRENCY;
  const n = /^[0-9]+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    const { message, hint } = messages.badConcurrency(value);
    throw new CliError(message, { exitCode: ExitCode.usage, hint });
  }
  return n;
}

/** Exit 0 when every check passed, 1 when any failed, 2 for usage and runbook problems (thrown as CliError), 130 when interrupted. */
export async function preflightCommand(file: string | undefined, options: PreflightOptions, ports: PreflightPorts): Promise<number> {
  const { io, env, clock } = ports;
  const concurrency = parseConcurrency(options.concurrency);
  const found = findRunbook(file, env, ports.cwd, ports.fs);
  const loaded = await loadCheckedRunbook(found.file, (f, max) => readFileLimited(path.resolve(ports.cwd, f), max));
  if (!loaded.ok) {
    const { message, hint } = messages.invalidRunbook(found.file, countProblems(loaded.problems));
    throw new CliError(`${message}${describeOrigin(found.from)}`, { exitCode: ExitCode.usage, hint, details: loaded.problems.map(formatProblem) });
  }
  for (const warning of loaded.runbook.warnings ?? []) io.err(formatProblem(warning));
  // `run` steps execute in the runbook's directory: resolve it against our cwd, not the process's.
  const runbook = { ...loaded.runbook, source: { ...loaded.runbook.source, dir: path.dirname(path.resolve(ports.cwd, found.file)) } };
  if (preflightPhases(runbook).length === 0) {
    const { message, hint } = messages.noPreflightPhase(found.file);
    throw new CliError(message, { exitCode: ExitCode.usage, hint });
  }
  // The state's password too: checks inherit $DEPLOYCTL_STATE.
  const secretValues = [...(runbook.doc.secrets ?? []).map((name) => env[name]).filter((v): v is string => v !== undefined && v !== ''), ...stateSecrets(undefined, env)];
  const masker = createMasker(secretValues);
  // A refused --var quotes its value: masked like everything else preflight prints.
  let vars: ReturnType<typeof resolveVars>;
  try {
    vars = resolveVars(runbook.doc, options.var ?? []);
  } catch (error) {
    throw maskError(error, masker.mask);
  }

  if (masker.unmaskable > 0) io.err(`deployctl: ${messages.unmaskableSecrets(masker.unmaskable)}`);
  if (found.from !== 'argument') io.err(`deployctl: ${messages.checking(found.file, describeOrigin(found.from))}`);

  const colour = wantsColour(ports.stderrIsTTY, env);
  const spinner = wantsSpinner(ports) && ports.createSpinner !== undefined ? await ports.createSpinner(colour) : undefined;
  const paint = colour ? await loadColours() : undefined;
  const reporter = createProgressReporter({ write: (line) => io.err(line), ...(paint !== undefined ? { paint } : {}), ...(spinner !== undefined ? { spinner } : {}) });

  let report: PreflightReport;
  try {
    report = await runPreflight(
      runbook,
      {
        vars,
        concurrency,
        signal: ports.signal,
        preflightId: `${process.pid}-${randomBytes(4).toString('hex')}`,
        ...(ports.killGraceMs !== undefined ? { killGraceMs: ports.killGraceMs } : {}),
      },
      {
        exec: ports.exec,
        send: ports.send,
        clock,
        env: definedEnv(env),
        secretValues,
        mask: (text) => masker.mask(text),
        emit: (event) => reporter.onEvent(event),
      },
    );
  } finally {
    reporter.stop();
  }
  report = masker.maskDeep(report);

  let exitCode: number = report.status === 'interrupted' ? ExitCode.interrupted : report.status === 'failed' ? ExitCode.failed : ExitCode.ok;
  if (wantsGithubAnnotations(env)) {
    // Workflow commands are read from stdout; with --json, stdout holds the document alone, and the runner reads stderr too.
    for (const line of githubAnnotations(report)) (options.json ? io.err : io.out)(line);
  }
  if (options.junit !== undefined) {
    const target = path.resolve(ports.cwd, options.junit);
    try {
      ports.writeFile(target, renderJunit(report));
      io.err(`deployctl: ${messages.junitWritten(options.junit)}`);
    } catch (error) {
      const { message, hint } = messages.junitWriteFailed(options.junit, (error as Error).message);
      io.err(`deployctl: ${message}\n  ${hint}`);
      if (exitCode !== ExitCode.interrupted) exitCode = ExitCode.usage;
    }
  }
  if (options.json) io.out(renderPreflightJson(report, { version: packageVersion() }));
  return exitCode;
}

function definedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
