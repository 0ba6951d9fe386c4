// The plan model: timeline, roles, steps and what they would run, gates, escalation, notify; and narrowing it to one role.
import { describe, it, expect } from 'vitest';
import { filterPlanByRole, findRole } from '../../src/plan/filter.js';
import { buildPlan, type Plan, type PlanStep } from '../../src/plan/model.js';
import { stepTitle } from '../../src/plan/step.js';
import { resolveVarTemplates, usesRunTimeValues } from '../../src/plan/resolve.js';
import { parseRunbookText } from '../../src/runbook/load.js';
import type { StepDoc } from '../../src/runbook/types.js';

const RUNBOOK = `
version: 1
name: shop
title: Shop release
target_duration: 20m
roles:
  lead: { title: Deployment Lead, primary: Ana, backup: Ben, escalates_to: [cto], keys: [keys/lead.pub] }
  devops: { title: DevOps Engineer, primary: Dev, escalates_to: [lead] }
  qa: { title: QA Lead, primary: Carol, escalates_to: [lead] }
  cto: { title: CTO }
vars:
  base_url: http://127.0.0.1:8787
  version: 6.5.0 rc
  script: ./deploy.sh
secrets: [VERCEL_TOKEN, SLACK_WEBHOOK_URL]
notify:
  status_every: 5m
  channels:
    - { id: deployment, webhook: "\${{ env.SLACK_WEBHOOK_URL }}", if: "has(env.SLACK_WEBHOOK_URL)" }
    - { id: plain-hook, webhook: "https://hooks.example.test/T000/SECRET" }
    - { id: log, file: .deployctl/notifications.log }
escalation:
  - { name: Issue taking > 15 min, after: 15m, to: [lead] }
  - { name: Rollback needed, on: rollback, to: [lead, cto], severity: high, action: Authorize rollback }
  - { name: System down, when: "!steps.health.ok", to: [cto] }
success_metrics:
  - { id: time, title: Deployment Time, target: < 20 min }
  - { id: p95, title: Response Time p95, target: < 500 ms, unit: ms }
phases:
  - id: preflight
    title: Pre-Flight Checks
    at: T-20m
    preflight: true
    steps:
      - { id: backup, owner: devops, run: "\${{ vars.script }} backup --tag \${{ vars.version }}", timeout: 5m, retries: 2, retry_delay: 5s }
      - id: health
        owner: qa
        http:
          url: "\${{ vars.base_url }}/api/health"
          expect: { status: 200, body_contains: ok }
          samples: 20
          concurrency: 5
        metrics: { p95_ms: { max: 500 }, success_rate: { min: 1 } }
      - { id: qa-ready, owner: qa, checklist: [Test plan prepared, Test environment ready, Test data available] }
      - { id: briefing, owner: lead, confirm: Deployment lead gives the brief }
      - { id: on-call, owner: lead, ask: Who is on call? }
  - id: go-no-go
    gate:
      owner: lead
      require:
        systems_healthy: steps.health.ok
        backups_ready: steps.backup.ok
        qa_ready: "steps['qa-ready'].ok"
        leadership_approved: { confirm: Leadership approved }
  - id: deploy
    title: Deployment
    at: T-1h30m
    steps:
      - { id: ship, owner: devops, run: ["node", "deploy.js", "\${{ vars.version }}", "\${{ answers['on-call'] }}"], idempotent: true }
      - { id: notify-token, owner: devops, run: "curl -H \\"x: $VERCEL_TOKEN\\" \${{ vars.base_url }}", if: "steps.ship.ok" }
    gate:
      id: verified
      title: Verified?
      owner: qa
      require: { works: steps.ship.ok }
      on_no_go: rollback
    rollback:
      - { id: restore, owner: devops, run: node rollback.js }
      - { id: restore-check, owner: qa, confirm: Site restored }
  - id: after
    at: T+90m
    steps:
      - { id: celebrate, owner: lead, confirm: Team thanked }
`;

function plan(text = RUNBOOK): Plan {
  const parsed = parseRunbookText(text, 'inline.yaml');
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => `${p.line}:${p.col} ${p.message}`).join('\n'));
  return buildPlan(parsed.doc);
}

function step(p: Plan, id: string): PlanStep {
  const found = p.phases.flatMap((ph) => [...ph.steps, ...ph.rollback]).find((s) => s.id === id);
  if (found === undefined) throw new Error(`no step ${id}`);
  return found;
}

