// `--var name=value` overrides: only declared vars; a var keeps the text it was given, unless its default makes it a number or true/false; and it must match the var's pattern.
import { CliError, ExitCode } from '../errors.js';
import { matchesPattern, varDefaults, varPattern } from '../runbook/pattern.js';
import { didYouMean } from '../runbook/suggest.js';
import { MAX_EXACT_INTEGER, readDecimal } from '../runbook/numbers.js';
import type { RunbookDoc, Scalar } from '../runbook/types.js';

export function resolveVars(doc: RunbookDoc, overrides: readonly string[]): Record<string, Scalar> {
  const defaults = varDefaults(doc);
  const vars: Record<string, Scalar> = { ...defaults };
  const declared = Object.keys(doc.vars ?? {});
  for (const pair of overrides) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new CliError(`--var '${pair}' is not name=value`, { exitCode: ExitCode.usage, hint: 'write it as --var base_url=https://example.com' });
    }
    const name = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    if (!declared.includes(name)) {
      throw new CliError(`--var ${name}: the runbook declares no var '${name}'${didYouMean(name, declared)}`, {
        exitCode: ExitCode.usage,
        hint: declared.length > 0 ? `declared vars: ${declared.join(', ')}` : "add it under 'vars:' in the runbook first",
      });
    }
    if (raw.includes('\0')) throw new CliError(`--var ${name}: the value contains a NUL character`, { exitCode: ExitCode.usage });
    const pattern = varPattern(doc, name);
    if (pattern !== undefined && !matchesPattern(pattern, raw)) {
      // The whole value must match: nothing has run yet, and nothing will with this value (issue 12).
      throw new CliError(`--var ${name}=${JSON.stringify(raw)} does not match the pattern the runbook sets for '${name}'`, {
        exitCode: ExitCode.usage,
        hint: `give a value that matches ${pattern} as a whole (e.g. the default, ${JSON.stringify(String(defaults[name]))})`,
      });
    }
    vars[name] = convert(name, raw, defaults[name]!);
  }
  return vars;
}

function convert(name: string, raw: string, defaultValue: Scalar): Scalar {
  if (typeof defaultValue === 'number') {
    // Number() took 0x10, 0b11 and ' 1e3 ' and rounded 2^53 + 1: only a decimal that stays exactly itself is a number.
    const read = readDecimal(raw);
    if (read.ok) return read.value;
    const why =
      read.reason === 'inexact-integer'
        ? `${raw} is beyond the integers a number holds exactly (±${MAX_EXACT_INTEGER})`
        : read.reason === 'too-large'
          ? `'${raw}' is too large for a number`
          : `'${raw}' is not a decimal number such as 42, -7 or 0.25`;
    throw new CliError(`--var ${name}=${raw}: '${name}' is a number (its default is ${defaultValue}), and ${why}`, {
      exitCode: ExitCode.usage,
      hint: `give a decimal number, or, to keep the value as text exactly as given, quote the default in the runbook (${name}: "${defaultValue}")`,
    });
  }
  if (typeof defaultValue === 'boolean') {
    if (raw === 'true' || raw === 'false') return raw === 'true';
    throw new CliError(`--var ${name}=${raw}: '${name}' is true or false (default ${defaultValue})`, { exitCode: ExitCode.usage });
  }
  return raw;
}
