// Approvals on a gate end to end, on both state backends: N signed approvals from different people holding the approving roles; the operator and whoever did the deploy step refused (separation of duties, exit 2, journaled); the approvals' timeout fails closed (NO-GO).
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { readRecord, recordFiles, waitFor } from '../helpers/cli.js';
import { describeTeam, peopleYaml } from '../helpers/team.js';

const runbook = (name: string, timeout: string) => `version: 1
name: ${name}
${peopleYaml(['ana', 'elif', 'iris', 'chen'])}
roles:
  lead: { title: Deployment Lead, primary: ana }
  qa: { title: QA Lead, primary: elif }
  product: { title: Product Manager, primary: iris }
  devops: { title: DevOps Engineer, primary: chen }
phases:
  - id: deploy
    steps:
      - { id: deploy-app, owner: devops, confirm: App deployed }
  - id: go
    gate:
      owner: lead
      require: { deployed: "steps['deploy-app'].ok" }
      approvals: { roles: [lead, qa, product, devops], min: 2, distinct: true, not: [operator, deploy-app], timeout: ${timeout}, on_timeout: no-go }
`;

const FILES = { 'approved.yaml': runbook('approved', '60s'), 'late.yaml': runbook('late', '3s') };

describeTeam('approvals', { people: ['ana', 'elif', 'iris', 'chen'], files: FILES, timeout: 180_000 }, (team) => {
  const { cli } = team;

  it('GO with two distinct approvals; the operator and the deployer may not approve', async () => {
    const host = team.spawn(['run', 'approved.yaml', '--as', 'ana', '--wait', '60s']);
    await waitFor('deploy-app answered by chen', async () => (await cli(['answer', 'deploy-app', '--as', 'chen', '--yes'])).code === 0, 30_000, 200);
    // Self-approval: Ana runs the deployment.
    const self = await cli(['answer', 'go', '--as', 'ana', '--yes']);
    expect(self.code).toBe(2);
    expect(self.stderr).toContain('Ana Torres runs the deployment, so may not approve it (separation of duties: not: [operator]): refused, and logged in run');
    // Chen answered the deploy step.
    const deployer = await cli(['answer', 'go', '--as', 'chen', '--yes']);
    expect(deployer.code).toBe(2);
    expect(deployer.stderr).toContain('Chen Wei answered step deploy-app, so may not approve it (separation of duties: not: [deploy-app])');
    const first = await cli(['answer', 'go', '--as', 'elif', '--yes']);
    expect(first.code, first.stderr).toBe(0);
    await waitFor('the second approval asked', async () => {
      const second = await cli(['answer', 'go', '--as', 'iris', '--yes']);
      return second.code === 0;
    }, 30_000, 300);
    const done = await host.result;
    expect(done.code, done.stderr).toBe(0);

    const record = recordFiles(team.dir).filter((f) => path.basename(f).startsWith('approved-')).at(-1)!;
    const verify = await cli(['record', 'verify', record]);
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.stdout).toContain('✔ go: answered by Elif Yilmaz (QA Lead, key verified) with deployctl answer: "approve"');
    expect(verify.stdout).toMatch(/✔ go \(slot \d\): answered by Iris Moreau \(Product Manager, key verified\) with deployctl answer: "approve"/);
    const predicate = readRecord(record).statement.predicate as { answers_refused: { prompt_id: string; claimed_by: string; reason: string }[]; phases: { id: string; gate?: { decision: string } }[]; host_sessions: { operator: string; person?: string }[] };
    // Who ran the deployment, which record verify checks the approvals against (separation of duties).
    expect(predicate.host_sessions).toEqual([expect.objectContaining({ operator: 'ana', person: 'ana' })]);
    expect(predicate.phases.find((p) => p.id === 'go')?.gate?.decision).toBe('go');
    expect(predicate.answers_refused).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ prompt_id: 'go', claimed_by: 'ana', reason: expect.stringContaining('runs the deployment, so may not approve it') }),
        expect.objectContaining({ prompt_id: 'go', claimed_by: 'chen', reason: expect.stringContaining('answered step deploy-app') }),
      ]),
    );
  });

  it('NO-GO when the approvals do not come within their timeout', async () => {
    const host = team.spawn(['run', 'late.yaml', '--as', 'ana', '--wait', '60s']);
    await waitFor('deploy-app answered by chen', async () => (await cli(['answer', 'deploy-app', '--as', 'chen', '--yes'])).code === 0, 30_000, 200);
    await waitFor('one approval', async () => (await cli(['answer', 'go', '--as', 'elif', '--yes'])).code === 0, 30_000, 200);
    const done = await host.result;
    expect(done.code).toBe(3);
    expect(done.stdout + done.stderr).toContain('1 of 2 approvals of go within 3s (approved by Elif Yilmaz): on_timeout no-go');
  });
});
