// The journal's hash chain, rule by rule: links checked, the start bound to the run id, unchained (older) journals accepted, every break named.
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../src/engine/events.js';
import { parseJournalLine, type JournalEntry } from '../../../src/engine/journal.js';
import { chainedLine, checkChain, entriesFromRows, genesisHash, hashLine } from '../../../src/ports/state/chain.js';

const RUN = '20261206T090000000Z-abcdef';
const ev = (phaseId: string): RunEvent => ({ kind: 'phase-started', at: 1, phaseId });

/** Lines as a writer produces them: each linked to the one before, the first to the run. */
function chained(ids: string[], runId = RUN): string[] {
  let head = genesisHash(runId);
  return ids.map((id) => {
    const line = chainedLine(ev(id), head);
    head = hashLine(line);
    return line;
  });
}
const entries = (lines: string[]): JournalEntry[] => lines.map((l, i) => parseJournalLine(l, i + 1)!);
const where = (e: JournalEntry) => `line ${e.position}`;

describe('checkChain', () => {
  it('holds for lines written in order, and its head is the hash of the last line', () => {
    const lines = chained(['a', 'b', 'c']);
    expect(checkChain(RUN, entries(lines), where)).toEqual({ status: 'intact', unchainedPrefix: 0, head: hashLine(lines[2]!), problems: [] });
  });

  it('is intact and empty for no events, its head the start of the run', () => {
    expect(checkChain(RUN, [], where)).toEqual({ status: 'intact', unchainedPrefix: 0, head: genesisHash(RUN), problems: [] });
  });

  it('takes the link out of the event: it is the journal\'s, not the event\'s', () => {
    const [line] = chained(['a']);
    expect(parseJournalLine(line!, 1)).toMatchObject({ event: ev('a'), prev: genesisHash(RUN) });
  });

  it.each([
    ['an edited event', (l: string[]) => [l[0]!, l[1]!.replace('"b"', '"B"'), l[2]!], /line 3 does not link to the event before it \(line 2\)/],
    ['a removed event', (l: string[]) => [l[0]!, l[2]!], /line 2 does not link to the event before it \(line 1\)/],
    ['two events swapped', (l: string[]) => [l[0]!, l[2]!, l[1]!], /line 2 does not link/],
    ['the first event removed', (l: string[]) => [l[1]!, l[2]!], /line 1 is the first event but does not link to the start of run/],
    ['an inserted event without a link', (l: string[]) => [l[0]!, JSON.stringify(ev('x')), l[1]!, l[2]!], /line 2 carries no hash link, although the journal is hash-chained from line 1 on/],
  ])('names %s', (_what, edit, problem) => {
    const check = checkChain(RUN, entries(edit(chained(['a', 'b', 'c']))), where);
    expect(check.status).toBe('broken');
    expect(check.problems.join('\n')).toMatch(problem);
  });

  it("refuses another run's journal: the chain starts from the run id", () => {
    const check = checkChain(RUN, entries(chained(['a', 'b'], '20261206T090000000Z-000000')), where);
    expect(check.problems).toEqual([expect.stringMatching(/line 1 is the first event but does not link to the start of run/)]);
  });

  it('accepts a journal of an earlier version (no links at all) as unchained, and one chained after such a prefix as intact', () => {
    const old = [JSON.stringify(ev('a')), JSON.stringify(ev('b'))];
    expect(checkChain(RUN, entries(old), where)).toMatchObject({ status: 'unchained', problems: [] });
    const resumed = [...old, chainedLine(ev('c'), hashLine(old[1]!))];
    expect(checkChain(RUN, entries(resumed), where)).toMatchObject({ status: 'intact', unchainedPrefix: 2, problems: [] });
  });
});

describe('entriesFromRows', () => {
  const lines = chained(['a', 'b', 'c']);
  const rows = lines.map((line, i) => ({ seq: i + 1, line, hash: hashLine(line) }));

  it('reads rows that are whole and in order without a problem', () => {
    expect(entriesFromRows(rows)).toMatchObject({ skipped: [], problems: [] });
  });

  it.each([
    ['a stored hash that does not match', [rows[0]!, { ...rows[1]!, hash: 'sha256:00' }, rows[2]!], /row 2's stored hash does not match its content/],
    ['a missing row', [rows[0]!, rows[2]!], /row 2 is missing/],
    ['two missing rows', [rows[0]!, { ...rows[2]!, seq: 4 }], /rows 2–3 are missing/],
    ['a row that is not an event', [rows[0]!, { seq: 2, line: '{"kind":', hash: hashLine('{"kind":') }, rows[2]!], /row 2 is not a journal event/],
  ])('names %s', (_what, stored, problem) => {
    expect(entriesFromRows(stored).problems.join('\n')).toMatch(problem);
  });
});
