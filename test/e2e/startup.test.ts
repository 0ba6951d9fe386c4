// What a deployctl start loads: `--help`, `--version` and `validate` never load execa, listr2, @inquirer/prompts or ora (issues 2 and 7),
// nor the shell parser (web-tree-sitter) unless a `run:` command needs it (issue 12).
//
// The built CLI runs with a probe (`--import`) that records every ES module Node loads, and every CommonJS module in
// require.cache at exit. dist/ is a bundle (scripts/bundle.mjs), so a loaded chunk is mapped back to the source files
// in it through esbuild's metafile, dist/meta.json; a package loaded from node_modules directly counts as itself.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, killAllClis, runCli } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const METAFILE = path.join(ROOT, 'dist', 'meta.json');
const HEAVY = ['execa', 'listr2', '@inquirer/prompts', 'ora', 'web-tree-sitter'];

const HOOKS = `
import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function load(url, context, nextLoad) {
  appendFileSync(file, url + '\\n');
  return nextLoad(url, context);
}
`;

const PROBE = `
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
const file = process.env.DEPLOYCTL_TEST_LOADED;
register(new URL('./hooks.mjs', import.meta.url), { data: { file } });
const require = createRequire(import.meta.url);
process.on('exit', () => {
  const loaded = Object.keys(require.cache).map((f) => 'file://' + f);
  if (loaded.length > 0) appendFileSync(file, loaded.join('\\n') + '\\n');
});
`;

let dir = '';

beforeAll(() => {
  assertBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-startup-'));
  fs.writeFileSync(path.join(dir, 'hooks.mjs'), HOOKS);
  fs.writeFileSync(path.join(dir, 'probe.mjs'), PROBE);
});

afterEach(killAllClis);

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Metafile {
  outputs: Record<string, { inputs: Record<string, unknown> }>;
}

/** The package a source path belongs to (`node_modules/@inquirer/core/dist/index.js` → `@inquirer/core`), or undefined for ours. */
function packageOf(file: string): string | undefined {
  const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
  return match?.[1];
}

/** Run the CLI under the probe; returns its exit code and the packages whose code it loaded. */
async function packagesLoadedBy(args: string[]): Promise<{ code: number | null; packages: Set<string>; files: string[] }> {
  const record = path.join(dir, `loaded-${Math.random().toString(36).slice(2)}.txt`);
  const run = await runCli(args, {
    cwd: ROOT,
    env: { NODE_OPTIONS: `--import=${pathToFileURL(path.join(dir, 'probe.mjs')).href}`, DEPLOYCTL_TEST_LOADED: record },
    timeoutMs: 20_000,
  });
  const urls = fs.existsSync(record) ? fs.readFileSync(record, 'utf8').split('\n').filter((u) => u.startsWith('file://')) : [];
  const meta: Metafile | undefined = fs.existsSync(METAFILE) ? (JSON.parse(fs.readFileSync(METAFILE, 'utf8')) as Metafile) : undefined;
  const files: string[] = [];
  for (const url of urls) {
    const file = path.relative(ROOT, fileURLToPath(url)).split(path.sep).join('/');
    const output = meta?.outputs[file];
    files.push(...(output ? Object.keys(output.inputs) : [file]));
  }
  const packages = new Set(files.map(packageOf).filter((p): p is string => p !== undefined));
  return { code: run.code, packages, files };
}

describe('what a deployctl start loads', () => {
  it.each([
    ['--help', ['--help']],
    ['--version', ['--version']],
    ['validate', ['validate', 'runbooks/phase65.yaml']],
  ])('%s loads none of execa, listr2, @inquirer/prompts, ora and web-tree-sitter', async (_name, args) => {
    const { code, packages, files } = await packagesLoadedBy(args);

    expect(code).toBe(0);
    expect(files.length).toBeGreaterThan(0);
    expect(HEAVY.filter((p) => packages.has(p))).toEqual([]);
  });

  it.each(['--version', '-V', '-v'])('prints the package version for %s, and nothing else', async (flag) => {
    const version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const result = await runCli([flag], { cwd: ROOT, timeoutMs: 20_000 });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${version}\n`);
    expect(result.stderr).toBe('');
  });

  it('answers --version without loading commander or any command', async () => {
    const { code, packages, files } = await packagesLoadedBy(['--version']);

    expect(code).toBe(0);
    expect(packages.has('commander')).toBe(false);
    expect(files.filter((f) => f.startsWith('src/commands/'))).toEqual([]);
  });

  it('loads the shell parser for validate only when a run: command with a template is more than plain words', async () => {
    const runbook = path.join(dir, 'heredoc.yaml');
    fs.writeFileSync(runbook, 'version: 1\nname: h\nroles: { ops: { title: Ops } }\nvars: { v: x }\nphases:\n  - id: p\n    steps:\n      - id: s\n        owner: ops\n        run: |\n          set -e\n          echo ${{ vars.v }} > out\n');
    const { code, packages } = await packagesLoadedBy(['validate', runbook]);

    expect(code).toBe(0);
    expect(packages.has('web-tree-sitter')).toBe(true);
  });

  it('does see the heavy packages where they belong: `run` loads listr2, and the inquirer prompts only when it can ask someone', async () => {
    // The probe's own check: a command that needs the task list loads it, even when the runbook is missing (exit 2).
    const { code, packages } = await packagesLoadedBy(['run', path.join(dir, 'no-such-runbook.yaml')]);

    expect(code).toBe(2);
    expect(packages.has('listr2')).toBe(true);
    // No terminal here: nothing can be asked, so the prompts are never loaded.
    expect(packages.has('@inquirer/prompts')).toBe(false);
  });
});
