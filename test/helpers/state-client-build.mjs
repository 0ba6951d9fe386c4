// Bundle test/helpers/state-client.ts into one runnable .mjs (esbuild, as the CLI is bundled), so tests and benchmarks can start it as separate processes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ENTRY = fileURLToPath(new URL('./state-client.ts', import.meta.url));

/** Returns the path of the bundled client (in a new temp dir the caller may remove). */
export async function buildStateClient() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployctl-state-client-'));
  const outfile = path.join(dir, 'state-client.mjs');
  await build({
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    external: ['pg-native'],
    banner: { js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  return outfile;
}
