import { finishPendingDeletions } from './resolvers/account.js';
import { removeUnfinishedRegistrations } from './resolvers/registration.js';
import { purgeExpiredSecurityEvents } from './resolvers/security-events.js';
import type { Services } from './services.js';

/** How often each instance looks for interrupted deletions and registrations, and expired timeline entries. */
export const HOUSEKEEPING_INTERVAL_MS = 60_000;

/**
 * Background chores every instance runs, at start and then every minute:
 * finishing account deletions a crash interrupted, removing registrations
 * left unfinished (src/resolvers/registration.ts), and purging security events
 * past SECURITY_EVENTS_RETENTION (no TTL index: FerretDB refuses them). Each
 * run is bounded (see the functions); running on several instances at once is
 * harmless, as every step is idempotent. Resolves after the first run with a stop function that waits
 * for a run in progress, so the database is not closed under it.
 */
export async function startHousekeeping(services: Services): Promise<() => Promise<void>> {
  let running: Promise<void> | null = null;
  let stopped = false;
  const run = (): Promise<void> | null => {
    if (running || stopped) return running;
    running = (async () => {
      try {
        await finishPendingDeletions(services);
        await removeUnfinishedRegistrations(services);
        await purgeExpiredSecurityEvents(services);
      } catch (error) {
        services.log.warn({ err: (error as Error).message }, 'housekeeping run failed; retrying at the next one');
      } finally {
        running = null;
      }
    })();
    return running;
  };
  // The first run completes before the instance serves: an account whose
  // deletion a crash interrupted is finished before anyone can use it again.
  await run();
  const timer = setInterval(run, HOUSEKEEPING_INTERVAL_MS);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
