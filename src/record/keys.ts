// Ed25519 signing keys as PEM files: generate, write without ever overwriting, load with errors that name the fix.
import * as crypto from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import * as path from 'node:path';
// writeNewFile, not writeFileAtomic: key files need no-clobber creation with an exact mode.
import { fileFailure, isFileFailure } from '../ports/fs-failure.js';
import { fsyncDirectory, makeDirectory, notRegularKind, pathExists, readFileLimited, removeFile, statPath, writeNewFile, type ReadLimitedResult } from '../ports/fs.js';
import { keyIdOf } from './dsse.js';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A fresh Ed25519 key pair. */
export function generateKeyPair(): KeyPair {
  return crypto.generateKeyPairSync('ed25519');
}

/** `sha256:` + hex SHA-256 of the public key's SPKI DER (the DSSE keyid). Accepts a private key too. */
export function keyId(key: KeyObject): string {
  return keyIdOf(key);
}

/** The SPKI PEM of a key's public half. */
export function publicKeyPem(key: KeyObject): string {
  const publicKey = key.type === 'private' ? crypto.createPublicKey(key) : key;
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

export const KEY_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
export const PRIVATE_KEY_MODE = 0o600;
export const PUBLIC_KEY_MODE = 0o644;
const KEY_DIR_MODE = 0o700;
/** Key files are tiny; anything larger is not one of ours. */
const MAX_KEY_FILE_BYTES = 64 * 1024;

export type KeyErrorCode =
  | 'bad-name'
  | 'exists'
  | 'write-failed'
  | 'missing'
  | 'unreadable'
  | 'too-large'
  | 'not-pem'
  | 'ssh-format'
  | 'encrypted'
  | 'unsupported'
  | 'not-ed25519'
  | 'private-key-given'
  | 'public-key-given';

export interface KeyError {
  code: KeyErrorCode;
  /** The file concerned. */
  file: string;
  /** One sentence naming the file and what is wrong. */
  message: string;
  /** What to do about it. */
  hint?: string;
}

export type WriteKeyPairResult = { ok: true; keyPath: string; pubPath: string; keyId: string } | { ok: false; error: KeyError };

export function keyPaths(dir: string, name: string): { keyPath: string; pubPath: string } {
  return { keyPath: path.join(dir, `${name}.key`), pubPath: path.join(dir, `${name}.pub`) };
}

/**
 * Write `NAME.key` (PKCS#8 PEM, 0600) and `NAME.pub` (SPKI PEM, 0644) into `dir` (created 0700 if missing).
 * Each file appears whole or not at all (temp file, fsync, then a hard link that fails if the name exists),
 * so an existing key is never overwritten, not even by a concurrent keygen.
 */
export function writeKeyPair(dir: string, name: string, pair: KeyPair = generateKeyPair()): WriteKeyPairResult {
  const { keyPath, pubPath } = keyPaths(dir, name);
  if (!KEY_NAME_PATTERN.test(name)) {
    return {
      ok: false,
      error: { code: 'bad-name', file: keyPath, message: `'${name}' is not a usable key name`, hint: "use letters, digits, '.', '_' and '-' (up to 64 characters), e.g. --name qa" },
    };
  }
  for (const file of [keyPath, pubPath]) {
    if (pathExists(file)) return { ok: false, error: existsError(file) };
  }
  const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = publicKeyPem(pair.privateKey);
  try {
    makeDirectory(dir, KEY_DIR_MODE);
    writeNewFile(keyPath, privatePem, PRIVATE_KEY_MODE);
  } catch (error) {
    return { ok: false, error: writeError(keyPath, error) };
  }
  try {
    writeNewFile(pubPath, publicPem, PUBLIC_KEY_MODE);
  } catch (error) {
    // Leave no half pair behind: the .key was created by us a moment ago.
    removeFile(keyPath);
    fsyncDirectory(dir);
    return { ok: false, error: writeError(pubPath, error) };
  }
  fsyncDirectory(dir);
  return { ok: true, keyPath, pubPath, keyId: keyIdOf(pair.privateKey) };
}

function existsError(file: string): KeyError {
  return {
    code: 'exists',
    file,
    message: `${file} already exists; deployctl never overwrites a key`,
    hint: 'use another --name or --out, or move the old key away first if you really mean to replace it',
  };
}

function writeError(file: string, error: unknown): KeyError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EEXIST') return existsError(file);
  if (isFileFailure(error)) {
    // A full disk, a read-only or foreign-owned directory: the path and the fix, as for every other file deployctl writes.
    const failure = fileFailure(error, process.cwd());
    return { code: 'write-failed', file, message: failure.message, ...(failure.hint !== undefined ? { hint: failure.hint } : {}) };
  }
  return { code: 'write-failed', file, message: `cannot write ${file}: ${(error as Error).message}`, hint: 'check that the directory is writable' };
}

// ---------------------------------------------------------------------------------------------
// Loading

export type LoadPrivateKeyResult = { ok: true; key: KeyObject; keyId: string; warning?: string } | { ok: false; error: KeyError };
export type LoadPublicKeyResult = { ok: true; key: KeyObject; keyId: string } | { ok: false; error: KeyError };

const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]{1,64})-----/g;

type PemKind = 'private' | 'public' | 'other';

function pemKind(label: string): PemKind {
  if (label.endsWith('PRIVATE KEY')) return 'private';
  if (label.endsWith('PUBLIC KEY')) return 'public';
  return 'other';
}

