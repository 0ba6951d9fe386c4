// backup_after end to end on both state backends: a prompt is offered to the role's primary alone, then (after backup_after, through the clock port) to the backup too, who is notified and asked in deployctl join, and whose answer counts.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { recordFiles, waitFor } from '../helpers/cli.js';
import { prompt, WAIT } from '../helpers/interactive.js';
import { describeTeam, peopleYaml } from '../helpers/team.js';

const RUNBOOK = `version: 1
name: backed
${peopleYaml(['ana', 'elif', 'femi'], { femi: 'contact: "@femi"' })}
roles:
  lead: { title: Deployment Lead, primary: ana }
  qa: { title: QA Lead, primary: elif, backup: femi, backup_after: 4s }
notify:
  channels:
    - { id: log, file: notices.log }
phases:
  - id: p
    steps:
      - { id: brief, owner: lead, confirm: Brief given }
      - { id: qa-go, owner: qa, confirm: QA says go }
`;

const FILES = { 'backed.yaml': RUNBOOK, 'lead.answers.yaml': 'brief: true\n' };

describeTeam('backup_after', { people: ['ana', 'elif', 'femi'], files: FILES, timeout: 120_000 }, (team) => {
  const { cli } = team;

  it('offers the prompt to the backup after backup_after, notifies them, asks them in join, and takes their answer', async () => {
    const host = team.spawn(['run', 'backed.yaml', '--as', 'ana', '--answers', 'lead.answers.yaml', '--wait', '60s']);
    await waitFor('the run is live', async () => (await cli(['status'])).stdout.includes('of backed'), 30_000, 200);
    const femi = await team.terminal(['join', '--as', 'femi']);
    await femi.waitFor(prompt('QA says go'), WAIT);
    await femi.sendKeys('y', 'Enter');
    const done = await host.result;
    expect(done.code, done.stderr).toBe(0);

    const record = recordFiles(team.dir).at(-1)!;
    const journal = team.events(/(\d{8}T\d{6,9}Z-[0-9a-f]{6})\.json$/.exec(record)![1]!);
    const opened = journal.find((e) => e['kind'] === 'prompt-opened' && e['promptId'] === 'qa-go')!;
    const offered = journal.find((e) => e['kind'] === 'prompt-offered' && e['promptId'] === 'qa-go')!;
    const answered = journal.find((e) => e['kind'] === 'prompt-answered' && e['promptId'] === 'qa-go')!;
    expect(opened['offeredTo']).toEqual(['elif']);
    expect(offered).toMatchObject({ to: ['femi'], reason: 'no answer from Elif Yilmaz within 4s' });
    expect(offered['at'] - opened['at']).toBeGreaterThanOrEqual(4000);
    // Femi was asked only once offered: his answer came after the offer.
    expect(answered).toMatchObject({ person: 'femi', via: 'join' });
    expect(answered['answeredAt']).toBeGreaterThanOrEqual(offered['at']);

    const notices = readFileSync(path.join(team.dir, 'notices.log'), 'utf8');
    expect(notices).toContain('Waiting for an answer: qa-go');
    expect(notices).toContain('no answer from Elif Yilmaz within 4s; offered to Femi Adeyemi (@femi) now');
    expect(notices).toContain('deployctl join --as femi');

    const verify = await cli(['record', 'verify', record]);
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.stdout).toContain('✔ qa-go: answered by Femi Adeyemi (QA Lead backup, key verified) in deployctl join: yes');
  });
});
