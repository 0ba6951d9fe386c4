// `record verify` re-checks separation of duties offline (issue 14): each gate's `approvals:` rule against the record's answers and who ran each session, with the rule the run itself applied (src/team/approvals.ts).
//
// A run refuses an approval that breaks the rule; a record holding one was made by something else (a modified
// deployctl, an edited record re-signed with the run key). The approvals themselves are the approvers' signed answers,
// but who hosted each session (`host_sessions`) and the answers' order are vouched for by the run key only: a holder
// of the run key who rewrites those can hide a breach (README "Separation of duties, checked offline"). Each answer to an approval gate is checked as the host
// judged it when it came: by someone holding an approving role, not excluded by `not:` (the operator of the session
// then, a role's holders, whoever did a step), not a second approval from the same person when `distinct`. A GO needs
// `min` such approvals in the session that decided it (a resumed session asks for its approvals again).
import { approvalRules } from '../team/approvals.js';
import { gateId, type RunbookDoc } from '../runbook/types.js';
import type { AnswerCheck } from './verify-answers.js';
import type { RecordPredicate } from './types.js';

export interface ApprovalBreach {
  gate: string;
  /** The part of the rule broken: `not: [operator]`, `not: [deploy-app]`, `roles`, `distinct`, `min`, `signed`. */
  rule: string;
  /** Person ids (or the operator's name) it concerns. */
  people: string[];
  /** The sentence verify prints. */
  message: string;
}

/** Breaches named one by one per gate; the rest are counted. */
const MAX_BREACHES_SHOWN = 20;

/** Every breach of the runbook's `approvals:` rules the record shows. `checks` are the answers' signature checks. */
export function checkApprovals(predicate: RecordPredicate, doc: RunbookDoc, checks: readonly AnswerCheck[]): ApprovalBreach[] {
  const breaches: ApprovalBreach[] = [];
  const name = (id: string) => doc.people?.[id]?.name ?? id;
  const sessions = sessionsOf(predicate, doc);
  for (const phase of doc.phases) {
    const gate = phase.gate;
    if (gate?.approvals === undefined) continue;
    const id = gateId(phase);
    const spec = gate.approvals;
    const min = spec.min ?? 1;
    const distinct = spec.distinct !== false;
    const recorded = predicate.phases.find((p) => p.id === phase.id)?.gate;
    // Approvers counted per session (a resumed session asks again, as the run did): session index → person ids.
    const approvedBy = new Map<number, string[]>();
    const counted = new Map<number, string[]>();
    // The answers taken so far, once per prompt and person (what `not: [step]` and `not: [role]` look at): a record
    // is untrusted input, and thousands of answers must not make each check slower.
    const answered = new Map<string, { promptId: string; person?: string }>();
    let shown = 0;
    const cache = new Map<string, ReturnType<typeof approvalRules>>();
    for (const check of checks) {
      const a = check.answer;
      if (a.prompt_id !== id) {
        const key = `${a.prompt_id}\u0000${a.person ?? ''}`;
        if (!answered.has(key)) answered.set(key, { promptId: a.prompt_id, ...(a.person !== undefined ? { person: a.person } : {}) });
        continue;
      }
      if (check.state === 'forged') continue;
      const at = Date.parse(a.at);
      const session = sessions.indexAt(at);
      const before = approvedBy.get(session) ?? [];
      const slot = `approval${a.slot > 1 ? ` (slot ${a.slot})` : ''}`;
      const breach = (rule: string, people: string[], why: string) => (shown++ < MAX_BREACHES_SHOWN ? breaches.push({ gate: id, rule, people, message: `gate ${id}: ${slot} ${JSON.stringify(a.answer)} by ${a.person !== undefined ? `${name(a.person)} (${a.person})` : `the operator ${a.operator ?? '?'}`} breaks its approvals rule: ${why}` }) : undefined);
      if (a.person === undefined) {
        breach('roles', [a.operator ?? '?'], `approvals are people's signed answers, and the operator ${a.operator ?? '?'} is nobody of the runbook's people (approving roles: ${spec.roles.join(', ')})`);
        continue;
      }
      const person = a.person;
      // Who ran the deployment when the run took it: the session's host, and whoever answered at the running terminal.
      const hosts = new Set(sessions.hostsAt(at));
      if (a.via === 'terminal') hosts.add(person);
      // The rule as the run applied it then: split into what depends on who ran the deployment and what on the answers
      // and approvals so far, each computed once per change (a record is untrusted input: thousands of answers must
      // not make each check slower). Together they exclude exactly whom approvalRules(host, answered, before) does.
      const rulesFor = (key: string, make: () => ReturnType<typeof approvalRules>) => {
        let rules = cache.get(key);
        if (rules === undefined) cache.set(key, (rules = make()));
        return rules;
      };
      const given = distinct ? before : [];
      const rest = rulesFor(`a\u0000${answered.size}\u0000${given.join('\u0000')}`, () => approvalRules(doc, gate, undefined, [...answered.values()], given));
      const excluded = new Map<string, string>();
      for (const host of hosts) for (const [who, why] of rulesFor(`h\u0000${host}`, () => approvalRules(doc, gate, host, [], [])).excluded) if (!excluded.has(who)) excluded.set(who, why);
      for (const [who, why] of rest.excluded) if (!excluded.has(who)) excluded.set(who, why);
      const allowed = rest.allowed;
      const why = excluded.get(person);
      if (why !== undefined) breach(ruleOf(why), [person], why);
      else if (!allowed.includes(person)) breach('roles', [person], `${name(person)} holds none of the approving roles (${spec.roles.join(', ')}), so may not approve`);
      else if (check.state === 'unsigned') breach('signed', [person], 'approvals are people\'s signed answers, and this one carries no signature');
      else if (a.answer === 'approve') {
        if (!counted.has(session)) counted.set(session, []);
        counted.get(session)!.push(person);
      }
      if (a.answer === 'approve' && !before.includes(person)) approvedBy.set(session, [...before, person]);
    }
    if (shown > MAX_BREACHES_SHOWN) breaches.push({ gate: id, rule: 'more', people: [], message: `gate ${id}: ${shown - MAX_BREACHES_SHOWN} more approvals break its approvals rule` });
    if (recorded?.decision === 'go') {
      const session = recorded.decided_at !== undefined ? sessions.indexAt(Date.parse(recorded.decided_at)) : sessions.last;
      const approvers = counted.get(session) ?? [];
      const count = distinct ? new Set(approvers).size : approvers.length;
      if (count < min) {
        const who = approvers.length > 0 ? ` (approved by ${[...new Set(approvers)].map(name).join(', ')})` : '';
        breaches.push({
          gate: id,
          rule: 'min',
          people: [...new Set(approvers)],
          message: `gate ${id}: GO with ${count} valid approval${count === 1 ? '' : 's'}${who}, and its approvals rule needs ${min}${distinct ? ' from different people' : ''} holding ${spec.roles.join(', ')}${spec.not !== undefined ? `, none of them ${spec.not.join(', ')}` : ''}`,
        });
      }
    }
  }
  return breaches;
}

