import { finishPendingDeletions } from './account/deletion.js';
import { removeUnfinishedRegistrations } from './account/registration.js';
import { purgeOldSecurityEvents, purgeOldSessions } from './models/purge.js';
import { schedule } from './scheduler.js';
import { sweepExpiredSessions } from './sessions/expiry.js';
import type { Services } from './services.js';
import { createDelivery, POLL_MS } from './webhooks/delivery.js';

/**
 * The background work every instance runs, all through the one scheduler
 * (src/scheduler.ts): each job bounded per run, idempotent, and safe on
 * several instances at once.
 * - The revocation sweeps, every REVOCATION_SWEEP_INTERVAL: revocations a
 *   failed or dead caller left halfway (src/revocation/revocations.ts).
 * - The expiry sweep, every SESSION_EXPIRY_SWEEP_INTERVAL: sessions past
 *   their idle or absolute deadline end, announced (src/sessions/expiry.ts).
 * - The purge, every SESSION_PURGE_INTERVAL: sessions and revocation records
 *   past SESSION_RETENTION (src/models/purge.ts).
 * - Housekeeping, every HOUSEKEEPING_INTERVAL: account deletions a crash
 *   interrupted (src/account/deletion.ts), registrations left unfinished
 *   (src/account/registration.ts), timeline entries past
 *   SECURITY_EVENTS_RETENTION.
 * - Webhook delivery, every second when WEBHOOK_URL is set: the due events of
 *   the outbox, each user's in order (src/webhooks/delivery.ts).
 * Started by whoever starts the server (src/main.ts, the tests), after the
 * services exist; resolves after housekeeping's first run, so an account whose
 * deletion a crash interrupted is finished before anyone can use it again.
 * Returns the stop, which waits for runs in progress so that nothing is
 * closed under them.
 */
export async function startJobs(services: Services): Promise<() => Promise<void>> {
  const { config, models, log } = services;
  const housekeeping = schedule(
    'housekeeping',
    config.housekeepingIntervalMs,
    async () => {
      await finishPendingDeletions(services);
      await removeUnfinishedRegistrations(services);
      await purgeOldSecurityEvents(models, config.securityEventsRetentionSeconds * 1000);
    },
    log,
  );
  const jobs = [
    schedule('revocation sweep', config.revocationSweepMs, () => services.revocations.sweep(), log),
    schedule('session expiry', config.sessionExpirySweepMs, () => sweepExpiredSessions(services), log),
    schedule('purge', config.purgeIntervalMs, () => purgeOldSessions(models, config.sessionRetentionMs), log),
    housekeeping,
  ];
  const { webhookUrls: urls, webhookSecret: secret } = config;
  const delivery = urls.length > 0 && secret ? createDelivery({ models, redis: services.redis, log, urls, secret, retryBaseMs: config.webhookRetryBaseMs }) : null;
  if (delivery) jobs.push(schedule('webhook delivery', POLL_MS, () => delivery.run(), log));
  await housekeeping.now();
  return async () => {
    await Promise.all([...jobs.map((job) => job.stop()), delivery?.stop()]);
  };
}
