import { describe, expect, it, vi } from 'vitest';
import { count, phase, phased, type PhaseStream } from './progress.js';

const terminal = (isTTY: boolean): PhaseStream & { text: () => string } => {
  const chunks: string[] = [];
  return { isTTY, write: (t: string) => chunks.push(t), text: () => chunks.join('') };
};

describe('phase (long commands’ progress on stderr)', () => {
  it('draws label, detail and elapsed time on a terminal, and ends on its own line', async () => {
    vi.useFakeTimers();
    try {
      const tty = terminal(true);
      const p = phase('loading orders', tty);
      p.update(`${count(18532)} orders`);
      vi.advanceTimersByTime(250); // redrawn while the event loop is free
      p.done();
      const text = tty.text();
      const CLEAR = '\r\u001b[K'; // back to the line's start, erase it
      expect(text.startsWith(`${CLEAR}| loading orders… 0.`)).toBe(true);
      expect(text).toContain('loading orders… 18,532 orders');
      expect(text.split('\r').length).toBeGreaterThanOrEqual(4);
      expect(text.slice(text.lastIndexOf(CLEAR))).toMatch(
        /^.{4}loading orders… 18,532 orders \(\d+\.\d s\)\n$/s,
      );
      p.update('after the end'); // ignored
      expect(tty.text()).toBe(text);
    } finally {
      vi.useRealTimers();
    }
  });

  it('writes nothing when the stream is not a terminal (pipes, --json consumers, tests)', async () => {
    const pipe = terminal(false);
    const r = await phased(
      'mining',
      async (p) => (p.update('12 itemsets'), 7),
      (n) => `${n} rules`,
      pipe,
    );
    expect(r).toBe(7);
    expect(pipe.text()).toBe('');
  });

  it('phased: the summary of the result when done; the line cleared and the error rethrown on failure', async () => {
    const tty = terminal(true);
    await phased(
      'mining',
      async () => 1234,
      (n) => `${count(n)} itemsets`,
      tty,
    );
    expect(tty.text()).toMatch(/mining… 1,234 itemsets \(\d\.\d s\)\n$/);
    const failing = terminal(true);
    const err = new Error('no orders');
    await expect(phased('loading', async () => Promise.reject(err), undefined, failing)).rejects.toBe(err);
    expect(failing.text().endsWith('\r\u001b[K')).toBe(true);
    expect(failing.text()).not.toContain('\n');
  });
});
