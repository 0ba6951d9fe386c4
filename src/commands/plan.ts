// `deployctl plan`: placeholder until the plan renderers land.
import type { Io } from '../cli/io.js';
import { CliError } from '../errors.js';
export function planCommand(_file: string, _options: { format: string; role?: string }, _io: Io): number {
  throw new CliError('plan is not built yet');
}
