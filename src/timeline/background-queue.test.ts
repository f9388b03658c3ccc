import { describe, expect, it, vi } from 'vitest';
import { createBackgroundQueue } from './background-queue.js';

/** A run that waits until the test lets it finish. */
function gate() {
  const started: number[] = [];
  const releases: Array<() => void> = [];
  const run = (entry: number): Promise<void> => {
    started.push(entry);
    return new Promise((resolve) => releases.push(resolve));
  };
  const releaseNext = async (): Promise<void> => {
    releases.shift()?.();
    // Let the queue take its next entry.
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { started, run, releaseNext };
}

describe('createBackgroundQueue()', () => {
  it('runs one entry at a time, in order', async () => {
    const { started, run, releaseNext } = gate();
    const queue = createBackgroundQueue({ capacity: 10, run, failed: () => {}, dropped: () => {}, reportEveryMs: 1000 });
    for (const entry of [1, 2, 3]) expect(queue.push(entry)).toBe(true);
    expect(started).toEqual([1]);
    expect(queue.waiting).toBe(2);
    await releaseNext();
    expect(started).toEqual([1, 2]);
    await releaseNext();
    await releaseNext();
    expect(started).toEqual([1, 2, 3]);
    expect(queue.waiting).toBe(0);
  });

  it('drops what finds it full, and reports the count once per period', async () => {
    vi.useFakeTimers();
    try {
      const { started, run } = gate();
      const dropped = vi.fn();
      const queue = createBackgroundQueue({ capacity: 2, run, failed: () => {}, dropped, reportEveryMs: 60_000 });
      const accepted = Array.from({ length: 1000 }, (_, i) => queue.push(i));
      // One running, two waiting: the other 997 are dropped.
      expect(accepted.filter(Boolean)).toHaveLength(3);
      expect(started).toEqual([0]);
      expect(dropped).not.toHaveBeenCalled();
      vi.advanceTimersByTime(60_000);
      expect(dropped.mock.calls).toEqual([[997]]);
      vi.advanceTimersByTime(600_000);
      expect(dropped).toHaveBeenCalledTimes(1);
      queue.push(2000);
      vi.advanceTimersByTime(60_000);
      expect(dropped.mock.calls).toEqual([[997], [1]]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('goes on after a failed run, and reports the failure', async () => {
    const failed = vi.fn();
    const ran: number[] = [];
    const queue = createBackgroundQueue<number>({
      capacity: 10,
      run: async (entry) => {
        ran.push(entry);
        if (entry === 1) throw new Error('no database');
      },
      failed,
      dropped: () => {},
      reportEveryMs: 1000,
    });
    queue.push(1);
    queue.push(2);
    await vi.waitFor(() => expect(ran).toEqual([1, 2]));
    await queue.close();
    expect(failed).toHaveBeenCalledWith(new Error('no database'));
  });

  it('on close, waits for the running entry, drops the waiting ones and takes no more', async () => {
    const { started, run, releaseNext } = gate();
    const dropped = vi.fn();
    const queue = createBackgroundQueue({ capacity: 10, run, failed: () => {}, dropped, reportEveryMs: 1000 });
    queue.push(1);
    queue.push(2);
    let closed = false;
    const closing = queue.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    await releaseNext();
    await closing;
    expect(started).toEqual([1]);
    expect(queue.push(3)).toBe(false);
    expect(started).toEqual([1]);
  });
});
