// The host's answer desk (issue 14): every prompt the engine asks in a run with `people:` goes through here, whatever its kind: offered to the people who may answer it, taken from the first valid claim (another terminal's, or this one's), signed, and journaled.
//
// One place for every answer: the engine (and any new prompt kind) asks its Prompter; with people, that Prompter is
// this desk. The desk opens the prompt in the journal (joining terminals draw it from there), asks at this terminal
// when its person may answer (they hold the role, or the role allows `delegate: true`), and reads the prompt's claim
// slots in order (src/team/prompts.ts): the first valid claim answers it, whoever made it. This terminal's own answer
// is signed and claimed like anyone's, so an answer from elsewhere landing at the same moment is decided by the store,
// once. Claims that do not count are journaled as refused and never block the prompt.
import type { KeyObject } from 'node:crypto';
import { publicKeyPem } from '../record/keys.js';
import type { EventOf, RunEvent } from '../engine/events.js';
import { applyEvent, initialRunState, initialTeamState, type TeamState } from '../engine/state.js';
import type { StateStore, StoredClaim, Subscription } from '../ports/state/store.js';
import { PromptAbortedError, PromptCancelledError, PromptUnansweredError, type Clock, type PromptAnswer, type PromptOptions, type Prompter, type PromptRequest } from '../ports/types.js';
import { signAnswer } from '../record/answers.js';
import type { People, Person } from '../record/people.js';
import { parseDuration } from '../runbook/duration.js';
import type { GateDoc, RunbookDoc } from '../runbook/types.js';
import { approvalGate, approvalRules, approvingRole, type ApprovalRules } from './approvals.js';
import { judgeClaim, OPERATOR_PREFIX, type JudgeContext, type PromptUnderClaim, type Verdict } from './judge.js';
import { holders, hostRight, parseClaimKey, roleOfPrompt, slotKey } from './prompts.js';

/** Who runs the deployment: a person of the runbook with their key, or its operator signing with the run key. */
export interface HostIdentity {
  person?: Person;
  operator: string;
  privateKey: KeyObject;
  keyId: string;
}

export interface HostDeskOptions {
  doc: RunbookDoc;
  people: People;
  runId: string;
  store: StateStore;
  identity: HostIdentity;
  /** The running terminal's prompter (the task list's); undefined without a terminal. */
  terminal: Prompter | undefined;
  /** The run's event bus (journal, reporter, notifier, record). */
  emit: (event: RunEvent) => void;
  /** The journal's head as this process appended it: what this terminal's answers pin. */
  journalHead: () => string;
  clock: Clock;
  /** The run's interrupt. */
  signal: AbortSignal;
  /** False when an answer holds a secret of the run. */
  secretFree: (answer: unknown) => boolean;
  /** A resumed run's team state. */
  initial?: TeamState;
  /** Without a terminal, how long a prompt waits for other people's answers (0: only answers already given count). */
  waitMs?: number;
  /** How a person answers from a script, for the messages that say so (`deployctl answer … --run RUN`). */
  answerCommand: (promptId: string, person: string, request: PromptRequest) => string;
}

/** An approval being asked: who may give it, and when the approvals run out of time. */
interface ApprovalAsking {
  rules: ApprovalRules;
  timeoutMs?: number;
  timeoutReason: string;
}

export interface HostDesk {
  prompter: Prompter;
  /** Every event of the run, in order (the desk's own too). */
  onEvent(event: RunEvent): void;
  /** Watch the run's claims. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createHostDesk(options: HostDeskOptions): HostDesk {
  const { doc, people, runId, store, identity, emit, clock } = options;
  let team: TeamState = options.initial ?? initialTeamState;
  const claims = new Map<string, StoredClaim>();
  const waiters = new Set<() => void>();
  /** Claim keys already refused in the journal (an attempt record, or a slot read again on resume). */
  const refusedKeys = new Set<string>(team.refused.map((r) => (r.slot !== undefined ? slotKey(r.promptId, r.slot) : '')));
  let subscription: Subscription | undefined;
  let announced = false;

  const hostPerson = identity.person?.id;
  const by = hostPerson ?? `${OPERATOR_PREFIX}${identity.operator}`;
  const judgeContext = (): JudgeContext => ({ runId, doc, people, host: team.host, secretFree: options.secretFree });

  const announce = () => {
    if (announced) return;
    announced = true;
    emit({
      kind: 'team-host',
      at: clock.now(),
      operator: identity.operator,
      ...(hostPerson !== undefined ? { person: hostPerson } : {}),
      keyid: identity.keyId,
      publicKey: publicKeyPem(identity.privateKey),
    });
  };

