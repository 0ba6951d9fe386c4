// Key files: modes, never overwriting, loading with errors that say what is wrong, and openssl reading what we write.
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signEnvelope, verifyEnvelope } from '../../src/record/dsse.js';
import { generateKeyPair, keyId, loadPrivateKey, loadPublicKey, writeKeyPair, type KeyErrorCode } from '../../src/record/keys.js';

let dir = '';
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-keys-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const mode = (file: string) => fs.statSync(file).mode & 0o777;

function written(name = 'deployctl', sub = 'keys') {
  const result = writeKeyPair(path.join(dir, sub), name);
  if (!result.ok) throw new Error(result.error.message);
  return result;
}

describe('writeKeyPair', () => {
  it('writes NAME.key (PKCS#8, 0600) and NAME.pub (SPKI, 0644) in a new 0700 directory', () => {
    const result = written();
    expect(result.keyPath).toBe(path.join(dir, 'keys', 'deployctl.key'));
    expect(result.pubPath).toBe(path.join(dir, 'keys', 'deployctl.pub'));
    expect(mode(result.keyPath)).toBe(0o600);
    expect(mode(result.pubPath)).toBe(0o644);
    expect(mode(path.join(dir, 'keys'))).toBe(0o700);
    expect(fs.readFileSync(result.keyPath, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(fs.readFileSync(result.pubPath, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(result.keyId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(fs.readdirSync(path.join(dir, 'keys')).sort()).toEqual(['deployctl.key', 'deployctl.pub']);
  });

  it('sets the exact modes whatever the umask', () => {
    const previous = process.umask(0o077);
    try {
      const result = written('strict');
      expect(mode(result.keyPath)).toBe(0o600);
      expect(mode(result.pubPath)).toBe(0o644);
    } finally {
      process.umask(previous);
    }
  });

  it('writes a pair that openssl reads and that signs and verifies', () => {
    const result = written();
    execFileSync('openssl', ['pkey', '-in', result.keyPath, '-noout']);
    const opensslPub = execFileSync('openssl', ['pkey', '-in', result.keyPath, '-pubout'], { encoding: 'utf8' });
    expect(opensslPub).toBe(fs.readFileSync(result.pubPath, 'utf8'));
    const priv = loadPrivateKey(result.keyPath);
    const pub = loadPublicKey(result.pubPath);
    if (!priv.ok || !pub.ok) throw new Error('load failed');
    expect(priv.keyId).toBe(result.keyId);
    expect(pub.keyId).toBe(result.keyId);
    expect(priv.warning).toBeUndefined();
    const envelope = signEnvelope('t', new Uint8Array([1, 2, 3]), priv.key);
    expect(verifyEnvelope(envelope, [{ key: pub.key, label: result.pubPath }]).status).toBe('verified');
  });

  it.each(['key', 'pub'])('refuses to overwrite an existing .%s, names it, and leaves everything as it was', (ext) => {
    fs.mkdirSync(path.join(dir, 'keys'));
    const existing = path.join(dir, 'keys', `deployctl.${ext}`);
    fs.writeFileSync(existing, 'precious');
    const result = writeKeyPair(path.join(dir, 'keys'), 'deployctl');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ code: 'exists', file: existing });
    expect(result.error.message).toContain(existing);
    expect(fs.readFileSync(existing, 'utf8')).toBe('precious');
    expect(fs.readdirSync(path.join(dir, 'keys'))).toEqual([`deployctl.${ext}`]);
  });

  it('treats a dangling symlink as an existing file', () => {
    fs.mkdirSync(path.join(dir, 'keys'));
    fs.symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'keys', 'deployctl.key'));
    const result = writeKeyPair(path.join(dir, 'keys'), 'deployctl');
    expect(result.ok).toBe(false);
    expect(fs.existsSync(path.join(dir, 'nowhere'))).toBe(false);
  });

  it('refuses a second keygen of the same name and keeps the first key', () => {
    const first = written();
    const before = fs.readFileSync(first.keyPath, 'utf8');
    const second = writeKeyPair(path.join(dir, 'keys'), 'deployctl');
    expect(second.ok).toBe(false);
    expect(fs.readFileSync(first.keyPath, 'utf8')).toBe(before);
  });

  it.each(['../escape', 'a/b', '', '.hidden', 'x'.repeat(65), 'sp ace'])('refuses the key name %j', (name) => {
    const result = writeKeyPair(dir, name);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('bad-name');
  });

  it('uses a given key pair', () => {
    const pair = generateKeyPair();
    const result = writeKeyPair(dir, 'given', pair);
    expect(result.ok && result.keyId).toBe(keyId(pair.publicKey));
  });
});

describe('loadPrivateKey and loadPublicKey', () => {
  const file = (name: string, content: string | Buffer, fileMode = 0o600) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, content, { mode: fileMode });
    fs.chmodSync(p, fileMode);
    return p;
  };
  const rsa = () => crypto.generateKeyPairSync('rsa', { modulusLength: 1024 });
  const ed = () => crypto.generateKeyPairSync('ed25519');
  const sshPub = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMb1oWQ+fake user@host\n';
  const opensshPrivate = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
  const certificate = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

  type Case = [string, () => string, KeyErrorCode, RegExp];
  const privateCases: Case[] = [
    ['a missing file', () => path.join(dir, 'nope.key'), 'missing', /does not exist/],
    ['a directory', () => dir, 'unreadable', /is a directory/],
    ['an empty file', () => file('empty.key', ''), 'not-pem', /not a PEM key file/],
    ['random text', () => file('text.key', 'hello\n'), 'not-pem', /not a PEM key file/],
    ['an OpenSSH public key', () => file('id.pub', sshPub), 'ssh-format', /OpenSSH public key/],
    ['an OpenSSH private key', () => file('id_ed25519', opensshPrivate), 'ssh-format', /OpenSSH private key/],
    ['a public key', () => file('k.pub', ed().publicKey.export({ type: 'spki', format: 'pem' })), 'public-key-given', /is a public key; signing needs the private key/],
    ['an RSA private key', () => file('rsa.key', rsa().privateKey.export({ type: 'pkcs8', format: 'pem' })), 'not-ed25519', /is a rsa key; deployctl signs with Ed25519 only/],
    ['an encrypted key', () => file('enc.key', ed().privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' })), 'encrypted', /passphrase-protected/],
    ['a certificate', () => file('cert.pem', certificate), 'not-pem', /holds a CERTIFICATE/],
    ['a corrupt PEM body', () => file('bad.key', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), 'unsupported', /not a private key deployctl can read/],
    ['two keys in one file', () => file('two.key', `${ed().privateKey.export({ type: 'pkcs8', format: 'pem' })}${ed().privateKey.export({ type: 'pkcs8', format: 'pem' })}`), 'not-pem', /2 PEM blocks/],
    ['a huge file', () => file('huge.key', Buffer.alloc(100 * 1024, 65)), 'too-large', /too large/],
  ];

  it.each(privateCases)('loadPrivateKey refuses %s with a clear error', (_title, make, code, message) => {
    const p = make();
    const result = loadPrivateKey(p);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(code);
    expect(result.error.message).toMatch(message);
    expect(result.error.message).toContain(p);
    expect(result.error.file).toBe(p);
  });

  const publicCases: Case[] = [
    ['a missing file', () => path.join(dir, 'nope.pub'), 'missing', /does not exist/],
    ['a private key', () => file('k.key', ed().privateKey.export({ type: 'pkcs8', format: 'pem' })), 'private-key-given', /is a PRIVATE key; verification needs the public key/],
    ['an RSA private key', () => file('rsa.key', rsa().privateKey.export({ type: 'pkcs1', format: 'pem' })), 'private-key-given', /PRIVATE key/],
    ['an RSA public key', () => file('rsa.pub', rsa().publicKey.export({ type: 'spki', format: 'pem' })), 'not-ed25519', /is a rsa key/],
    ['an OpenSSH public key', () => file('id.pub', sshPub), 'ssh-format', /OpenSSH public key/],
    ['not a PEM', () => file('x.pub', '{"kty":"OKP"}'), 'not-pem', /not a PEM key file/],
    ['a corrupt PEM body', () => file('bad.pub', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'), 'unsupported', /not a public key deployctl can read/],
  ];

  it.each(publicCases)('loadPublicKey refuses %s with a clear error', (_title, make, code, message) => {
    const p = make();
    const result = loadPublicKey(p);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(code);
    expect(result.error.message).toMatch(message);
  });

  it('errors carry a hint where there is an obvious fix', () => {
    const result = loadPrivateKey(path.join(dir, 'missing.key'));
    expect(!result.ok && result.error.hint).toMatch(/deployctl keygen/);
  });

  it.each([
    [0o600, undefined],
    [0o400, undefined],
    [0o640, /accessible by group \(mode 0640\); restrict it with: chmod 600/],
    [0o604, /accessible by others \(mode 0604\)/],
    [0o644, /accessible by group and others \(mode 0644\)/],
  ])('a private key with mode %o loads, with warning %s', (fileMode, warning) => {
    const p = file('k.key', ed().privateKey.export({ type: 'pkcs8', format: 'pem' }), fileMode);
    const result = loadPrivateKey(p);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    if (warning === undefined) expect(result.warning).toBeUndefined();
    else expect(result.warning).toMatch(warning);
  });

  it('loads keys made by openssl', () => {
    const keyFile = path.join(dir, 'o.key');
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', keyFile]);
    fs.chmodSync(keyFile, 0o600);
    const pubFile = path.join(dir, 'o.pub');
    execFileSync('openssl', ['pkey', '-in', keyFile, '-pubout', '-out', pubFile]);
    const priv = loadPrivateKey(keyFile);
    const pub = loadPublicKey(pubFile);
    expect(priv.ok && pub.ok && priv.keyId === pub.keyId).toBe(true);
  });

  it('accepts CRLF line endings and leading text before the PEM block', () => {
    const pem = ed().publicKey.export({ type: 'spki', format: 'pem' }).toString().replace(/\n/g, '\r\n');
    expect(loadPublicKey(file('crlf.pub', pem)).ok).toBe(true);
    expect(loadPublicKey(file('comment.pub', `qa lead key\n${pem}`)).ok).toBe(true);
  });
});
