// `record verify` re-checks separation of duties offline (issue 14): records signed with a real run key whose gate approvals break the runbook's `approvals:` rule (self-approval by the operator, approval by whoever did the excluded step, fewer than min distinct approvers, an approver without the role) are INVALID, naming the gate, the rule and the person; one that keeps it is VALID.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordVerifyCommand } from '../../src/commands/record.js';
import { commandResult } from '../fixtures/records/workspace.js';
import { approvalsRunbook, makeTeamRecordWorld, type AnswerSpec, type TeamRecordWorld } from '../fixtures/records/team-record.js';

let world: TeamRecordWorld;
beforeEach(() => {
  world = makeTeamRecordWorld();
});
afterEach(() => world.remove());

const verify = (file: string) => commandResult(world.ctx(), (ctx) => recordVerifyCommand(file, {}, ctx));
const deployed: AnswerSpec = { prompt: 'deploy-app', by: 'chen', answer: true, role: 'devops', at: 10 };
const approve = (by: AnswerSpec['by'], slot: number, at: number, via: AnswerSpec['via'] = 'answer'): AnswerSpec => ({ prompt: 'go', slot, by, answer: 'approve', role: 'qa', at, via });

describe('record verify: separation of duties of gate approvals', () => {
  it('VALID when two different people holding approving roles approved, neither the operator nor the deployer', () => {
    const file = world.write('kept', { answers: [deployed, { ...approve('elif', 1, 50) }, { ...approve('iris', 2, 60), role: 'product' }] });
    const r = verify(file);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('✔ go: answered by Elif Yilmaz (QA Lead, key verified) with deployctl answer: "approve"');
    expect(r.stdout).toContain('VALID: signed by 1 run key');
  });

  it('INVALID when the operator approved their own deployment (not: [operator])', () => {
    const file = world.write('self', { answers: [deployed, approve('elif', 1, 50), { ...approve('ana', 2, 60), role: 'lead' }] });
    const r = verify(file);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('INVALID: gate go: approval (slot 2) "approve" by Ana Torres (ana) breaks its approvals rule: Ana Torres runs the deployment, so may not approve it (separation of duties: not: [operator])');
  });

  it('INVALID when the approval was signed at the running terminal, even in a record that does not say who ran it', () => {
    // No host_sessions (a record written before them, or a modified deployctl leaving them out); Elif approved at the
    // running terminal, so she ran the deployment.
    const file = world.write('terminal', { hostSessions: false, change: (p) => (p.operator = 'someone'), answers: [deployed, approve('iris', 1, 50), approve('elif', 2, 60, 'terminal')] });
    const r = verify(file);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('gate go: approval (slot 2) "approve" by Elif Yilmaz (elif) breaks its approvals rule: Elif Yilmaz runs the deployment, so may not approve it (separation of duties: not: [operator])');
  });

  it('INVALID when the operator named by an older record (no host_sessions) approved', () => {
    const file = world.write('older', { hostSessions: false, answers: [deployed, approve('elif', 1, 50), { ...approve('ana', 2, 60), role: 'lead' }] });
    const r = verify(file);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Ana Torres runs the deployment, so may not approve it (separation of duties: not: [operator])');
  });

  it('INVALID when whoever answered the excluded deploy step approved (not: [deploy-app])', () => {
    const file = world.write('deployer', { answers: [deployed, approve('elif', 1, 50), { ...approve('chen', 2, 60), role: 'devops' }] });
    const r = verify(file);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('INVALID: gate go: approval (slot 2) "approve" by Chen Wei (chen) breaks its approvals rule: Chen Wei answered step deploy-app, so may not approve it (separation of duties: not: [deploy-app])');
  });

  it('INVALID when GO came with fewer than min approvals', () => {
    const file = world.write('one', { answers: [deployed, approve('elif', 1, 50)] });
    const r = verify(file);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('INVALID: gate go: GO with 1 valid approval (approved by Elif Yilmaz), and its approvals rule needs 2 from different people holding lead, qa, product, devops, none of them operator, deploy-app');
  });

  it('INVALID when one person approved twice to make up min (distinct)', () => {
    const file = world.write('twice', { answers: [deployed, approve('elif', 1, 50), approve('elif', 2, 60)] });
    const r = verify(file);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('INVALID: gate go: approval (slot 2) "approve" by Elif Yilmaz (elif) breaks its approvals rule: Elif Yilmaz has approved already; each approval must come from a different person (distinct)');
    expect(r.stdout).toContain('gate go: GO with 1 valid approval (approved by Elif Yilmaz)');
  });

  it('INVALID when someone without an approving role approved', () => {
    const file = world.write('norole', { answers: [deployed, approve('elif', 1, 50), { ...approve('dave', 2, 60), role: undefined as unknown as string }] });
    const r = verify(file);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('INVALID: gate go: approval (slot 2) "approve" by Dave Stone (dave) breaks its approvals rule: Dave Stone holds none of the approving roles (lead, qa, product, devops), so may not approve');
  });

  it('VALID for a resumed run whose second session asked for its approvals again, as the run does', () => {
    // Elif approved in the first session; the host crashed; the resumed session asked again and took Elif and Iris.
    const file = world.write('resumed', {
      answers: [deployed, approve('elif', 1, 50), approve('elif', 2, 80), { ...approve('iris', 3, 90), role: 'product' }],
      change: (p) => {
        p.host_sessions = [p.host_sessions![0]!, { ...p.host_sessions![0]!, at: '2026-11-26T15:16:10.000Z' }];
        p.resumes = [{ at: '2026-11-26T15:16:10.000Z', by: 'ana' }];
      },
    });
    const r = verify(file);
    expect(r.code, r.stdout).toBe(0);
  });

  it('--json lists each breach among the failures', () => {
    const file = world.write('json', { answers: [deployed, approve('elif', 1, 50), { ...approve('ana', 2, 60), role: 'lead' }] });
    const r = commandResult(world.ctx(), (ctx) => recordVerifyCommand(file, { json: true }, ctx));
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as { verdict: string; failures: string[] };
    expect(json.verdict).toBe('invalid');
    // Ana's approval does not count, so GO came with one.
    expect(json.failures).toEqual([expect.stringContaining('gate go: approval (slot 2) "approve" by Ana Torres (ana) breaks its approvals rule'), expect.stringContaining('gate go: GO with 1 valid approval')]);
  });
});

