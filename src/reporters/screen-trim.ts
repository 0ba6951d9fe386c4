// Keep a running phase within the terminal: while a frame is too tall, its oldest finished steps leave the group on screen (the record and the summary keep them).

interface ShownTask {
  isCompleted(): boolean;
  isSkipped(): boolean;
  hasFailed(): boolean;
}
interface TrimmableGroup {
  tasks: ShownTask[];
  parentTask?: ShownTask;
}

/**
 * Groups kept (`keep`) give up one finished step each time `makeRoom` is called (the renderer calls it while a frame,
 * measured as the terminal wraps it, is taller than the screen): the oldest finished step of the newest group on
 * screen, so the phase's title, the step at work and its prompt stay on a 24-line screen. Failed steps stay. False
 * when nothing is left to take away. listr2 renders a group from its task array, which the Listr shares with the
 * parent task.
 */
export function screenTrim(): { keep: (list: unknown) => void; makeRoom: () => boolean } {
  const groups: TrimmableGroup[] = [];
  return {
    keep: (list) => groups.push(list as TrimmableGroup),
    makeRoom: () => {
      for (const group of [...groups].reverse()) {
        // A group whose phase ended well is one collapsed line: nothing of it to take away.
        const parent = group.parentTask;
        if (parent !== undefined && (parent.isCompleted() || parent.isSkipped()) && !group.tasks.some((t) => t.hasFailed())) continue;
        const old = group.tasks.find((t) => (t.isCompleted() || t.isSkipped()) && !t.hasFailed());
        if (old === undefined) continue;
        group.tasks.splice(group.tasks.indexOf(old), 1);
        return true;
      }
      return false;
    },
  };
}
