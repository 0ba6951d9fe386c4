// In a real terminal (tmux): an ask step's pattern makes the prompt ask again until the answer matches, and a typed answer full of shell syntax stays one word.
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, copyFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTmux, TMUX, type TmuxSession } from '../helpers/tmux.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin/deployctl.js');
const FIXTURE = path.join(ROOT, 'test/fixtures/interactive/pattern.yaml');
const WAIT = { timeoutMs: 30_000 };

let sessions: TmuxSession[] = [];
let dirs: string[] = [];

beforeAll(() => {
  if (!existsSync(TMUX)) throw new Error(`these tests need tmux at ${TMUX} (apt-get install tmux)`);
  if (!existsSync(path.join(ROOT, 'dist/cli/entry.js'))) throw new Error('build first: npm run build (npm test does it through pretest)');
});

afterEach(async () => {
  await Promise.all(sessions.map((s) => s.kill()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  sessions = [];
  dirs = [];
});

const prompt = (text: string) => new RegExp(`^\\? .*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm');

describe('an ask step with a pattern, in a terminal', () => {
  it('asks again until the answer matches, and a typed value with shell syntax reaches the command as one word', { timeout: 120_000 }, async () => {
    const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'deployctl-interactive-pattern-')));
    dirs.push(dir);
    copyFileSync(FIXTURE, path.join(dir, 'pattern.yaml'));
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, TERM: 'xterm-256color', LANG: 'C.UTF-8', PS1: '$ ', DEPLOYCTL_OPERATOR: 'e2e' };
    const term = await startTmux({ command: [process.execPath, BIN, 'run', 'pattern.yaml'], cwd: dir, env, width: 120, height: 40 });
    sessions.push(term);

    await term.waitFor(prompt('Change ticket?'), WAIT);
    await term.type('next week');
    await term.sendKeys('Enter');
    await term.waitFor(/the answer must match \^\[A-Z\]\[A-Z0-9\]\*-\[0-9\]\+\$/, WAIT);
    expect(existsSync(path.join(dir, 'ticket.txt'))).toBe(false);
    // The rejected text stays in the field: clear it, then give a ticket.
    await term.sendKeys(...Array.from({ length: 'next week'.length }, () => 'BSpace'));
    await term.type('CHG-6500');
    await term.sendKeys('Enter');

    await term.waitFor(prompt('A note for the record?'), WAIT);
    const note = "it's $(touch MARKER) `touch MARKER` ; touch MARKER";
    await term.type(note);
    await term.sendKeys('Enter');

    await term.waitFor(/^Run \S+: SUCCEEDED/m, WAIT);
    expect(await term.exitCode(WAIT.timeoutMs)).toBe(0);
    expect(readFileSync(path.join(dir, 'ticket.txt'), 'utf8')).toBe('CHG-6500');
    expect(readFileSync(path.join(dir, 'note.txt'), 'utf8')).toBe(note);
    expect(readdirSync(dir).filter((f) => f.includes('MARKER'))).toEqual([]);
  });
});
