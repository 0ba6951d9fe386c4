// xmllint for tests: well-formedness and XPath queries on JUnit reports. Missing xmllint skips those assertions, saying so (.ci/run installs it).
import { execFileSync, spawnSync } from 'node:child_process';

export const XMLLINT_MISSING =
  'xmllint is not installed: skipping the well-formedness checks of JUnit reports (install the Debian package libxml2-utils; .ci/run does)';

let available: boolean | undefined;

export function hasXmllint(): boolean {
  available ??= spawnSync('xmllint', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!available) console.warn(XMLLINT_MISSING);
  return available;
}

/** `xmllint --noout`: throws with xmllint's message when the file is not well-formed XML. */
export function assertWellFormed(file: string): void {
  const result = spawnSync('xmllint', ['--noout', file], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`xmllint --noout ${file} failed:\n${result.stderr}`);
}

/** The string value of an XPath expression (`count(//testcase)`, `string(//failure/@message)`). */
export function xpath(file: string, expression: string): string {
  return execFileSync('xmllint', ['--xpath', expression, file], { encoding: 'utf8' }).replace(/\n$/, '');
}
