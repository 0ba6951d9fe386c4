// deployctl join and deployctl answer end to end, on both state backends: a second terminal (tmux) joins the live run and is asked only its person's prompts, the first valid answer wins and the other terminal shows who gave it, answers from a script (also before the prompt opens), impersonation and a person without the role refused with exit 2 and journaled.
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { waitFor } from '../helpers/cli.js';
import { prompt, WAIT } from '../helpers/interactive.js';
import { describeTeam, peopleYaml } from '../helpers/team.js';

const RUNBOOK = `version: 1
name: joined
${peopleYaml(['ana', 'elif', 'femi'])}
roles:
  lead: { title: Deployment Lead, primary: ana }
  qa: { title: QA Lead, primary: elif, backup: femi }
phases:
  - id: p
    steps:
      - { id: brief, owner: lead, confirm: Brief given }
      - { id: qa-ready, owner: qa, checklist: [Test plan ready, Test data loaded] }
      - { id: on-call, owner: qa, ask: Who is on call? }
      - { id: qa-go, owner: qa, confirm: QA says go }
      - { id: signoff-qa, title: "Sign-off: QA Lead", owner: qa, confirm: QA Lead signs off, signoff: true }
`;

describeTeam('join and answer', { people: ['ana', 'elif', 'femi'], files: { 'joined.yaml': RUNBOOK }, timeout: 180_000 }, (team) => {
  const { cli, terminal } = team;

  it('a joiner is asked its own prompts, the host shows who answered where; script answers count, impersonation is refused and journaled', async () => {
    const host = await terminal(['run', 'joined.yaml', '--as', 'ana']);
    await host.waitFor(prompt('Brief given'), WAIT);

    // Before the prompt opens: Femi (QA's backup) answers on-call from a script.
    const early = await cli(['answer', 'on-call', '--as', 'femi', '--value', 'Dana']);
    expect(early.code, early.stderr).toBe(0);
    expect(early.stdout).toMatch(/^answered on-call as Femi Adeyemi \(QA Lead\): "Dana", signed with .*femi\.key \(sha256:[0-9a-f]{64}\); the run takes it when it asks \(run \S+\)$/m);

    // Impersonation: Femi's name with Ana's key. A person without the role: Ana for QA's prompt.
    const forged = await cli(['answer', 'qa-go', '--as', 'femi', '--key', team.key('ana'), '--yes']);
    expect(forged.code).toBe(2);
    expect(forged.stderr).toContain("is not a key of Femi Adeyemi (femi): the runbook lists keys/femi.pub; it is Ana Torres's key: refused, and logged in run");
    const norole = await cli(['answer', 'qa-go', '--as', 'ana', '--yes']);
    expect(norole.code).toBe(2);
    expect(norole.stderr).toContain('Ana Torres (ana) does not hold role qa (QA Lead: elif, femi), so cannot answer qa-go: refused');

    // Elif joins: nothing of hers is open yet; Ana answers hers at the host.
    const elif = await terminal(['join', '--as', 'elif']);
    await elif.waitFor(/joined run \S+ of joined as Elif Yilmaz \(elif\)/, WAIT);
    await host.sendKeys('y', 'Enter');
    await host.waitFor(/waiting for Elif Yilmaz or Femi Adeyemi \(QA Lead\)/, WAIT);
    await elif.waitFor(/Tick every item that is done/, WAIT);
    await elif.sendKeys('a', 'Enter');
    // on-call was answered before it opened; qa-go is asked at Elif's terminal; Femi answers it from a script first.
    await elif.waitFor(prompt('QA says go'), WAIT);
    const race = await cli(['answer', 'qa-go', '--as', 'femi', '--yes']);
    expect(race.code, race.stderr).toBe(0);
    expect(race.stdout).toContain('the run takes it now');
    // Elif's question closes; both terminals credit Femi.
    await elif.waitFor(/QA says go \(.*answered by Femi Adeyemi with deployctl answer/, WAIT);
    await host.waitFor(/QA says go \(.*answered by Femi Adeyemi with deployctl answer/, WAIT);
    // A second answer to the answered prompt loses, saying to whom.
    const late = await cli(['answer', 'qa-go', '--as', 'elif', '--no']);
    expect(late.code).toBe(1);
    expect(late.stderr).toContain('qa-go was already answered by Femi Adeyemi: yes; your answer was not used');

    await elif.waitFor(prompt('QA Lead signs off'), WAIT);
    await elif.sendKeys('y', 'Enter');
    expect(await host.exitCode(60_000)).toBe(0);
    expect(await elif.exitCode(30_000)).toBe(0);
    expect(await elif.capture()).toMatch(/run \S+ ended: succeeded/);

    const records = readdirSync(path.join(team.dir, '.deployctl', 'records')).filter((f) => f.endsWith('.json'));
    expect(records).toHaveLength(1);
    const verify = await cli(['record', 'verify', path.join('.deployctl', 'records', records[0]!)]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const lines = verify.stdout.split('\n').map((l) => l.trim());
    expect(lines).toContain('✔ brief: answered by Ana Torres (Deployment Lead, key verified) at the running terminal: yes');
    expect(lines).toContain('✔ qa-ready: answered by Elif Yilmaz (QA Lead, key verified) in deployctl join: 2 ticked');
    expect(lines).toContain('✔ on-call: answered by Femi Adeyemi (QA Lead backup, key verified) with deployctl answer: "Dana"');
    expect(lines).toContain('✔ qa-go: answered by Femi Adeyemi (QA Lead backup, key verified) with deployctl answer: yes');
    expect(verify.stdout).toMatch(/QA Lead \(qa\)\s+signed off by Elif Yilmaz answering signoff-qa/);

    // The refusals are in the journal (and the record); the journal's hash chain holds.
    const show = await cli(['record', 'export', path.join('.deployctl', 'records', records[0]!), '--format', 'json']);
    const exported = JSON.parse(show.stdout) as { answers_refused?: { prompt_id: string; claimed_by: string; reason: string }[] };
    expect(exported.answers_refused).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ prompt_id: 'qa-go', claimed_by: 'femi', reason: expect.stringContaining("its signature does not verify with Femi Adeyemi's key") }),
        expect.objectContaining({ prompt_id: 'qa-go', claimed_by: 'ana', reason: expect.stringContaining('Ana Torres (ana) does not hold role qa') }),
      ]),
    );
    const runId = /run (\S+) ended/.exec(await elif.capture())![1]!;
    const status = await cli(['status', runId]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).not.toContain('does not verify');
  });

  it('without --run, lists the live runs when there are several; refuses join without a terminal', async () => {
    team.write('other.yaml', RUNBOOK.replace('name: joined', 'name: other'));
    const a = await terminal(['run', 'joined.yaml', '--as', 'ana', '--new']);
    const b = await terminal(['run', 'other.yaml', '--as', 'ana', '--new']);
    await a.waitFor(prompt('Brief given'), WAIT);
    await b.waitFor(prompt('Brief given'), WAIT);
    const r = await cli(['answer', 'qa-go', '--as', 'elif', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/2 deployments are running in .*; say which with --run:/);
    expect(r.stderr).toMatch(/ joined \(operator \S+\): deployctl answer qa-go --run \S+/);
    expect(r.stderr).toMatch(/ other \(operator \S+\): deployctl answer qa-go --run \S+/);
    const j = await cli(['join', '--as', 'elif']);
    expect(j.code).toBe(2);
    expect(j.stderr).toContain('deployctl join draws the run and asks its questions at a terminal, and this is none');
    await a.sendKeys('C-c');
    await b.sendKeys('C-c');
    await waitFor('both runs stopped', () => a.hasExited() && b.hasExited(), 30_000);
  });
});
