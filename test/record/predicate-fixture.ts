// A realistic, complete record predicate (every optional field somewhere) for schema and statement tests.
import type { RecordPredicate, RecordStep } from '../../src/record/types.js';

const RUNBOOK_SHA = 'a3f1c2d4e5b6a7980112233445566778899aabbccddeeff00112233445566778';

const backup: RecordStep = {
  id: 'backup',
  title: 'Back up the database',
  kind: 'run',
  owner: 'devops',
  actor: { role: 'devops', person: 'Dana', operator: 'ana' },
  status: 'succeeded',
  attempts: 2,
  started_at: '2026-11-26T15:15:00.000Z',
  ended_at: '2026-11-26T15:15:04.250Z',
  duration_ms: 4250,
  command: "./demo/demo.js backup --label 'pre-6.5'",
  exit_code: 0,
  signal: null,
  timed_out: false,
  stdout: { text: 'backup written: backups/2026-11-26.sql\n', truncated_bytes: 0 },
  stderr: { text: '', truncated_bytes: 0 },
};

const health: RecordStep = {
  id: 'health',
  title: 'GET /api/health',
  kind: 'http',
  owner: 'qa',
  status: 'failed',
  reason: 'p95 612 ms > max 500 ms',
  failures: ['p95 612 ms > max 500 ms', 'error_rate 0.05 > max 0.001'],
  attempts: 1,
  started_at: '2026-11-26T15:15:05.000Z',
  ended_at: '2026-11-26T15:15:06.500Z',
  duration_ms: 1500.25,
  command: 'GET http://127.0.0.1:8787/api/health',
  metrics: {
    samples: 20,
    errors: 1,
    error_rate: 0.05,
    success_rate: 0.95,
    p50_ms: 120.5,
    p95_ms: 612,
    p99_ms: 700,
    max_ms: 702.1,
    mean_ms: 180.4,
    statuses: { '200': 19, timeout: 1 },
  },
};

