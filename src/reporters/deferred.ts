// A promise settled from outside, once: how engine events and listr2 tasks, each arriving first in turn, meet.
export class Deferred<T> {
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  settled = false;
  constructor() {
    this.promise = new Promise<T>((resolve) => {
      this.resolve = (value) => {
        if (this.settled) return;
        this.settled = true;
        resolve(value);
      };
    });
  }
}

/** The deferred kept under `id`, created on first use: whichever comes first, the event or the task, finds the same one. */
export function deferredIn<T>(map: Map<string, Deferred<T>>, id: string): Deferred<T> {
  let d = map.get(id);
  if (d === undefined) {
    d = new Deferred<T>();
    map.set(id, d);
  }
  return d;
}
