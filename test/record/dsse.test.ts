// DSSE: the spec's PAE, signing and verification, interop with openssl, tampering, and malformed envelopes.
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addSignature,
  decodeBase64,
  ENVELOPE_LIMITS,
  keyIdOf,
  pae,
  parseEnvelope,
  parseEnvelopeJson,
  signEnvelope,
  verifyEnvelope,
  type Envelope,
  type TrustedKey,
} from '../../src/record/dsse.js';
import { loadPublicKey } from '../../src/record/keys.js';

const TYPE = 'application/vnd.in-toto+json';
const text = (s: string) => new TextEncoder().encode(s);
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

let tmp = '';
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-dsse-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function newKey(label: string) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  return { privateKey, publicKey, trusted: { key: publicKey, label } satisfies TrustedKey };
}

function expectVerified(result: ReturnType<typeof verifyEnvelope>) {
  if (result.status === 'malformed') throw new Error(`malformed: ${JSON.stringify(result.problems)}`);
  return result;
}

describe('pae', () => {
  it('matches the example in the DSSE protocol spec', () => {
    const out = pae('http://example.com/HelloWorld', text('hello world'));
    expect(Buffer.from(out).toString('utf8')).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });

  it('counts lengths in UTF-8 bytes, not characters', () => {
    const out = pae('tÿpe', text('héllo'));
    expect(Buffer.from(out).toString('utf8')).toBe('DSSEv1 5 tÿpe 6 héllo');
  });

  it('encodes an empty payload and binary bytes as they are', () => {
    expect(Buffer.from(pae('t', new Uint8Array())).toString('latin1')).toBe('DSSEv1 1 t 0 ');
    expect([...pae('t', new Uint8Array([0, 255, 32]))].slice(-3)).toEqual([0, 255, 32]);
  });
});

