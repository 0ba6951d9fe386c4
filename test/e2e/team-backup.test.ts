// backup_after end to end on both state backends: a prompt is offered to the role's primary alone, then (after backup_after, through the clock port) to the backup too, who is notified and asked in deployctl join, and whose answer counts.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readJournal, recordFiles, runCli, spawnCli, waitFor } from '../helpers/cli.js';
import { BIN, prompt, terminalEnv, WAIT } from '../helpers/interactive.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { makeTeam, type TeamDir } from '../helpers/team.js';
import { startTmux, TMUX, type TmuxSession } from '../helpers/tmux.js';

const RUNBOOK = `version: 1
name: backed
people:
  ana: { name: Ana Torres, keys: [keys/ana.pub] }
  elif: { name: Elif Yilmaz, keys: [keys/elif.pub] }
  femi: { name: Femi Adeyemi, keys: [keys/femi.pub], contact: "@femi" }
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

let sessions: TmuxSession[] = [];
beforeAll(() => {
  if (!existsSync(TMUX)) throw new Error(`these tests need tmux at ${TMUX} (apt-get install tmux)`);
});
afterEach(async () => {
  await Promise.all(sessions.map((s) => s.kill()));
  sessions = [];
});

describe.each([
  ['the local directory', () => undefined],
  ['PostgreSQL', () => createTestDatabase()],
])('backup_after, state in %s', { timeout: 120_000 }, (_name, database) => {
  let team: TeamDir;
  let db: TestDatabase | undefined;
  const stateEnv = () => (db !== undefined ? { DEPLOYCTL_STATE: db.url } : {});
  const cli = (args: string[]) => runCli(args, { cwd: team.dir, env: team.env({ ...stateEnv(), CI: 'true' }), timeoutMs: 60_000 });
  /** The run's journal events, from wherever the state is. */
  const events = (runId: string): Record<string, any>[] =>
    db === undefined
      ? readJournal(team.dir, runId)
      : db
          .psql(`SELECT line FROM deployctl.events WHERE run_id = '${runId}' ORDER BY seq`)
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as Record<string, any>);

  beforeAll(() => {
    team = makeTeam(['ana', 'elif', 'femi']);
    team.write('backed.yaml', RUNBOOK);
    team.write('lead.answers.yaml', 'brief: true\n');
    db = database();
  });
  afterAll(() => team?.remove());

  it('offers the prompt to the backup after backup_after, notifies them, asks them in join, and takes their answer', async () => {
    const host = spawnCli(['run', 'backed.yaml', '--as', 'ana', '--answers', 'lead.answers.yaml', '--wait', '60s'], { cwd: team.dir, env: team.env({ ...stateEnv(), CI: 'true' }) });
    await waitFor('the run is live', async () => (await cli(['status'])).stdout.includes('of backed'), 30_000, 200);
    const femi = await startTmux({ command: [process.execPath, BIN, 'join', '--as', 'femi'], cwd: team.dir, env: { ...terminalEnv(team.dir), HOME: team.home, ...stateEnv() }, width: 160, height: 30 });
    sessions.push(femi);
    await femi.waitFor(prompt('QA says go'), WAIT);
    await femi.sendKeys('y', 'Enter');
    const done = await host.result;
    expect(done.code, done.stderr).toBe(0);

    const record = recordFiles(team.dir).at(-1)!;
    const journal = events(/(\d{8}T\d{6,9}Z-[0-9a-f]{6})\.json$/.exec(record)![1]!);
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