/** `not: [operator]` in "… (separation of duties: not: [operator])"; `distinct` for a second approval. */
function ruleOf(why: string): string {
  const match = /\(separation of duties: (not: \[[^\]]*\])\)/.exec(why);
  return match !== null ? match[1]! : why.includes('(distinct)') ? 'distinct' : 'not';
}

interface Sessions {
  /** The session the run was in at `at` (ms): the newest one started by then. */
  indexAt(at: number): number;
  /** The person(s) who ran the deployment then. */
  hostsAt(at: number): string[];
  last: number;
}

/**
 * Who ran the deployment when: the record's `host_sessions`. A record written before them names only its operator and
 * resumers; those who are people of the runbook all count as the operator, throughout (one session).
 */
function sessionsOf(predicate: RecordPredicate, doc: RunbookDoc): Sessions {
  const recorded = predicate.host_sessions;
  if (recorded === undefined || recorded.length === 0) {
    const people = doc.people ?? {};
    const hosts = [...new Set([predicate.operator, ...predicate.resumes.map((r) => r.by)])].filter((p) => Object.hasOwn(people, p));
    return { indexAt: () => 0, hostsAt: () => hosts, last: 0 };
  }
  const starts = recorded.map((s) => Date.parse(s.at));
  // The newest session started by `at` (binary search: sessions are in order; before the first, the first).
  const indexAt = (at: number) => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (starts[mid]! <= at) low = mid;
      else high = mid - 1;
    }
    return low;
  };
  return { indexAt, hostsAt: (at) => (recorded[indexAt(at)]!.person !== undefined ? [recorded[indexAt(at)]!.person!] : []), last: recorded.length - 1 };
}
