// `run` with `people:` (issue 14): who is at this terminal (--as, keys), and the answer desk every prompt of the run goes through.
import type { KeyObject } from 'node:crypto';
import type { Io } from '../cli/io.js';
import { CliError, ExitCode } from '../errors.js';
import type { RunEvent } from '../engine/events.js';
import type { Masker } from '../engine/secrets.js';
import type { TeamState } from '../engine/state.js';
import { shellQuote } from '../expr/template.js';
import { maskUrl } from '../ports/state/location.js';
import type { JournalWriter, StateStore } from '../ports/state/store.js';
import type { Clock, Prompter, PromptRequest } from '../ports/types.js';
import { keyId } from '../record/keys.js';
import { loadPeople, resolveIdentity, type Identity, type People } from '../record/people.js';
import type { RecordPredicate } from '../record/types.js';
import type { RunbookDoc, RunbookSource } from '../runbook/types.js';
import type { AnswerKey, Answers } from '../engine/answers.js';
import type { AnswersFileRef } from '../record/answers.js';
import { vouchedAnswers } from '../team/file-answers.js';
import { parseDuration } from '../runbook/duration.js';
import { createHostDesk, type HostDesk } from '../team/desk.js';
import { approvalGate } from '../team/approvals.js';
import { holders, hostRight, roleOfPrompt } from '../team/prompts.js';

export interface RunTeam {
  people: People;
  /** The person at this terminal, when the runbook knows them (their key found). */
  identity: Identity | undefined;
}

/**
 * The people of the runbook and who is at this terminal: `--as`, else the one person whose key is held here (`--key`
 * when it is a person's, $DEPLOYCTL_KEY, the personal key directory). Nobody is fine (the operator then answers only
 * what roles allow with `delegate: true`); `--as` naming someone whose key is not here is not (exit 2).
 */
export function resolveRunTeam(doc: RunbookDoc, source: RunbookSource, options: { as?: string; key?: string }, env: NodeJS.ProcessEnv, cwd: string, io: Io): RunTeam | undefined {
  if (doc.people === undefined) {
    if (options.as !== undefined) throw new CliError(`--as ${options.as}: ${doc.name} has no people: section, so nobody is known by id`, { hint: 'add people: to the runbook (deployctl keygen --name ID prints an entry), or leave out --as' });
    return undefined;
  }
  const people = loadPeople(doc, source.dir, cwd);
  const result = resolveIdentity({ ...(options.as !== undefined ? { as: options.as } : {}), ...(options.key !== undefined ? { key: options.key } : {}), env, cwd, people, strictKey: false });
  if (!result.ok) {
    if (result.code === 'ambiguous' && options.as === undefined) {
      io.err(`deployctl: warning: ${result.message}; running as nobody of ${doc.name}'s people (${result.hint})`);
      return { people, identity: undefined };
    }
    throw new CliError(result.message, { exitCode: ExitCode.usage, hint: result.hint });
  }
  if (result.identity?.warning !== undefined) io.err(`deployctl: warning: ${result.identity.warning}`);
  return { people, identity: result.identity };
}

export interface HostDeskInputs {
  team: RunTeam;
  doc: RunbookDoc;
  runId: string;
  store: StateStore;
  journal: JournalWriter;
  operator: string;
  /** The run key: it signs this terminal's answers when nobody of the runbook is at it. */
  signingKey: KeyObject;
  terminal: Prompter | undefined;
  emit: (event: RunEvent) => void;
  clock: Clock;
  signal: AbortSignal;
  masker: Masker;
  initial: TeamState | undefined;
  waitMs: number | undefined;
  /** `deployctl` or `npx deployctl`, and the --state given on the command line, for the commands it prints. */
  command: string;
  state: string | undefined;
}

export function openHostDesk(inputs: HostDeskInputs): HostDesk {
  const { team, runId } = inputs;
  const identity =
    team.identity !== undefined
      ? { person: team.identity.person, operator: inputs.operator, privateKey: team.identity.privateKey, keyId: team.identity.keyId }
      : { operator: inputs.operator, privateKey: inputs.signingKey, keyId: keyId(inputs.signingKey) };
  return createHostDesk({
    doc: inputs.doc,
    people: team.people,
    runId,
    store: inputs.store,
    identity,
    terminal: inputs.terminal,
    emit: inputs.emit,
    journalHead: () => inputs.journal.head,
    clock: inputs.clock,
    signal: inputs.signal,
    secretFree: (answer) => JSON.stringify(inputs.masker.maskDeep(answer)) === JSON.stringify(answer),
    ...(inputs.initial !== undefined ? { initial: inputs.initial } : {}),
    ...(inputs.waitMs !== undefined ? { waitMs: inputs.waitMs } : {}),
    answerCommand: (promptId, person, request) => answerCommand(inputs.command, promptId, runId, person, request, inputs.state),
  });
}

/**
 * The answers the engine reads: with a person key at this terminal (`--as` and their key), each one taken from the
 * `--answers` file is signed by that key and journaled (src/team/file-answers.ts); otherwise the file's answers as
 * they are (the operator's, on the roles' behalf, unsigned).
 */
