// Bundle the CLI with esbuild: dist/cli/entry.js plus chunks that load only when a command needs them (issue 7).
//
// A handful of files per start instead of ~120 modules resolved and read one by one is most of what `validate` and
// `--help` gain. Every `await import()` in src/ stays a chunk boundary (splitting), so `--version`, `--help` and
// `validate` never load execa, listr2, @inquirer/prompts or ora: test/e2e/startup.test.ts checks that against the
// metafile written here. Type-checking is tsc's job (`tsc --noEmit` in `npm run build`); esbuild only strips types.
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist');
const ENTRY = join(outdir, 'cli', 'entry.js');

/** Where the bundle's module graph is written: which source files each output file holds, and what it imports. */
const METAFILE = join(outdir, 'meta.json');

/**
 * Files of earlier builds are removed only once this old. Chunk names carry a content hash and a running deployctl
 * imports some chunks late (execa at a run's first step): a rebuild under a running process, or under a test suite
 * in the same checkout, must not pull its chunks away.
 */
const STALE_MS = 24 * 60 * 60 * 1000;

const result = await build({
  absWorkingDir: root,
  entryPoints: { 'cli/entry': 'src/cli/entry.ts' },
  outdir,
  // Chunks sit beside the entry: src/ports/version.ts finds package.json at ../../ from whichever file it lands in.
  chunkNames: 'cli/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  // Dependencies are bundled too: resolving and reading node_modules file by file is the cost being removed.
  packages: 'bundle',
  // pg's optional native binding (libpq through a C++ addon): required only when asked for, never by deployctl.
  external: ['pg-native'],
  // Stack traces map back to src/ (node --enable-source-maps); the sources stay in src/, not in the maps.
  sourcemap: 'linked',
  sourcesContent: false,
  // Some dependencies are CommonJS and require() Node's built-ins; an ES module has no require of its own.
  banner: { js: "import { createRequire as __deployctlCreateRequire } from 'node:module';\nconst require = __deployctlCreateRequire(import.meta.url);" },
  metafile: true,
  write: false,
  logLevel: 'warning',
});

// Each file appears whole or not at all (written aside, then renamed), chunks before the entry that imports them.
const outputs = [...result.outputFiles].sort((a, b) => Number(a.path.startsWith(ENTRY)) - Number(b.path.startsWith(ENTRY)));
const written = new Set([METAFILE]);
const put = (file, contents) => {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, contents);
  renameSync(temp, file);
  written.add(file);
};
for (const output of outputs) put(output.path, output.contents);
put(METAFILE, `${JSON.stringify(result.metafile)}\n`);

removeStale(outdir);

/** Remove what earlier builds left (old chunks, tsc's per-module output) once it is older than STALE_MS. */
function removeStale(dir) {
  const now = Date.now();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = join(dir, entry.name);
    if (entry.isDirectory()) {
      removeStale(file);
      if (readdirSync(file).length === 0) rmSync(file, { recursive: true, force: true });
    } else if (!written.has(file) && now - statSync(file).mtimeMs > STALE_MS) {
      rmSync(file, { force: true });
    }
  }
}

console.log(`bundle: ${outputs.filter((o) => o.path.endsWith('.js')).length} files in ${relative(root, outdir)}/`);
