// The package version, read from package.json beside dist/ (no JSON import: it must work from src/ under vitest too).
import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** package.json is at ../../ both from src/ports/ and from the bundle's chunks in dist/cli/ (scripts/bundle.mjs). */
export function packageVersion(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    cached = pkg.version;
  }
  return cached;
}
