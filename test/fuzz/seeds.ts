// Seed runbooks for the fuzz tests: the shipped runbooks, the valid fixtures, and small inline ones that each reach a different corner.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

const ROLES = `roles:
  lead: { title: Deployment Lead, primary: Ana, escalates_to: [devops] }
  devops: { title: DevOps, keys: [keys/devops.pub] }
  qa: { title: QA }`;

/** Small runbooks that each reach a different corner: gates, rollback, `if:`, templates, probes, escalation, anchors. */
export const INLINE_SEEDS: Record<string, string> = {
  'inline-minimal.yaml': `version: 1
name: minimal
${ROLES}
phases:
  - id: only
    steps:
      - { id: hello, owner: devops, run: echo hello }
`,
  'inline-gate-rollback.yaml': `version: 1
name: gated
${ROLES}
vars: { version: "1.2.3", replicas: 3, strict: true }
secrets: [DEPLOY_TOKEN]
phases:
  - id: pre
    at: T-20m
    preflight: true
    steps:
      - { id: backup, owner: devops, run: "backup --label \${{ vars.version }}", timeout: 5m, retries: 2, retry_delay: 1s }
      - { id: brief, owner: lead, confirm: Brief given }
      - { id: ready, owner: qa, checklist: [Plan ready, Data ready] }
      - { id: on-call, owner: lead, ask: Who is on call? }
      - { id: optional, owner: qa, run: [check, "--strict=\${{ vars.strict }}"], if: "vars.strict && steps.backup.ok" }
  - id: go
    gate:
      owner: lead
      require:
        backups: steps.backup.ok
        ready: steps.ready.ok
        approved: { confirm: Leadership approved }
      on_no_go: abort
  - id: deploy
    at: T
    steps:
      - id: ship
        owner: devops
        run: "deploy \${{ vars.version }} \${{ answers['on-call'] }}"
        env: { REPLICAS: "\${{ vars.replicas }}" }
        idempotent: true
    rollback:
      - { id: restore, owner: devops, run: restore }
  - id: verify
    gate: { owner: qa, require: { shipped: steps.ship.ok, fine: { confirm: Looks fine } }, on_no_go: rollback }
`,
  'inline-http-notify.yaml': `version: 1
name: probes
title: Probes and messages
target_duration: 20m
${ROLES}
vars: { base_url: "http://127.0.0.1:8787" }
notify:
  status_every: 5m
  channels:
    - { id: log, file: .deployctl/notifications.log }
    - { id: hook, webhook: "\${{ vars.base_url }}/hook", if: "run.status != 'running'" }
escalation:
  - { name: Slow, after: 15m, to: [lead] }
  - { name: Rolled back, on: rollback, to: [lead] }
  - { name: Down, when: "!steps.health.ok", to: [devops] }
success_metrics:
  - { id: p95, title: p95, target: < 500 ms, actual: "steps.health.metrics.p95_ms", ok: "steps.health.ok" }
phases:
  - id: verify
    steps:
      - id: health
        owner: qa
        http:
          url: \${{ vars.base_url }}/api/health
          method: GET
          headers: { Accept: application/json }
          expect: { status: 200, body_contains: ok }
          samples: 5
          concurrency: 2
        metrics: { p95_ms: { max: 500 }, error_rate: { max: 0.001 } }
      - { id: after, owner: qa, run: "echo \${{ steps.health.status }}", if: "steps.health.ok" }
`,
  'inline-anchors.yaml': `version: 1
name: anchors
${ROLES}
phases:
  - id: a
    title: &title First phase
    steps:
      - id: one
        title: *title
        owner: &owner devops
        run: |
          set -e
          echo \${{ run.id }}
      - id: two
        owner: *owner
        confirm: Done
`,
};

function fileSeeds(): Record<string, string> {
  const seeds: Record<string, string> = {};
  const files = ['runbooks/phase65.yaml', 'runbooks/examples/static-site.yaml'];
  const valid = path.join(ROOT, 'test/fixtures/valid');
  if (existsSync(valid)) for (const f of readdirSync(valid).sort()) if (f.endsWith('.yaml')) files.push(`test/fixtures/valid/${f}`);
  for (const f of files) seeds[f] = readFileSync(path.join(ROOT, f), 'utf8');
  return seeds;
}

export const SEEDS: Record<string, string> = { ...fileSeeds(), ...INLINE_SEEDS };
