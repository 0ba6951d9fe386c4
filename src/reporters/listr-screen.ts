// listr2's default renderer fitted to the terminal: a frame never taller than the screen (measured as it wraps), redrawn at most every few frames' time.
import { DefaultRenderer, figures, ListrDefaultRendererLogLevels } from 'listr2';

/** The default renderer's options for the task list: finished groups as one line, skip messages in place of titles. */
export const SCREEN_OPTIONS = {
  collapseSubtasks: true,
  showSkipMessage: true,
  collapseSkips: true,
  formatOutput: 'wrap' as const,
  removeEmptyLines: true,
  // listr2 draws a group that failed with ❯ (in red), the in-progress mark: the final frame, read without colour or
  // later, said a failed phase was still running.
  icon: { [ListrDefaultRendererLogLevels.FAILED_WITH_FAILED_SUBTASKS]: figures.cross },
};

/** At most one redraw per this many ms: each redraw wraps and measures the whole frame (issue: ~10 s CPU per phase65 run). */
export const REDRAW_MS = 80;

export interface ScreenOptions {
  /** The terminal's height, read at every frame (a function follows resizes); when it says nothing, the stream's rows. */
  rows?: number | (() => number | undefined);
  /**
   * Make the frame smaller by one unit (the oldest finished step of a running group leaves the screen); false when
   * there is nothing left to take away. Called while a frame is taller than the screen.
   */
  makeRoom: () => boolean;
}

// A CSI or OSC sequence, or a lone escape: takes no room on screen.
// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-_]/g;

/** Columns a line takes on a terminal: wide (CJK, emoji) characters 2, combining marks 0, the rest 1. */
export function displayWidth(line: string): number {
  const text = line.includes('\u001b') ? line.replace(ESCAPES, '') : line;
  // Fast path: printable ASCII only.
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let width = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) continue;
    if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f)) continue;
    const wide =
      (cp >= 0x1100 && cp <= 0x115f) ||
      (cp >= 0x2e80 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) ||
      (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) ||
      (cp >= 0x1f300 && cp <= 0x1faff) ||
      (cp >= 0x20000 && cp <= 0x3fffd);
    width += wide ? 2 : 1;
  }
  return width;
}

/** The rows a frame takes on a terminal `columns` wide: each line at least one, a long line as many as it wraps to. */
export function frameHeight(frame: string, columns: number): number {
  let rows = 0;
  for (const line of frame.split('\n')) {
    // A line of at most columns/2 UTF-16 units fits whatever its characters are.
    rows += line.length <= columns / 2 ? 1 : Math.max(1, Math.ceil(displayWidth(line) / columns));
  }
  return rows;
}

/**
 * `frame` cut from the top until it takes at most `rows` rows: the last resort when nothing else can leave the
 * screen. What scrolls off a terminal can no longer be erased, so a taller frame would leave copies of itself in
 * the scrollback at every redraw.
 */
export function fitFrame(frame: string, rows: number, columns: number): string {
  const lines = frame.split('\n');
  let height = frameHeight(frame, columns);
  while (height > rows && lines.length > 1) height -= frameHeight(lines.shift()!, columns);
  return lines.join('\n');
}

/**
 * The phases not started yet (listr2 draws each as `◼ title` at the left edge) as one line, `◼ 6 more to come`: what a
 * too-small terminal gives up before the phase at work.
 */
export function collapseWaiting(frame: string): string {
  const lines = frame.split('\n');
  const starts = (line: string) => line.replace(ESCAPES, '').startsWith('◼ ');
  // A phase not started has no steps and no output under it: an indented line right after it is its title, wrapped.
  const waiting = lines.map(() => false);
  lines.forEach((line, i) => (waiting[i] = starts(line) || (i > 0 && waiting[i - 1]! && line.startsWith('  '))));
  const count = lines.filter(starts).length;
  if (count < 2) return frame;
  const first = waiting.indexOf(true);
  return [...lines.slice(0, first), `◼ ${count} more to come`, ...lines.slice(first).filter((_, i) => !waiting[first + i])].join('\n');
}

type Frame = Parameters<DefaultRenderer['create']>[0];

/** What the renderer keeps private in listr2's types and this subclass needs: the stream under the logger. */
interface Internals {
  logger: { process: { stdout: NodeJS.WritableStream; stream: { stdout: { stream: NodeJS.WriteStream } } } };
  tasks: TaskNode[];
  buffer: { bottom: Map<string, unknown> };
  /** The task whose prompt the renderer listens to, once a frame has found it. */
  activePrompt: string | null | undefined;
  calculate(task: TaskNode): void;
  setupBuffer(task: TaskNode): void;
}
interface TaskNode {
  id: string;
  subtasks?: TaskNode[];
  hasFinalized(): boolean;
  isPrompt(): boolean;
}

const anyTask = (tasks: TaskNode[], test: (task: TaskNode) => boolean): boolean => tasks.some((t) => test(t) || (t.subtasks !== undefined && anyTask(t.subtasks, test)));

/** Erase the `rows` rows the cursor is on and above it, leaving the cursor at the start of the top one. */
const eraseRows = (rows: number) => (rows <= 0 ? '' : `${'\u001b[2K\u001b[1A'.repeat(rows - 1)}\u001b[2K\u001b[G`);

