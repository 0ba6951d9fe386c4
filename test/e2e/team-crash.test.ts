// A crash of the host with a joiner attached, on both state backends: the host is killed (SIGKILL) while QA's question is open in deployctl join; the joiner stays, the run is resumed, and the answer Elif then gives in the same join is the one the resumed run takes.
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killTree, recordFiles, runCli, spawnCli, waitFor } from '../helpers/cli.js';
import { BIN, prompt, terminalEnv, WAIT } from '../helpers/interactive.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { makeTeam, type TeamDir } from '../helpers/team.js';
import { startTmux, TMUX, type TmuxSession } from '../helpers/tmux.js';

const RUNBOOK = `version: 1
name: crashy
people:
  ana: { name: Ana Torres, keys: [keys/ana.pub] }
  elif: { name: Elif Yilmaz, keys: [keys/elif.pub] }
roles:
  lead: { title: Deployment Lead, primary: ana }
  qa: { title: QA Lead, primary: elif }
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
  ['PostgreSQL', () => createTestDatabase().url],
])('the host crashes with a joiner attached, state in %s', { timeout: 150_000 }, (_name, stateUrl) => {
  let team: TeamDir;
  let state: string | undefined;
  const env = () => team.env({ ...(state !== undefined ? { DEPLOYCTL_STATE: state } : {}), CI: 'true' });
  const cli = (args: string[]) => runCli(args, { cwd: team.dir, env: env(), timeoutMs: 60_000 });

  beforeAll(() => {
    team = makeTeam(['ana', 'elif']);
    team.write('crashy.yaml', RUNBOOK);
    team.write('lead.answers.yaml', 'brief: true\n');
    state = stateUrl();
  });
  afterAll(() => team?.remove());

  it('the resumed run takes the answer given in the join that outlived the crash', async () => {
    const hostArgs = ['run', 'crashy.yaml', '--as', 'ana', '--answers', 'lead.answers.yaml', '--wait', '90s'];
    const host = spawnCli(hostArgs, { cwd: team.dir, env: env() });
    await waitFor('the run is live', async () => (await cli(['status'])).stdout.includes('of crashy'), 30_000, 200);
    const elif = await startTmux({ command: [process.execPath, BIN, 'join', '--as', 'elif'], cwd: team.dir, env: { ...terminalEnv(team.dir), HOME: team.home, ...(state !== undefined ? { DEPLOYCTL_STATE: state } : {}) }, width: 160, height: 30 });
    sessions.push(elif);
    await elif.waitFor(prompt('QA says go'), WAIT);

    killTree(host.pid, 'SIGKILL');
    const killed = await host.result;
    expect(killed.signal ?? killed.code).toBe('SIGKILL');

    const resumed = spawnCli([...hostArgs, '--resume'], { cwd: team.dir, env: env() });
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
