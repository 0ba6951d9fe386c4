// `deployctl record …` end to end on real records: phase65 run against the demo target, checked by openssl alone and by the built CLI; tampering, sign-offs, unreadable files.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cliEnv, freePort, killAllClis, recordFiles, runCli, stackTraceLines, type CliResult } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../fixtures/records/workspace.js';
import { signEnvelope } from '../../src/record/dsse.js';
import { STATEMENT_PAYLOAD_TYPE } from '../../src/record/statement.js';

const RUNBOOKS = fileURLToPath(new URL('../../runbooks', import.meta.url));
const RUNBOOK = 'runbooks/phase65.yaml';
const ANSWERS = 'runbooks/phase65.answers.yaml';

let dir = '';
let demoEnv: Record<string, string> = {};
/** The records of a successful run and of a rolled-back run, relative to `dir`. */
let succeeded = '';
let rolledBack = '';

function demoCli(...args: string[]) {
  return spawnSync(process.execPath, [path.join(dir, 'runbooks/demo/demo.js'), ...args], { env: cliEnv(demoEnv), encoding: 'utf8', timeout: 20_000 });
}

function cli(args: string[], cwd = dir): Promise<CliResult> {
  return runCli(args, { cwd, env: {}, timeoutMs: 30_000 });
}

function expectClean(result: CliResult): void {
  expect(stackTraceLines(result.stdout)).toEqual([]);
  expect(stackTraceLines(result.stderr)).toEqual([]);
}

