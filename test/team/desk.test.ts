// The host's answer desk on both state backends (the local directory and a real PostgreSQL): the first valid answer wins, wherever it comes from; a forged claim is journaled and never blocks a prompt; whoever may not answer is refused.
import * as os from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventOf, RunEvent } from '../../src/engine/events.js';
import { openStateStore, resolveState } from '../../src/ports/state/location.js';
import type { JournalWriter, StateStore } from '../../src/ports/state/store.js';
import { systemClock } from '../../src/ports/clock.js';
import { newRunId } from '../../src/ports/state-dir.js';
import { PromptAbortedError, PromptUnansweredError, type PromptAnswer, type Prompter, type PromptOptions, type PromptRequest } from '../../src/ports/types.js';
import { signAnswer } from '../../src/record/answers.js';
import { loadPrivateKey } from '../../src/record/keys.js';
import { loadPeople, type People } from '../../src/record/people.js';
import { loadRunbook } from '../../src/runbook/load.js';
import type { RunbookDoc } from '../../src/runbook/types.js';
import { claimPrompt } from '../../src/team/claimer.js';
import { createHostDesk, type HostDesk } from '../../src/team/desk.js';
import { judgeClaim } from '../../src/team/judge.js';
import { attemptKey, slotKey } from '../../src/team/prompts.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { makeTeam, type TeamDir } from '../helpers/team.js';

const RUNBOOK = `version: 1
name: desk
people:
  ana: { name: Ana Torres, keys: [keys/ana.pub] }
  elif: { name: Elif Yilmaz, keys: [keys/elif.pub] }
  femi: { name: Femi Adeyemi, keys: [keys/femi.pub] }
  gus: { name: Gus Lindqvist, keys: [keys/gus.pub] }
roles:
  lead: { title: Deployment Lead, primary: ana }
  qa: { title: QA Lead, primary: elif, backup: femi }
  on-call: { title: On-Call, primary: gus, delegate: true }
phases:
  - id: p
    steps:
      - { id: brief, owner: lead, confirm: Brief given }
      - { id: qa-ready, owner: qa, confirm: QA ready }
      - { id: who, owner: on-call, ask: Who is on call? }
`;

const confirm = (id: string, role: string): PromptRequest => ({ kind: 'confirm', id, role, who: `[${role}]`, message: id });

/** A terminal that answers `answer` after `delayMs` (never when undefined), and says whether its question was closed. */
function scriptedTerminal(answer: PromptAnswer | undefined, delayMs = 0) {
  const asked: { id: string; closed: boolean }[] = [];
  const terminal: Prompter = {
    ask(request: PromptRequest, options: PromptOptions = {}) {
      const entry = { id: request.id, closed: false };
      asked.push(entry);
      return new Promise<PromptAnswer>((resolve, reject) => {
        const timer = answer === undefined ? undefined : setTimeout(() => resolve(answer), delayMs);
        options.signal?.addEventListener('abort', () => {
          entry.closed = true;
          if (timer !== undefined) clearTimeout(timer);
          reject(new PromptAbortedError());
        });
      });
    },
  };
  return { terminal, asked };
}

interface Backend {
  name: string;
  open(dir: string): Promise<{ store: StateStore; reopen: () => Promise<StateStore> }>;
}
const local: Backend = {
  name: 'the local directory',
  async open(dir) {
    const { location } = resolveState(undefined, { DEPLOYCTL_STATE_DIR: '.deployctl' }, dir);
    return { store: await openStateStore(location), reopen: () => openStateStore(location) };
  },
};
const postgres: Backend = {
  name: 'PostgreSQL',
  async open(dir) {
    const { location } = resolveState(createTestDatabase().url, {}, dir);
    return { store: await openStateStore(location), reopen: () => openStateStore(location) };
  },
};

