// The approvals rule the run and `record verify` share (src/team/approvals.ts): who may approve a gate, who may not, and why.
import { describe, expect, it } from 'vitest';
import { parseRunbookText } from '../../src/runbook/load.js';
import { approvalRules } from '../../src/team/approvals.js';

const doc = (not: string) => {
  const parsed = parseRunbookText(
    `version: 1
name: t
people:
  ana: { name: Ana Torres }
  elif: { name: Elif Yilmaz }
  iris: { name: Iris Moreau }
  chen: { name: Chen Wei }
roles:
  lead: { title: Deployment Lead, primary: ana }
  qa: { title: QA Lead, primary: elif }
  product: { title: Product Manager, primary: iris }
  devops: { title: DevOps Engineer, primary: chen, delegate: true }
phases:
  - id: deploy
    steps:
      - { id: ship-it, owner: devops, confirm: Shipped }
      - { id: migrate, owner: devops, run: "true" }
  - id: go
    gate:
      owner: lead
      require: { ok: "true" }
      approvals: { roles: [lead, qa, product], min: 2, not: ${not} }
`,
    't.yaml',
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.doc;
};
const gateOf = (d: ReturnType<typeof doc>) => d.phases[1]!.gate!;

describe('approvalRules', () => {
  it('not: [operator] excludes whoever runs the deployment; distinct excludes who approved already', () => {
    const d = doc('[operator]');
    const rules = approvalRules(d, gateOf(d), 'ana', [], ['elif']);
    expect(rules.allowed).toEqual(['ana', 'elif', 'iris']);
    expect([...rules.excluded.keys()]).toEqual(['ana', 'elif']);
    expect(rules.excluded.get('ana')).toContain('(separation of duties: not: [operator])');
    expect(rules.excluded.get('elif')).toContain('(distinct)');
  });

  it('not: [role] excludes its holders, whoever answered its steps on its behalf, and whoever ran its command steps', () => {
    const d = doc('[devops]');
    // Iris answered the DevOps confirm on Chen's behalf; Ana runs the deployment, so she ran its command step.
    const rules = approvalRules(d, gateOf(d), 'ana', [{ promptId: 'ship-it', person: 'iris' }], []);
    expect(rules.excluded.get('chen')).toBe('Chen Wei holds role devops, so may not approve (separation of duties: not: [devops])');
    expect(rules.excluded.get('iris')).toBe('Iris Moreau answered step ship-it of role devops, so may not approve (separation of duties: not: [devops])');
    expect(rules.excluded.get('ana')).toBe('Ana Torres ran step migrate of role devops, so may not approve (separation of duties: not: [devops])');
    expect(rules.excluded.has('elif')).toBe(false);
  });

  it('not: [step] excludes whoever answered it', () => {
    const d = doc('[ship-it]');
    const rules = approvalRules(d, gateOf(d), 'ana', [{ promptId: 'ship-it', person: 'elif' }], []);
    expect([...rules.excluded.keys()]).toEqual(['elif']);
    expect(rules.excluded.get('elif')).toBe('Elif Yilmaz answered step ship-it, so may not approve it (separation of duties: not: [ship-it])');
  });
});
