// A phase's finally: steps in the plan: the model, text and Markdown list them, and --role keeps the owner's.
import { describe, expect, it } from 'vitest';
import { filterPlanByRole } from '../../src/plan/filter.js';
import { buildPlan } from '../../src/plan/model.js';
import { renderMarkdown } from '../../src/plan/markdown.js';
import { renderText } from '../../src/plan/text.js';
import { parseRunbookText } from '../../src/runbook/load.js';

const RUNBOOK = `
version: 1
name: db
roles:
  lead: { title: Deployment Lead, primary: Ana }
  dba: { title: DBA, primary: Dee }
phases:
  - id: migrate
    steps:
      - { id: read-only, owner: dba, run: ./db.sh read-only }
    finally:
      - { id: read-write, owner: dba, run: ./db.sh read-write }
      - { id: announce, owner: lead, confirm: Writes are back }
`;

function plan() {
  const parsed = parseRunbookText(RUNBOOK, 'inline.yaml');
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => p.message).join('\n'));
  return buildPlan(parsed.doc);
}

describe('finally: in the plan', () => {
  it('is part of the model, and the text and Markdown plans show it as cleanup', () => {
    const p = plan();
    expect(p.phases[0]!.finally.map((s) => s.id)).toEqual(['read-write', 'announce']);
    expect(renderText(p)).toMatch(/Finally \(however the phase ends[^\n]*\n[^\n]*read-write/);
    expect(renderMarkdown(p)).toContain('**Finally** (however the phase ends: completed, failed, NO-GO or rolled back):');
  });

  it('keeps only the role\'s own finally steps with --role', () => {
    expect(filterPlanByRole(plan(), 'lead').phases[0]!.finally.map((s) => s.id)).toEqual(['announce']);
  });
});
