#!/usr/bin/env node
// Baseline of bench/record-verify.mjs: the least a Node program must do to verify a deployctl record: read the
// envelope, decode the payload, build the DSSE pre-authentication encoding (PAE), check the Ed25519 signature against
// the public key, and parse the in-toto statement it signs. No schema, no report, no runbook, no sign-off table.
//
//   node bench/baselines/verify-minimal.mjs RECORD PUBKEY_PEM      exit 0 verified, 1 not
import { createPublicKey, verify } from 'node:crypto';
import fs from 'node:fs';

const [recordFile, pubFile] = process.argv.slice(2);
const envelope = JSON.parse(fs.readFileSync(recordFile, 'utf8'));
const payload = Buffer.from(envelope.payload, 'base64');
const type = Buffer.from(envelope.payloadType, 'utf8');
// DSSE v1: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
const key = createPublicKey(fs.readFileSync(pubFile, 'utf8'));
const ok = envelope.signatures.some((s) => verify(null, pae, key, Buffer.from(s.sig, 'base64')));
const statement = JSON.parse(payload.toString('utf8'));
if (!ok || statement.predicate === undefined) process.exit(1);
