// A record that names its runbook by an absolute path (or one outside the directory): not followed, and every command says why and names --runbook.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordExportCommand, recordShowCommand, recordSignCommand, recordVerifyCommand } from '../../src/commands/record.js';
import { signEnvelope } from '../../src/record/dsse.js';
import { STATEMENT_PAYLOAD_TYPE } from '../../src/record/statement.js';
import { commandResult, makeWorkspace, smallPredicate, statementBytes, type Workspace } from '../fixtures/records/workspace.js';

let ws: Workspace;
const others: string[] = [];
beforeEach(() => {
  ws = makeWorkspace();
});
afterEach(() => {
  ws.cleanup();
  for (const dir of others.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function run(fn: (ctx: ReturnType<Workspace['ctx']>) => number) {
  return commandResult(ws.ctx(), fn);
}

/** The record as `deployctl run NAME` leaves it: NAME is the subject and the predicate's runbook path. */
function recordNaming(name: string): void {
  const predicate = smallPredicate();
  predicate.runbook.path = name;
  ws.writeEnvelope(signEnvelope(STATEMENT_PAYLOAD_TYPE, statementBytes(predicate, name), ws.keys.run.privateKey, { signer: 'ana' }));
}

describe.each([
  ['an absolute path (deployctl run /abs/small.yaml), the file right there', () => path.join(ws.dir, 'small.yaml'), 'an absolute path'],
  ['a path outside this directory', () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-other-'));
    others.push(other);
    fs.copyFileSync(path.join(ws.dir, 'small.yaml'), path.join(other, 'small.yaml'));
    fs.cpSync(path.join(ws.dir, 'keys'), path.join(other, 'keys'), { recursive: true });
    return path.relative(ws.dir, path.join(other, 'small.yaml'));
  }, 'a path outside this directory'],
])('a record naming its runbook by %s', (_name, where, words) => {
  let name = '';
  beforeEach(() => {
    name = where();
    recordNaming(name);
  });

  it('verify and show say it was not followed, why, and to give --runbook; never "not found"', () => {
    for (const r of [run((ctx) => recordVerifyCommand(ws.record, {}, ctx)), run((ctx) => recordShowCommand(ws.record, {}, ctx))]) {
      expect(r.code, r.stdout).toBe(0);
      expect(r.stdout).not.toContain('not found');
      expect(r.stdout).toContain(`runbook ${name}: not checked: the record names it by ${words}, and deployctl follows only a relative path inside this directory from a record`);
      expect(r.stdout).toContain(`give --runbook ${name} to check it and its role keys`);
    }
    const json = JSON.parse(run((ctx) => recordVerifyCommand(ws.record, { json: true }, ctx)).stdout) as { runbook: { state: string } };
    expect(json.runbook.state).toBe('not-followed');
  });

  it('export says the same', () => {
    const r = run((ctx) => recordExportCommand(ws.record, { format: 'markdown' }, ctx));
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('not found');
    expect(r.stdout).toContain(`give --runbook ${name} to check it`);
  });

  it('sign refuses (exit 2) saying why, and names --runbook', () => {
    const r = run((ctx) => recordSignCommand(ws.record, { role: 'lead', key: ws.keys.lead.key }, ctx));
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain('not found');
    expect(r.stderr).toContain(`the record names its runbook by ${words} (${name}), and a record's runbook is followed only by a relative path inside this directory`);
    expect(r.stderr).toContain(`give it with --runbook ${name}`);
  });

  it('with --runbook, verify, export and sign all check it', () => {
    const verified = run((ctx) => recordVerifyCommand(ws.record, { runbook: name }, ctx));
    expect(verified.stdout).toContain(`runbook ${name}: sha256 matches`);
    expect(run((ctx) => recordExportCommand(ws.record, { format: 'markdown', runbook: name }, ctx)).stdout).toContain('sha256 matches');
    const signed = run((ctx) => recordSignCommand(ws.record, { role: 'lead', key: ws.keys.lead.key, runbook: name }, ctx));
    expect(signed.code, signed.stderr).toBe(0);
    expect(run((ctx) => recordVerifyCommand(ws.record, { runbook: name }, ctx)).stdout).toMatch(/Deployment Lead \(lead\)\s+signed by/);
  });
});