describe('signEnvelope and verifyEnvelope', () => {
  const alice = newKey('alice.pub');
  const bob = newKey('bob.pub');
  const payload = text('{"hello":"world"}');

  it('round-trips: the signature verifies with the signer key and exposes the payload', () => {
    const envelope = signEnvelope(TYPE, payload, alice.privateKey);
    expect(envelope.payloadType).toBe(TYPE);
    expect(envelope.payload).toBe(b64(payload));
    expect(envelope.signatures).toHaveLength(1);
    expect(envelope.signatures[0]?.keyid).toBe(keyIdOf(alice.publicKey));
    expect(envelope.signatures[0]?.keyid).toMatch(/^sha256:[0-9a-f]{64}$/);
    const result = expectVerified(verifyEnvelope(envelope, [alice.trusted]));
    expect(result.status).toBe('verified');
    expect(result.validCount).toBe(1);
    expect(result.validKeyIds).toEqual([keyIdOf(alice.publicKey)]);
    expect(result.signatures[0]).toMatchObject({ index: 0, valid: true, keyLabel: 'alice.pub', verifiedKeyId: keyIdOf(alice.publicKey) });
    expect(Buffer.from(result.payload ?? []).toString()).toBe('{"hello":"world"}');
  });

  it('survives a JSON round trip of the envelope', () => {
    const envelope = signEnvelope(TYPE, payload, alice.privateKey, { role: 'lead', signer: 'Ana', signed_at: '2026-11-26T15:00:00Z' });
    const parsed = parseEnvelopeJson(JSON.stringify(envelope));
    expect(parsed.ok).toBe(true);
    expect(expectVerified(verifyEnvelope(JSON.parse(JSON.stringify(envelope)), [alice.trusted])).status).toBe('verified');
  });

  it('keyid is the sha256 of the SPKI DER', () => {
    const der = alice.publicKey.export({ type: 'spki', format: 'der' });
    expect(keyIdOf(alice.publicKey)).toBe(`sha256:${crypto.createHash('sha256').update(der).digest('hex')}`);
    expect(keyIdOf(alice.privateKey)).toBe(keyIdOf(alice.publicKey));
  });

  it('does not count a signature by a key that is not trusted', () => {
    const envelope = signEnvelope(TYPE, payload, bob.privateKey);
    const result = expectVerified(verifyEnvelope(envelope, [alice.trusted]));
    expect(result.status).toBe('unverified');
    expect(result.validCount).toBe(0);
    expect(result.payload).toBeUndefined();
    expect(result.signatures[0]).toMatchObject({ valid: false });
    expect(result.signatures[0]?.reason).toMatch(/unknown key/);
  });

  it('reports no keys at all as unverified, not verified', () => {
    const result = expectVerified(verifyEnvelope(signEnvelope(TYPE, payload, alice.privateKey), []));
    expect(result.status).toBe('unverified');
    expect(result.signatures[0]?.reason).toMatch(/no trusted public keys/);
  });

  it('counts two signatures by the same key once', () => {
    const envelope = signEnvelope(TYPE, payload, alice.privateKey, { role: 'lead' });
    const doubled: Envelope = { ...envelope, signatures: [envelope.signatures[0]!, { ...envelope.signatures[0]!, role: 'qa' }] };
    const result = expectVerified(verifyEnvelope(doubled, [alice.trusted]));
    expect(result.validCount).toBe(1);
    expect(result.signatures.map((s) => s.valid)).toEqual([true, true]);
    expect(result.signatures[1]?.duplicateOf).toBe(0);
    expect(verifyEnvelope(doubled, [alice.trusted], { threshold: 2 }).status).toBe('unverified');
  });

  it('counts one key listed twice under different labels once', () => {
    const envelope = signEnvelope(TYPE, payload, alice.privateKey);
    const result = expectVerified(verifyEnvelope(envelope, [alice.trusted, { key: alice.publicKey, label: 'again' }]));
    expect(result.validCount).toBe(1);
  });

  it('counts two distinct trusted keys twice and meets a threshold of two', () => {
    const { envelope } = addSignature(signEnvelope(TYPE, payload, alice.privateKey), bob.privateKey, { role: 'qa' });
    const result = expectVerified(verifyEnvelope(envelope, [alice.trusted, bob.trusted], { threshold: 2 }));
    expect(result.status).toBe('verified');
    expect(result.validCount).toBe(2);
    expect(result.signatures.map((s) => s.keyLabel)).toEqual(['alice.pub', 'bob.pub']);
    expect(result.signatures[1]?.role).toBe('qa');
  });

  it('treats keyid as a hint only: a wrong or empty keyid still verifies with the right key', () => {
    const envelope = signEnvelope(TYPE, payload, alice.privateKey);
    for (const keyid of ['', keyIdOf(bob.publicKey), 'sha256:0000']) {
      const edited = { ...envelope, signatures: [{ ...envelope.signatures[0]!, keyid }] };
      const result = expectVerified(verifyEnvelope(edited, [bob.trusted, alice.trusted]));
      expect(result.signatures[0]).toMatchObject({ valid: true, keyLabel: 'alice.pub', keyid, verifiedKeyId: keyIdOf(alice.publicKey) });
    }
  });

  it('takes no trust from the unsigned annotations: editing role, signer or signed_at keeps the signature valid for the same key only', () => {
    const envelope = signEnvelope(TYPE, payload, bob.privateKey, { role: 'qa' });
    const edited = { ...envelope, signatures: [{ ...envelope.signatures[0]!, role: 'lead', signer: 'Mallory', signed_at: '1999-01-01T00:00:00Z' }] };
    const result = expectVerified(verifyEnvelope(edited, [alice.trusted]));
    expect(result.status).toBe('unverified');
    const byBob = expectVerified(verifyEnvelope(edited, [bob.trusted]));
    expect(byBob.signatures[0]).toMatchObject({ valid: true, keyLabel: 'bob.pub', role: 'lead' });
  });

  it('accepts a private key in the trusted list by reducing it to its public half, and ignores non-Ed25519 keys', () => {
    const envelope = signEnvelope(TYPE, payload, alice.privateKey);
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    const result = expectVerified(verifyEnvelope(envelope, [{ key: rsa, label: 'rsa' }, { key: alice.privateKey, label: 'alice' }]));
    expect(result.status).toBe('verified');
  });

  it('refuses to sign with a key that is not an Ed25519 private key (a programming error)', () => {
    expect(() => signEnvelope(TYPE, payload, alice.publicKey)).toThrow(TypeError);
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(() => signEnvelope(TYPE, payload, ec)).toThrow(/Ed25519/);
  });
});

