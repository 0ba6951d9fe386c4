// Making room on a small screen: the oldest finished step of the newest group on screen leaves first; failed steps and collapsed phases are left alone.
import { describe, expect, it } from 'vitest';
import { screenTrim } from '../../src/reporters/screen-trim.js';

const task = (state: 'done' | 'skipped' | 'failed' | 'running') => ({
  state,
  isCompleted: () => state === 'done',
  isSkipped: () => state === 'skipped',
  hasFailed: () => state === 'failed',
});

describe('screenTrim', () => {
  it('takes the oldest finished step of the newest group on screen, one per call, never a failed or running one', () => {
    const { keep, makeRoom } = screenTrim();
    const earlier = { tasks: [task('done'), task('done')], parentTask: task('done') };
    const current = { tasks: [task('failed'), task('skipped'), task('done'), task('running')], parentTask: task('running') };
    keep(earlier);
    keep(current);
    expect(makeRoom()).toBe(true);
    expect(current.tasks.map((t) => t.state)).toEqual(['failed', 'done', 'running']);
    expect(makeRoom()).toBe(true);
    expect(current.tasks.map((t) => t.state)).toEqual(['failed', 'running']);
    // The earlier phase ended well: it is one collapsed line, nothing of it to take.
    expect(makeRoom()).toBe(false);
    expect(earlier.tasks).toHaveLength(2);
  });
});
