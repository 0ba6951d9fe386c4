// `--var name=value` overrides: only declared vars, converted to the type of the default.
import { CliError, ExitCode } from '../errors.js';
import { didYouMean } from '../runbook/suggest.js';
import type { RunbookDoc, Scalar } from '../runbook/types.js';

export function resolveVars(doc: RunbookDoc, overrides: readonly string[]): Record<string, Scalar> {
  const vars: Record<string, Scalar> = { ...(doc.vars ?? {}) };
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
    vars[name] = convert(name, raw, doc.vars![name]!);
  }
  return vars;
}

function convert(name: string, raw: string, defaultValue: Scalar): Scalar {
  if (typeof defaultValue === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) {
      throw new CliError(`--var ${name}=${raw}: '${name}' is a number (default ${defaultValue}), and '${raw}' is not one`, { exitCode: ExitCode.usage });
    }
    return n;
  }
  if (typeof defaultValue === 'boolean') {
    if (raw === 'true' || raw === 'false') return raw === 'true';
    throw new CliError(`--var ${name}=${raw}: '${name}' is true or false (default ${defaultValue})`, { exitCode: ExitCode.usage });
  }
  return raw;
}