describe.each([local, postgres])('the answer desk on $name', (backend) => {
  let team: TeamDir;
  let doc: RunbookDoc;
  let people: People;
  let store: StateStore;
  /** Another terminal's session on the same state (join, answer). */
  let other: StateStore;
  const open: { desk?: HostDesk; journal?: JournalWriter }[] = [];

  beforeAll(async () => {
    team = makeTeam(['ana', 'elif', 'femi', 'gus']);
    const loaded = loadRunbook(team.write('desk.yaml', RUNBOOK));
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    doc = loaded.runbook.doc;
    people = loadPeople(doc, loaded.runbook.source.dir, team.dir);
    const opened = await backend.open(team.dir);
    store = opened.store;
    other = await opened.reopen();
  });
  afterEach(async () => {
    for (const o of open.splice(0)) {
      await o.desk?.close();
      await o.journal?.close();
    }
  });
  afterAll(async () => {
    await store?.close();
    await other?.close();
    team?.remove();
  });

  const key = (id: string) => {
    const loaded = loadPrivateKey(team.key(id));
    if (!loaded.ok) throw new Error(loaded.error.message);
    return loaded;
  };

  /** A run with a desk whose host is ana (or `as`), its terminal `terminal`. */
  async function start(terminal: Prompter | undefined, options: { as?: string; waitMs?: number; secret?: string } = {}) {
    const runId = newRunId(Date.now());
    const events: RunEvent[] = [];
    const journal = await store.openJournal(runId, { runbook: 'desk' }, (error) => {
      throw error;
    });
    const as = options.as ?? 'ana';
    const k = key(as);
    let desk: HostDesk | undefined = undefined;
    const emit = (event: RunEvent) => {
      journal.append(event, true);
      events.push(event);
      desk?.onEvent(event);
    };
    desk = createHostDesk({
      doc,
      people,
      runId,
      store,
      identity: { person: people.get(as)!, operator: as, privateKey: k.key, keyId: k.keyId },
      terminal,
      emit,
      journalHead: () => journal.head,
      clock: systemClock,
      signal: new AbortController().signal,
      secretFree: (answer) => options.secret === undefined || !JSON.stringify(answer).includes(options.secret),
      ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}),
      answerCommand: (promptId, person) => `deployctl answer ${promptId} --run ${runId} --as ${person} --yes`,
    });
    emit({ kind: 'run-started', at: Date.now(), runId, runbook: { name: 'desk', path: 'desk.yaml', sha256: 'a'.repeat(64) }, tool: { name: 'deployctl', version: '0' }, operator: as, host: os.hostname(), vars: {}, dryRun: false });
    await journal.flushed();
    await desk.start();
    open.push({ desk, journal });
    const of = <K extends RunEvent['kind']>(kind: K) => events.filter((e): e is EventOf<K> => e.kind === kind);
    return { runId, desk, events, of, journal };
  }

  /** How another terminal answers: sign for each slot, claim the first free one past claims that do not count. */
  async function answerAs(run: { runId: string; journal: JournalWriter; of: <K extends RunEvent['kind']>(k: K) => EventOf<K>[] }, person: string, promptId: string, answer: unknown, startSlot = 1) {
    const k = key(person);
    const host = run.of('team-host').at(-1);
    return claimPrompt({
      store: other,
      runId: run.runId,
      startSlot,
      claimFor: (slot) => ({
        promptId: slotKey(promptId, slot),
        by: person,
        answer,
        at: Date.now(),
        proof: signAnswer({ run_id: run.runId, prompt_id: promptId, slot, answer, at: new Date().toISOString(), journal_head: run.journal.head, person, via: 'answer' }, k.key),
      }),
      judge: (stored, slot) => judgeClaim(stored, { promptId, slot, role: 'qa', request: confirm(promptId, 'qa') }, { runId: run.runId, doc, people, host }),
    });
  }

  it('signs and journals the answer given at the running terminal, and claims it in the store', async () => {
    const { terminal } = scriptedTerminal(true);
    const run = await start(terminal);
    expect(await run.desk.prompter.ask(confirm('brief', 'lead'))).toBe(true);
    const [opened] = run.of('prompt-opened');
    expect(opened).toMatchObject({ promptId: 'brief', slot: 1, role: 'lead', offeredTo: ['ana'], hostAnswers: true });
    const [answered] = run.of('prompt-answered');
    expect(answered).toMatchObject({ promptId: 'brief', slot: 1, person: 'ana', via: 'terminal', answer: true, signature: { payload_type: 'application/vnd.deployctl.answer+json' } });
    expect(await store.readClaim(run.runId, 'brief')).toMatchObject({ ok: true, claim: { by: 'ana', answer: true } });
    expect(run.of('team-host')).toEqual([expect.objectContaining({ person: 'ana', operator: 'ana' })]);
  });

  it('waits for the role’s holder when this terminal may not answer, and takes their answer from another terminal', async () => {
    const { terminal, asked } = scriptedTerminal(true);
    const run = await start(terminal);
    const answering = run.desk.prompter.ask(confirm('qa-ready', 'qa'));
    await expect.poll(() => run.of('prompt-opened').length).toBe(1);
    expect(run.of('prompt-opened')[0]).toMatchObject({ hostAnswers: false, offeredTo: ['elif', 'femi'] });
    expect(await answerAs(run, 'elif', 'qa-ready', true)).toMatchObject({ won: true, slot: 1 });
    expect(await answering).toBe(true);
    expect(asked).toEqual([]);
    expect(run.of('prompt-answered')[0]).toMatchObject({ person: 'elif', via: 'answer', slot: 1 });
  });

  it('closes its own open question when the holder answers first elsewhere', async () => {
    const { terminal, asked } = scriptedTerminal(undefined);
    const run = await start(terminal);
    // On-call is delegate: ana's terminal asks too.
    const answering = run.desk.prompter.ask({ kind: 'ask', id: 'who', role: 'on-call', who: '[On-Call]', message: 'Who?' });
    await expect.poll(() => asked.length).toBe(1);
    const gus = key('gus');
    const proof = signAnswer({ run_id: run.runId, prompt_id: 'who', slot: 1, answer: 'Dana', at: new Date().toISOString(), journal_head: run.journal.head, person: 'gus', via: 'join' }, gus.key);
    expect(await other.claim(run.runId, { promptId: 'who', by: 'gus', answer: 'Dana', at: Date.now(), proof })).toMatchObject({ won: true });
    expect(await answering).toBe('Dana');
    expect(asked).toEqual([{ id: 'who', closed: true }]);
    expect(run.of('prompt-answered')[0]).toMatchObject({ person: 'gus', via: 'join' });
  });

  it('a forged claim followed by a valid one: the valid one wins, the forged one is refused in the journal', async () => {
    const run = await start(scriptedTerminal(undefined).terminal);
    // Someone with write access to the state claims slot 1 as Elif, signing with Femi's key.
    const femi = key('femi');
    const forged = signAnswer({ run_id: run.runId, prompt_id: 'qa-ready', slot: 1, answer: false, at: new Date().toISOString(), journal_head: run.journal.head, person: 'elif', via: 'answer' }, femi.key);
    expect(await other.claim(run.runId, { promptId: 'qa-ready', by: 'elif', answer: false, at: Date.now(), proof: forged })).toMatchObject({ won: true });
    // Elif answers for real: slot 1 is taken by a claim that does not count, so hers lands in slot 2.
    expect(await answerAs(run, 'elif', 'qa-ready', true)).toMatchObject({ won: true, slot: 2 });
    expect(await run.desk.prompter.ask(confirm('qa-ready', 'qa'))).toBe(true);
    expect(run.of('answer-refused')).toEqual([expect.objectContaining({ promptId: 'qa-ready', slot: 1, claimedBy: 'elif', reason: expect.stringContaining("does not verify with Elif Yilmaz's key") })]);
    expect(run.of('prompt-answered')).toEqual([expect.objectContaining({ promptId: 'qa-ready', slot: 2, person: 'elif', answer: true })]);
    // A second answer after the valid one loses to it.
    expect(await answerAs(run, 'femi', 'qa-ready', false)).toMatchObject({ won: false, slot: 2, winner: { person: 'elif' } });
  });

  it('refuses an answer by someone without the role, then takes the holder’s', async () => {
    const run = await start(scriptedTerminal(undefined).terminal);
    const asking = run.desk.prompter.ask(confirm('qa-ready', 'qa'));
    const gus = key('gus');
    const proof = signAnswer({ run_id: run.runId, prompt_id: 'qa-ready', slot: 1, answer: true, at: new Date().toISOString(), journal_head: run.journal.head, person: 'gus', via: 'answer' }, gus.key);
    await other.claim(run.runId, { promptId: 'qa-ready', by: 'gus', answer: true, at: Date.now(), proof });
    await expect.poll(() => run.of('answer-refused').length).toBe(1);
    expect(run.of('answer-refused')[0]!.reason).toContain('does not hold role qa');
    expect(await answerAs(run, 'femi', 'qa-ready', true)).toMatchObject({ won: true, slot: 2 });
    expect(await asking).toBe(true);
    expect(run.of('prompt-answered')[0]).toMatchObject({ person: 'femi', slot: 2 });
  });

  it('journals an attempt a claimer refused itself (impersonation) as soon as it lands', async () => {
    const run = await start(scriptedTerminal(undefined).terminal);
    const femi = key('femi');
    const proof = signAnswer({ run_id: run.runId, prompt_id: 'qa-ready', slot: 0, answer: true, at: new Date().toISOString(), journal_head: run.journal.head, person: 'elif', via: 'answer' }, femi.key);
    await other.claim(run.runId, { promptId: attemptKey('qa-ready'), by: 'elif', answer: true, at: Date.now(), proof });
    await expect.poll(() => run.of('answer-refused').length).toBe(1);
    expect(run.of('answer-refused')[0]).toMatchObject({ promptId: 'qa-ready', claimedBy: 'elif', reason: expect.stringContaining('does not verify') });
    expect(run.of('answer-refused')[0]!.slot).toBeUndefined();
  });

  it('without a terminal, fails closed once the wait is over, saying who did not answer and how they can', async () => {
    const run = await start(undefined, { waitMs: 50 });
    const error = await run.desk.prompter.ask(confirm('qa-ready', 'qa')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PromptUnansweredError);
    expect((error as Error).message).toContain('no answer from Elif Yilmaz or Femi Adeyemi (QA Lead)');
    expect((error as Error).message).toContain(`deployctl answer qa-ready --run ${run.runId} --as elif --yes`);
    expect(run.of('prompt-closed')).toEqual([expect.objectContaining({ promptId: 'qa-ready', slot: 1 })]);
  });

  it('takes an answer given before the prompt opened', async () => {
    const run = await start(undefined, { waitMs: 0 });
    expect(await answerAs(run, 'elif', 'qa-ready', true)).toMatchObject({ won: true, slot: 1 });
    expect(await run.desk.prompter.ask(confirm('qa-ready', 'qa'))).toBe(true);
  });

  it('asks again at its terminal when its own answer holds a secret of the run', async () => {
    let answers = ['Hunter2', 'Dana'];
    const terminal: Prompter = { ask: async () => answers.shift()! };
    const run = await start(terminal, { secret: 'Hunter2' });
    expect(await run.desk.prompter.ask({ kind: 'ask', id: 'who', role: 'on-call', who: '[On-Call]', message: 'Who?' })).toBe('Dana');
    expect(run.of('answer-refused')[0]).toMatchObject({ slot: 1, reason: expect.stringContaining('holds a secret') });
    expect(run.of('prompt-answered')[0]).toMatchObject({ slot: 2, answer: 'Dana', onBehalfOf: 'gus' });
    answers = [];
  });

  it('starts a new asking of the same prompt after the slots of the one before (a confirm asked again)', async () => {
    const replies = [false, true];
    const run = await start({ ask: async () => replies.shift()! });
    expect(await run.desk.prompter.ask(confirm('brief', 'lead'))).toBe(false);
    expect(await run.desk.prompter.ask(confirm('brief', 'lead'))).toBe(true);
    expect(run.of('prompt-answered').map((e) => [e.slot, e.answer])).toEqual([
      [1, false],
      [2, true],
    ]);
  });
});