export function answersVouchedFor(
  answers: Answers,
  file: AnswersFileRef | undefined,
  ctx: { team: RunTeam | undefined; doc: RunbookDoc; runId: string; journal: JournalWriter | undefined; clock: Clock; emit: (event: RunEvent) => void; state: () => TeamState | undefined; masker: Masker },
): Answers {
  const identity = ctx.team?.identity;
  const journal = ctx.journal;
  if (identity === undefined || file === undefined || journal === undefined) return answers;
  return vouchedAnswers(answers, {
    doc: ctx.doc,
    runId: ctx.runId,
    person: identity.person.id,
    privateKey: identity.privateKey,
    file,
    journalHead: () => journal.head,
    clock: ctx.clock,
    emit: ctx.emit,
    team: ctx.state,
    mask: (answer) => ctx.masker.maskDeep(answer),
  });
}

/** `--wait DURATION`: only with people: and without a terminal (at a terminal, a prompt waits anyway). */
export function parseWait(text: string | undefined, doc: RunbookDoc, interactive: boolean): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined) throw new CliError(`--wait ${text} is not a duration`, { hint: 'write a number and a unit, e.g. --wait 30m' });
  if (doc.people === undefined) throw new CliError(`--wait ${text}: ${doc.name} has no people: section, so nobody else can answer while the run waits`, { hint: 'give the answers with --answers FILE, or add people: to the runbook' });
  return interactive ? undefined : ms;
}

/** An answer key of a prompt that other people answer: its role is held by people, and this terminal may not answer it. */
export function othersAnswer(doc: RunbookDoc, key: string, team: RunTeam): boolean {
  // Approvals are people's signed answers: never the answers file's.
  if (approvalGate(doc, key) !== undefined) return true;
  const role = roleOfPrompt(doc, key);
  return role !== undefined && holders(doc.roles[role]).length > 0 && hostRight(doc, role, team.identity?.person.id) === undefined;
}

/** The `deployctl answer …` commands that would answer `keys` (the role's primary; the backup may too). */
export function teamAnswerCommands(doc: RunbookDoc, keys: readonly AnswerKey[], command: string, state: string | undefined): string[] {
  return keys.map((k) => {
    const role = doc.roles[roleOfPrompt(doc, k.key)!];
    const [primary, backup] = holders(role);
    const kind = k.kind === 'confirm' || k.kind === 'checklist' || k.kind === 'ask' ? k.kind : k.kind === 'attestation' ? 'confirm' : k.kind === 'reason' ? 'ask' : 'decide';
    const gate = approvalGate(doc, k.key);
    if (gate !== undefined) return `${answerCommand(command, k.key, undefined, gate.approvals!.roles.map((r) => doc.roles[r]?.primary).find((p) => p !== undefined) ?? 'PERSON', { kind: 'confirm' }, state)}   # an approval: ${gate.approvals!.min ?? 1} of the holders of ${gate.approvals!.roles.join(', ')}`;
    const line = answerCommand(command, k.key, undefined, primary!, { kind, choices: k.kind === 'gate' ? [{ value: 'go' }] : [] }, state);
    return `${line}${backup !== undefined ? `   # or --as ${backup}` : ''}`;
  });
}

/** `deployctl answer qa-ready --run RUN --as elif --yes`: how a person answers one prompt from a script. */
export function answerCommand(command: string, promptId: string, runId: string | undefined, person: string, request: Pick<PromptRequest, 'kind'> & Partial<{ choices: { value: string }[] }>, state?: string): string {
  const value = request.kind === 'confirm' || request.kind === 'checklist' ? '--yes' : request.kind === 'decide' ? `--value ${request.choices?.[0]?.value ?? 'VALUE'}` : '--value "…"';
  return `${command} answer ${shellQuote(promptId)}${runId !== undefined ? ` --run ${runId}` : ''} --as ${shellQuote(person)} ${value}${state !== undefined ? ` --state ${shellQuote(maskUrl(state))}` : ''}`;
}

/**
 * Mask an event for the journal and the record. A signed answer's signature stays as signed: the desk refuses an
 * answer that holds a secret, so there is nothing in it to mask, and masking base64 could only break the signature.
 */
export function maskEvent(masker: Masker, event: RunEvent): RunEvent {
  if (event.kind !== 'prompt-answered' || event.signature === undefined) return masker.maskDeep(event);
  const { signature, ...rest } = event;
  return { ...masker.maskDeep(rest), signature };
}

/** Mask a record predicate; answers' signatures stay as signed (see maskEvent). */
export function maskPredicate(masker: Masker, predicate: RecordPredicate): RecordPredicate {
  if (predicate.answers === undefined) return masker.maskDeep(predicate);
  const signatures = predicate.answers.map((a) => a.signature);
  const masked = masker.maskDeep(predicate);
  return { ...masked, answers: masked.answers!.map((a, i) => (signatures[i] !== undefined ? { ...a, signature: signatures[i] } : a)) };
}
