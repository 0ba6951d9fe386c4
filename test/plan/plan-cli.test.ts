// End to end: `deployctl plan` through the built bin, on the shipped runbooks and a small fixture, in every format.
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PHASE65 = 'runbooks/phase65.yaml';
const STATIC_SITE = 'runbooks/examples/static-site.yaml';
const SMALL = 'test/fixtures/plan/small.yaml';
const INVALID = 'test/fixtures/plan/invalid.yaml';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/deployctl.js plan …` from the repository root; `npm test` builds dist first. */
function plan(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/deployctl.js', 'plan', ...args], { cwd: ROOT, timeout: 20_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function planOk(args: string[]): Promise<string> {
  const result = await plan(args);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

interface JsonPlan {
  role: string | null;
  roles: { id: string; title: string }[];
  phases: { id: string; title: string; steps: { id: string; owner: string }[]; rollback: { owner: string }[]; gate: { owner: string; formula: string } | null }[];
}

const PHASE65_TITLES = [
  'Team assembled',
  'Pre-flight checks',
  'Go/No-Go decision',
  'Deployment',
  'Post-deployment verification',
  'Go-live',
  'Hour 1-4: active monitoring',
  'Hour 4-24: standard monitoring',
  'Sign-off & close',
];
// earlier_steps_ok: the pre-flight steps' failures are the go/no-go's to decide (on_failure: gate, issue 13).
const PHASE65_FORMULA = 'GO = earlier_steps_ok AND trained AND systems_healthy AND backups_ready AND communication_ready AND leadership_approved AND risk_acceptable';
const PHASE65_ROLES = ['Deployment Lead', 'DevOps Engineer', 'QA Lead', 'On-Call Engineer', 'Product Manager', 'Tech Lead', 'CTO'];

describe('deployctl plan runbooks/phase65.yaml', () => {
  it('prints a text plan with the timeline, every phase, the steps with owners and the GO formula', async () => {
    const out = await planOk([PHASE65]);
    expect(out).toContain('Phase 6.5 Production Deployment');
    expect(out).toContain('target duration 20m');
    for (const title of PHASE65_TITLES) expect(out).toContain(title);
    expect(out).toMatch(/^ {2}T-30m +Team assembled/m);
    expect(out).toMatch(/^ {2}— +Go\/No-Go decision/m);
    expect(out).toMatch(/\[QA Lead · Elif Yilmaz\] +qa-day1 +checklist +Day-1 readiness: QA — Test plan prepared, Test environment ready/);
    expect(out).toContain("'./demo/demo.js' deploy '6.5.0'");
    expect(out).toContain('GET http://127.0.0.1:8787/api/health ×20 (concurrency 4)');
    expect(out).toContain('p95_ms <= 500');
    expect(out).toContain(PHASE65_FORMULA);
    expect(out).toContain('on NO-GO: abort');
    expect(out).toContain('on NO-GO: rollback');
    expect(out).toContain('rollback-release');
    expect(out).toContain('webhook (from template)');
    expect(out).not.toMatch(/\x1b\[/);
  });

  it('prints a Markdown plan shaped like the team document', async () => {
    const out = await planOk([PHASE65, '--format', 'markdown']);
    expect(out.startsWith('# Phase 6.5 Production Deployment')).toBe(true);
    expect(out).toContain('| Role | Primary | Backup | Escalates to |');
    expect(out).toMatch(/^\| Deployment Lead \| Ana Torres \| Ben Okafor \| Tech Lead \|/m);
    expect(out).toMatch(/^\| QA Lead \| Elif Yilmaz \| Femi Adeyemi \| Deployment Lead \|/m);
    expect(out).toContain('| When | Phase | Owner roles |');
    for (const title of PHASE65_TITLES) expect(out).toContain(title);
    expect(out).toContain('- [ ] Test plan prepared');
    expect(out).toContain("- [ ] Deploy the release: `'./demo/demo.js' deploy '6.5.0'`");
    expect(out).toContain(`\`\`\`\n${PHASE65_FORMULA}\n\`\`\``);
    expect(out).toContain('| Metric | Target | Actual |');
    expect(out).toContain('| Deployment Time | < 20 min | ___ |');
    expect(out).toContain('| Situation | Trigger | Escalate to |');
    expect(out).toMatch(/^\| Rollback needed \| on rollback \| Deployment Lead \|/m);
    expect(out).toContain('## Communication plan');
    expect(out).toContain('**Status update**: every 5m');
    expect(out).toContain('## Rollback procedure');
    expect(out).toContain('| Role | Name | Date | Signature |');
    for (const role of PHASE65_ROLES) expect(out).toContain(`| ${role} |  |  |  |`);
    // CEL's `||` must not split a table row.
    expect(out).toContain("steps['verify-chat'].status == 'failed' \\|\\| ");
  });

  it('prints the plan as one JSON document with every phase, role and gate', async () => {
    const out = await planOk([PHASE65, '--format', 'json']);
    const doc = JSON.parse(out) as JsonPlan;
    expect(doc.role).toBeNull();
    expect(doc.roles.map((r) => r.title)).toEqual(PHASE65_ROLES);
    expect(doc.phases.map((p) => p.title)).toEqual(PHASE65_TITLES);
    expect(doc.phases.find((p) => p.id === 'go-no-go')?.gate?.formula).toBe(PHASE65_FORMULA);
    expect(out).not.toContain('SLACK_WEBHOOK_URL }}');
  });

  it('takes the backup in the run, before the go/no-go decision, and only checks in pre-flight that one can be taken', async () => {
    const doc = JSON.parse(await planOk([PHASE65, '--format', 'json'])) as JsonPlan;
    const stepIds = (id: string) => doc.phases.find((p) => p.id === id)?.steps.map((s) => s.id) ?? [];
    // `deployctl preflight` runs the pre-flight phase on every CI check: a real backup there would be taken every time.
    expect(stepIds('preflight')).toContain('backup-check');
    expect(stepIds('preflight')).not.toContain('backup');
    expect(stepIds('go-no-go')).toEqual(['backup']);
    const text = await planOk([PHASE65]);
    expect(text).toContain("'./demo/demo.js' backup --check");
    expect(text).toMatch(/backups_ready +steps\['backup-check'\]\.ok && steps\.backup\.ok/);
  });

  it.each(['text', 'markdown', 'json'])('with --role qa shows QA’s steps and nothing owned by DevOps (%s)', async (format) => {
    const out = await planOk([PHASE65, '--role', 'qa', '--format', format]);
    // Markdown names steps by title, text and JSON by id too.
    const qaOwned = format === 'markdown' ? ['Pre-deploy smoke: health', 'Chat under load'] : ['pf-health', 'verify-chat'];
    for (const marker of [...qaOwned, 'Test plan prepared', 'QA Lead signs off']) expect(out).toContain(marker);
    for (const devopsOwned of ["'./demo/demo.js' deploy", 'Order data integrity', 'Backups verified', 'DevOps Engineer signs off', 'rollback-release']) {
      expect(out).not.toContain(devopsOwned);
    }
    if (format === 'json') {
      const doc = JSON.parse(out) as JsonPlan;
      expect(doc.role).toBe('qa');
      expect(doc.roles.map((r) => r.id)).toEqual(['qa']);
      const owners = doc.phases.flatMap((p) => [...p.steps, ...p.rollback, ...(p.gate ? [p.gate] : [])].map((s) => s.owner));
      expect(new Set(owners)).toEqual(new Set(['qa']));
      expect(doc.phases.map((p) => p.id)).not.toContain('go-no-go');
    }
    if (format === 'markdown') {
      expect(out).toContain('| QA Lead | Elif Yilmaz | Femi Adeyemi | Deployment Lead |');
      expect(out).not.toContain('| Deployment Lead | Ana Torres');
      expect(out).toContain('| QA Lead |  |  |  |');
      expect(out).not.toContain('| DevOps Engineer |  |  |  |');
      expect(out).toContain('#### QA Lead (Elif Yilmaz)');
      expect(out).not.toContain('#### DevOps Engineer');
    }
  });
});

