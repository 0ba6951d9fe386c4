// A team run without a terminal, on both state backends: without --wait it fails closed at once and prints the deployctl answer commands; with --wait it takes other people's answers given meanwhile (N people answering N prompts at once: none lost, none twice), and fails closed when nobody answers in time.
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { readRecord, recordFiles, waitFor } from '../helpers/cli.js';
import { describeTeam, peopleYaml } from '../helpers/team.js';

const PEOPLE = Array.from({ length: 10 }, (_, i) => `p${i + 1}`);

/** One role and one confirm step per person: each prompt has exactly one person who may answer it. */
function manyRunbook(): string {
  return [
    'version: 1',
    'name: many',
    peopleYaml([...PEOPLE, 'ana']),
    'roles:',
    '  lead: { title: Deployment Lead, primary: ana }',
    ...PEOPLE.map((p) => `  r-${p}: { title: Role ${p}, primary: ${p} }`),
    'phases:',
    '  - id: p',
    '    steps:',
    ...PEOPLE.map((p) => `      - { id: ok-${p}, owner: r-${p}, confirm: ${p} is ready }`),
    '',
  ].join('\n');
}

const SMALL = `version: 1
name: small
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
`;

const FILES = { 'small.yaml': SMALL, 'many.yaml': manyRunbook(), 'lead.answers.yaml': 'brief: true\n' };

describeTeam('a team run without a terminal', { people: ['ana', 'elif', 'femi', ...PEOPLE], files: FILES, timeout: 180_000 }, (team) => {
  const { cli } = team;

  it('without --wait fails closed at once, runs nothing, and prints the deployctl answer commands other people would give', async () => {
    const r = await cli(['run', 'small.yaml', '--as', 'ana', '--answers', 'lead.answers.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('lead.answers.yaml does not answer 2 step(s) and gate(s) this run needs; nothing was run');
    expect(r.stderr).toContain('or, for the 2 that other people answer, run with --wait DURATION (e.g. --wait 30m) and have them answer while it waits:');
    const lines = r.stderr.split('\n').map((l) => l.trim());
    expect(lines).toContain('deployctl answer qa-ready --as elif --yes   # or --as femi');
    expect(lines).toContain('deployctl answer on-call --as elif --value "…"   # or --as femi');
    // The lead's own prompt is not one of them: without --answers it is listed for the answers file only.
    const own = await cli(['run', 'small.yaml', '--as', 'ana', '--wait', '5s']);
    expect(own.code).toBe(2);
    expect(own.stderr).toContain("need a person's answer: give them with --answers FILE");
    expect(own.stderr).toMatch(/^brief: true/m);
    expect(own.stderr).not.toContain('deployctl answer');
  });

  it('with --wait takes the answers given meanwhile, and fails closed when nobody answers in time', async () => {
    const host = team.spawn(['run', 'small.yaml', '--as', 'ana', '--answers', 'lead.answers.yaml', '--wait', '60s']);
    // The run is live once an answer finds it (before then: no deployment is running).
    await waitFor('qa-ready answered by elif', async () => (await cli(['answer', 'qa-ready', '--as', 'elif', '--yes'])).code === 0, 30_000, 200);
    const call = await cli(['answer', 'on-call', '--as', 'femi', '--value', 'Dana']);
    expect(call.code, call.stderr).toBe(0);
    const done = await host.result;
    expect(done.code, done.stderr).toBe(0);
    const newest = recordFiles(team.dir).filter((f) => path.basename(f).startsWith('small-')).at(-1)!;
    const verify = await cli(['record', 'verify', newest]);
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.stdout).toContain('✔ qa-ready: answered by Elif Yilmaz (QA Lead, key verified) with deployctl answer: 2 ticked');
    expect(verify.stdout).toContain('✔ on-call: answered by Femi Adeyemi (QA Lead backup, key verified) with deployctl answer: "Dana"');

    // Nobody answers: after --wait the step fails closed, saying how each could have answered.
    const alone = await cli(['run', 'small.yaml', '--as', 'ana', '--answers', 'lead.answers.yaml', '--wait', '1s']);
    expect(alone.code).toBe(1);
    expect(alone.stdout + alone.stderr).toMatch(/no answer from Elif Yilmaz or Femi Adeyemi \(QA Lead\) within the --wait; answer with: deployctl answer qa-ready --run \S+ --as elif --yes {2}or {2}deployctl answer qa-ready --run \S+ --as femi --yes/);
  });

  it(`${PEOPLE.length} people answering ${PEOPLE.length} prompts at once: none lost, none answered twice, each signed`, async () => {
    const host = team.spawn(['run', 'many.yaml', '--as', 'ana', '--wait', '120s'], 150_000);
    await waitFor('the run is live', async () => (await cli(['status'])).stdout.includes('of many'), 30_000, 200);
    const answers = await Promise.all(PEOPLE.map((p) => cli(['answer', `ok-${p}`, '--as', p, '--yes'])));
    for (const a of answers) expect(a.code, a.stderr).toBe(0);
    // A second answer to each loses.
    const again = await cli(['answer', 'ok-p1', '--as', 'p1', '--no']);
    expect(again.code).toBe(1);
    const done = await host.result;
    expect(done.code, done.stderr).toBe(0);
    const newest = recordFiles(team.dir).filter((f) => path.basename(f).startsWith('many-')).at(-1)!;
    const { statement } = readRecord(newest);
    const recorded = (statement.predicate as { answers: { prompt_id: string; person: string; via: string; signature?: unknown }[] }).answers;
    expect(recorded.map((a) => a.prompt_id).sort()).toEqual(PEOPLE.map((p) => `ok-${p}`).sort());
    expect(recorded.every((a) => a.person === a.prompt_id.slice(3) && a.via === 'answer' && a.signature !== undefined)).toBe(true);
    const verify = await cli(['record', 'verify', newest]);
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.stdout.split('\n').filter((l) => /✔ ok-p\d+: answered by Person p\d+ \(Role p\d+, key verified\) with deployctl answer: yes/.test(l))).toHaveLength(PEOPLE.length);
  });
});
