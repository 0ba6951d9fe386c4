// `deployctl answer STEP_ID [--run RUN_ID] --as P [--value V | --yes | --no]` (issue 14): one signed answer to one prompt of a live run, from a script or a chat bot, also before the prompt opens.
import type { Io } from '../cli/io.js';
import { CliError, ExitCode } from '../errors.js';
import type { PromptRequest } from '../ports/types.js';
import { signAnswer } from '../record/answers.js';
import { claimPrompt } from '../team/claimer.js';
import { judgeClaim } from '../team/judge.js';
import { joinerIdentity, leaveRefusedAttempt, openLiveRun, type TeamCommandOptions, type TeamPorts } from '../team/live-run.js';
import { approvalGate, approvalRules } from '../team/approvals.js';
import { answerProblem, holders, requestFromRunbook, roleOfPrompt, startSlot } from '../team/prompts.js';
import { formatTeamAnswer } from '../reporters/team-lines.js';
import { deployctlCommand } from './run-hints.js';

export interface AnswerOptions extends TeamCommandOptions {
  value?: string;
  yes?: boolean;
  no?: boolean;
}

export async function answerCommand(promptId: string, options: AnswerOptions, ports: TeamPorts & { io: Io }): Promise<number> {
  const flags = [options.value !== undefined, options.yes === true, options.no === true].filter(Boolean).length;
  if (flags !== 1) throw new CliError('say the answer with exactly one of --yes, --no or --value V', { hint: `deployctl answer ${promptId} --as PERSON --yes` });
  const run = await openLiveRun(options, ports, `${deployctlCommand(ports.env)} answer ${promptId}`);
  try {
    const team = run.state.team;
    const open = team?.prompts.get(promptId);
    const request = open?.request ?? requestFromRunbook(run.doc, promptId);
    if (request === undefined) throw new CliError(`${run.doc.name} has no prompt ${promptId}`, { hint: 'a prompt is a manual step (qa-ready), a gate (go-no-go, its decision) or a gate\'s condition (go-no-go.leadership_approved)' });
    const answer = answerValue(request, options);
    // Answered, and not asked again (yet): an answer now would only wait for an asking that may never come.
    const given = open?.open === true || approvalGate(run.doc, promptId) !== undefined ? undefined : team?.answers.findLast((a) => a.promptId === promptId);
    if (given !== undefined) {
      const who = given.person !== undefined ? (run.people.get(given.person)?.name ?? given.person) : `the operator ${given.operator ?? ''}`;
      ports.io.err(`deployctl: ${promptId} was already answered by ${who}: ${formatTeamAnswer(given.answer)}; your answer was not used`);
      return ExitCode.failed;
    }
    const identity = await joinerIdentity(run, options, ports, promptId, answer);
    const person = identity.person;
    const role = request.role ?? roleOfPrompt(run.doc, promptId);
    const title = role !== undefined ? (run.doc.roles[role]?.title ?? role) : 'the operator';
    const holding = holders(role !== undefined ? run.doc.roles[role] : undefined);
    // A gate's approval: the holders of the approving roles, less those separation of duties excludes.
    const gate = approvalGate(run.doc, promptId);
    const approvedBy = (team?.answers ?? []).filter((a) => a.promptId === promptId && a.answer === 'approve').map((a) => a.person ?? '');
    const rules = gate !== undefined ? approvalRules(run.doc, gate, team?.host?.person, team?.answers ?? [], approvedBy) : undefined;
    const refusal = rules === undefined ? undefined : rules.excluded.get(person.id) ?? (rules.allowed.includes(person.id) ? undefined : `${person.name} (${person.id}) holds none of the approving roles (${gate!.approvals!.roles.join(', ')})`);
    if (refusal !== undefined) {
      await leaveRefusedAttempt(run, promptId, person.id, answer, (input) => signAnswer(input, identity.privateKey));
      throw new CliError(`${refusal}: refused, and logged in run ${run.runId}'s journal`, { exitCode: ExitCode.usage, hint: `approvers: ${rules!.allowed.filter((p) => !rules!.excluded.has(p)).join(', ') || 'nobody left'}` });
    }
    if (rules === undefined && !holding.includes(person.id)) {
      await leaveRefusedAttempt(run, promptId, person.id, answer, (input) => signAnswer(input, identity.privateKey));
      throw new CliError(`${person.name} (${person.id}) does not hold role ${role ?? '(none)'} (${title}: ${holding.join(', ') || 'only the running terminal'}), so cannot answer ${promptId}: refused, and logged in run ${run.runId}'s journal`, {
        exitCode: ExitCode.usage,
        hint: holding.length > 0 ? `ask ${holding.join(' or ')} to answer it` : 'it is answered at the terminal running the deployment',
      });
    }
    const problem = answerProblem(request, answer);
    if (problem !== undefined) throw new CliError(`that does not answer ${promptId}: ${problem}`, { hint: 'nothing was answered' });

    const at = Date.now();
    const outcome = await claimPrompt({
      store: run.store,
      runId: run.runId,
      startSlot: startSlot(team?.prompts, promptId),
      claimFor: (slot) => ({
        promptId: slot === 1 ? promptId : `${promptId}~${slot}`,
        by: person.id,
        answer,
        at,
        proof: signAnswer({ run_id: run.runId, prompt_id: promptId, slot, answer, at: new Date(at).toISOString(), journal_head: run.head, person: person.id, via: 'answer' }, identity.privateKey),
      }),
      judge: (stored, slot) =>
        judgeClaim(stored, { promptId, slot, ...(role !== undefined ? { role } : {}), request, ...(rules !== undefined ? { allowed: rules.allowed, excluded: rules.excluded } : {}) }, { runId: run.runId, doc: run.doc, people: run.people, host: team?.host }),
    });
    if (!outcome.won) {
      const who = outcome.winner.person !== undefined ? (run.people.get(outcome.winner.person)?.name ?? outcome.winner.person) : `the operator ${outcome.winner.operator ?? ''}`;
      ports.io.err(`deployctl: ${promptId} was already answered by ${who}: ${formatTeamAnswer(outcome.winner.answer)}; your answer was not used`);
      return ExitCode.failed;
    }
    const when = open?.open === true ? 'the run takes it now' : 'the run takes it when it asks';
    ports.io.out(`answered ${promptId} as ${person.name} (${title}): ${formatTeamAnswer(answer)}, signed with ${identity.keyFile} (${identity.keyId}); ${when} (run ${run.runId})`);
    return ExitCode.ok;
  } finally {
    await run.store.close();
  }
}