describe('addSignature', () => {
  const alice = newKey('alice');
  const bob = newKey('bob');
  const payload = text('{"n":1}');

  it('adds a signature without modifying the input envelope', () => {
    const envelope = signEnvelope(TYPE, payload, alice.privateKey);
    const before = JSON.stringify(envelope);
    const result = addSignature(envelope, bob.privateKey, { role: 'qa', signer: 'Quinn', signed_at: '2026-11-26T16:00:00Z' });
    expect(result.added).toBe(true);
    expect(JSON.stringify(envelope)).toBe(before);
    expect(result.envelope.signatures).toHaveLength(2);
    expect(result.envelope.signatures[1]).toMatchObject({ keyid: keyIdOf(bob.publicKey), role: 'qa', signer: 'Quinn', signed_at: '2026-11-26T16:00:00Z' });
  });

  it('is idempotent: signing again with the same key is a no-op that says so', () => {
    const envelope = signEnvelope(TYPE, payload, alice.privateKey);
    const once = addSignature(envelope, bob.privateKey);
    const twice = addSignature(once.envelope, bob.privateKey, { role: 'other' });
    expect(twice.added).toBe(false);
    expect(twice.envelope).toBe(once.envelope);
    expect(twice).toMatchObject({ added: false, reason: 'already-signed', existingIndex: 1 });
    expect(addSignature(envelope, alice.privateKey).added).toBe(false);
  });

  it('refuses to grow an envelope past the signature limit (it would no longer parse)', () => {
    const envelope = signEnvelope(TYPE, payload, alice.privateKey);
    const full: Envelope = { ...envelope, signatures: Array.from({ length: ENVELOPE_LIMITS.signatures }, () => ({ keyid: '', sig: b64(new Uint8Array(64)) })) };
    expect(addSignature(full, bob.privateKey)).toMatchObject({ added: false, reason: 'too-many-signatures' });
  });

  it('does not treat a forged signature that only claims the keyid as already signed', () => {
    const envelope = signEnvelope(TYPE, payload, alice.privateKey);
    const forged: Envelope = { ...envelope, signatures: [...envelope.signatures, { keyid: keyIdOf(bob.publicKey), sig: b64(new Uint8Array(64)) }] };
    const result = addSignature(forged, bob.privateKey);
    expect(result.added).toBe(true);
    expect(expectVerified(verifyEnvelope(result.envelope, [alice.trusted, bob.trusted])).validCount).toBe(2);
  });
});

describe('interop with openssl', () => {
  const alice = newKey('alice');

  it('openssl pkeyutl verifies our signature over the PAE', () => {
    const payload = text('{"_type":"https://in-toto.io/Statement/v1"}');
    const envelope = signEnvelope(TYPE, payload, alice.privateKey);
    const pubFile = path.join(tmp, 'ours.pub');
    const paeFile = path.join(tmp, 'ours-pae.bin');
    const sigFile = path.join(tmp, 'ours-sig.bin');
    fs.writeFileSync(pubFile, alice.publicKey.export({ type: 'spki', format: 'pem' }));
    fs.writeFileSync(paeFile, pae(envelope.payloadType, decodeBase64(envelope.payload)!));
    fs.writeFileSync(sigFile, decodeBase64(envelope.signatures[0]!.sig)!);
    const out = execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pubFile, '-rawin', '-in', paeFile, '-sigfile', sigFile], { encoding: 'utf8' });
    expect(out).toMatch(/Signature Verified Successfully/);
    // And openssl rejects it once the payload changes.
    fs.writeFileSync(paeFile, pae(envelope.payloadType, text('{"_type":"https://in-toto.io/Statement/v2"}')));
    expect(() => execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pubFile, '-rawin', '-in', paeFile, '-sigfile', sigFile], { stdio: 'pipe' })).toThrow();
  });

  it('verifyEnvelope accepts a signature made by openssl with an openssl-generated key', () => {
    const keyFile = path.join(tmp, 'openssl.key');
    const pubFile = path.join(tmp, 'openssl.pub');
    const paeFile = path.join(tmp, 'openssl-pae.bin');
    const sigFile = path.join(tmp, 'openssl-sig.bin');
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', keyFile]);
    execFileSync('openssl', ['pkey', '-in', keyFile, '-pubout', '-out', pubFile]);
    const payload = text('{"signed":"by openssl"}');
    fs.writeFileSync(paeFile, pae(TYPE, payload));
    execFileSync('openssl', ['pkeyutl', '-sign', '-inkey', keyFile, '-rawin', '-in', paeFile, '-out', sigFile]);
    const loaded = loadPublicKey(pubFile);
    if (!loaded.ok) throw new Error(loaded.error.message);
    const envelope = { payloadType: TYPE, payload: b64(payload), signatures: [{ keyid: '', sig: b64(fs.readFileSync(sigFile)) }] };
    const result = expectVerified(verifyEnvelope(envelope, [{ key: loaded.key, label: pubFile }]));
    expect(result.status).toBe('verified');
    expect(result.signatures[0]?.verifiedKeyId).toBe(loaded.keyId);
  });
});