/**
 * The default renderer, with its drawing replaced: a frame is measured as the terminal wraps it, against the
 * terminal's rows and columns read at each frame (listr2's log-update reads a copy of them taken once, at the start),
 * and made to fit (finished steps leave first, then the phases to come become one line, then lines leave from the
 * top); redraws are throttled to one per REDRAW_MS (a probe's every sample asked for one); a resize erases what the
 * terminal reflowed. listr2 builds the renderer itself: `screenRenderer(options)` returns the class to give it.
 */
export function screenRenderer(screen: ScreenOptions): typeof DefaultRenderer {
  return class ScreenRenderer extends DefaultRenderer {
    private lastDraw = 0;
    private pending: NodeJS.Timeout | undefined;
    /** Rows the last frame took, with the cursor's row below it. */
    private drawnRows = 0;
    private previous = '';
    private onResize: (() => void) | undefined;

    /** The terminal stream itself (its rows and columns follow resizes). */
    private get terminal(): NodeJS.WriteStream {
      return (this as unknown as Internals).logger.process.stream.stdout.stream;
    }

    /** Writes past listr2's hold on stdout (it buffers what others write while it draws). */
    private write(text: string): void {
      (this as unknown as Internals).logger.process.stdout.write(text);
    }

    override async render(): Promise<void> {
      await super.render();
      this.onResize = () => {
        // The terminal reflowed the old frame to the new width: erase the rows it takes now, line by line (an erase of
        // the whole screen from its top corner is a clear, which tmux keeps in the scrollback), then draw anew.
        const reflowed = Math.max(this.drawnRows, frameHeight(this.previous, this.terminal.columns || 80) + 1);
        this.write(eraseRows(Math.min(reflowed, this.terminal.rows || reflowed)));
        this.drawnRows = 0;
        this.previous = '';
        this.draw();
      };
      this.terminal.on('resize', this.onResize);
    }

    override update(): void {
      this.listenEarly();
      const wait = this.lastDraw + REDRAW_MS - Date.now();
      // A prompt that just opened is drawn at once: the frame that finds it starts listening to it, and the prompt's
      // first picture is written right after (a frame later, it was lost until a key was pressed).
      const internals = this as unknown as Internals;
      if (wait <= 0 || (internals.activePrompt == null && anyTask(internals.tasks, (t) => t.isPrompt()))) {
        this.draw();
        return;
      }
      this.pending ??= setTimeout(() => this.draw(), wait);
    }

    /**
     * listr2 starts listening to a task's output when a frame first draws it: a task that started and printed between
     * two frames lost its first lines (a step's output, a gate's conditions). Every task not finished is listened to
     * as soon as anything changes, as listr2 did when it drew at every change.
     */
    private listenEarly(): void {
      const internals = this as unknown as Internals;
      const walk = (tasks: TaskNode[]) => {
        for (const task of tasks) {
          if (task.hasFinalized()) continue;
          internals.calculate(task);
          internals.setupBuffer(task);
          if (task.subtasks !== undefined) walk(task.subtasks);
        }
      };
      walk(internals.tasks);
    }

    private draw(): void {
      if (this.pending !== undefined) clearTimeout(this.pending);
      this.pending = undefined;
      this.lastDraw = Date.now();
      const frame = this.create();
      if (frame === this.previous) return;
      this.previous = frame;
      this.write(eraseRows(this.drawnRows) + frame + '\n');
      this.drawnRows = frameHeight(frame, this.terminal.columns || 80) + 1;
    }

    override end(): void {
      if (this.pending !== undefined) clearTimeout(this.pending);
      this.pending = undefined;
      if (this.onResize !== undefined) this.terminal.off('resize', this.onResize);
      this.write(eraseRows(this.drawnRows));
      this.drawnRows = 0;
      super.end();
    }

    /**
     * listr2 drops a task's lines from the bottom bar (where an untitled task's output goes: our steps get their title
     * when they start) only when it draws that task finished; a task inside a phase that collapsed, or that left the
     * screen, is never drawn again, and its lines stayed below every later frame (a decided gate's evidence did).
     */
    private pruneBottomBar(): void {
      const internals = this as unknown as Internals;
      const live = new Set<string>();
      const walk = (tasks: TaskNode[]) => {
        for (const task of tasks) {
          if (!task.hasFinalized()) live.add(task.id);
          if (task.subtasks !== undefined) walk(task.subtasks);
        }
      };
      walk(internals.tasks);
      for (const id of internals.buffer.bottom.keys()) if (!live.has(id)) internals.buffer.bottom.delete(id);
    }

    override create(options?: Frame): string {
      this.pruneBottomBar();
      // The last frame (no prompt) is written once, below everything, as the run's story: it may be as long as it is.
      if (options?.prompt === false) return super.create(options);
      const rows = (typeof screen.rows === 'function' ? screen.rows() : screen.rows) || this.terminal.rows || 24;
      const columns = this.terminal.columns || 80;
      // One row stays free: the cursor waits on the line after the frame.
      const room = Math.max(1, rows - 1);
      let frame = super.create(options);
      while (frameHeight(frame, columns) > room && screen.makeRoom()) frame = super.create(options);
      if (frameHeight(frame, columns) > room) frame = collapseWaiting(frame);
      return fitFrame(frame, room, columns);
    }
  };
}
