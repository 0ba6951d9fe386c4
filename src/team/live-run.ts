// `join` and `answer` (issue 14): the live run they take part in (--run, else the one running now), its runbook (the same bytes the host runs), who is at this terminal, and a claim that did not count left for the host to journal.
import * as path from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { foldEvents, type RunState } from '../engine/state.js';
import { openStateStore, resolveState } from '../ports/state/location.js';
import type { StateStore } from '../ports/state/store.js';
import { isRunId } from '../ports/state-dir.js';
import { signAnswer } from '../record/answers.js';
import { loadPrivateKey } from '../record/keys.js';
import { loadPeople, resolveIdentity, type Identity, type People } from '../record/people.js';
import { loadRunbook } from '../runbook/load.js';
import { formatProblem } from '../runbook/problem.js';
import type { RunbookDoc } from '../runbook/types.js';
import { attemptKey } from './prompts.js';

export interface TeamCommandOptions {
  run?: string;
  as?: string;
  key?: string;
  state?: string;
  /** The runbook file, when it is not where the host's journal says (another machine, another directory). */
  runbook?: string;
}

export interface TeamPorts {
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface LiveRun {
  store: StateStore;
  runId: string;
  state: RunState;
  /** The hash of the journal's newest event: what an answer given now pins. */
  head: string;
  lastSeq: number;
  doc: RunbookDoc;
  people: People;
}

/**
 * Open the state and find the run: `--run`, else the one live run (its runbook's lock held by a live host). Several
 * live runs are listed, each with the option that picks it (exit 2); none is an error saying where it looked.
 */
export async function openLiveRun(options: TeamCommandOptions, ports: TeamPorts, command: string): Promise<LiveRun> {
  const { location } = resolveState(options.state, ports.env, ports.cwd);
  const store = await openStateStore(location);
  try {
    const runId = options.run ?? (await theLiveRun(store, command));
    if (!isRunId(runId)) throw new CliError(`--run ${runId}: not a run id (they look like 20261206T100142Z-3f9a)`, { hint: 'deployctl status lists the runs' });
    const read = await store.readRun(runId);
    if (read === undefined) throw new CliError(`no run ${runId} in ${store.where}`, { exitCode: ExitCode.failed, hint: 'check the run id and the --state it lives in (deployctl status)' });
    const state = foldEvents(read.events);
    if (state.finished !== undefined) throw new CliError(`run ${runId} has ended (${state.finished.status}): there is nothing left to answer`, { exitCode: ExitCode.failed, hint: 'deployctl record show shows how it ended' });
    if (state.runbook === undefined) throw new CliError(`run ${runId} has not said which runbook it runs yet`, { exitCode: ExitCode.failed, hint: 'try again in a moment' });
    const file = options.runbook ?? path.resolve(ports.cwd, state.runbook.path);
    const loaded = loadRunbook(file);
    if (!loaded.ok) {
      throw new CliError(`cannot read the runbook of run ${runId} (${file}):\n${loaded.problems.slice(0, 5).map((p) => formatProblem(p)).join('\n')}`, {
        hint: options.runbook === undefined ? 'run this from the directory the run was started in, or give the runbook with --runbook FILE' : 'give the runbook the run runs',
      });
    }
    if (loaded.runbook.source.sha256 !== state.runbook.sha256) {
      throw new CliError(`${file} is not the runbook run ${runId} runs (its sha256 differs): whose answers count is decided by the run's own runbook`, {
        hint: `give the same file (sha256 ${state.runbook.sha256}) with --runbook`,
      });
    }
    const { doc } = loaded.runbook;
    if (doc.people === undefined) throw new CliError(`${doc.name} has no people: section: its prompts are answered at the running terminal only`, { hint: 'add people: to the runbook to let others answer (README "A team")' });
    return { store, runId, state, head: read.chain.head, lastSeq: read.lastSeq, doc, people: loadPeople(doc, loaded.runbook.source.dir, ports.cwd) };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** The one run whose host is live now; several are listed with how to pick one. */
async function theLiveRun(store: StateStore, command: string): Promise<string> {
  const live: { runId: string; name: string; operator: string }[] = [];
  for (const { runId } of await store.listRuns()) {
    const read = await store.readRun(runId);
    if (read === undefined) continue;
    const state = foldEvents(read.events);
    const name = state.runbook?.name;
    if (state.finished !== undefined || state.dryRun || name === undefined) continue;
    const holder = await store.lockHolder(name);
    if (holder?.live === true && holder.info.runId === runId) live.push({ runId, name, operator: state.operator ?? holder.info.user });
  }
  if (live.length === 1) return live[0]!.runId;
  if (live.length === 0) throw new CliError(`no deployment is running in ${store.where}`, { exitCode: ExitCode.failed, hint: 'start it first (deployctl run), or give --state where it keeps its state, or --run RUN_ID' });
  throw new CliError(`${live.length} deployments are running in ${store.where}; say which with --run:\n${live.map((r) => `  ${r.runId}  ${r.name} (operator ${r.operator}): ${command} --run ${r.runId}`).join('\n')}`, {
    hint: 'add --run RUN_ID',
  });
}

/**
 * Who is at this terminal, for join and answer: `--as` with their own key (--key, $DEPLOYCTL_KEY, the personal key
 * directory), else the one person whose key is held here. A key that is not the person's is impersonation: the attempt
 * is left as a claim in no slot, which the host journals as refused, and the command exits 2.
 */
export async function joinerIdentity(run: LiveRun, options: TeamCommandOptions, ports: TeamPorts, promptId: string, answer: unknown): Promise<Identity> {
  const result = resolveIdentity({ ...(options.as !== undefined ? { as: options.as } : {}), ...(options.key !== undefined ? { key: options.key } : {}), env: ports.env, cwd: ports.cwd, people: run.people, strictKey: true });
  if (result.ok && result.identity !== undefined) return result.identity;
  if (result.ok) {
    throw new CliError(`no key of any person of ${run.doc.name} is here (looked at ${result.looked.join(', ') || 'nothing'})`, { hint: 'say who you are with --as PERSON and give your key with --key FILE' });
  }
  if (result.code === 'not-their-key' && result.person !== undefined) {
    const keyFile = options.key ?? ports.env['DEPLOYCTL_KEY'];
    const wrong = keyFile !== undefined ? loadPrivateKey(path.resolve(ports.cwd, keyFile)) : undefined;
    if (wrong?.ok === true) {
      await leaveRefusedAttempt(run, promptId, result.person, answer, (input) => signAnswer(input, wrong.key));
      throw new CliError(`${result.message}: refused, and logged in run ${run.runId}'s journal`, { exitCode: ExitCode.usage, hint: result.hint });
    }
  }
  throw new CliError(result.message, { exitCode: ExitCode.usage, hint: result.hint });
}

/**
 * A claim that does not count, in no slot (`<prompt>~x<random>`), so it blocks nothing: the host sees it through its
 * subscription and journals it as refused (src/team/desk.ts), which is how an impersonation reaches the journal when
 * only the host writes it. Signed for slot 0, which no slot is.
 */
export async function leaveRefusedAttempt(run: LiveRun, promptId: string, person: string, answer: unknown, sign: (input: Parameters<typeof signAnswer>[0]) => ReturnType<typeof signAnswer>): Promise<void> {
  const at = Date.now();
  const proof = sign({ run_id: run.runId, prompt_id: promptId, slot: 0, answer: answer ?? null, at: new Date(at).toISOString(), journal_head: run.head, person, via: 'answer' });
  await run.store.claim(run.runId, { promptId: attemptKey(promptId), by: person, answer: answer ?? null, at, proof });
}