  const onClaim = (stored: StoredClaim) => {
    const key = stored.ok ? stored.claim.promptId : stored.promptId;
    claims.set(key, stored);
    const parsed = parseClaimKey(key);
    // An attempt a claimer refused itself (impersonation): journaled as soon as it is seen; it is in no slot.
    if (parsed.kind === 'attempt' && !refusedKeys.has(key)) {
      refusedKeys.add(key);
      const prompt = team.prompts.get(parsed.promptId);
      const role = prompt?.role ?? roleOfPrompt(doc, parsed.promptId);
      const gate = approvalGate(doc, parsed.promptId);
      const rules = gate !== undefined ? approvalRules(doc, gate, hostPerson, team.answers, team.answers.filter((a) => a.promptId === parsed.promptId && a.answer === 'approve').map((a) => a.person ?? '')) : undefined;
      const verdict = judgeClaim(stored, { promptId: parsed.promptId, slot: 0, ...(role !== undefined ? { role } : {}), ...(rules !== undefined ? { allowed: rules.allowed, excluded: rules.excluded } : {}) }, judgeContext());
      const reason = verdict.ok ? 'refused by the claimer itself' : verdict.reason;
      emit({ kind: 'answer-refused', at: clock.now(), promptId: parsed.promptId, claimedBy: stored.ok ? stored.claim.by : '?', reason, ...(!verdict.ok && verdict.keyid !== undefined ? { keyid: verdict.keyid } : {}) });
    }
    for (const wake of [...waiters]) wake();
  };

  /** Resolves when a claim lands (any), or the run is interrupted. */
  const claimLanded = () =>
    new Promise<void>((resolve) => {
      const wake = () => {
        waiters.delete(wake);
        resolve();
      };
      waiters.add(wake);
    });

  const prompter: Prompter = {
    async ask(request: PromptRequest, askOptions: PromptOptions = {}): Promise<PromptAnswer> {
      announce();
      // A question about this host (a step left in flight) is for the running terminal only.
      if (request.operatorOnly === true) {
        if (options.terminal === undefined) throw new PromptUnansweredError(`nobody at the terminal running the deployment to answer ${request.id}`);
        return options.terminal.ask(request, askOptions);
      }
      const gate = request.kind === 'decide' ? approvalGate(doc, request.id) : undefined;
      if (gate !== undefined) return approve(request, gate, askOptions);
      return (await askRound(request, askOptions)).answer as PromptAnswer;
    },
  };

  /**
   * A gate's approvals: one asking after another, each offered to whoever may still approve, until `min` approvals
   * ('go'), a reject ('no-go'), or the approvals' timeout (PromptUnansweredError: fails closed).
   */
  async function approve(request: PromptRequest, gate: GateDoc, askOptions: PromptOptions): Promise<PromptAnswer> {
    const spec = gate.approvals!;
    const timeoutMs = spec.timeout !== undefined ? parseDuration(spec.timeout) : undefined;
    const deadline = timeoutMs !== undefined ? clock.now() + timeoutMs : undefined;
    const approvedBy: string[] = [];
    for (;;) {
      const rules = approvalRules(doc, gate, hostPerson, team.answers, approvedBy);
      if (approvedBy.length >= rules.min) return 'go';
      const remaining = deadline !== undefined ? Math.max(0, deadline - clock.now()) : undefined;
      const verdict = await askRound(
        { ...request, message: `${request.message} (approval ${approvedBy.length + 1} of ${rules.min})` },
        askOptions,
        { rules, ...(remaining !== undefined ? { timeoutMs: remaining } : {}), timeoutReason: `${approvedBy.length} of ${rules.min} approvals of ${request.id} within ${spec.timeout ?? ''}${approvedBy.length > 0 ? ` (approved by ${approvedBy.map((p) => people.get(p)?.name ?? p).join(', ')})` : ''}: on_timeout no-go` },
      );
      if (verdict.answer !== 'approve') return 'no-go';
      approvedBy.push(verdict.person!);
    }
  }

