// The journal: one JSON event per line, append-only, each line linked to the one before by its hash (`prev`). Parsing keeps every complete entry and skips torn or garbage lines.
import type { RunEvent, RunEventKind } from './events.js';

/** Every kind the journal keeps: a Record, so the compiler names a kind added to RunEvent and forgotten here (it would be dropped on resume). */
const KNOWN: Record<RunEventKind, true> = {
  'run-started': true,
  'run-resumed': true,
  'phase-started': true,
  'phase-finished': true,
  'phase-overrun': true,
  'step-started': true,
  'step-spawned': true,
  'step-output': true,
  'step-retrying': true,
  'step-progress': true,
  'step-finished': true,
  'watch-started': true,
  'watch-tick': true,
  'watch-decided': true,
  'failure-handled': true,
  'gate-opened': true,
  'gate-evaluated': true,
  'gate-decided': true,
  'gate-skipped': true,
  'rollback-requested': true,
  'rollback-authorized': true,
  'rollback-started': true,
  'rollback-finished': true,
  interrupted: true,
  escalation: true,
  notification: true,
  'run-finished': true,
};
const KINDS: ReadonlySet<string> = new Set(Object.keys(KNOWN));

export function serializeEvent(event: RunEvent): string {
  return `${JSON.stringify(event)}\n`;
}

export interface ParsedJournal {
  events: RunEvent[];
  /** Lines that were not complete events (a torn last write, garbage): skipped, counted. */
  skippedLines: number;
  /** The file did not end with a newline: the last write was cut short (its entry is kept if only the newline is missing). */
  tornTail: boolean;
}

/** One complete event of a journal, with the text it was read from (what the hash chain covers). */
export interface JournalEntry {
  event: RunEvent;
  /** The line as stored, without its newline. */
  line: string;
  /** The hash of the entry before it, when the line carries one (journals of earlier versions do not). */
  prev?: string;
  /** 1-based line number in the text (a file), or the row's position (a table). */
  position: number;
}

export interface ParsedJournalEntries {
  entries: JournalEntry[];
  /** Where the skipped lines were (1-based). */
  skipped: number[];
  tornTail: boolean;
}

/** Never throws: a crash can cut the last line anywhere, and the file may have been damaged by hand. */
export function parseJournal(text: string): ParsedJournal {
  const parsed = parseJournalEntries(text);
  return { events: parsed.entries.map((e) => e.event), skippedLines: parsed.skipped.length, tornTail: parsed.tornTail };
}

/** parseJournal, keeping each entry's line and hash link for the chain check. Never throws. */
export function parseJournalEntries(text: string): ParsedJournalEntries {
  const entries: JournalEntry[] = [];
  const skipped: number[] = [];
  const tornTail = text.length > 0 && !text.endsWith('\n');
  const lines = text.split('\n');
  // The piece after the last newline is what a crash cut short. It is still a whole entry when only its newline is
  // missing (a JSON object cut anywhere earlier does not parse): keep it, as every later read will once openJournal
  // has written the newline that ends it.
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const entry = parseJournalLine(line, index + 1);
    if (entry === undefined) skipped.push(index + 1);
    else entries.push(entry);
  });
  return { entries, skipped, tornTail };
}

/** One stored line (or row) as an entry, or undefined when it is not a complete event. Never throws. */
export function parseJournalLine(line: string, position: number): JournalEntry | undefined {
  const parsed = parseEventLine(line);
  if (parsed === undefined) return undefined;
  return { event: parsed.event, line, position, ...(parsed.prev !== undefined ? { prev: parsed.prev } : {}) };
}

function parseEventLine(line: string): { event: RunEvent; prev?: string } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const { prev, ...record } = value as Record<string, unknown>;
  if (typeof record['kind'] !== 'string' || !KINDS.has(record['kind'] as RunEventKind) || typeof record['at'] !== 'number') return undefined;
  if (!hasRequiredFields(record)) return undefined;
  // `prev`, the hash link, is the store's, not the event's: a line whose link is not text is not an event it wrote.
  if (prev !== undefined && typeof prev !== 'string') return undefined;
  return { event: record as unknown as RunEvent, ...(prev !== undefined ? { prev } : {}) };
}

/** Just enough shape checking that folding the event cannot throw. */
function hasRequiredFields(e: Record<string, unknown>): boolean {
  const str = (k: string) => typeof e[k] === 'string';
  switch (e['kind'] as RunEventKind) {
    case 'run-started':
      return str('runId') && typeof e['runbook'] === 'object' && e['runbook'] !== null && typeof e['tool'] === 'object' && e['tool'] !== null && typeof e['vars'] === 'object';
    case 'run-resumed':
      return str('runId') && str('by');
    case 'phase-started':
    case 'phase-finished':
      return str('phaseId');
    case 'phase-overrun':
      return str('phaseId') && typeof e['plannedEnd'] === 'number';
    case 'watch-started': {
      const plan = e['plan'] as Record<string, unknown> | null;
      return str('stepId') && typeof plan === 'object' && plan !== null && ['startedAt', 'everyMs', 'initialDelayMs', 'plannedTicks'].every((k) => typeof plan[k] === 'number');
    }
    case 'watch-tick': {
      const tick = e['tick'] as Record<string, unknown> | null;
      return (
        str('stepId') &&
        typeof tick === 'object' &&
        tick !== null &&
        typeof tick['n'] === 'number' &&
        typeof tick['due'] === 'number' &&
        typeof tick['status'] === 'string' &&
        Array.isArray(tick['checks']) &&
        (tick['checks'] as unknown[]).every((c) => typeof c === 'object' && c !== null && typeof (c as Record<string, unknown>)['id'] === 'string' && typeof (c as Record<string, unknown>)['status'] === 'string')
      );
    }
    case 'watch-decided':
      return str('stepId') && (e['decision'] === 'continue' || e['decision'] === 'fail') && typeof e['by'] === 'object' && e['by'] !== null;
    case 'step-started':
      return str('stepId') && str('phaseId');
    case 'step-spawned':
      return str('stepId') && typeof e['pid'] === 'number';
    case 'step-finished':
      return str('stepId') && str('phaseId') && typeof e['outcome'] === 'object' && e['outcome'] !== null && typeof (e['outcome'] as Record<string, unknown>)['status'] === 'string';
    case 'gate-opened':
      return str('gateId') && str('phaseId');
    case 'gate-evaluated':
      return str('gateId') && Array.isArray(e['conditions']);
    case 'gate-decided':
      return str('gateId') && (e['decision'] === 'go' || e['decision'] === 'no-go');
    case 'failure-handled':
      return str('stepId') && str('phaseId') && str('policy') && str('action');
    case 'rollback-requested':
      return str('reason') && Array.isArray(e['phases']) && str('authorize') && typeof e['timeoutMs'] === 'number' && str('default');
    case 'rollback-authorized':
      return (e['decision'] === 'rollback' || e['decision'] === 'abort') && typeof e['by'] === 'object' && e['by'] !== null && str('answeredFrom');
    case 'gate-skipped':
      return str('gateId') && str('phaseId') && str('reason');
    case 'rollback-started':
      return str('reason') && Array.isArray(e['phases']);
    case 'run-finished':
      return str('status') && typeof e['exitCode'] === 'number';
    case 'escalation':
      return str('rule') && Array.isArray(e['to']);
    case 'notification':
      return str('channel') && str('messageKind') && typeof e['delivered'] === 'boolean';
    default:
      return true;
  }
}
