// Signed answers and the one rule for whether a claim counts (src/record/answers.ts, src/team/judge.ts): every way a claim can fail to count, each its own case.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { EventOf } from '../../src/engine/events.js';
import type { PromptClaim, StoredClaim } from '../../src/ports/state/store.js';
import { encodeAnswerStatement, openSignedAnswer, signAnswer, type AnswerInput } from '../../src/record/answers.js';
import { keyIdOf, pae } from '../../src/record/dsse.js';
import { publicKeyPem } from '../../src/record/keys.js';
import type { People } from '../../src/record/people.js';
import { parseRunbookText } from '../../src/runbook/load.js';
import { judgeClaim, type JudgeContext, type PromptUnderClaim } from '../../src/team/judge.js';
import { parseClaimKey, slotKey } from '../../src/team/prompts.js';

const RUN = '20261206T090000000Z-abc123';
const keys = Object.fromEntries(['ana', 'elif', 'femi', 'gus'].map((id) => [id, generateKeyPairSync('ed25519')])) as Record<string, { privateKey: KeyObject; publicKey: KeyObject }>;
const runKey = generateKeyPairSync('ed25519');

const parsed = parseRunbookText(
  `version: 1
name: t
people:
  ana: { name: Ana Torres }
  elif: { name: Elif Yilmaz }
  femi: { name: Femi Adeyemi }
  gus: { name: Gus Lindqvist }
roles:
  lead: { title: Deployment Lead, primary: ana }
  qa: { title: QA Lead, primary: elif, backup: femi }
  on-call: { title: On-Call, primary: gus, delegate: true }
phases:
  - id: p
    steps:
      - { id: qa-ready, owner: qa, confirm: QA ready }
      - { id: who, owner: on-call, ask: Who?, pattern: '[A-Z][a-z]+' }
      - { id: tick, owner: qa, checklist: [a, b] }
`,
  't.yaml',
);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const doc = parsed.doc;
const people: People = new Map(
  Object.entries(doc.people!).map(([id, p]) => [id, { id, name: p.name, keys: [{ path: `keys/${id}.pub`, keyId: keyIdOf(keys[id]!.publicKey), key: keys[id]!.publicKey }] }]),
);
const hostAna: EventOf<'team-host'> = { kind: 'team-host', at: 0, operator: 'ana', person: 'ana', keyid: keyIdOf(keys['ana']!.publicKey), publicKey: publicKeyPem(keys['ana']!.privateKey) };
const hostAnonymous: EventOf<'team-host'> = { kind: 'team-host', at: 0, operator: 'root', keyid: keyIdOf(runKey.publicKey), publicKey: publicKeyPem(runKey.privateKey) };
const ctx = (host: EventOf<'team-host'> | undefined = hostAna, extra: Partial<JudgeContext> = {}): JudgeContext => ({ runId: RUN, doc, people, host, ...extra });
const prompt = (promptId: string, slot = 1, extra: Partial<PromptUnderClaim> = {}): PromptUnderClaim => {
  const role = promptId === 'who' ? 'on-call' : 'qa';
  const request =
    promptId === 'who'
      ? { kind: 'ask' as const, id: 'who', who: 'x', message: 'Who?', pattern: '[A-Z][a-z]+' }
      : promptId === 'tick'
        ? { kind: 'checklist' as const, id: 'tick', who: 'x', message: 'tick', items: ['a', 'b'] }
        : { kind: 'confirm' as const, id: promptId, who: 'x', message: 'QA ready' };
  return { promptId, slot, role, request, ...extra };
};

/** A claim by `by`, signed with `signer`'s key over what `statement` changes. */
function claim(by: string, answer: unknown, options: { signer?: KeyObject; promptId?: string; slot?: number; statement?: Partial<AnswerInput>; claimAnswer?: unknown } = {}): StoredClaim {
  const promptId = options.promptId ?? 'qa-ready';
  const slot = options.slot ?? 1;
  const isOperator = by.startsWith('operator:');
  const input: AnswerInput = {
    run_id: RUN,
    prompt_id: promptId,
    slot,
    answer,
    at: new Date(1_800_000_000_000).toISOString(),
    journal_head: 'sha256:' + '0'.repeat(64),
    ...(isOperator ? { operator: by.slice('operator:'.length) } : { person: by }),
    via: 'join',
    ...options.statement,
  };
  const signer = options.signer ?? keys[by]?.privateKey ?? runKey.privateKey;
  const c: PromptClaim = { promptId: slotKey(promptId, slot), by, answer: options.claimAnswer ?? answer, at: 1_800_000_000_000, proof: signAnswer(input, signer) };
  return { ok: true, claim: c };
}

