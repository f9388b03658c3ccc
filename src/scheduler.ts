import type { Logger } from './logger.js';

/** A background job run every `intervalMs`, never two runs of it at once. */
export interface ScheduledJob<T> {
  /** Runs it now, or joins the run in progress; never throws (a failure is logged, and is undefined). */
  now(): Promise<T | undefined>;
  /** No more runs; resolves once the run in progress (if any) is over, so what it uses can be closed. */
  stop(): Promise<void>;
}

/**
 * The one way the server runs background work (the revocation sweeps, the
 * purges, housekeeping): on an unref'd timer, so it never keeps the process
 * alive; a run that takes longer than the interval makes the next one wait
 * instead of overlapping it; a failure is logged and retried at the next run.
 * Every job must be safe to run on several instances at once.
 */
export function schedule<T>(name: string, intervalMs: number, run: () => Promise<T>, log: Logger): ScheduledJob<T> {
  let running: Promise<T | undefined> | null = null;
  let stopped = false;
  const now = (): Promise<T | undefined> => {
    if (stopped) return running ?? Promise.resolve(undefined);
    running ??= run()
      .catch((error: unknown) => {
        log.warn({ err: (error as Error).message, job: name }, `${name} failed; retried at the next run`);
        return undefined;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void now(), intervalMs);
  timer.unref();
  return {
    now,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
