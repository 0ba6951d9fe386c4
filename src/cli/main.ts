// The command-line surface, declared in one place; each command's module is imported only when it runs.
import { Command, CommanderError, Option } from 'commander';
import { ExitCode, isCliError } from '../errors.js';
import { fileFailure, isFileFailure } from '../ports/fs-failure.js';
import { packageVersion } from '../ports/version.js';
import { processIo, type Io } from './io.js';

const REPORT_URL = 'https://github.com/deployctl/deployctl/issues';

const RECORD_STATE_HELP = 'where the record is kept: postgres://user@host/db (RECORD is then postgres:<name>, as record list shows it) or a state directory (default: $DEPLOYCTL_STATE)';
const STATE_HELP = 'where runs are kept: postgres://user@host/db (one state for several machines) or a directory (default: $DEPLOYCTL_STATE, else .deployctl)';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('deployctl')
    .description('Executable, auditable deployment runbooks: run the plan, decide gates from evidence, sign the record.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();

  program
    .command('validate')
    .description('check runbooks: grammar, roles, ids, expressions (exit 0 valid, 2 invalid)')
    .argument('<runbook...>', 'runbook files')
    .option('--json', 'print the problems as a JSON array')
    .action(async (files: string[], options: { json?: boolean }) => {
      const { validateCommand } = await import('../commands/validate.js');
      setExit(await validateCommand(files, options, io));
    });

  program
    .command('plan')
    .description('print the plan without running anything: timeline, steps, gates (text, markdown or json)')
    .argument('<runbook>', 'runbook file')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'markdown', 'json']).default('text'))
    .option('--role <role>', 'show only what this role owns')
    .action(async (file: string, options: { format: 'text' | 'markdown' | 'json'; role?: string }) => {
      const { planCommand } = await import('../commands/plan.js');
      setExit(await planCommand(file, options, io));
    });

  program
    .command('run')
    .description('run a deployment: phases, owned steps, gates, rollback; writes a signed record')
    .argument('<runbook>', 'runbook file')
    .option('--var <name=value>', 'override a var (repeatable)', collect, [])
    .option('--answers <file>', 'answers for manual steps and gates (needed without a terminal)')
    .option('--operator <name>', 'who is at the keyboard (default: $DEPLOYCTL_OPERATOR or your user name)')
    .option('--dry-run', 'walk the plan and print every command with templates resolved; execute nothing')
    .option('--resume [runId]', 'continue an interrupted run (default: the newest unfinished run of this runbook)')
    .option('--new', 'start a new run although the newest run of this runbook did not finish (it stays resumable)')
    .option('--force-old', 'with --resume RUN_ID: continue that run although a newer run of the runbook started after it (it deploys its own vars over the newer run)')
    .addOption(new Option('--in-flight <decision>', 'on resume, what to do with a non-idempotent step that was running').choices(['rerun', 'done', 'abort']))
    .option('--non-interactive', 'never prompt; take every answer from --answers (also when stdin is not a terminal or CI=true)')
    .option('--key <file>', 'Ed25519 private key (PKCS#8 PEM) to sign the record (default: $DEPLOYCTL_KEY or .deployctl/keys/deployctl.key)')
    .option('--out <file>', 'where to write the signed record (default: .deployctl/records/<runbook>-<time>-<run-id>.json)')
    .option('--status-every <duration>', "status-update cadence for this run, instead of the runbook's notify.status_every (e.g. 30s)")
    .option('--state <url|dir>', STATE_HELP)
    .option('--as <person>', "with people: in the runbook, who is at this terminal (default: the one person whose key is held here: --key, $DEPLOYCTL_KEY, ~/.config/deployctl/keys)")
    .option('--wait <duration>', 'with people: and no terminal, how long a prompt other people answer waits for their deployctl join/answer (default: none; the run fails closed and prints the deployctl answer commands)')
    .option('--time-scale <n>', 'rehearse: every wait the plan makes (watch ticks and windows, status updates, escalation after, the timeline) runs N times faster; the record says rehearsal')
    .option('--t0 <time>', "the run's T, which the phases' at: offsets count from (ISO-8601, e.g. 2026-11-26T05:10:00Z; default: from when the first timed phase starts)")
    .action(async (file: string, options: Record<string, unknown>) => {
      const [{ runCommand, defaultRunPorts }, { invocationOf, runHints }, { interruptOnSignals, againToExit }] = await Promise.all([
        import('../commands/run.js'),
        import('../commands/run-hints.js'),
        import('./signals.js'),
      ]);
      const hints = runHints(invocationOf(file, options), { state: typeof options['state'] === 'string' ? options['state'] : undefined, env: process.env });
      const interrupts = interruptOnSignals((signal) => {
        io.err(`\ndeployctl: ${signal}: stopping the running step and its process tree, then writing the record. ${againToExit(signal)}`);
      }, options['dryRun'] === true ? '' : `The journal is intact; resume with: ${hints.resume(typeof options['resume'] === 'string' ? options['resume'] : undefined)}${hints.note !== undefined ? ` (${hints.note})` : ''}`);
      try {
        setExit(await runCommand(file, options, defaultRunPorts(io, interrupts.signal)));
      } finally {
        interrupts.dispose();
      }
    });

  program
    .command('status')
    .description("the communication plan's status update for the running deployment (or RUN_ID), from its journal")
    .argument('[runId]', 'a run id (default: the deployment running now)')
    .option('--state <url|dir>', STATE_HELP)
    .action(async (runId: string | undefined, options: { state?: string }) => {
      const { statusCommand } = await import('../commands/status.js');
      setExit(await statusCommand(runId, { io, env: process.env, cwd: process.cwd(), now: Date.now }, options));
    });

  program
    .command('preflight')
    .description('run the automated checks of the preflight phases, for CI: never prompts (exit 0 all passed, 1 a check failed, 2 invalid)')
    .argument('[runbook]', 'runbook file (default: $DEPLOYCTL_RUNBOOK, else ./deployctl.yaml, else the only *.yaml in ./runbooks/)')
    .option('--var <name=value>', 'override a var (repeatable)', collect, [])
    .option('--junit <file>', 'write a JUnit XML report (one testsuite per preflight phase)')
    .option('--json', 'print one JSON document with every check on stdout')
    .option('--concurrency <n>', 'checks run at once (default 8)')
    .action(async (file: string | undefined, options: Record<string, unknown>) => {
      const [{ preflightCommand, defaultPreflightPorts }, { interruptOnSignals, againToExit }] = await Promise.all([import('../commands/preflight.js'), import('./signals.js')]);
      const interrupts = interruptOnSignals((signal) => {
        io.err(`\ndeployctl: ${signal}: stopping the running checks and their process trees. ${againToExit(signal)}`);
      });
      try {
        setExit(await preflightCommand(file, options, defaultPreflightPorts(io, interrupts.signal)));
      } finally {
        interrupts.dispose();
      }
    });

  program
    .command('join')
    .description("another terminal's view of the live run (people: runbooks): asks the prompts of the roles this person holds; the first valid answer wins")
    .option('--run <runId>', 'the run to join (default: the one deployment running now)')
    .option('--as <person>', 'who you are: a person id of the runbook (default: the one person whose key is held here)')
    .option('--key <file>', "your private key (default: $DEPLOYCTL_KEY, else ~/.config/deployctl/keys/<person>.key)")
    .option('--runbook <file>', "the runbook the run runs, when it is not where the run was started (another machine)")
    .option('--state <url|dir>', STATE_HELP)
    .action(async (options: { run?: string; as?: string; key?: string; runbook?: string; state?: string }) => {
      const [{ joinCommand }, { interruptOnSignals }] = await Promise.all([import('../commands/join.js'), import('./signals.js')]);
      const interrupts = interruptOnSignals(() => undefined, 'The run goes on.');
      try {
        const code = await joinCommand(options, { io, env: process.env, cwd: process.cwd(), signal: interrupts.signal, terminal: process.stdin.isTTY === true && process.stdout.isTTY === true });
        setExit(code);
        // Left mid-run: the task list still waits for the run; nothing more to draw.
        if (code === ExitCode.interrupted) {
          process.stdout.write('\x1b[?25h');
          process.exit(code);
        }
      } finally {
        interrupts.dispose();
      }
    });

  program
    .command('answer')
    .description('answer one prompt of the live run from a script (people: runbooks), also before it is asked: a step, a gate (its decision) or GATE.CONDITION')
    .argument('<promptId>', 'the step id (qa-ready), the gate id (go-no-go) or a gate condition (go-no-go.leadership_approved)')
    .option('--run <runId>', 'the run (default: the one deployment running now)')
    .option('--as <person>', 'who answers: a person id of the runbook (default: the one person whose key is held here)')
    .option('--key <file>', "your private key (default: $DEPLOYCTL_KEY, else ~/.config/deployctl/keys/<person>.key)")
    .option('--value <value>', 'the answer: text, a choice (go, no-go), yes/no, or a JSON list of checklist items')
    .option('--yes', 'yes (a confirmation; every item of a checklist; go at a gate)')
    .option('--no', 'no (a confirmation; no-go at a gate)')
    .option('--runbook <file>', "the runbook the run runs, when it is not where the run was started (another machine)")
    .option('--state <url|dir>', STATE_HELP)
    .action(async (promptId: string, options: Record<string, unknown>) => {
      const { answerCommand } = await import('../commands/answer.js');
      setExit(await answerCommand(promptId, options, { io, env: process.env, cwd: process.cwd() }));
    });

  const record = program
    .command('record')
    .description('show, verify, sign off, export and list signed deployment records (no subcommand: show)');
  const trustOptions = (command: Command) =>
    command
      .option('--pubkey <file>', 'trust this Ed25519 public key (SPKI PEM) as a run key, which makes a record valid (repeatable)', collect, [])
      .option('--runbook <file>', 'the runbook whose role keys count for sign-offs (default: the file the record names, by a relative path inside this directory)');
  trustOptions(
    record
      .command('show', { isDefault: true })
      .description('a readable summary of a record, headed by whether it verifies (default: the newest record)')
      .argument('[record]', 'record file, or postgres:<name> as record list --state shows it (default: the newest in .deployctl/records/, or in --state)')
      .option('--state <url|dir>', RECORD_STATE_HELP)
      .allowExcessArguments(true),
  ).action(async (file: string | undefined, options: { pubkey?: string[]; runbook?: string; state?: string }, command: Command) => {
    const { recordShowCommand, defaultRecordContext, resolveRecordTarget } = await import('../commands/record.js');
    const { target, ctx } = await resolveRecordTarget(file, options.state, defaultRecordContext(io));
    setExit(recordShowCommand(target, options, ctx, command.args.slice(1)));
  });
  trustOptions(
    record
      .command('verify')
      .description('verify every signature, the runbook digest and the sign-offs (exit 0 valid, 1 invalid, 2 unreadable)')
      .argument('<record>', 'record file, or postgres:<name> as record list --state shows it')
      .option('--json', 'print the verification as JSON')
      .option('--state <url|dir>', RECORD_STATE_HELP),
  ).action(async (file: string, options: { pubkey?: string[]; runbook?: string; json?: boolean; state?: string }) => {
    const { recordVerifyCommand, defaultRecordContext, resolveRecordTarget } = await import('../commands/record.js');
    const { target, ctx } = await resolveRecordTarget(file, options.state, defaultRecordContext(io));
    setExit(recordVerifyCommand(target!, options, ctx));
  });
  trustOptions(
    record
      .command('sign')
      .description("add a role's sign-off to a verified record, with a key the runbook lists for that role")
      .argument('<record>', 'record file, or postgres:<name> as record list --state shows it (the sign-off is written back there)')
      .requiredOption('--role <role>', 'the runbook role signing off')
      .requiredOption('--key <file>', 'Ed25519 private key (PKCS#8 PEM) whose .pub the runbook lists under the role')
      .option('--operator <name>', 'who signs (default: $DEPLOYCTL_OPERATOR or your user name)')
      .option('--state <url|dir>', RECORD_STATE_HELP),
  ).action(async (file: string, options: { role: string; key: string; operator?: string; pubkey?: string[]; runbook?: string; state?: string }) => {
    const { recordSignCommand, recordSignStoredCommand, defaultRecordContext, resolveRecordTarget } = await import('../commands/record.js');
    const { target, ctx } = await resolveRecordTarget(file, options.state, defaultRecordContext(io));
    setExit(typeof target === 'string' ? recordSignCommand(target, options, ctx) : await recordSignStoredCommand(target!, options, ctx));
  });
  trustOptions(
    record
      .command('export')
      .description("the record as the team's deployment record (markdown) or its decoded predicate (json)")
      .argument('<record>', 'record file')
      .addOption(new Option('--format <format>', 'output format').choices(['markdown', 'json']).makeOptionMandatory())
      .option('--unverified', 'export a record that does not verify (marked UNVERIFIED)')
      .option('--state <url|dir>', RECORD_STATE_HELP),
  ).action(async (file: string, options: { format: 'markdown' | 'json'; unverified?: boolean; pubkey?: string[]; runbook?: string; state?: string }) => {
    const { recordExportCommand, defaultRecordContext, resolveRecordTarget } = await import('../commands/record.js');
    const { target, ctx } = await resolveRecordTarget(file, options.state, defaultRecordContext(io));
    setExit(recordExportCommand(target!, options, ctx));
  });
  trustOptions(
    record
      .command('list')
      .description("the records in .deployctl/records/ (or, with --state, the team's records in PostgreSQL), newest first, each verified")
      .option('--json', 'print the list as JSON')
      .option('--state <url|dir>', STATE_HELP),
  ).action(async (options: { pubkey?: string[]; runbook?: string; json?: boolean; state?: string }) => {
    const { recordListCommand, defaultRecordContext } = await import('../commands/record.js');
    setExit(await recordListCommand(options, defaultRecordContext(io)));
  });

  program
    .command('keygen')
    .description("create an Ed25519 key pair: the run key, or a person's (with --name), and print the people: entry to paste (never overwrites)")
    .option('--out <dir>', 'directory for the key pair (default: .deployctl/keys for the run key; $XDG_CONFIG_HOME/deployctl/keys, else ~/.config/deployctl/keys, for a named key)')
    .option('--name <name>', "file name without extension, and the person id of the printed people: entry (default: deployctl, the run key)")
    .option('--full-name <text>', "the person's name in the printed people: entry (default: --name)")
    .action(async (options: { out?: string; name?: string; fullName?: string }) => {
      const { keygenCommand } = await import('../commands/keygen.js');
      setExit(keygenCommand(options, io));
    });

  return program;
}

/** Run the CLI; returns the exit code. Expected failures are printed once here, never as a stack trace. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

export function reportError(error: unknown, io: Io): number {
  if (error instanceof CommanderError) {
    // --help and --version end here too, with exit code 0.
    if (error.exitCode === 0) return ExitCode.ok;
    return ExitCode.usage;
  }
  if (isCliError(error)) {
    for (const line of error.details) io.err(line);
    io.err(`deployctl: ${error.message}`);
    if (error.hint) io.err(`  ${error.hint}`);
    return error.exitCode;
  }
  // A full disk, a read-only or foreign-owned directory, a FIFO where a file belongs: the machine's state, not a bug.
  if (isFileFailure(error)) return reportError(fileFailure(error, process.cwd()), io);
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.err(`deployctl: internal error: this is a bug in deployctl, not in your runbook.\n  Please report it at ${REPORT_URL} with the lines below.\n${stack}`);
  return ExitCode.failed;
}