describe('a signed answer', () => {
  it('verifies with the signer’s key over the DSSE PAE of its payload, and with no other key', () => {
    const input: AnswerInput = { run_id: RUN, prompt_id: 'qa-ready', slot: 1, answer: true, at: '2026-12-06T09:00:00.000Z', journal_head: 'sha256:ab', person: 'elif', via: 'join' };
    const signed = signAnswer(input, keys['elif']!.privateKey);
    expect(Buffer.from(signed.payload, 'base64').toString()).toBe(
      '{"_type":"https://deployctl.dev/answer/v1","run_id":"20261206T090000000Z-abc123","prompt_id":"qa-ready","slot":1,"answer":true,"at":"2026-12-06T09:00:00.000Z","journal_head":"sha256:ab","person":"elif","via":"join"}',
    );
    expect(Buffer.from(encodeAnswerStatement(input)).toString('base64')).toBe(signed.payload);
    expect(openSignedAnswer(signed, [keys['elif']!.publicKey])).toMatchObject({ ok: true, statement: { person: 'elif', answer: true }, keyId: signed.keyid });
    expect(openSignedAnswer(signed, [keys['femi']!.publicKey])).toMatchObject({ ok: false, code: 'bad-signature' });
    // The PAE is DSSE's: the signature checks with node:crypto over the bytes an auditor rebuilds by hand.
    const message = pae('application/vnd.deployctl.answer+json', Buffer.from(signed.payload, 'base64'));
    expect(Buffer.from(message).toString().startsWith('DSSEv1 37 application/vnd.deployctl.answer+json ')).toBe(true);
  });

  it('does not verify once its payload changed by one byte', () => {
    const signed = signAnswer({ run_id: RUN, prompt_id: 'qa-ready', slot: 1, answer: true, at: 'x', journal_head: 'h', person: 'elif', via: 'join' }, keys['elif']!.privateKey);
    const payload = Buffer.from(signed.payload, 'base64').toString().replace('true', 'fals');
    expect(openSignedAnswer({ ...signed, payload: Buffer.from(payload).toString('base64') }, [keys['elif']!.publicKey])).toMatchObject({ ok: false, code: 'bad-signature' });
  });
});

