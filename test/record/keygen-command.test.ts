// `deployctl keygen` called as a function: writes the pair, prints paths, keyid and what to do with the .pub; never overwrites.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bufferIo } from '../../src/cli/io.js';
import { keygenCommand } from '../../src/commands/keygen.js';
import { loadPrivateKey, loadPublicKey } from '../../src/record/keys.js';

let dir = '';
let cwd = '';
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-keygen-'));
  cwd = process.cwd();
});
afterEach(() => {
  process.chdir(cwd);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('keygenCommand', () => {
  it('writes NAME.key and NAME.pub into --out and prints both paths, the keyid and how to use the .pub', () => {
    const io = bufferIo();
    const out = path.join(dir, 'keys');
    expect(keygenCommand({ out, name: 'qa' }, io)).toBe(0);
    const keyPath = path.join(out, 'qa.key');
    const pubPath = path.join(out, 'qa.pub');
    const priv = loadPrivateKey(keyPath);
    const pub = loadPublicKey(pubPath);
    if (!priv.ok || !pub.ok) throw new Error('keys not loadable');
    expect(io.stdout).toEqual([
      `private key: ${keyPath} (mode 0600; keep it secret, never commit it)`,
      `public key:  ${pubPath}`,
      `key id:      ${pub.keyId}`,
      `To let this key sign off for a role, list its .pub under that role's keys: in the runbook, as a path relative to the runbook's own directory (for a runbook in runbooks/: ${path.relative('runbooks', pubPath)}).`,
      // Issue 14: a named key is a person's too; the entry to paste under people: (the pair is outside the working directory here).
      `To make it qa's key, copy the public half beside the runbook (cp ${pubPath} runbooks/keys/qa.pub) and paste under people: in it:`,
      '  qa: { name: "qa", keys: [keys/qa.pub] }',
    ]);
    expect(io.stderr).toEqual([]);
    expect(priv.keyId).toBe(pub.keyId);
  });

  it('defaults to ./.deployctl/keys/deployctl.{key,pub}', () => {
    process.chdir(dir);
    const io = bufferIo();
    expect(keygenCommand({}, io)).toBe(0);
    expect(fs.readdirSync(path.join(dir, '.deployctl', 'keys')).sort()).toEqual(['deployctl.key', 'deployctl.pub']);
    expect(io.stdout[0]).toContain(path.join('.deployctl', 'keys', 'deployctl.key'));
  });

  it('exits 2 naming the existing file and never overwrites it', () => {
    const out = path.join(dir, 'keys');
    expect(keygenCommand({ out }, bufferIo())).toBe(0);
    const before = fs.readFileSync(path.join(out, 'deployctl.key'), 'utf8');
    const io = bufferIo();
    expect(keygenCommand({ out }, io)).toBe(2);
    expect(io.stdout).toEqual([]);
    expect(io.stderr[0]).toBe(`deployctl: ${path.join(out, 'deployctl.key')} already exists; deployctl never overwrites a key`);
    expect(io.stderr[1]).toMatch(/^ {2}use another --name or --out/);
    expect(fs.readFileSync(path.join(out, 'deployctl.key'), 'utf8')).toBe(before);
  });

  it('exits 2 on a key name that could escape the directory', () => {
    const io = bufferIo();
    expect(keygenCommand({ out: dir, name: '../x' }, io)).toBe(2);
    expect(io.stderr[0]).toMatch(/not a usable key name/);
  });
});