describe('the plan model', () => {
  it('keeps the header facts of the runbook', () => {
    const p = plan();
    expect(p).toMatchObject({ name: 'shop', title: 'Shop release', target_duration: '20m', role: null, description: null });
  });

  it('lists the timeline in runbook order with normalised offsets, and a dash where a phase has no `at`', () => {
    const p = plan();
    expect(p.timeline.map((t) => [t.phase, t.at, t.offset_ms])).toEqual([
      ['preflight', 'T-20m', -1_200_000],
      ['go-no-go', '—', null],
      ['deploy', 'T-1h30m', -5_400_000],
      ['after', 'T+1h30m', 5_400_000],
    ]);
  });

  it('names the roles acting in each phase, in the order the runbook declares roles', () => {
    const p = plan();
    expect(p.timeline.find((t) => t.phase === 'deploy')?.owners.map((o) => o.id)).toEqual(['devops', 'qa']);
    expect(p.timeline.find((t) => t.phase === 'go-no-go')?.owners).toEqual([{ id: 'lead', title: 'Deployment Lead' }]);
  });

  it('resolves escalates_to to role titles and keeps the people and keys', () => {
    const lead = plan().roles[0];
    expect(lead).toEqual({
      id: 'lead',
      title: 'Deployment Lead',
      primary: 'Ana',
      backup: 'Ben',
      contact: null,
      escalates_to: [{ id: 'cto', title: 'CTO' }],
      keys: ['keys/lead.pub'],
    });
  });

  it('gives each step its owner title, the person, its kind and its policy', () => {
    expect(step(plan(), 'backup')).toMatchObject({
      owner: 'devops',
      owner_title: 'DevOps Engineer',
      person: 'Dev',
      kind: 'run',
      timeout: '5m',
      retries: 2,
      retry_delay: '5s',
      idempotent: false,
      if: null,
    });
    expect(step(plan(), 'notify-token').if).toBe('steps.ship.ok');
    expect(step(plan(), 'ship').idempotent).toBe(true);
  });

  it('fills vars into a shell command as single quoted words, exactly as it would run', () => {
    // Every template value is quoted, even a plain path (issue 12: a bare FOO=bar would be an assignment).
    expect(step(plan(), 'backup').action).toEqual({ kind: 'run', shell: true, command: "'./deploy.sh' backup --tag '6.5.0 rc'", argv: null });
  });

  it('fills vars into an argv list and leaves templates that need a run (answers, steps) as written', () => {
    expect(step(plan(), 'ship').action).toEqual({
      kind: 'run',
      shell: false,
      command: "node deploy.js '6.5.0 rc' ${{ answers['on-call'] }}",
      argv: ['node', 'deploy.js', '6.5.0 rc', "${{ answers['on-call'] }}"],
    });
  });

  it('never expands environment variables or secrets in a command', () => {
    const action = step(plan(), 'notify-token').action;
    expect(action.kind === 'run' && action.command).toBe(`curl -H "x: $VERCEL_TOKEN" 'http://127.0.0.1:8787'`);
  });

  it('describes an http probe: method, resolved url, samples, concurrency, expectations and thresholds', () => {
    const health = step(plan(), 'health');
    expect(health.action).toEqual({
      kind: 'http',
      method: 'GET',
      url: 'http://127.0.0.1:8787/api/health',
      headers: {},
      body: null,
      samples: 20,
      concurrency: 5,
      timeout: null,
      interval: null,
      expect: { status: [200], body_contains: 'ok' },
    });
    expect(health.metrics.map((m) => m.text)).toEqual(['p95_ms <= 500', 'success_rate >= 1']);
  });

  it('keeps checklist items, confirm and ask texts', () => {
    const p = plan();
    expect(step(p, 'qa-ready').action).toEqual({ kind: 'checklist', items: ['Test plan prepared', 'Test environment ready', 'Test data available'] });
    expect(step(p, 'briefing').action).toEqual({ kind: 'confirm', text: 'Deployment lead gives the brief' });
    expect(step(p, 'on-call').action).toEqual({ kind: 'ask', text: 'Who is on call?' });
  });

  it('builds each gate with its conditions, the GO formula and what NO-GO does (abort unless set)', () => {
    const p = plan();
    const gate = p.phases.find((ph) => ph.id === 'go-no-go')?.gate;
    expect(gate).toMatchObject({ id: 'go-no-go', title: 'go-no-go', owner: 'lead', owner_title: 'Deployment Lead', person: 'Ana', on_no_go: 'abort' });
    // The pre-flight steps' failures are the go/no-go's (on_failure: gate by default): earlier_steps_ok lists them.
    expect(gate?.formula).toBe('GO = earlier_steps_ok AND systems_healthy AND backups_ready AND qa_ready AND leadership_approved');
    expect(gate?.conditions).toEqual([
      { name: 'earlier_steps_ok', kind: 'implicit', steps: ['backup', 'health', 'qa-ready', 'briefing', 'on-call'] },
      { name: 'systems_healthy', kind: 'cel', expression: 'steps.health.ok' },
      { name: 'backups_ready', kind: 'cel', expression: 'steps.backup.ok' },
      { name: 'qa_ready', kind: 'cel', expression: "steps['qa-ready'].ok" },
      { name: 'leadership_approved', kind: 'confirm', text: 'Leadership approved' },
    ]);
    expect(p.phases.find((ph) => ph.id === 'deploy')?.gate).toMatchObject({ id: 'verified', title: 'Verified?', on_no_go: 'rollback', formula: 'GO = earlier_steps_ok AND works' });
  });

  it("gives each phase step what its failure leads to: the gate ahead in preflight and gated phases, else rollback; none for rollback steps", () => {
    const p = plan();
    const policies = p.phases.flatMap((ph) => ph.steps.map((s) => [s.id, s.on_failure?.policy, s.on_failure?.gate, s.on_failure?.default]));
    expect(policies).toEqual([
      ['backup', 'gate', 'go-no-go', true],
      ['health', 'gate', 'go-no-go', true],
      ['qa-ready', 'gate', 'go-no-go', true],
      ['briefing', 'gate', 'go-no-go', true],
      ['on-call', 'gate', 'go-no-go', true],
      ['ship', 'gate', 'verified', true],
      ['notify-token', 'gate', 'verified', true],
      ['celebrate', 'rollback', null, true],
    ]);
    expect(p.phases.flatMap((ph) => ph.rollback.map((s) => s.on_failure))).toEqual([null, null]);
    const custom = plan(RUNBOOK.replace('{ id: celebrate, owner: lead, confirm: Team thanked }', '{ id: celebrate, owner: lead, confirm: Team thanked, on_failure: continue }'));
    expect(custom.phases.at(-1)?.steps[0]?.on_failure).toEqual({ policy: 'continue', declared: 'continue', default: false, gate: null });
    expect(custom.rollback).toBeNull();
    const authorized = plan(RUNBOOK.replace('phases:\n', 'rollback: { authorize: lead, timeout: 2m }\nphases:\n'));
    expect(authorized.rollback).toEqual({ authorize: { id: 'lead', title: 'Deployment Lead' }, timeout: '2m', default: 'rollback' });
  });

  it('keeps rollback steps with their phase', () => {
    expect(plan().phases.find((ph) => ph.id === 'deploy')?.rollback.map((s) => [s.id, s.owner])).toEqual([
      ['restore', 'devops'],
      ['restore-check', 'qa'],
    ]);
  });

  it('describes escalation triggers and resolves their targets to titles', () => {
    expect(plan().escalation.map((r) => [r.name, r.trigger, r.to.map((t) => t.title)])).toEqual([
      ['Issue taking > 15 min', 'after 15m', ['Deployment Lead']],
      ['Rollback needed', 'on rollback', ['Deployment Lead', 'CTO']],
      ['System down', 'when !steps.health.ok', ['CTO']],
    ]);
  });

  it('shows webhooks without their URL, files with their path, and secrets by name only', () => {
    const p = plan();
    expect(p.notify).toEqual({
      status_every: '5m',
      channels: [
        { id: 'deployment', kind: 'webhook', target: 'webhook (from template)', if: 'has(env.SLACK_WEBHOOK_URL)' },
        { id: 'plain-hook', kind: 'webhook', target: 'webhook', if: null },
        { id: 'log', kind: 'file', target: '.deployctl/notifications.log', if: null },
      ],
    });
    expect(JSON.stringify(p)).not.toContain('hooks.example.test');
    expect(p.secrets).toEqual(['VERCEL_TOKEN', 'SLACK_WEBHOOK_URL']);
  });

  it('lists the success metrics with their targets', () => {
    expect(plan().success_metrics).toEqual([
      { id: 'time', title: 'Deployment Time', target: '< 20 min', unit: null },
      { id: 'p95', title: 'Response Time p95', target: '< 500 ms', unit: 'ms' },
    ]);
  });

  it('serialises with a stable key order', () => {
    expect(Object.keys(plan())).toEqual(['name', 'title', 'description', 'target_duration', 'role', 'roles', 'timeline', 'phases', 'success_metrics', 'escalation', 'notify', 'secrets', 'rollback']);
    expect(JSON.stringify(plan())).toBe(JSON.stringify(plan()));
  });
});

