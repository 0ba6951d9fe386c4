// Named kill points for crash testing: DEPLOYCTL_FAULT=<point>:<n> SIGKILLs deployctl the n-th time it reaches <point>.
// Only that variable turns them on; without it each call is one comparison. See test/fault/ for the kill-point matrix.

export const FAULT_POINTS = [
  'after-lock',
  'before-step-started',
  'after-step-started',
  'after-spawn',
  'before-step-finished',
  'after-step-finished',
  'at-prompt',
  'record-temp',
  'record-renamed',
  'sign-locked',
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

// Self-contained (test/ports/exec.test.ts transpiles this file alone): anything but printable ASCII is shown as ?.
const spec = parseSpec(process.env['DEPLOYCTL_FAULT']);
let hits = 0;

function parseSpec(text: string | undefined): { point: string; n: number } | undefined {
  if (text === undefined || text === '') return undefined;
  const match = /^([a-z-]+):([1-9][0-9]*)$/.exec(text);
  if (match === null || !(FAULT_POINTS as readonly string[]).includes(match[1]!)) {
    process.stderr.write(`deployctl: ignoring DEPLOYCTL_FAULT=${text.replace(/[^\x20-\x7e]/g, '?')}: expected <point>:<n> with point one of ${FAULT_POINTS.join(', ')}\n`);
    return undefined;
  }
  return { point: match[1]!, n: Number(match[2]) };
}

/** Die here, as a power cut or `kill -9` would, when DEPLOYCTL_FAULT names this point and this is its n-th hit. */
export function faultPoint(point: FaultPoint): void {
  if (spec === undefined || spec.point !== point) return;
  hits++;
  if (hits === spec.n) process.kill(process.pid, 'SIGKILL');
}
