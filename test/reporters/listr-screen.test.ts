// The task list's frame fitted to a terminal: measured as it wraps, cut to the screen, the phases to come folded.
import { describe, expect, it } from 'vitest';
import { collapseWaiting, displayWidth, fitFrame, frameHeight } from '../../src/reporters/listr-screen.js';

describe('displayWidth', () => {
  it('counts columns, not UTF-16 units: escapes take none, wide characters two, combining marks none', () => {
    expect(displayWidth('plain text')).toBe(10);
    expect(displayWidth('\u001b[32m✔\u001b[39m done')).toBe(6);
    expect(displayWidth('\u001b]8;;http://x\u0007link\u001b]8;;\u0007')).toBe(4);
    expect(displayWidth('部署')).toBe(4);
    expect(displayWidth('🚀 go')).toBe(5);
    expect(displayWidth('e\u0301')).toBe(1);
  });
});

describe('frameHeight', () => {
  it('counts the rows a frame takes as the terminal wraps it, not its lines', () => {
    expect(frameHeight('a\nb\nc', 80)).toBe(3);
    expect(frameHeight('x'.repeat(80), 80)).toBe(1);
    expect(frameHeight('x'.repeat(81), 80)).toBe(2);
    expect(frameHeight(`${'x'.repeat(200)}\n\ny`, 80)).toBe(5);
    // 50 wide characters are 100 columns: two rows at 80, though 50 units are fewer than 80.
    expect(frameHeight('部'.repeat(50), 80)).toBe(2);
  });
});

describe('fitFrame', () => {
  it('cuts lines from the top until the frame takes at most the rows given, a wrapped line counting as its rows', () => {
    const frame = ['one', 'x'.repeat(100), 'three', 'four'].join('\n');
    expect(fitFrame(frame, 5, 80)).toBe(frame);
    expect(fitFrame(frame, 4, 80)).toBe(['x'.repeat(100), 'three', 'four'].join('\n'));
    expect(fitFrame(frame, 3, 80)).toBe(['three', 'four'].join('\n'));
    expect(fitFrame('only one line', 1, 80)).toBe('only one line');
  });
});

describe('collapseWaiting', () => {
  it('folds the phases to come (◼ at the left edge, coloured or not) into one line where the first was', () => {
    const frame = ['✔ Done', '❯ At work', '  ✔ step', '\u001b[2m◼\u001b[22m Later', '◼ Rollback', '', '? prompt'].join('\n');
    expect(collapseWaiting(frame)).toBe(['✔ Done', '❯ At work', '  ✔ step', '◼ 2 more to come', '', '? prompt'].join('\n'));
    expect(collapseWaiting('❯ At work\n◼ Rollback')).toBe('❯ At work\n◼ Rollback');
    // A title wrapped at 80 columns goes with its phase.
    expect(collapseWaiting(['❯ At work', '  ✔ step', '◼ A phase with a title too long', '  for one line', '◼ Rollback', '', '› output'].join('\n'))).toBe(
      ['❯ At work', '  ✔ step', '◼ 2 more to come', '', '› output'].join('\n'),
    );
  });
});