describe('a step title', () => {
  const base = { id: 'the-id', owner: 'qa' };
  it.each<[string, StepDoc, string]>([
    ['the title when given', { ...base, title: 'Given', confirm: 'Text' }, 'Given'],
    ['the confirm text', { ...base, confirm: 'Backups verified' }, 'Backups verified'],
    ['the ask text', { ...base, ask: 'Who is on call?' }, 'Who is on call?'],
    ['a one-item checklist', { ...base, checklist: ['Test plan prepared'] }, 'Test plan prepared'],
    ['the first words of a longer checklist', { ...base, checklist: ['Test plan prepared', 'More'] }, 'Test plan prepared …'],
    ['at most six words of the first item', { ...base, checklist: ['one two three four five six seven'] }, 'one two three four five six …'],
    ['the id for a command', { ...base, run: 'true' }, 'the-id'],
  ])('is %s', (_what, doc, title) => {
    expect(stepTitle(doc)).toBe(title);
  });
});

describe('resolving templates before the run', () => {
  const vars = { version: '1.0 beta', url: 'http://x', n: 3 };
  it.each<[string, 'text' | 'shell', string]>([
    ['deploy ${{ vars.version }}', 'shell', "deploy '1.0 beta'"],
    ['deploy ${{ vars.version }}', 'text', 'deploy 1.0 beta'],
    ['${{ vars.url }}/health', 'text', 'http://x/health'],
    ['n=${{ vars.n }}', 'text', 'n=3'],
    ['${{ vars.n + 1 }}', 'text', '${{ vars.n + 1 }}'],
    ['${{ vars.url + "steps" }}', 'text', 'http://xsteps'],
    ['${{ steps.build.stdout }}', 'shell', '${{ steps.build.stdout }}'],
    ["${{ answers['on-call'] }}", 'text', "${{ answers['on-call'] }}"],
    ['${{ env.TOKEN }}', 'text', '${{ env.TOKEN }}'],
    ['${{ has(env.TOKEN) }}', 'text', '${{ has(env.TOKEN) }}'],
    ["${{ 'x' in answers }}", 'text', "${{ 'x' in answers }}"],
    ['${{ run.operator }}', 'text', '${{ run.operator }}'],
    ['${{ vars.missing }}', 'text', '${{ vars.missing }}'],
    ['a ${{ vars.version }} b ${{ steps.x.ok }}', 'shell', "a '1.0 beta' b ${{ steps.x.ok }}"],
    ['no templates', 'shell', 'no templates'],
  ])('%s (%s) → %s', (text, mode, expected) => {
    expect(resolveVarTemplates(text, vars, mode)).toBe(expected);
  });

  it.each<[string, boolean]>([
    ['vars.a', false],
    ['vars.run', false],
    ['"steps"', false],
    ['steps.a.ok', true],
    ['env', true],
    ["size(answers) > 0", true],
  ])('%s uses run-time values: %s', (source, expected) => {
    expect(usesRunTimeValues(source)).toBe(expected);
  });
});

