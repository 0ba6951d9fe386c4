// What every `deployctl record` command shares: its context, the trust flags, the record a command reads (a file or a stored record), and failing with a user-facing message.
import * as path from 'node:path';
import type { Io } from '../cli/io.js';
import { CliError, ExitCode } from '../errors.js';
import { fileFailure, isFileFailure } from '../ports/fs-failure.js';
import type { SchemaValidator } from '../runbook/schema.js';
import { clean } from '../record/format.js';
import { UNREADABLE_HINT, type Message } from '../record/messages.js';
import { prepareTrust, verifyRecordBytes, verifyRecordFile, type RecordVerification, type Trust, type UnreadableRecord } from '../record/verify.js';
import { roleKeyGivenAsRunKey } from '../record/trust.js';

export interface RecordContext {
  io: Io;
  cwd: string;
  env: NodeJS.ProcessEnv;
  now: () => number;
  /** The record schema validator; tests pass one compiled at test time. */
  validate?: SchemaValidator;
  /** How long `record sign` waits for another sign-off of the same record (default 10 s). */
  signLockWaitMs?: number;
}

export function defaultRecordContext(io: Io): RecordContext {
  return { io, cwd: process.cwd(), env: io.env, now: Date.now };
}

export interface TrustFlags {
  /** `--pubkey`, repeatable. */
  pubkey?: string[];
  runbook?: string;
}

export const RECORD_SUBCOMMANDS = ['show', 'verify', 'sign', 'export', 'list'] as const;

/** A full, read-only or foreign-owned directory gets the hint every other command gives for it (who owns what, df -h). */
export function withStorageHint(message: Message, code: string, file: string): Message {
  if (!isFileFailure(Object.assign(new Error(code), { code }))) return message;
  const explained = fileFailure(Object.assign(new Error(code), { code, path: file, syscall: 'open' }), process.cwd(), 'run record sign again');
  return explained.hint === undefined ? message : { ...message, hint: explained.hint };
}

export function fail(message: Message, exitCode: number, details: readonly string[] = []): never {
  throw new CliError(message.message, { exitCode, details, ...(message.hint !== undefined ? { hint: message.hint } : {}) });
}

export function trustFrom(flags: TrustFlags, ctx: RecordContext): Trust {
  const prepared = prepareTrust(
    { ...(flags.pubkey !== undefined ? { pubkeys: flags.pubkey } : {}), ...(flags.runbook !== undefined ? { runbook: flags.runbook } : {}) },
    { cwd: ctx.cwd, env: ctx.env, ...(ctx.validate !== undefined ? { validate: ctx.validate } : {}) },
  );
  if (!prepared.ok) fail(prepared, ExitCode.usage, prepared.details.map((d) => `  ${d}`));
  return prepared.trust;
}

/**
 * Refuse (exit 2) a `--pubkey` that is a role's sign-off key in the runbook the records name: it would make a role key
 * a run key, and a record changed and re-signed with that key alone would verify VALID. Call after verifying.
 */
export function refuseRoleKeyAsRunKey(trust: Trust): void {
  const found = roleKeyGivenAsRunKey(trust);
  if (found === undefined) return;
  fail(
    {
      message: `--pubkey ${clean(found.pubkey, 200)} is the key role ${clean(found.role, 64)} signs off with (${clean(found.runbook, 200)} lists it under roles.${clean(found.role, 64)}.keys): a role key only signs off, it never makes a record valid, so it is not taken as a run key`,
      hint: "give the public key the run signed with instead: .deployctl/keys/deployctl.pub of the machine (and directory) that ran it; the runbook's role keys are checked for sign-offs by themselves",
    },
    ExitCode.usage,
  );
}

export function failUnreadable(v: UnreadableRecord): never {
  fail({ message: v.problem.message, hint: UNREADABLE_HINT }, ExitCode.usage, v.problem.details.map((d) => `  ${d}`));
}

/** A record to read: a file, or one the state store holds (a PostgreSQL row, named `postgres:<name>` as `record list` shows it). */
export type RecordTarget = string | { label: string; bytes: Uint8Array; /** Its name in the store (`record sign` writes it back there). */ name?: string };

export const labelOf = (target: RecordTarget): string => (typeof target === 'string' ? target : target.label);

export function verifyTarget(target: RecordTarget, trust: Trust): RecordVerification {
  return typeof target === 'string' ? verifyRecordFile(target, trust) : verifyRecordBytes(target.label, target.bytes, trust);
}

export function shown(ctx: RecordContext, file: string): string {
  const relative = path.relative(ctx.cwd, file);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}