/** The answer the flags give, in the prompt's own shape. */
export function answerValue(request: PromptRequest, options: AnswerOptions): unknown {
  const yesNo = options.yes === true ? true : options.no === true ? false : undefined;
  switch (request.kind) {
    case 'confirm': {
      if (yesNo !== undefined) return yesNo;
      const v = options.value!.trim().toLowerCase();
      if (['yes', 'y', 'true'].includes(v)) return true;
      if (['no', 'n', 'false'].includes(v)) return false;
      throw new CliError(`${request.id} is a yes/no question: answer --yes or --no`);
    }
    case 'checklist': {
      if (yesNo !== undefined) return yesNo ? [...request.items] : [];
      const v = options.value!;
      if (v.trim().startsWith('[')) {
        try {
          return JSON.parse(v) as unknown;
        } catch {
          throw new CliError(`--value ${v}: not a JSON list of checklist items`, { hint: `--yes ticks every item; --value '["${request.items[0] ?? 'item'}"]' ticks some` });
        }
      }
      return [v];
    }
    case 'ask':
      if (yesNo !== undefined) throw new CliError(`${request.id} asks for text: answer with --value "…"`);
      return options.value!;
    case 'decide': {
      if (yesNo === undefined) return options.value!;
      const values = request.choices.map((c) => c.value);
      const pick = yesNo ? ['go', 'approve'].find((v) => values.includes(v)) : ['no-go', 'reject'].find((v) => values.includes(v));
      if (pick === undefined) throw new CliError(`${request.id} is a choice: answer with --value (${values.join(', ')})`);
      return pick;
    }
  }
}