describe('record verify: not: [<role>] excludes whoever did that role\'s steps', () => {
  it('INVALID when the person who answered the devops step on its behalf approved', () => {
    world.remove();
    world = makeTeamRecordWorld(approvalsRunbook('{ roles: [lead, qa, product], min: 2, distinct: true, not: [devops] }'));
    // Iris answered the DevOps step on Chen's behalf, then approved.
    const file = world.write('on-behalf', { answers: [{ ...deployed, by: 'iris' }, approve('elif', 1, 50), { ...approve('iris', 2, 60), role: 'product' }], change: (p) => (p.answers![0]!.on_behalf_of = 'chen') });
    const r = verify(file);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Iris Moreau answered step deploy-app of role devops, so may not approve (separation of duties: not: [devops])');
  });
});

describe('record verify: approvals it cannot check', () => {
  it('warns that separation of duties was not checked when the runbook has changed since the run', () => {
    const file = world.write('changed', { answers: [deployed, { ...approve('ana', 1, 50), role: 'lead' }] });
    fs.appendFileSync(path.join(world.team.dir, 'approvals.yaml'), '# edited after the run\n');
    const r = verify(file);
    expect(r.stdout).toContain('warning: the approvals of its gates (separation of duties) are not checked: the runbook the record was made from is not at hand at the digest it names (give it with --runbook)');
    expect(r.stdout).not.toContain('breaks its approvals rule');
  });
});