describe('tampering', () => {
  const alice = newKey('alice');
  const payload = text('{"status":"succeeded","n":7}');
  const envelope = signEnvelope(TYPE, payload, alice.privateKey);
  const sig = decodeBase64(envelope.signatures[0]!.sig)!;

  const rejected = (edited: Envelope) => {
    const result = verifyEnvelope(edited, [alice.trusted]);
    return result.status === 'unverified' && result.validCount === 0 && result.signatures.every((s) => !s.valid);
  };

  it('the untouched envelope verifies (control)', () => {
    expect(rejected(envelope)).toBe(false);
  });

  it('rejects a flipped bit in every byte of the payload', () => {
    const failures: number[] = [];
    for (let i = 0; i < payload.length; i += 1) {
      const bytes = Uint8Array.from(payload);
      bytes[i] = bytes[i]! ^ 0x01;
      if (!rejected({ ...envelope, payload: b64(bytes) })) failures.push(i);
    }
    expect(failures).toEqual([]);
  });

  it('rejects a changed character at every position of the payloadType', () => {
    const failures: number[] = [];
    for (let i = 0; i < TYPE.length; i += 1) {
      const changed = TYPE.slice(0, i) + String.fromCharCode(TYPE.charCodeAt(i) ^ 0x01) + TYPE.slice(i + 1);
      if (!rejected({ ...envelope, payloadType: changed })) failures.push(i);
    }
    expect(failures).toEqual([]);
    expect(rejected({ ...envelope, payloadType: `${TYPE} ` })).toBe(true);
    expect(rejected({ ...envelope, payloadType: TYPE.slice(1) })).toBe(true);
  });

  it('rejects a flipped bit in every byte of the signature', () => {
    const failures: number[] = [];
    for (let i = 0; i < sig.length; i += 1) {
      const bytes = Uint8Array.from(sig);
      bytes[i] = bytes[i]! ^ 0x01;
      if (!rejected({ ...envelope, signatures: [{ ...envelope.signatures[0]!, sig: b64(bytes) }] })) failures.push(i);
    }
    expect(failures).toEqual([]);
  });

  it('rejects a payload re-encoded after editing one field', () => {
    const edited = JSON.parse(Buffer.from(payload).toString()) as Record<string, unknown>;
    edited['status'] = 'failed';
    expect(rejected({ ...envelope, payload: b64(text(JSON.stringify(edited))) })).toBe(true);
  });

  it('rejects a truncated or extended signature with a reason about its length', () => {
    for (const bytes of [sig.subarray(0, 63), Buffer.concat([sig, Buffer.from([0])])]) {
      const result = expectVerified(verifyEnvelope({ ...envelope, signatures: [{ ...envelope.signatures[0]!, sig: b64(bytes) }] }, [alice.trusted]));
      expect(result.signatures[0]?.valid).toBe(false);
      expect(result.signatures[0]?.reason).toMatch(/Ed25519 signature is 64/);
    }
  });

  it('names the tampering when the keyid points at a trusted key that does not verify', () => {
    const bytes = Uint8Array.from(sig);
    bytes[0] = bytes[0]! ^ 0xff;
    const result = expectVerified(verifyEnvelope({ ...envelope, signatures: [{ ...envelope.signatures[0]!, sig: b64(bytes) }] }, [alice.trusted]));
    expect(result.signatures[0]?.reason).toMatch(/does not verify with the trusted key its keyid names \(alice\)/);
  });
});