/** DSSE PAE built here from the spec (not with deployctl's code): `DSSEv1 <len> <type> <len> <payload>`. */
function paeOf(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

beforeAll(async () => {
  assertBuilt();
  dir = mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-record-'));
  cpSync(RUNBOOKS, path.join(dir, 'runbooks'), { recursive: true, filter: (src) => !src.includes(`${path.sep}.state`) });
  const port = await freePort();
  demoEnv = { DEMO_PORT: String(port), DEMO_STATE_DIR: path.join(dir, 'demo-state'), DEMO_FAST: '1' };
  const base = ['run', RUNBOOK, '--answers', ANSWERS, '--var', `base_url=http://127.0.0.1:${port}`];
  // The whole day, rehearsed (its watches at 3600x: 23 s); the failing release rolls back in real time before them.
  const ok = await runCli([...base, '--time-scale', '3600'], { cwd: dir, env: demoEnv, timeoutMs: 90_000 });
  expect(ok.code, ok.stderr).toBe(0);
  demoCli('stop');
  const bad = await runCli([...base, '--var', 'version=6.5.0-errors'], { cwd: dir, env: demoEnv, timeoutMs: 90_000 });
  expect(bad.code, bad.stderr).toBe(4);
  demoCli('stop');
  const files = recordFiles(dir).map((f) => path.relative(dir, f));
  expect(files).toHaveLength(2);
  [succeeded, rolledBack] = files as [string, string];
}, 180_000);

afterAll(async () => {
  await killAllClis();
  if (dir !== '') {
    demoCli('stop');
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('a phase65 record checked with openssl alone', () => {
  it('verifies: the PAE rebuilt from the envelope, the signature, the public key, `openssl pkeyutl -verify -pubin -rawin`', () => {
    const envelope = JSON.parse(readFileSync(path.join(dir, succeeded), 'utf8')) as { payloadType: string; payload: string; signatures: { sig: string }[] };
    const paeFile = path.join(dir, 'pae.bin');
    const sigFile = path.join(dir, 'sig.bin');
    writeFileSync(paeFile, paeOf(envelope.payloadType, Buffer.from(envelope.payload, 'base64')));
    writeFileSync(sigFile, Buffer.from(envelope.signatures[0]!.sig, 'base64'));
    const pub = path.join(dir, '.deployctl', 'keys', 'deployctl.pub');
    const verified = spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', paeFile, '-sigfile', sigFile], { encoding: 'utf8' });
    expect(`${verified.stdout}${verified.stderr}`).toContain('Signature Verified Successfully');
    expect(verified.status).toBe(0);
    // One changed byte of the payload and openssl says no.
    const pae = readFileSync(paeFile);
    pae[pae.length - 10] = pae[pae.length - 10]! ^ 1;
    writeFileSync(paeFile, pae);
    expect(spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', paeFile, '-sigfile', sigFile]).status).not.toBe(0);
  });
});

describe('deployctl record on phase65 records', () => {
  it('verify: exit 0, the signature, the runbook digest, the sign-off table, VALID', async () => {
    const r = await cli(['record', 'verify', succeeded]);
    expect(r.code, r.stderr).toBe(0);
    expectClean(r);
    expect(r.stdout).toMatch(/signature #1 keyid sha256:[0-9a-f]{64}: valid, key \.deployctl\/keys\/deployctl\.pub/);
    expect(r.stdout).toContain('runbook runbooks/phase65.yaml: sha256 matches');
    for (const role of ['Deployment Lead (lead)', 'DevOps Engineer (devops)', 'QA Lead (qa)', 'On-Call Engineer (on-call)', 'Product Manager (product)', 'Tech Lead (tech-lead)', 'CTO (cto)']) {
      expect(r.stdout).toContain(role);
    }
    expect(r.stdout.trimEnd()).toMatch(/\nVALID: signed by 1 run key; run \S+ of phase65, succeeded$/);
  });

  it('verify --json', async () => {
    const r = await cli(['record', 'verify', succeeded, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: 'valid', runbook: { path: RUNBOOK, state: 'matches' }, run: { runbook: 'phase65', status: 'succeeded' } });
  });

  it('record (no subcommand) shows the newest record, VERIFIED, with phases, steps, gates, metrics, rollback and sign-offs', async () => {
    const r = await cli(['record']);
    expect(r.code, r.stderr).toBe(0);
    expectClean(r);
    expect(r.stdout.split('\n')[0]).toBe(`✔ VERIFIED record ${rolledBack}`);
    expect(r.stdout).toContain('status    ROLLED BACK (exit 4)');
    expect(r.stdout).toMatch(/duration {2}[^;\n]+; deployment [^(\n]+ from deploy to verification \(target 20m, within\)/);
    expect(r.stdout).toMatch(/ {6}planned T-20m → T-10m, actual T-\S+ → T-\S+\n/);
    expect(r.stdout).toMatch(/✔ T-20m {2}Pre-flight checks \(preflight\): succeeded/);
    // Credited to the operator who answered, on behalf of the role holder (issue 11), not to the holder.
    expect(r.stdout).toMatch(/gate go-no-go: GO by \S+ on behalf of Deployment Lead · Ana Torres .*from the answers file/);
    expect(r.stdout).toMatch(/✔ systems_healthy = true {3}steps\['target-status'\]\.ok/);
    expect(r.stdout).toMatch(/Success metrics\n {2}. Deployment Time\s+target < 20 min, actual \S+ min/);
    // phase65 asks the Deployment Lead to authorize a rollback: without a terminal or an answer, the default at once.
    expect(r.stdout).toMatch(/Rollback\n {2}rollback authorized by the default: no terminal to ask on and no 'rollback:' answer in the answers file: the default \(rollback\), at once \(asked \S+, decided \S+, default after 5m: rollback\)\n {2}✔ succeeded: /);
    // The failed verification probes went on to the verification gate (on_failure: gate, issue 13): its NO-GO is
    // escalated (on: no-go) before the rollback is (on: rollback).
    const escalations = r.stdout.slice(r.stdout.indexOf('\nEscalations\n'), r.stdout.indexOf('\nNotifications\n'));
    expect(escalations).toMatch(/\n {2}\S+ {2}Release held back \(NO-GO\) → Product Manager \(Iris Moreau\), CTO \(Lena Fischer\): gate 'verification' decided NO-GO[^\n]*\n {2}\S+ {2}Rollback needed → Deployment Lead \(Ana Torres\)/);
    expect(r.stdout).toMatch(/✖ verify-chat {2}Chat .*\n(.*\n)* {10}on_failure: gate: left to gate verification, which decided/);
    expect(r.stdout).toContain('\nSign-offs\n');
  });

  it('show RECORD: the successful run', async () => {
    const r = await cli(['record', 'show', succeeded]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('status    SUCCEEDED (exit 0)');
    expect(r.stdout).toContain('Rollback\n  not needed');
    // A rehearsal says so, and shows each window: its tally, every request, the strip of ticks.
    expect(r.stdout).toContain(' · runbook phase65 · REHEARSAL\n');
    expect(r.stdout).toMatch(/rehearsal REHEARSAL at 3600× \(run --time-scale\)/);
    expect(r.stdout).toContain('window every 15m for 3h: 12/12 ticks, 12 passed; uptime 100%');
    expect(r.stdout).toMatch(/health \(http\): 12 passed; 480 requests, 0 failed \(0%\), worst tick p95 \S+ ms/);
    expect(r.stdout).toContain('ticks   1: ✔✔✔✔✔✔✔✔✔✔✔✔\n');
    expect(r.stdout).toContain('window every 1h for 20h: 20/20 ticks, 20 passed; uptime 100%');
    // The canary gate reads Prometheus; without vars.prometheus_url its if: skips it, and the record says so.
    expect(r.stdout).toContain("↓ gate canary: SKIPPED (if: vars.prometheus_url != '' was false)");
    expect(r.stdout).not.toContain('NOT DECIDED');
  });

  it('export --format markdown: the team record with the metrics table filled in and the sign-off table', async () => {
    const r = await cli(['record', 'export', succeeded, '--format', 'markdown']);
    expect(r.code, r.stderr).toBe(0);
    expectClean(r);
    const md = r.stdout;
    expect(md.startsWith('# Rehearsal record: Phase 6.5 Production Deployment (AI chat assistant)\n')).toBe(true);
    expect(md).toContain('### canary: ↓ SKIPPED');
    expect(md).not.toContain('NOT DECIDED');
    expect(md).toContain('> **REHEARSAL at 3600× (run --time-scale)');
    expect(md).toContain('| When | Phase | Status | Planned start | Planned end | Started | Ended | Duration | Overrun |');
    expect(md).toContain('**Status**: ✔ **SUCCEEDED** (exit 0)');
    // phase65's error rate, p95 and uptime say where they come from (probes here: no vars.prometheus_url).
    expect(md).toContain('| Metric | Target | Actual | Source | ✔/✖ |');
    for (const [metric, target, source] of [
      ['Deployment Time', '< 20 min', '—'],
      ['Error Rate', '< 0.1%', 'probes: every request of the monitoring windows h1-watch and h4-watch (at least 1000)'],
      ['Response Time p95', '< 500 ms', 'probes: worst of the verification probes and the worst tick of each monitoring window'],
      ['Uptime', '> 99.9%', 'probes: every health check of the monitoring windows h1-watch and h4-watch (at least 1000)'],
      ['Chat Functionality', '100%', '—'],
      ['User Issues (1hr)', '0', '—'],
    ]) {
      // The source cell starts so (Markdown escapes the `*` of `verify-*`).
      const re = (text: string) => text.replace(/[()*.]/g, '\\$&');
      expect(md).toMatch(new RegExp(`\\| ${re(metric!)} \\| ${re(target!)} \\| [0-9][^|]* \\| ${re(source!)}[^|]* \\| ✔ \\|`));
    }
    expect(md).not.toContain('___');
    expect(md).toContain('| Role | Name | Date | Signature |');
    expect(md).toContain('| Deployment Lead |  |  |  |');
    expect(md).toContain('| CTO |  |  |  |');
    expect(md).toMatch(/## Go\/No-Go\n\n### go-no-go: ✔ GO\n/);
    // earlier_steps_ok first: the pre-flight steps' failures are the go/no-go's to decide (on_failure: gate, issue 13).
    expect(md).toContain('GO = earlier_steps_ok AND trained AND systems_healthy AND backups_ready AND communication_ready AND leadership_approved AND risk_acceptable');
    expect(md).toMatch(/- ✔ \*\*earlier_steps_ok\*\* = `true`: no step left to this gate failed \(target-status, backup-check, pf-health, .*, backup\) _\(implicit: on_failure: gate\)_/);
  });

  it('export --format json: the decoded predicate', async () => {
    const r = await cli(['record', 'export', rolledBack, '--format', 'json']);
    expect(r.code).toBe(0);
    const predicate = JSON.parse(r.stdout) as { status: string; rollback: { status: string } };
    expect(predicate.status).toBe('rolled-back');
    expect(predicate.rollback.status).toBe('succeeded');
  });

  it('list: both records, newest first, valid', async () => {
    const r = await cli(['record', 'list']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(new RegExp(`^${rolledBack.replace(/\./g, '\\.')}\\s+phase65\\s+rolled-back\\s+\\S+\\s+valid$`));
    expect(lines[2]).toMatch(new RegExp(`^${succeeded.replace(/\./g, '\\.')}\\s+phase65\\s+succeeded \\(REHEARSAL 3600×\\)\\s+\\S+\\s+valid$`));
  });

  it('sign: a role without keys in phase65 is signed as "unverified identity", then shows in export', async () => {
    const copy = 'signed.json';
    cpSync(path.join(dir, succeeded), path.join(dir, copy));
    expect((await cli(['keygen', '--out', 'keys', '--name', 'qa'])).code).toBe(0);
    const r = await cli(['record', 'sign', copy, '--role', 'qa', '--key', 'keys/qa.key', '--operator', 'Elif Yilmaz']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('shows as "unverified identity"');
    const again = await cli(['record', 'sign', copy, '--role', 'qa', '--key', 'keys/qa.key', '--operator', 'Elif Yilmaz']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing changed');
    const md = (await cli(['record', 'export', copy, '--format', 'markdown'])).stdout;
    expect(md).toMatch(/\| QA Lead \| Elif Yilmaz \| \S+ \| sha256:[0-9a-f]{12} \(unverified identity\) \|/);
    const typo = await cli(['record', 'sign', copy, '--role', 'tech_lead', '--key', 'keys/qa.key']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("did you mean 'tech-lead'?");
    expectClean(typo);
  });
});

describe('tampered phase65 records through the CLI: exit 1, saying what failed', () => {
  const tamper = (name: string, change: (e: { payloadType: string; payload: string; signatures: { sig: string }[] }) => void) => {
    const envelope = JSON.parse(readFileSync(path.join(dir, succeeded), 'utf8')) as { payloadType: string; payload: string; signatures: { sig: string }[] };
    change(envelope);
    writeFileSync(path.join(dir, name), JSON.stringify(envelope, null, 2));
    return name;
  };
  const flip = (b64: string, at: number) => {
    const bytes = Buffer.from(b64, 'base64');
    const i = at < 0 ? bytes.length + at : at;
    bytes[i] = bytes[i]! ^ 0xff;
    return bytes.toString('base64');
  };

  it.each([
    ['a payload byte at the start', (e: { payload: string }) => (e.payload = flip(e.payload, 0))],
    ['a payload byte in the middle', (e: { payload: string }) => (e.payload = flip(e.payload, Math.floor(Buffer.from(e.payload, 'base64').length / 2)))],
    ['the last payload byte', (e: { payload: string }) => (e.payload = flip(e.payload, -1))],
    ['a payloadType byte', (e: { payloadType: string }) => (e.payloadType = e.payloadType.replace('in-toto', 'in-totO'))],
    ['a signature byte', (e: { signatures: { sig: string }[] }) => (e.signatures[0]!.sig = flip(e.signatures[0]!.sig, 7))],
    [
      'status succeeded→failed, re-encoded',
      (e: { payload: string }) => {
        const statement = JSON.parse(Buffer.from(e.payload, 'base64').toString('utf8')) as { predicate: { status: string } };
        statement.predicate.status = 'failed';
        e.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
      },
    ],
  ])('%s', async (_name, change) => {
    const file = tamper(`tampered-${Math.random().toString(36).slice(2)}.json`, change as never);
    const r = await cli(['record', 'verify', file]);
    expect(r.code).toBe(1);
    expectClean(r);
    expect(r.stdout).toMatch(/\nINVALID: .+/);
    expect(r.stdout).toMatch(/signature #1 keyid sha256:[0-9a-f]{64}: INVALID: its keyid names a trusted key, but it does not verify with it/);
    const shown = await cli(['record', 'show', file]);
    expect(shown.code).toBe(1);
    expect(shown.stdout).toContain('!!! UNVERIFIED RECORD');
    expect((await cli(['record', 'export', file, '--format', 'json'])).code).toBe(1);
  });
});

describe('unreadable record files through the CLI: exit 2, a message, no stack trace', () => {
  it.each([
    ['missing', (_f: string) => undefined, /no such file/],
    ['empty', (f: string) => writeFileSync(f, ''), /is empty/],
    ['truncated', (f: string) => writeFileSync(f, readFileSync(path.join(dir, succeeded), 'utf8').slice(0, 500)), /is not JSON \(it ends too early: truncated\?\)/],
    ['not JSON', (f: string) => writeFileSync(f, '\u0000\u0001binary garbage'), /is not JSON/],
    ['not an envelope', (f: string) => writeFileSync(f, '{"payloadType": 1}'), /is not a DSSE envelope/],
    [
      'huge (20 MiB)',
      (f: string) => {
        writeFileSync(f, '{"payload": "');
        truncateSync(f, 20 * 1024 * 1024);
      },
      /is 20971520 bytes, more than the 16 MiB a record may be/,
    ],
  ])('%s', async (name, make, message) => {
    const file = `unreadable-${name.replace(/\W+/g, '-')}.json`;
    make(path.join(dir, file));
    for (const args of [
      ['record', 'verify', file],
      ['record', 'show', file],
      ['record', 'export', file, '--format', 'markdown'],
      ['record', 'sign', file, '--role', 'qa', '--key', 'x.key'],
    ]) {
      const r = await cli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expectClean(r);
    }
  });
});

describe('sign-offs with listed keys through the CLI', () => {
  let ws: Workspace;
  beforeAll(() => {
    ws = makeWorkspace();
  });
  afterAll(() => ws.cleanup());

  it('signs with a listed key, refuses an unlisted one, and verify/show/export count the sign-off', async () => {
    const ok = await cli(['record', 'sign', ws.record, '--role', 'lead', '--key', ws.keys.lead.key, '--operator', 'Ana'], ws.dir);
    expect(ok.code, ok.stderr).toBe(0);
    const refused = await cli(['record', 'sign', ws.record, '--role', 'qa', '--key', ws.keys.lead.key], ws.dir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/is not a key the runbook lists for role qa \(QA Lead\); it lists: keys\/qa\.pub/);
    expectClean(refused);
    const verified = await cli(['record', 'verify', ws.record], ws.dir);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/✔ Deployment Lead \(lead\)\s+signed by Ana/);
    const md = (await cli(['record', 'export', ws.record, '--format', 'markdown'], ws.dir)).stdout;
    expect(md).toMatch(/\| Deployment Lead \| Ana \| \S+ \| ✔ sha256:[0-9a-f]{12} \|/);
  });

  it('a record changed and re-signed with only a role key is not valid: verify exits 1, list says INVALID, show is not VERIFIED', async () => {
    // What someone holding only the QA Lead's key can do: decode a real record, make the failed run a success, re-sign.
    const real = ws.readEnvelope();
    const statement = JSON.parse(Buffer.from(real.payload, 'base64').toString('utf8')) as { predicate: Record<string, unknown> };
    Object.assign(statement.predicate, { status: 'succeeded', exit_code: 0, operator: 'mallory' });
    const forged = signEnvelope(STATEMENT_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), ws.keys.qa.privateKey, { role: 'qa', signer: 'mallory' });
    const file = path.join('.deployctl', 'records', 'small-20261127T000000Z-forged.json');
    writeFileSync(path.join(ws.dir, file), JSON.stringify(forged, null, 2));
    const verified = await cli(['record', 'verify', file], ws.dir);
    expect(verified.code, verified.stdout).toBe(1);
    expectClean(verified);
    expect(verified.stdout.trimEnd().split('\n').at(-1)).toMatch(/^INVALID: no signature verifies with a run key \(1 tried\); signature #1 verifies only with role qa's key/);
    const listed = await cli(['record', 'list'], ws.dir);
    expect(listed.stdout).toMatch(new RegExp(`^${file.replace(/[.\\/]/g, '\\$&')}\\s+small\\s+succeeded\\s+\\S+\\s+INVALID`, 'm'));
    const shown = await cli(['record', 'show', file], ws.dir);
    expect(shown.code).toBe(1);
    expect(shown.stdout).not.toContain('VERIFIED record');
    expect(shown.stdout).toContain('!!! UNVERIFIED RECORD');
  });
});

describe('a record of `deployctl run /absolute/path.yaml`', () => {
  let abs = '';
  let record = '';
  let home = '';
  beforeAll(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'deployctl-e2e-abs-'));
    writeFileSync(
      path.join(home, 'abs.yaml'),
      'version: 1\nname: abs\nroles:\n  ops: { title: Operator, keys: [keys/ops.pub] }\nphases:\n  - id: only\n    steps:\n      - { id: hello, owner: ops, run: "true" }\n',
    );
    expect((await cli(['keygen', '--out', 'keys', '--name', 'ops'], home)).code).toBe(0);
    abs = path.join(home, 'abs.yaml');
    const ran = await cli(['run', abs], home);
    expect(ran.code, ran.stderr).toBe(0);
    record = path.relative(home, recordFiles(home)[0]!);
  }, 60_000);
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('verify, export and sign say the absolute path is not followed, and why, and name --runbook; with it, all three check the runbook', async () => {
    const verified = await cli(['record', 'verify', record], home);
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).not.toContain('not found');
    expect(verified.stdout).toContain(`runbook ${abs}: not checked: the record names it by an absolute path, and deployctl follows only a relative path inside this directory from a record`);
    expect(verified.stdout).toContain(`give --runbook ${abs}`);
    const exported = await cli(['record', 'export', record, '--format', 'markdown'], home);
    expect(exported.stdout).toContain(`give --runbook ${abs}`);
    const refused = await cli(['record', 'sign', record, '--role', 'ops', '--key', 'keys/ops.key'], home);
    expect(refused.code).toBe(2);
    expectClean(refused);
    expect(refused.stderr).not.toContain('not found');
    expect(refused.stderr).toContain(`the record names its runbook by an absolute path (${abs})`);
    expect(refused.stderr).toContain(`--runbook ${abs}`);

    expect((await cli(['record', 'verify', record, '--runbook', abs], home)).stdout).toContain(`runbook ${abs}: sha256 matches`);
    expect((await cli(['record', 'export', record, '--format', 'markdown', '--runbook', abs], home)).stdout).toContain('sha256 matches');
    const signed = await cli(['record', 'sign', record, '--role', 'ops', '--key', 'keys/ops.key', '--operator', 'Olu', '--runbook', abs], home);
    expect(signed.code, signed.stderr).toBe(0);
    expect((await cli(['record', 'verify', record, '--runbook', abs], home)).stdout).toMatch(/Operator \(ops\)\s+signed by Olu/);
  });
});