describe('judgeClaim', () => {
  it.each<[string, StoredClaim, PromptUnderClaim, JudgeContext?]>([
    ['the primary', claim('elif', true), prompt('qa-ready')],
    ['the backup', claim('femi', false), prompt('qa-ready')],
    ['a checklist with ticked items', claim('elif', ['b'], { promptId: 'tick' }), prompt('tick')],
    ['the running terminal’s person on a delegate role', claim('ana', 'Dana', { promptId: 'who' }), prompt('who')],
    ['the running terminal’s operator (nobody of the runbook’s) on a delegate role, signed with the run key', claim('operator:root', 'Dana', { promptId: 'who' }), prompt('who'), ctx(hostAnonymous)],
    ['a later slot, signed for it', claim('elif', true, { slot: 3 }), prompt('qa-ready', 3)],
  ])('takes an answer by %s', (_who, stored, under, context = ctx()) => {
    expect(judgeClaim(stored, under, context)).toMatchObject({ ok: true });
  });

  it('credits a delegated answer on behalf of the role’s holder', () => {
    expect(judgeClaim(claim('ana', 'Dana', { promptId: 'who' }), prompt('who'), ctx())).toMatchObject({ ok: true, person: 'ana', onBehalfOf: 'gus' });
  });

  it.each<[string, StoredClaim, PromptUnderClaim, RegExp, boolean, JudgeContext?]>([
    ['signed with another person’s key (impersonation)', claim('elif', true, { signer: keys['femi']!.privateKey }), prompt('qa-ready'), /does not verify with Elif Yilmaz's key/, true],
    ['by someone who is no person of the runbook', claim('mallory', true, { signer: keys['gus']!.privateKey }), prompt('qa-ready'), /'mallory' is no person/, true],
    ['by a person without the role', claim('gus', true), prompt('qa-ready'), /Gus Lindqvist \(gus\) does not hold role qa \(QA Lead: elif, femi\)/, true],
    ['by a person who is not the running terminal, on a delegate role', claim('elif', 'Dana', { promptId: 'who' }), prompt('who'), /does not hold role on-call .* and is not the terminal running the deployment/, true],
    ['signed for another run (replayed)', claim('elif', true, { statement: { run_id: '20261206T090000000Z-ffffff' } }), prompt('qa-ready'), /signed for run/, false],
    ['signed for another slot (replayed)', claim('elif', true, { slot: 1 }), prompt('qa-ready', 2), /signed for qa-ready slot 1, not qa-ready slot 2/, false],
    ['whose answer is not the one signed', claim('elif', true, { claimAnswer: false }), prompt('qa-ready'), /not the one signed/, false],
    ['naming someone else inside the signed statement', claim('elif', true, { statement: { person: 'femi' } }), prompt('qa-ready'), /names someone other than its signer/, false],
    ['that does not answer the question (a confirm answered with text)', claim('elif', 'sure'), prompt('qa-ready'), /yes or no/, false],
    ['ticking an item not on the checklist', claim('elif', ['c'], { promptId: 'tick' }), prompt('tick'), /'c' is not on the checklist/, false],
    ['not matching the ask step’s pattern', claim('ana', 'dana', { promptId: 'who' }), prompt('who'), /does not match/, false],
    ['holding a secret of the run', claim('ana', 'Hunter', { promptId: 'who' }), prompt('who'), /holds a secret of the run/, false, ctx(hostAna, { secretFree: (a) => !JSON.stringify(a).includes('Hunter') })],
    ['that says it was taken from an answers file (only the running terminal takes those, never as a claim)', claim('elif', true, { statement: { via: 'answers-file', answers_file: { path: 'a.yaml', sha256: 'a'.repeat(64) } } }), prompt('qa-ready'), /taken from an answers file, which only the running terminal does/, true],
    ['by an excluded approver', claim('elif', true), prompt('qa-ready', 1, { excluded: new Map([['elif', 'Elif Yilmaz ran the deployment: separation of duties']]) }), /separation of duties/, true],
  ])('refuses a claim %s', (_what, stored, under, reason, impersonation, context = ctx()) => {
    const verdict = judgeClaim(stored, under, context);
    expect(verdict).toMatchObject({ ok: false, impersonation });
    if (!verdict.ok) expect(verdict.reason).toMatch(reason);
  });

  it('refuses a stored claim that cannot be read, without throwing', () => {
    expect(judgeClaim({ ok: false, promptId: 'qa-ready', problem: 'the claim x is not JSON' }, prompt('qa-ready'), ctx())).toMatchObject({ ok: false, reason: 'the claim x is not JSON' });
  });

  it('refuses a claim whose proof is not a signed answer', () => {
    const stored: StoredClaim = { ok: true, claim: { promptId: 'qa-ready', by: 'elif', answer: true, at: 1, proof: { payload: 'x' } } };
    expect(judgeClaim(stored, prompt('qa-ready'), ctx())).toMatchObject({ ok: false });
  });
});

describe('claim keys', () => {
  it.each([
    ['qa-ready', { kind: 'slot', promptId: 'qa-ready', slot: 1 }],
    ['qa-ready~2', { kind: 'slot', promptId: 'qa-ready', slot: 2 }],
    ['go-no-go.leadership_approved~17', { kind: 'slot', promptId: 'go-no-go.leadership_approved', slot: 17 }],
    ['qa-ready~x0a1b2c', { kind: 'attempt', promptId: 'qa-ready' }],
    ['qa-ready~1', { kind: 'attempt', promptId: 'qa-ready' }],
  ])('%s is %j', (key, expected) => {
    expect(parseClaimKey(key)).toEqual(expected);
  });

  it('slot 1 is the prompt id itself', () => {
    expect([1, 2, 10].map((n) => slotKey('p', n))).toEqual(['p', 'p~2', 'p~10']);
  });
});

describe('a signed answer taken from an answers file', () => {
  it('signs the file’s name and digest, and is not well-formed without them (or with them and another via)', () => {
    const file = { path: 'answers.yaml', sha256: 'a'.repeat(64) };
    const base: AnswerInput = { run_id: RUN, prompt_id: 'qa-ready', slot: 1, answer: true, at: '2026-12-06T09:00:00.000Z', journal_head: 'sha256:ab', person: 'ana', via: 'answers-file', answers_file: file };
    const signed = signAnswer(base, keys['ana']!.privateKey);
    expect(Buffer.from(signed.payload, 'base64').toString()).toContain(`"via":"answers-file","answers_file":{"path":"answers.yaml","sha256":"${'a'.repeat(64)}"}`);
    expect(openSignedAnswer(signed, [keys['ana']!.publicKey])).toMatchObject({ ok: true, statement: { via: 'answers-file', answers_file: file } });
    const { answers_file: _dropped, ...withoutFile } = base;
    expect(openSignedAnswer(signAnswer(withoutFile, keys['ana']!.privateKey), [keys['ana']!.publicKey])).toMatchObject({ ok: false, code: 'bad-statement', reason: expect.stringContaining('answers file') });
    expect(openSignedAnswer(signAnswer({ ...base, via: 'join' }, keys['ana']!.privateKey), [keys['ana']!.publicKey])).toMatchObject({ ok: false, code: 'bad-statement' });
  });
});