describe('deployctl plan runbooks/examples/static-site.yaml', () => {
  it.each(['text', 'markdown', 'json'])('prints every phase and the gate (%s)', async (format) => {
    const out = await planOk([STATIC_SITE, '--format', format]);
    for (const title of ['Build', 'Publish', 'Announce']) expect(out).toContain(title);
    expect(out).toContain('GO = earlier_steps_ok AND release_live AND home_page_fast AND looks_right');
    expect(out).toContain('2025.11.0');
    if (format === 'json') expect(() => JSON.parse(out) as unknown).not.toThrow();
    if (format === 'markdown') {
      expect(out).toContain('| Release Manager | Noor Haddad | Omar Silva | — |');
      expect(out).toContain('| Metric | Target | Actual |');
      expect(out).toContain('| Home page p95 | < 200 ms | ___ |');
      expect(out).toContain('| Reviewer |  |  |  |');
    }
  });

  it('with --role web keeps the web engineer’s rollback step and drops the reviewer’s probes', async () => {
    const out = await planOk([STATIC_SITE, '--role', 'web']);
    expect(out).toContain('restore');
    expect(out).toContain('upload');
    expect(out).not.toContain('probe-home');
    expect(out).not.toContain('Gate publish');
  });
});

describe('deployctl plan on a small fixture', () => {
  it('prints the text plan', async () => {
    expect(await planOk([SMALL])).toMatchSnapshot();
  });

  it('prints the Markdown plan', async () => {
    expect(await planOk([SMALL, '--format', 'markdown'])).toMatchSnapshot();
  });

  it('escapes `|` in Markdown table cells', async () => {
    const out = await planOk([SMALL, '--format', 'markdown']);
    expect(out).toContain('| Bounce rate | < 1% \\| ideally 0 | ___ |');
  });

  it('never colours output that goes to a pipe', async () => {
    expect(await planOk([SMALL])).not.toMatch(/\x1b\[/);
  });
});

describe('deployctl plan refusing', () => {
  it('an invalid runbook: exit 2, one path:line:col line per problem on stderr, nothing on stdout', async () => {
    const result = await plan([INVALID]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^test\/fixtures\/plan\/invalid\.yaml:12:16: owner 'qaa' is not a declared role/m);
    expect(result.stderr).not.toMatch(/^ {4}at /m);
  });

  it('a missing file: exit 2 with the path', async () => {
    const result = await plan(['test/fixtures/plan/nope.yaml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('test/fixtures/plan/nope.yaml:1:1: no such file');
    expect(result.stderr).not.toMatch(/^ {4}at /m);
  });

  it.each(['text', 'markdown', 'json'])('an unknown role: exit 2 naming the roles, with a did-you-mean (%s)', async (format) => {
    const result = await plan([PHASE65, '--role', 'qaa', '--format', format]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain("did you mean 'qa'?");
    expect(result.stderr).toContain('lead (Deployment Lead)');
    expect(result.stderr).toContain('on-call (On-Call Engineer)');
    expect(result.stderr).not.toMatch(/^ {4}at /m);
  });

  it('an unknown format: exit 2', async () => {
    const result = await plan([SMALL, '--format', 'html']);
    expect(result.code).toBe(2);
    expect(result.stderr).not.toMatch(/^ {4}at /m);
  });
});
