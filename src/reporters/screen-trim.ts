// Keep a running phase within the terminal: its oldest finished steps leave the group on screen (the record and the summary keep them).

interface TrimmableGroup {
  tasks: { isCompleted(): boolean; isSkipped(): boolean; hasFailed(): boolean }[];
}

/**
 * So the phase's title, the step at work and its prompt stay on a 24-line screen, each group kept (`keep`) shows at
 * most `visibleFinished()` finished steps after `trim`. Failed steps stay. listr2 renders a group from its task array,
 * which the Listr shares with the parent task.
 */
export function screenTrim(visibleFinished: () => number): { keep: (list: unknown) => void; trim: () => void } {
  const groups: TrimmableGroup[] = [];
  return {
    keep: (list) => groups.push(list as TrimmableGroup),
    trim: () => {
      // Read at every trim: a resized terminal counts.
      const keep = visibleFinished();
      for (const group of groups) {
        const finished = group.tasks.filter((t) => (t.isCompleted() || t.isSkipped()) && !t.hasFailed());
        for (const old of finished.slice(0, Math.max(0, finished.length - keep))) group.tasks.splice(group.tasks.indexOf(old), 1);
      }
    },
  };
}