describe('narrowing the plan to one role', () => {
  it('keeps only that role’s steps, gates and rollback steps, and drops phases where it owns nothing', () => {
    const qa = filterPlanByRole(plan(), 'qa');
    expect(qa.role).toBe('qa');
    expect(qa.roles.map((r) => r.id)).toEqual(['qa']);
    expect(qa.phases.map((p) => p.id)).toEqual(['preflight', 'deploy']);
    const steps = qa.phases.flatMap((p) => [...p.steps, ...p.rollback]);
    expect(steps.map((s) => s.id)).toEqual(['health', 'qa-ready', 'restore-check']);
    expect(steps.every((s) => s.owner === 'qa')).toBe(true);
    expect(qa.phases.find((p) => p.id === 'deploy')?.gate?.id).toBe('verified');
    expect(qa.timeline.map((t) => [t.phase, t.owners.map((o) => o.id)])).toEqual([
      ['preflight', ['qa']],
      ['deploy', ['qa']],
    ]);
  });

  it('keeps a phase where the role only owns the gate', () => {
    const lead = filterPlanByRole(plan(), 'lead');
    expect(lead.phases.map((p) => p.id)).toEqual(['preflight', 'go-no-go', 'after']);
    expect(lead.phases[1]?.gate?.owner).toBe('lead');
  });

  it('leaves a role that owns nothing with no phases', () => {
    expect(filterPlanByRole(plan(), 'cto').phases).toEqual([]);
  });

  it.each<[string, string | undefined]>([
    ['qa', 'qa'],
    ['QA', 'qa'],
    ['qa lead', 'qa'],
    ['DevOps Engineer', 'devops'],
    ['qaa', undefined],
  ])('finds the role meant by %s', (wanted, id) => {
    expect(findRole(plan(), wanted)).toBe(id);
  });
});
