// Durations (`30s`, `5m`, `1h30m`) and timeline offsets (`T`, `T-20m`, `T+4h`) as used in runbooks.

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;
const PART = /([0-9]{1,9})(ms|s|m|h|d)/gy;

/** Milliseconds for a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (text.length === 0) return undefined;
  PART.lastIndex = 0;
  let total = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const match = PART.exec(text);
    if (match === null || match.index !== start) return undefined;
    total += Number(match[1]) * UNIT_MS[match[2] as Unit];
  }
  return total;
}

/** Offset from T in milliseconds (negative before T), or undefined. */
export function parseOffset(text: string): number | undefined {
  if (text === 'T') return 0;
  if (!text.startsWith('T+') && !text.startsWith('T-')) return undefined;
  const ms = parseDuration(text.slice(2));
  if (ms === undefined) return undefined;
  return text[1] === '-' ? -ms : ms;
}

/** `1h 5m`, `4m 12s`, `850 ms`: short and readable, for summaries. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  // Decide each unit on the rounded value, so 999.6 ms is '1.0s' and 59.7 s is '1m', never '1000 ms' or '60s'.
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  if (ms < 9_950) return `${(ms / 1000).toFixed(1)}s`;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 60) return `${totalSeconds}s`;
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  return s > 0 ? `${m}m ${s}s` : `${m}m`;
}

/** `T-20m`, `T`, `T+1h 30m` for plans and status updates. */
export function formatOffset(ms: number): string {
  if (ms === 0) return 'T';
  const sign = ms < 0 ? '-' : '+';
  return `T${sign}${formatDuration(Math.abs(ms)).replace(/\s/g, '')}`;
}