export function fullPredicate(): RecordPredicate {
  return {
    schema_version: 1,
    run_id: '20261126T151500Z-3f9a1c',
    runbook: { name: 'phase65', title: 'Phase 6.5 Production Deployment', path: 'runbooks/phase65.yaml', sha256: RUNBOOK_SHA },
    tool: { name: 'deployctl', version: '0.1.0' },
    operator: 'ana',
    host: 'deploy-box-1',
    started_at: '2026-11-26T15:15:00.000Z',
    ended_at: '2026-11-26T15:31:10.000+01:00',
    duration_ms: 970000,
    target_duration_ms: 1200000,
    status: 'rolled-back',
    exit_code: 4,
    reason: 'step ship failed: exit code 1',
    dry_run: false,
    vars: { base_url: 'http://127.0.0.1:8787', version: '6.5.0', samples: 20, strict: true },
    resumes: [{ at: '2026-11-26T15:20:00Z', by: 'ben' }],
    phases: [
      {
        id: 'preflight',
        title: 'Pre-Flight Checks',
        at: 'T-20m',
        status: 'failed',
        started_at: '2026-11-26T15:15:00.000Z',
        ended_at: '2026-11-26T15:18:00.000Z',
        steps: [
          backup,
          health,
          {
            id: 'qa-ready',
            title: 'QA readiness',
            kind: 'checklist',
            owner: 'qa',
            actor: { role: 'qa', person: 'Carol', operator: 'ana', answered_by: 'ana', on_behalf_of: 'Carol' },
            status: 'succeeded',
            attempts: 1,
            answer: ['Test plan prepared', 'Test environment ready'],
            answered_from: 'answers-file',
          },
          { id: 'briefing', title: 'Deployment lead gives the brief', kind: 'confirm', owner: 'lead', status: 'succeeded', attempts: 1, answer: true, answered_from: 'prompt' },
          { id: 'on-call', title: 'Who is on call?', kind: 'ask', owner: 'lead', status: 'succeeded', attempts: 1, answer: 'Dana', resumed_from: '20261126T150000Z-000001' },
          { id: 'smoke', title: 'Smoke test', kind: 'run', owner: 'qa', status: 'interrupted', attempts: 1, exit_code: null, signal: 'SIGTERM', timed_out: true },
          { id: 'optional', title: 'Optional check', kind: 'run', owner: 'qa', status: 'skipped', reason: 'if: vars.strict was false', attempts: 0 },
        ],
      },
      {
        id: 'go-no-go',
        title: 'Go / No-Go',
        status: 'succeeded',
        steps: [],
        gate: {
          id: 'go-no-go',
          owner: 'lead',
          conditions: [
            { name: 'systems_healthy', kind: 'expression', text: 'steps.health.ok', value: false, ok: false },
            {
              name: 'backups_ready',
              kind: 'expression',
              text: 'steps.backup.ok && steps.backup.exit_code == 0',
              value: true,
              ok: true,
              evidence: { operator: '&&', operands: [{ text: 'steps.backup.ok', value: true }, { text: 'steps.backup.exit_code == 0', value: null, error: 'no such key' }] },
            },
            { name: 'metrics', kind: 'expression', text: 'steps.health.metrics', value: { p95_ms: 612, statuses: { '200': 19 }, tags: ['a', null] }, ok: false, error: 'not a boolean' },
            { name: 'leadership_approved', kind: 'confirm', text: 'Leadership approved', value: true, ok: true },
          ],
          decision: 'go',
          decided_by: { role: 'lead', person: 'Ana', operator: 'ana', answered_by: 'ana', on_behalf_of: 'Ana' },
          decided_at: '2026-11-26T15:19:00.000Z',
          answered_from: 'prompt',
          note: 'health flake accepted by the lead',
          reason: 'payment provider freeze',
        },
      },
      {
        id: 'deploy',
        title: 'Deploy',
        at: 'T-10m',
        status: 'failed',
        steps: [{ id: 'ship', title: 'Ship 6.5.0', kind: 'run', owner: 'devops', status: 'failed', attempts: 1, exit_code: 1, reason: 'exit code 1' }],
        finally: [{ id: 'unfreeze', title: 'Unfreeze', kind: 'run', owner: 'devops', status: 'succeeded', attempts: 1, exit_code: 0 }],
      },
      { id: 'verify', title: 'Verification', at: 'T+10m', status: 'not-run', steps: [{ id: 'chat', title: 'Chat works', kind: 'http', owner: 'qa', status: 'not-run', attempts: 0 }] },
    ],
    rollback: {
      reason: 'step ship failed',
      started_at: '2026-11-26T15:30:00.000Z',
      ended_at: '2026-11-26T15:31:00.000Z',
      status: 'succeeded',
      steps: [{ id: 'restore', title: 'Restore 6.4', kind: 'run', owner: 'devops', status: 'succeeded', attempts: 1, exit_code: 0 }],
    },
    success_metrics: [
      { id: 'deploy-time', title: 'Deployment time', target: '< 20 min', actual: 16.2, ok: true, unit: 'min' },
      { id: 'error-rate', title: 'Error rate', target: '< 0.1%', actual: null, ok: null, error: 'steps.verify was not run' },
    ],
    escalations: [
      {
        rule: 'Rollback needed',
        reason: 'rollback started: step ship failed',
        to: [{ role: 'lead', title: 'Deployment Lead', person: 'Ana' }],
        at: '2026-11-26T15:30:00.000Z',
        step_id: 'ship',
      },
    ],
    notifications: [
      { channel: 'deployment', kind: 'status', at: '2026-11-26T15:20:00.000Z', delivered: true, attempts: 1 },
      { channel: 'log', kind: 'all-clear', at: '2026-11-26T15:31:00.000Z', delivered: false, attempts: 3, error: 'HTTP 500' },
    ],
    roles: {
      lead: { title: 'Deployment Lead', primary: 'Ana', backup: 'Ben' },
      devops: { title: 'DevOps Engineer' },
      qa: { title: 'QA Lead' },
    },
  };
}

export const FIXTURE_SUBJECT = { name: 'runbooks/phase65.yaml', digest: { sha256: RUNBOOK_SHA } };
