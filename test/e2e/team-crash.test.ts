// A crash of the host with a joiner attached, on both state backends: the host is killed (SIGKILL) while QA's question is open in deployctl join; the joiner stays, the run is resumed, and the answer Elif then gives in the same join is the one the resumed run takes.
import { expect, it } from 'vitest';
import { killTree, recordFiles, waitFor } from '../helpers/cli.js';
import { prompt, WAIT } from '../helpers/interactive.js';
import { describeTeam, peopleYaml } from '../helpers/team.js';

const RUNBOOK = `version: 1
name: crashy
${peopleYaml(['ana', 'elif'])}
roles:
  lead: { title: Deployment Lead, primary: ana }
  qa: { title: QA Lead, primary: elif }
phases:
  - id: p
    steps:
      - { id: brief, owner: lead, confirm: Brief given }
      - { id: qa-go, owner: qa, confirm: QA says go }
`;

const FILES = { 'crashy.yaml': RUNBOOK, 'lead.answers.yaml': 'brief: true\n' };

describeTeam('the host crashes with a joiner attached', { people: ['ana', 'elif'], files: FILES, timeout: 150_000 }, (team) => {
  const { cli } = team;

  it('the resumed run takes the answer given in the join that outlived the crash', async () => {
    const hostArgs = ['run', 'crashy.yaml', '--as', 'ana', '--answers', 'lead.answers.yaml', '--wait', '90s'];
    const host = team.spawn(hostArgs);
    await waitFor('the run is live', async () => (await cli(['status'])).stdout.includes('of crashy'), 30_000, 200);
    const elif = await team.terminal(['join', '--as', 'elif']);
    await elif.waitFor(prompt('QA says go'), WAIT);

    killTree(host.pid, 'SIGKILL');
    const killed = await host.result;
    expect(killed.signal ?? killed.code).toBe('SIGKILL');

    const resumed = team.spawn([...hostArgs, '--resume']);
    // The resumed host asks qa-go again (where the crashed one left it); Elif answers in the join she never left.
    await waitFor('the resumed run is live', async () => (await cli(['status'])).stdout.includes('of crashy'), 30_000, 200);
    await elif.sendKeys('y', 'Enter');
    const done = await resumed.result;
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(await elif.exitCode(30_000)).toBe(0);

    const verify = await cli(['record', 'verify', recordFiles(team.dir).at(-1)!]);
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.stdout).toContain('✔ qa-go: answered by Elif Yilmaz (QA Lead, key verified) in deployctl join: yes');
  });
});