  async function askRound(request: PromptRequest, askOptions: PromptOptions, approval?: ApprovalAsking): Promise<Extract<Verdict, { ok: true }>> {
    const promptId = request.id;
    const role = request.role ?? roleOfPrompt(doc, promptId);
    const previous = team.prompts.get(promptId);
    // An asking left open by an earlier session (a crash) goes on where it was: answers given meanwhile count.
    const start = previous?.open === true ? previous.slot : (previous?.nextSlot ?? 1);
    const right = hostRight(doc, role, hostPerson);
    // An approval: whoever may still approve; the running terminal only when its person is one of them.
    const approvers = approval !== undefined ? approval.rules.allowed.filter((p) => !approval.rules.excluded.has(p)) : undefined;
    const terminal = (approvers !== undefined ? hostPerson !== undefined && approvers.includes(hostPerson) : right !== undefined) ? options.terminal : undefined;
    const roleDoc = role !== undefined ? doc.roles[role] : undefined;
    const holding = holders(roleDoc);
    // backup_after: the primary alone first; the backup is offered it too (and notified) once it has passed.
    const backupAfterMs = roleDoc?.backup_after !== undefined && roleDoc.backup !== undefined && roleDoc.primary !== undefined ? parseDuration(roleDoc.backup_after) : undefined;
    const offeredTo = approvers ?? (backupAfterMs !== undefined && previous?.open !== true ? [roleDoc!.primary!] : holding);
    emit({ kind: 'prompt-opened', at: clock.now(), promptId, slot: start, ...(role !== undefined ? { role } : {}), request, offeredTo, hostAnswers: terminal !== undefined });
    const backupTimer =
      approvers === undefined && backupAfterMs !== undefined && !offeredTo.includes(roleDoc!.backup!)
        ? clock.setTimer(backupAfterMs, () =>
            emit({ kind: 'prompt-offered', at: clock.now(), promptId, to: [roleDoc!.backup!], reason: `no answer from ${people.get(roleDoc!.primary!)?.name ?? roleDoc!.primary!} within ${roleDoc!.backup_after!}` }),
          )
        : undefined;

    const under = (slot: number): PromptUnderClaim => ({
      promptId,
      slot,
      ...(role !== undefined ? { role } : {}),
      request,
      ...(approval !== undefined ? { allowed: approval.rules.allowed, excluded: approval.rules.excluded } : {}),
    });
    // Closes this terminal's question when someone else's answer wins.
    const closeTerminal = new AbortController();
    // The approvals' timeout: the question closes, and the prompt fails closed.
    let timedOut = false;
    const timeoutTimer =
      approval?.timeoutMs !== undefined
        ? clock.setTimer(approval.timeoutMs, () => {
            timedOut = true;
            closeTerminal.abort();
            for (const wake of [...waiters]) wake();
          })
        : undefined;
    const stop = askOptions.signal === undefined ? options.signal : AbortSignal.any([options.signal, askOptions.signal]);
    type Asked = { kind: 'answer'; value: PromptAnswer; at: number } | { kind: 'error'; error: unknown };
    const askTerminal = (): Promise<Asked> | undefined =>
      terminal === undefined
        ? undefined
        : terminal.ask(request, { signal: AbortSignal.any([closeTerminal.signal, ...(askOptions.signal !== undefined ? [askOptions.signal] : [])]) }).then(
            (value): Asked => ({ kind: 'answer', value, at: clock.now() }),
            (error: unknown): Asked => ({ kind: 'error', error }),
          );
    let asked = askTerminal();
    /** This terminal's answer, and the slot it was claimed in. */
    let mine: { value: PromptAnswer; at: number; key?: string } | undefined;
    // Without a terminal to ask: the wait for other people's answers ends after --wait.
    let waitOver = false;
    const waitTimer = terminal === undefined && options.terminal === undefined ? clock.setTimer(options.waitMs ?? 0, () => {
      waitOver = true;
      for (const wake of [...waiters]) wake();
    }) : undefined;
    // The run's interrupt is an abort; the asker's own signal (a deadline) closes the question without an answer.
    const stopped = () => (options.signal.aborted ? new PromptAbortedError() : new PromptCancelledError());
    const aborted = new Promise<'aborted'>((resolve) => {
      if (stop.aborted) resolve('aborted');
      stop.addEventListener('abort', () => resolve('aborted'), { once: true });
    });

    try {
      /** Slots read from the store directly once: a claim stored a moment ago may not have reached the subscription yet. */
      const read = new Set<string>();
      for (let slot = start; ; ) {
        const key = slotKey(promptId, slot);
        let stored = claims.get(key);
        if (stored === undefined && !read.has(key)) {
          read.add(key);
          stored = await store.readClaim(runId, key);
          if (stored !== undefined) claims.set(key, stored);
        }
        if (stored === undefined && mine !== undefined) {
          // This terminal answered: sign it for this slot and claim the slot, as anyone would.
          const signature = signAnswer(
            { run_id: runId, prompt_id: promptId, slot, answer: mine.value, at: new Date(mine.at).toISOString(), journal_head: options.journalHead(), ...(hostPerson !== undefined ? { person: hostPerson } : { operator: identity.operator }), via: 'terminal' },
            identity.privateKey,
          );
          const result = await store.claim(runId, { promptId: key, by, answer: mine.value, at: mine.at, proof: signature });
          if (result.won) mine.key = key;
          stored = result.won ? { ok: true, claim: result.claim } : result.winner;
          claims.set(key, stored);
        }
        if (stored === undefined) {
          if (stop.aborted) throw stopped();
          if (waitOver && (stored = await store.readClaim(runId, key)) !== undefined) {
            claims.set(key, stored);
            continue;
          }
          if (timedOut && (stored = await store.readClaim(runId, key)) !== undefined) {
            claims.set(key, stored);
            continue;
          }
          if (timedOut) {
            emit({ kind: 'prompt-closed', at: clock.now(), promptId, slot, reason: approval!.timeoutReason });
            throw new PromptUnansweredError(approval!.timeoutReason);
          }
          if (waitOver) {
            emit({ kind: 'prompt-closed', at: clock.now(), promptId, slot, reason: unansweredReason(request, role, holding) });
            throw new PromptUnansweredError(unansweredReason(request, role, holding));
          }
          const next = await Promise.race([claimLanded(), aborted, ...(asked !== undefined ? [asked] : [])]);
          if (next === 'aborted') throw stopped();
          if (next !== undefined && typeof next === 'object') {
            asked = undefined;
            // The question closed by the approvals' timeout: nothing was answered here.
            if (next.kind === 'error' && timedOut) continue;
            if (next.kind === 'error') throw next.error;
            mine = { value: next.value, at: next.at };
          }
          continue;
        }
        const verdict = refusedKeys.has(key) ? undefined : judgeClaim(stored, under(slot), judgeContext());
        if (verdict?.ok === true) {
          closeTerminal.abort();
          // An approval counts for the approving role its giver holds.
          const credited = approval !== undefined && verdict.person !== undefined ? (approvingRole(doc, approvalGate(doc, promptId)!, verdict.person) ?? role) : role;
          accept(promptId, slot, credited, verdict);
          return verdict;
        }
        if (verdict !== undefined && !verdict.ok) refuse(promptId, slot, key, verdict);
        // This terminal's own answer refused (it held a secret of the run): asked again.
        if (mine?.key === key) {
          mine = undefined;
          asked = askTerminal();
        }
        slot++;
      }
    } finally {
      backupTimer?.cancel();
      timeoutTimer?.cancel();
      waitTimer?.cancel();
      closeTerminal.abort();
    }
  }

