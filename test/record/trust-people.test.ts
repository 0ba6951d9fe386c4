// The people's key files a record's runbook lists, as record verify/show/export read them: one warning for many missing ones, not a screenful.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { locateRunbook, prepareTrust, type Trust } from '../../src/record/trust.js';

const IDS = ['ana', 'ben', 'chen', 'dara', 'elif'];
const runbook = (ids: string[]) => `version: 1
name: team
people:
${ids.map((id) => `  ${id}: { name: Person ${id}, keys: [keys/${id}.pub] }`).join('\n')}
roles:
  lead: { title: Lead, primary: ${ids[0]} }
phases:
  - id: go
    steps:
      - { id: s, owner: lead, confirm: Ready }
`;

describe('people whose key files are not there', () => {
  let dir: string;
  let trust: Trust;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trust-people-'));
    const prepared = prepareTrust({}, { cwd: dir, env: {} });
    if (!prepared.ok) throw new Error(prepared.message);
    trust = prepared.trust;
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('are one warning when there are more than three, naming three and counting the rest', () => {
    fs.writeFileSync(path.join(dir, 'team.yaml'), runbook(IDS));
    const found = locateRunbook(trust, 'team.yaml');
    expect(found.problems).toEqual([]);
    expect(found.warnings).toEqual([
      "5 people's key files cannot be used (people.ana: keys/ana.pub, people.ben: keys/ben.pub, people.chen: keys/chen.pub and 2 more; the first: " +
        `${path.join(dir, 'keys', 'ana.pub')} does not exist): the answers and sign-offs of those people cannot be verified until they are there: each person makes a pair with deployctl keygen --name ID and puts the .pub there, or fix the paths`,
    ]);
  });

  it('are named one by one when there are three or fewer', () => {
    fs.writeFileSync(path.join(dir, 'team.yaml'), runbook(IDS.slice(0, 2)));
    const found = locateRunbook(trust, 'team.yaml');
    expect(found.warnings).toHaveLength(2);
    expect(found.warnings[0]).toMatch(/^people\.ana lists keys\/ana\.pub, which cannot be used: .*does not exist$/);
  });
});
