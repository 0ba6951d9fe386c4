// `pattern:` where values enter a run: --var and the answers file are refused before anything runs; a prompt asks again.
import { describe, expect, it } from 'vitest';
import { loadAnswers } from '../../src/engine/answers.js';
import { resolveVars } from '../../src/engine/vars.js';
import { CliError } from '../../src/errors.js';
import type { PromptRequest } from '../../src/ports/types.js';
import { harness, inlineRunbook } from '../helpers/engine-fakes.js';

const RUNBOOK = inlineRunbook(`
version: 1
name: patterns
roles: { lead: { title: Deployment Lead } }
vars:
  version: { default: 6.5.0, pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+(-[a-z]+)?$' }
  count: { default: 3, pattern: '^[0-9]{1,2}$' }
  note: free text
phases:
  - id: p
    steps:
      - { id: ticket, owner: lead, ask: Change ticket?, pattern: '^[A-Z][A-Z0-9]*-[0-9]+$' }
      - { id: notes, owner: lead, ask: Notes? }
`);
const { doc } = RUNBOOK;

function refusal(run: () => unknown): CliError {
  try {
    run();
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error('expected a CliError');
}

describe('--var against a var pattern', () => {
  it('takes values that match, converted as before, and leaves vars without a pattern free', () => {
    expect(resolveVars(doc, ['version=6.5.1-rc', 'count=12', 'note=$(anything) goes'])).toEqual({ version: '6.5.1-rc', count: 12, note: '$(anything) goes' });
    expect(resolveVars(doc, [])).toEqual({ version: '6.5.0', count: 3, note: 'free text' });
  });

  it.each([
    ['a value with shell syntax', 'version=$(touch /tmp/x)'],
    ['a value that matches only in part', 'version=6.5.0; reboot'],
    ['a value with a trailing newline', 'version=6.5.0\n'],
    ['a number the pattern refuses', 'count=123'],
  ])('refuses %s with exit 2, naming the var, the value and the pattern', (_what, pair) => {
    const error = refusal(() => resolveVars(doc, [pair]));
    expect(error.exitCode).toBe(2);
    const name = pair.slice(0, pair.indexOf('='));
    expect(error.message).toContain(`--var ${name}`);
    expect(error.message).toMatch(/does not match the pattern/);
    expect(error.hint).toMatch(/\^/);
  });
});

describe('the answers file against an ask pattern', () => {
  const read = (text: string) => () => ({ ok: true as const, bytes: new TextEncoder().encode(text) });

  it('takes an answer that matches', () => {
    const result = loadAnswers('a.yaml', doc, read('ticket: CHG-6500\nnotes: "$(x)"\n'));
    expect(result.ok).toBe(true);
  });

  it.each([
    ['text that is not a ticket', 'ticket: next week\n', 'next week'],
    ['a command substitution', 'ticket: "$(touch /tmp/x)"\n', '"$(touch'],
    ['a number', 'ticket: 42\n', '42'],
  ])('refuses %s at its position, before anything runs', (_what, text, needle) => {
    const result = loadAnswers('a.yaml', doc, read(text));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      expect.objectContaining({ file: 'a.yaml', line: 1, col: text.indexOf(needle) + 1, code: 'bad-answer', message: expect.stringMatching(/'ticket' .*does not match the pattern \^\[A-Z\]/) }),
    ]);
  });
});

describe('an ask step at a prompt', () => {
  it('asks again until the answer matches, telling the prompt the pattern, and keeps the answer that matched', async () => {
    const requests: PromptRequest[] = [];
    const answers = ['not a ticket', '$(touch /tmp/x)', 'CHG-42', 'anything at all'];
    const h = harness();
    const result = await h.run(RUNBOOK, {}, { prompter: { ask: async (request: PromptRequest) => (requests.push(request), answers.shift()!) } });
    expect(result.exitCode).toBe(0);
    expect(requests.map((r) => r.id)).toEqual(['ticket', 'ticket', 'ticket', 'notes']);
    expect(requests[0]).toMatchObject({ kind: 'ask', pattern: '^[A-Z][A-Z0-9]*-[0-9]+$' });
    expect(requests[3]).not.toHaveProperty('pattern');
    const finished = h.events.filter((e) => e.kind === 'step-finished' && e.stepId === 'ticket');
    expect(finished).toEqual([expect.objectContaining({ outcome: expect.objectContaining({ status: 'succeeded', answer: 'CHG-42' }) })]);
  });
});