describe('malformed envelopes', () => {
  const alice = newKey('alice');
  const good = signEnvelope(TYPE, text('{}'), alice.privateKey);
  const sig0 = good.signatures[0]!;
  const huge = 'A'.repeat(Math.ceil((ENVELOPE_LIMITS.payloadBytes * 4) / 3) + 8);

  it.each<[string, unknown, string, string]>([
    ['null', null, '', 'not-object'],
    ['an array', [good], '', 'not-object'],
    ['a string', JSON.stringify(good), '', 'not-object'],
    ['a number', 42, '', 'not-object'],
    ['no payloadType', { payload: good.payload, signatures: good.signatures }, 'payloadType', 'missing'],
    ['payloadType a number', { ...good, payloadType: 1 }, 'payloadType', 'wrong-type'],
    ['payloadType empty', { ...good, payloadType: '' }, 'payloadType', 'empty'],
    ['payloadType huge', { ...good, payloadType: 'x'.repeat(100_000) }, 'payloadType', 'too-large'],
    ['payloadType with a lone surrogate', { ...good, payloadType: 'a\uD800' }, 'payloadType', 'bad-text'],
    ['no payload', { payloadType: TYPE, signatures: good.signatures }, 'payload', 'missing'],
    ['payload an object', { ...good, payload: {} }, 'payload', 'wrong-type'],
    ['payload null', { ...good, payload: null }, 'payload', 'wrong-type'],
    ['payload without padding', { ...good, payload: 'e30' }, 'payload', 'bad-base64'],
    ['payload with too much padding', { ...good, payload: 'e30==' }, 'payload', 'bad-base64'],
    ['payload with a newline', { ...good, payload: 'e30=\n' }, 'payload', 'bad-base64'],
    ['payload with a space', { ...good, payload: 'e3 0=' }, 'payload', 'bad-base64'],
    ['payload with a non-base64 character', { ...good, payload: 'e3*0' }, 'payload', 'bad-base64'],
    ['payload with non-zero trailing bits', { ...good, payload: 'e31=' }, 'payload', 'bad-base64'],
    ['payload mixing alphabets', { ...good, payload: 'ab+_' }, 'payload', 'bad-base64'],
    ['payload huge', { ...good, payload: huge }, 'payload', 'too-large'],
    ['no signatures', { payloadType: TYPE, payload: good.payload }, 'signatures', 'missing'],
    ['signatures an object', { ...good, signatures: sig0 }, 'signatures', 'wrong-type'],
    ['signatures empty', { ...good, signatures: [] }, 'signatures', 'empty'],
    ['too many signatures', { ...good, signatures: Array.from({ length: ENVELOPE_LIMITS.signatures + 1 }, () => sig0) }, 'signatures', 'too-large'],
    ['a signature that is a string', { ...good, signatures: [sig0.sig] }, 'signatures[0]', 'wrong-type'],
    ['a signature without sig', { ...good, signatures: [{ keyid: sig0.keyid }] }, 'signatures[0].sig', 'missing'],
    ['sig a number', { ...good, signatures: [{ ...sig0, sig: 1 }] }, 'signatures[0].sig', 'wrong-type'],
    ['sig empty', { ...good, signatures: [{ ...sig0, sig: '' }] }, 'signatures[0].sig', 'empty'],
    ['sig not canonical base64', { ...good, signatures: [{ ...sig0, sig: `${sig0.sig.slice(0, -2)}` }] }, 'signatures[0].sig', 'bad-base64'],
    ['sig with whitespace', { ...good, signatures: [{ ...sig0, sig: ` ${sig0.sig}` }] }, 'signatures[0].sig', 'bad-base64'],
    ['sig huge', { ...good, signatures: [{ ...sig0, sig: 'A'.repeat(1_000_000) }] }, 'signatures[0].sig', 'too-large'],
    ['keyid a number', { ...good, signatures: [{ ...sig0, keyid: 7 }] }, 'signatures[0].keyid', 'wrong-type'],
    ['keyid null', { ...good, signatures: [{ ...sig0, keyid: null }] }, 'signatures[0].keyid', 'wrong-type'],
    ['keyid huge', { ...good, signatures: [{ ...sig0, keyid: 'k'.repeat(10_000) }] }, 'signatures[0].keyid', 'too-large'],
    ['role a boolean', { ...good, signatures: [{ ...sig0, role: true }] }, 'signatures[0].role', 'wrong-type'],
    ['role empty', { ...good, signatures: [{ ...sig0, role: '' }] }, 'signatures[0].role', 'empty'],
    ['signer huge', { ...good, signatures: [{ ...sig0, signer: 's'.repeat(10_000) }] }, 'signatures[0].signer', 'too-large'],
    ['signed_at a number', { ...good, signatures: [{ ...sig0, signed_at: 0 }] }, 'signatures[0].signed_at', 'wrong-type'],
    ['an unknown envelope field', { ...good, payloadUtf8: '{}' }, 'payloadUtf8', 'unknown-field'],
    ['an unknown signature field', { ...good, signatures: [{ ...sig0, cert: 'x' }] }, 'signatures[0].cert', 'unknown-field'],
  ])('%s → a structured error, no throw', (_title, input, path, code) => {
    let result: ReturnType<typeof verifyEnvelope> | undefined;
    expect(() => {
      result = verifyEnvelope(input, [alice.trusted]);
    }).not.toThrow();
    expect(result?.status).toBe('malformed');
    if (result?.status !== 'malformed') return;
    expect(result.problems).toContainEqual(expect.objectContaining({ path, code }));
    for (const problem of result.problems) expect(problem.message.length).toBeLessThan(400);
  });

  it('collects every problem at once', () => {
    const result = parseEnvelope({ payloadType: 3, payload: '!', signatures: [{ sig: '' }, 'x'], extra: 1 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((p) => p.path)).toEqual(['extra', 'payloadType', 'payload', 'signatures[0].sig', 'signatures[1]']);
  });

  it('accepts a missing keyid as empty, as DSSE says', () => {
    const result = expectVerified(verifyEnvelope({ ...good, signatures: [{ sig: sig0.sig }] }, [alice.trusted]));
    expect(result.status).toBe('verified');
    expect(result.signatures[0]?.keyid).toBe('');
  });

  it('accepts URL-safe base64 as DSSE requires, and verifies the same bytes', () => {
    const payload = new Uint8Array([0xfb, 0xff, 0xfe, 0x3e, 0x3f]);
    const envelope = signEnvelope(TYPE, payload, alice.privateKey);
    expect(envelope.payload).toMatch(/[+/]/);
    const urlSafe = {
      ...envelope,
      payload: toUrlSafe(envelope.payload),
      signatures: [{ ...envelope.signatures[0]!, sig: toUrlSafe(envelope.signatures[0]!.sig) }],
    };
    expect(expectVerified(verifyEnvelope(urlSafe, [alice.trusted])).status).toBe('verified');
  });

  it('parseEnvelopeJson reports bad JSON and oversized input without throwing', () => {
    expect(parseEnvelopeJson('{"payload":')).toMatchObject({ ok: false, problems: [{ code: 'not-json' }] });
    expect(parseEnvelopeJson(new Uint8Array([0xff, 0xfe]))).toMatchObject({ ok: false, problems: [{ code: 'not-json' }] });
    expect(parseEnvelopeJson(' '.repeat(13 * 1024 * 1024))).toMatchObject({ ok: false, problems: [{ code: 'too-large' }] });
    expect(parseEnvelopeJson('[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]')).toMatchObject({
      ok: false,
      problems: [{ code: 'not-object' }],
    });
  });
});

function toUrlSafe(standard: string): string {
  return standard.replace(/\+/g, '-').replace(/\//g, '_');
}

describe('decodeBase64', () => {
  it.each<[string, number[] | undefined]>([
    ['', []],
    ['AA==', [0]],
    ['AAA=', [0, 0]],
    ['AAAA', [0, 0, 0]],
    ['-_8=', [0xfb, 0xff]],
    ['+/8=', [0xfb, 0xff]],
    ['AA', undefined],
    ['AA=', undefined],
    ['AB==', undefined],
    ['AA==AA==', undefined],
    ['A\tA==', undefined],
    ['-_8', undefined],
    ['+/8', undefined],
    ['+_8=', undefined],
    ['Zm9v\n', undefined],
  ])('%j → %j', (input, expected) => {
    const out = decodeBase64(input);
    expect(out === undefined ? undefined : [...out]).toEqual(expected);
  });
});
