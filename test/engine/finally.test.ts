// `finally:` steps: run however the phase ends (completed, failed, NO-GO, rolled back), journaled and resumable like any step.
import { describe, expect, it } from 'vitest';
import { foldEvents } from '../../src/engine/state.js';
import type { RunEvent } from '../../src/engine/events.js';
import { buildRecordPredicate } from '../../src/record/build.js';
import { fakeExec, harness, inlineRunbook, kinds } from '../helpers/engine-fakes.js';

const RUNBOOK = inlineRunbook(`
version: 1
name: freeze
roles:
  lead: { title: Deployment Lead, primary: Ana }
  dba: { title: DBA, primary: Dee }
phases:
  - id: migrate
    steps:
      - { id: read-only, owner: dba, run: "db read-only" }
      - { id: migration, owner: dba, run: "db migrate" }
    gate:
      owner: lead
      require: { migrated: steps.migration.ok }
      on_no_go: rollback
    rollback:
      - { id: restore, owner: dba, run: "db restore" }
    finally:
      - { id: read-write, owner: dba, run: "db read-write" }
      - { id: vacuum, owner: dba, run: "db vacuum" }
  - id: verify
    steps:
      - { id: smoke, owner: lead, run: "smoke" }
`);

const finished = (events: RunEvent[], id: string) =>
  events.filter((e): e is Extract<RunEvent, { kind: 'step-finished' }> => e.kind === 'step-finished' && e.stepId === id).at(-1);

describe('finally: steps', () => {
  it('run right after the phase completes, before the next phase, journaled as finally steps', async () => {
    const h = harness();
    const exec = fakeExec({ 'db read-only': {}, 'db migrate': {}, 'db read-write': {}, 'db vacuum': {}, smoke: {} });
    const result = await h.run(RUNBOOK, {}, { exec, answers: new Map([['migrate', 'go']]) });
    expect(result.exitCode).toBe(0);
    expect(exec.calls).toEqual(['db read-only', 'db migrate', 'db read-write', 'db vacuum', 'smoke']);
    expect(kinds(h.events).slice(kinds(h.events).indexOf('gate-decided:migrate'))).toEqual([
      'gate-decided:migrate',
      'step-started:read-write',
      'step-finished:read-write',
      'step-started:vacuum',
      'step-finished:vacuum',
      'phase-finished:migrate',
      'phase-started:verify',
      'step-started:smoke',
      'step-finished:smoke',
      'phase-finished:verify',
      'run-finished',
    ]);
    expect(finished(h.events, 'read-write')).toMatchObject({ finally: true, rollback: false, outcome: { status: 'succeeded' } });
    expect(foldEvents(h.events).steps.get('read-write')).toMatchObject({ finally: true });
  });

  it('run after the rollback when a step of the phase fails (the database is put back after the restore), and the run still exits 4', async () => {
    const h = harness();
    const exec = fakeExec({ 'db read-only': {}, 'db migrate': { exitCode: 1 }, 'db restore': {}, 'db read-write': {}, 'db vacuum': {} });
    const result = await h.run(RUNBOOK, {}, { exec, answers: new Map() });
    expect(result).toMatchObject({ exitCode: 4, status: 'rolled-back' });
    expect(exec.calls).toEqual(['db read-only', 'db migrate', 'db restore', 'db read-write', 'db vacuum']);
  });

  it('run after a NO-GO that rolls back', async () => {
    const h = harness();
    const exec = fakeExec({ 'db read-only': {}, 'db migrate': {}, 'db restore': {}, 'db read-write': {}, 'db vacuum': {} });
    const result = await h.run(RUNBOOK, {}, { exec, answers: new Map([['migrate', 'no-go'], ['migrate.reason', 'holiday freeze']]) });
    expect(result).toMatchObject({ exitCode: 4, status: 'rolled-back' });
    expect(exec.calls).toEqual(['db read-only', 'db migrate', 'db restore', 'db read-write', 'db vacuum']);
  });

  it('all run even when one fails; on a phase that had completed that fails it, which rolls back like any failed step', async () => {
    const h = harness();
    const exec = fakeExec({ 'db read-only': {}, 'db migrate': {}, 'db read-write': { exitCode: 2, stderr: 'still read-only\n' }, 'db vacuum': {}, 'db restore': {} });
    const result = await h.run(RUNBOOK, {}, { exec, answers: new Map([['migrate', 'go']]) });
    expect(result).toMatchObject({ exitCode: 4, status: 'rolled-back' });
    expect(result.reason).toContain("cleanup of phase 'migrate' failed: 'read-write'");
    expect(exec.calls).toEqual(['db read-only', 'db migrate', 'db read-write', 'db vacuum', 'db restore']);
    expect(exec.calls).not.toContain('smoke');
  });

  it('are not run on an interrupt, and a resume runs the ones not finished yet, once', async () => {
    const controller = new AbortController();
    const h1 = harness();
    const first = fakeExec({
      'db read-only': {},
      'db migrate': {},
      'db read-write': async () => {
        controller.abort('SIGINT');
        return { exitCode: 0 };
      },
    });
    const stopped = await h1.run(RUNBOOK, { signal: controller.signal }, { exec: first, answers: new Map([['migrate', 'go']]) });
    expect(stopped).toMatchObject({ exitCode: 130, status: 'aborted' });
    expect(first.calls).toEqual(['db read-only', 'db migrate', 'db read-write']);
    expect(h1.events.some((e) => e.kind === 'step-started' && e.stepId === 'vacuum')).toBe(false);

    const h2 = harness();
    const second = fakeExec({ 'db read-write': {}, 'db vacuum': {}, smoke: {} });
    const resumed = await h2.run(RUNBOOK, { resume: { state: foldEvents(h1.events), inFlight: 'rerun' } }, { exec: second, answers: new Map([['migrate', 'go']]) });
    expect(resumed).toMatchObject({ exitCode: 0, status: 'succeeded' });
    // read-write had finished before the interrupt was seen: not run twice; vacuum had not started: run now.
    expect(second.calls).toEqual(['db vacuum', 'smoke']);
    const state = foldEvents([...h1.events, ...h2.events]);
    expect(state.steps.get('read-write')?.outcome?.status).toBe('succeeded');
    expect(state.steps.get('vacuum')?.outcome?.status).toBe('succeeded');
  });

  it('are in the record, under their phase', async () => {
    const h = harness();
    const exec = fakeExec({ 'db read-only': {}, 'db migrate': { exitCode: 1 }, 'db restore': {}, 'db read-write': {}, 'db vacuum': {} });
    await h.run(RUNBOOK, {}, { exec, answers: new Map() });
    const predicate = buildRecordPredicate({ doc: RUNBOOK.doc, state: foldEvents(h.events), env: {}, now: h.clock.now() });
    const migrate = predicate.phases.find((p) => p.id === 'migrate')!;
    expect(migrate.finally?.map((s) => [s.id, s.status])).toEqual([
      ['read-write', 'succeeded'],
      ['vacuum', 'succeeded'],
    ]);
    expect(predicate.phases.find((p) => p.id === 'verify')!.finally).toBeUndefined();
  });
});
