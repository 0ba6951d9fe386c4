// The environment marks every step's processes carry (run and step id), shared by the step and watch runners.

/**
 * Every step's processes carry the run and step in their environment: a kill -9 between spawning a step and
 * journaling its pid leaves an orphan no journaled pid points to, and a resume finds it by these.
 */
export const STEP_ENV = { runId: 'DEPLOYCTL_RUN_ID', stepId: 'DEPLOYCTL_STEP_ID' } as const;
