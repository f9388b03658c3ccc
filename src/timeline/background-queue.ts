/**
 * Work a request leaves behind after its answer, bounded: at most `capacity`
 * entries wait, one runs at a time, and an entry that finds the queue full is
 * dropped and counted. Whatever floods the queue then costs a fixed amount of
 * memory and one operation at a time, never one pending operation per request.
 */
export interface BackgroundQueue<T> {
  /** Queues `entry`; false when the queue is full (the entry is dropped and counted) or closed (dropped). */
  push(entry: T): boolean;
  /** Entries waiting, the running one not included. */
  readonly waiting: number;
  /** Takes no more entries, drops the waiting ones, and resolves once the running one is done. */
  close(): Promise<void>;
}

export interface BackgroundQueueOptions<T> {
  capacity: number;
  run: (entry: T) => Promise<void>;
  /** An entry's run failed (it is not retried). */
  failed: (error: unknown) => void;
  /** Entries dropped since the last call: called at most once per `reportEveryMs`, and only after drops. */
  dropped: (count: number) => void;
  reportEveryMs: number;
}

export function createBackgroundQueue<T>(options: BackgroundQueueOptions<T>): BackgroundQueue<T> {
  const { capacity, run, failed, dropped, reportEveryMs } = options;
  const entries: T[] = [];
  let running: Promise<void> | null = null;
  let closed = false;
  let droppedSinceReport = 0;
  let report: NodeJS.Timeout | undefined;

  const drop = (): void => {
    droppedSinceReport += 1;
    // One report per period, however many drops: a flood must not become a flood of log lines.
    report ??= setTimeout(() => {
      report = undefined;
      const count = droppedSinceReport;
      droppedSinceReport = 0;
      dropped(count);
    }, reportEveryMs);
    report.unref();
  };

  const drain = async (): Promise<void> => {
    for (let entry = entries.shift(); entry !== undefined; entry = entries.shift()) {
      await run(entry).catch(failed);
      if (closed) break;
    }
    running = null;
  };

  return {
    push(entry) {
      if (closed) return false;
      if (entries.length >= capacity) {
        drop();
        return false;
      }
      entries.push(entry);
      running ??= drain();
      return true;
    },
    get waiting() {
      return entries.length;
    },
    async close() {
      closed = true;
      entries.length = 0;
      clearTimeout(report);
      report = undefined;
      if (droppedSinceReport > 0) dropped(droppedSinceReport);
      droppedSinceReport = 0;
      await running;
    },
  };
}