  function accept(promptId: string, slot: number, role: string | undefined, verdict: Extract<Verdict, { ok: true }>): void {
    emit({
      kind: 'prompt-answered',
      at: clock.now(),
      promptId,
      slot,
      ...(role !== undefined ? { role } : {}),
      answer: verdict.answer,
      ...(verdict.person !== undefined ? { person: verdict.person } : {}),
      ...(verdict.operator !== undefined ? { operator: verdict.operator } : {}),
      ...(verdict.onBehalfOf !== undefined ? { onBehalfOf: verdict.onBehalfOf } : {}),
      via: verdict.via,
      signature: verdict.signature,
      answeredAt: verdict.answeredAt,
    });
  }

  function refuse(promptId: string, slot: number, key: string, verdict: Extract<Verdict, { ok: false }>): void {
    refusedKeys.add(key);
    emit({ kind: 'answer-refused', at: clock.now(), promptId, slot, claimedBy: verdict.claimedBy.slice(0, 200), reason: verdict.reason, ...(verdict.keyid !== undefined ? { keyid: verdict.keyid } : {}) });
  }

  /** Who did not answer, and how they can. */
  function unansweredReason(request: PromptRequest, role: string | undefined, offeredTo: string[]): string {
    const who = offeredTo.map((id) => people.get(id)?.name ?? id);
    const how = offeredTo.map((id) => options.answerCommand(request.id, id, request));
    const title = role !== undefined ? (doc.roles[role]?.title ?? role) : 'the operator';
    return who.length === 0
      ? `nobody may answer ${request.id} (${title}) here, and no answer was given`
      : `no answer from ${who.join(' or ')} (${title})${options.waitMs ? ` within the --wait` : ''}; answer with: ${how.join('  or  ')}`;
  }

  return {
    prompter,
    onEvent(event: RunEvent) {
      // The first thing a session says about itself, right after the run's own start (the bus calls the desk last).
      if (event.kind === 'run-started' || event.kind === 'run-resumed') announce();
      if (event.kind === 'team-host' || event.kind === 'prompt-opened' || event.kind === 'prompt-offered' || event.kind === 'prompt-answered' || event.kind === 'answer-refused' || event.kind === 'prompt-closed') {
        team = applyTeam(team, event);
      }
    },
    async start() {
      subscription = await store.subscribe(runId, { events: false, claims: true }, (update) => {
        if (update.kind === 'claim') onClaim(update.claim);
      });
    },
    async close() {
      await subscription?.close();
      subscription = undefined;
    },
  };
}

/** The team part of the run state, through the one fold every reader uses. */
function applyTeam(team: TeamState, event: EventOf<'team-host' | 'prompt-opened' | 'prompt-offered' | 'prompt-answered' | 'answer-refused' | 'prompt-closed'>): TeamState {
  return applyEvent({ ...initialRunState, team }, event).team ?? team;
}
