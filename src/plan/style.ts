// Terminal emphasis for the text plan: colour only on a terminal that wants it (NO_COLOR, TERM=dumb and pipes get plain text).
import { Chalk } from 'chalk';

export interface Style {
  heading(text: string): string;
  label(text: string): string;
  dim(text: string): string;
}

const same = (text: string) => text;

export const plainStyle: Style = { heading: same, label: same, dim: same };

/** https://no-color.org: any non-empty NO_COLOR turns colour off. */
export function wantsColour(isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  return isTTY && (env.NO_COLOR ?? '') === '' && env.TERM !== 'dumb';
}

export function terminalStyle(): Style {
  const chalk = new Chalk({ level: 1 });
  return { heading: (t) => chalk.bold(t), label: (t) => chalk.cyan(t), dim: (t) => chalk.dim(t) };
}