type ReadPemResult = { ok: true; text: string; label: string; kind: PemKind } | { ok: false; error: KeyError };

function readPem(file: string, expected: 'private' | 'public'): ReadPemResult {
  const fail = (code: KeyErrorCode, message: string, hint?: string): ReadPemResult => ({
    ok: false,
    error: hint === undefined ? { code, file, message } : { code, file, message, hint },
  });
  const keygenHint = 'create a key pair with: deployctl keygen';
  let read: ReadLimitedResult;
  try {
    read = readFileLimited(file, MAX_KEY_FILE_BYTES);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail('missing', `${file} does not exist`, expected === 'private' ? keygenHint : 'check the path; public keys are the .pub files deployctl keygen writes');
    if (code === 'EISDIR') return fail('unreadable', `${file} is a directory, not a key file`);
    if (code === 'ENOTREG') return fail('unreadable', `${file} is ${notRegularKind(error)}, not a regular file, so not a key file`);
    return fail('unreadable', `cannot read ${file}: ${(error as Error).message}`);
  }
  if (!read.ok) return fail('too-large', `${file} is ${read.size} bytes, too large to be a key file`);
  const text = Buffer.from(read.bytes).toString('utf8');
  if (/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-\S+) /.test(text.trimStart())) {
    return fail('ssh-format', `${file} is an OpenSSH public key; deployctl needs a PEM (SPKI) key`, keygenHint);
  }
  const labels = [...text.matchAll(PEM_BEGIN)].map((m) => m[1] as string);
  if (labels.length === 0) return fail('not-pem', `${file} is not a PEM key file (no -----BEGIN … KEY----- line)`, keygenHint);
  if (labels.length > 1) return fail('not-pem', `${file} holds ${labels.length} PEM blocks; a key file holds exactly one key`);
  const label = labels[0] as string;
  if (label === 'OPENSSH PRIVATE KEY') {
    return fail('ssh-format', `${file} is an OpenSSH private key; deployctl needs a PKCS#8 PEM key (ssh-keygen signatures are a different format)`, keygenHint);
  }
  if (label === 'ENCRYPTED PRIVATE KEY') {
    return fail('encrypted', `${file} is a passphrase-protected key, which deployctl cannot use`, 'decrypt it with: openssl pkey -in KEY -out KEY.plain (then chmod 600), or create a new pair with deployctl keygen');
  }
  return { ok: true, text, label, kind: pemKind(label) };
}

/** Load an Ed25519 private key (PKCS#8 PEM). A key file readable by group or others loads, with a warning. */
export function loadPrivateKey(file: string): LoadPrivateKeyResult {
  const pem = readPem(file, 'private');
  if (!pem.ok) return pem;
  if (pem.kind === 'public') {
    return {
      ok: false,
      error: { code: 'public-key-given', file, message: `${file} is a public key; signing needs the private key`, hint: 'give the matching .key file (the .pub is what the runbook lists under keys:)' },
    };
  }
  if (pem.kind !== 'private') return { ok: false, error: { code: 'not-pem', file, message: `${file} holds a ${pem.label}, not a private key` } };
  let key: KeyObject;
  try {
    key = crypto.createPrivateKey({ key: pem.text, format: 'pem' });
  } catch (error) {
    return { ok: false, error: { code: 'unsupported', file, message: `${file} is not a private key deployctl can read (${(error as Error).message})`, hint: 'create a key pair with: deployctl keygen' } };
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    return { ok: false, error: { code: 'not-ed25519', file, message: `${file} is a ${key.asymmetricKeyType ?? 'unknown'} key; deployctl signs with Ed25519 only`, hint: 'create a key pair with: deployctl keygen' } };
  }
  const result: LoadPrivateKeyResult = { ok: true, key, keyId: keyIdOf(key) };
  const warning = permissionWarning(file);
  if (warning !== undefined) result.warning = warning;
  return result;
}

/** Load an Ed25519 public key (SPKI PEM). A private key is refused, never silently reduced to its public half. */
export function loadPublicKey(file: string): LoadPublicKeyResult {
  const pem = readPem(file, 'public');
  if (!pem.ok) return pem;
  if (pem.kind === 'private') {
    return {
      ok: false,
      error: {
        code: 'private-key-given',
        file,
        message: `${file} is a PRIVATE key; verification needs the public key`,
        hint: 'give the matching .pub file, and keep the .key private (never list or commit it)',
      },
    };
  }
  if (pem.kind !== 'public') return { ok: false, error: { code: 'not-pem', file, message: `${file} holds a ${pem.label}, not a public key` } };
  let key: KeyObject;
  try {
    key = crypto.createPublicKey({ key: pem.text, format: 'pem' });
  } catch (error) {
    return { ok: false, error: { code: 'unsupported', file, message: `${file} is not a public key deployctl can read (${(error as Error).message})` } };
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    return { ok: false, error: { code: 'not-ed25519', file, message: `${file} is a ${key.asymmetricKeyType ?? 'unknown'} key; deployctl verifies Ed25519 signatures only` } };
  }
  return { ok: true, key, keyId: keyIdOf(key) };
}

function permissionWarning(file: string): string | undefined {
  if (process.platform === 'win32') return undefined;
  const info = statPath(file);
  if (info === undefined) return undefined;
  const mode = info.mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  return `${file} is accessible by ${mode & 0o070 ? (mode & 0o007 ? 'group and others' : 'group') : 'others'} (mode ${mode.toString(8).padStart(4, '0')}); restrict it with: chmod 600 ${file}`;
}
