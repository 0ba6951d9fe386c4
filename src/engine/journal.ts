// The journal: one JSON event per line, append-only. Parsing keeps every complete entry and skips torn or garbage lines.
import type { RunEvent, RunEventKind } from './events.js';

/** Every kind the journal keeps: a Record, so the compiler names a kind added to RunEvent and forgotten here (it would be dropped on resume). */
const KNOWN: Record<RunEventKind, true> = {
  'run-started': true,
  'run-resumed': true,
  'phase-started': true,
  'phase-finished': true,
  'step-started': true,
  'step-spawned': true,
  'step-output': true,
  'step-retrying': true,
  'step-progress': true,
  'step-finished': true,
  'failure-handled': true,
  'gate-opened': true,
  'gate-evaluated': true,
  'gate-decided': true,
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

/** Never throws: a crash can cut the last line anywhere, and the file may have been damaged by hand. */
export function parseJournal(text: string): ParsedJournal {
  const events: RunEvent[] = [];
  let skippedLines = 0;
  const tornTail = text.length > 0 && !text.endsWith('\n');
  const lines = text.split('\n');
  // The piece after the last newline is what a crash cut short. It is still a whole entry when only its newline is
  // missing (a JSON object cut anywhere earlier does not parse): keep it, as every later read will once openJournal
  // has written the newline that ends it.
  lines.forEach((line) => {
    if (line.trim() === '') return;
    const event = parseEventLine(line);
    if (event === undefined) skippedLines++;
    else events.push(event);
  });
  return { events, skippedLines, tornTail };
}

function parseEventLine(line: string): RunEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record['kind'] !== 'string' || !KINDS.has(record['kind']) || typeof record['at'] !== 'number') return undefined;
  if (!hasRequiredFields(record)) return undefined;
  return record as unknown as RunEvent;
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
