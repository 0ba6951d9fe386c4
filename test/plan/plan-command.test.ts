// `planCommand` called like an API: formats, colour only on a terminal without NO_COLOR, errors as CliError values.
import { describe, it, expect } from 'vitest';
import { bufferIo, type Io } from '../../src/cli/io.js';
import { planCommand } from '../../src/commands/plan.js';
import { CliError } from '../../src/errors.js';

const SMALL = 'test/fixtures/plan/small.yaml';
const ANSI = /\x1b\[/;

function terminal(env: NodeJS.ProcessEnv): Io & { stdout: string[]; stderr: string[] } {
  return { ...bufferIo(env), isTTY: true };
}

async function thrown(run: () => unknown): Promise<CliError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error('expected a CliError');
}

describe('planCommand', () => {
  it('writes one document to stdout and returns 0', async () => {
    const io = bufferIo();
    expect(await planCommand(SMALL, { format: 'json' }, io)).toBe(0);
    expect(io.stdout).toHaveLength(1);
    expect(io.stderr).toEqual([]);
    expect(JSON.parse(io.stdout[0]!)).toMatchObject({ name: 'newsletter', role: null });
  });

  it('defaults to the text format', async () => {
    const io = bufferIo();
    await planCommand(SMALL, {}, io);
    expect(io.stdout[0]).toMatch(/^Newsletter service \| v2 rollout\n/);
  });

  it.each<[string, NodeJS.ProcessEnv, boolean]>([
    ['a terminal', {}, true],
    ['a terminal with NO_COLOR', { NO_COLOR: '1' }, false],
    ['a dumb terminal', { TERM: 'dumb' }, false],
  ])('colours the text plan on %s: %s', async (_where, env, coloured) => {
    const io = terminal(env);
    await planCommand(SMALL, { format: 'text' }, io);
    expect(ANSI.test(io.stdout[0]!)).toBe(coloured);
  });

  it('never colours Markdown or JSON', async () => {
    for (const format of ['markdown', 'json'] as const) {
      const io = terminal({});
      await planCommand(SMALL, { format }, io);
      expect(io.stdout[0]).not.toMatch(ANSI);
    }
  });

  it('refuses an invalid runbook with exit code 2 and one positioned line per problem', async () => {
    const error = await thrown(() => planCommand('test/fixtures/plan/invalid.yaml', {}, bufferIo()));
    expect(error.exitCode).toBe(2);
    expect(error.details).toEqual(["test/fixtures/plan/invalid.yaml:12:16: owner 'qaa' is not a declared role (roles: sre)"]);
  });

  it('refuses an unknown role with exit code 2, a did-you-mean and the known roles', async () => {
    const error = await thrown(() => planCommand(SMALL, { role: 'sr' }, bufferIo()));
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe("--role 'sr' is not a role of this runbook");
    expect(error.hint).toBe('Roles: owner (Service Owner), sre (SRE), qa (QA Lead), director (Engineering Director).');
    expect((await thrown(() => planCommand(SMALL, { role: 'qaa' }, bufferIo()))).message).toContain("did you mean 'qa'?");
  });

  it('accepts a role by its title', async () => {
    const io = bufferIo();
    await planCommand(SMALL, { role: 'Service Owner', format: 'json' }, io);
    expect(JSON.parse(io.stdout[0]!)).toMatchObject({ role: 'owner' });
  });
});
