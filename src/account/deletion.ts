import { op, type RevocationReason } from '../models/session.js';
import { activeSessionRecords } from '../revocation/durable.js';
import type { Services } from '../services.js';
import { clearAccountCache } from './cache.js';
import { accountDeletedEvent } from '../webhooks/events.js';

/**
 * Deleting an account, after deleteAccount (src/resolvers/account.ts) has
 * marked it: the steps, and the sweep that finishes a deletion a crash
 * interrupted (run by src/jobs.ts).
 */

/** Revokes every active session of the user (but `keep`), announced like any revocation. */
export async function revokeAllSessions(services: Services, userId: string, reason: RevocationReason, keep?: string): Promise<string[]> {
  const active = await activeSessionRecords(services.models, userId, {});
  const targets = active.map((s) => s.sessionId).filter((id) => id !== keep);
  return services.revocations.revoke(userId, targets, reason);
}

/** Every step after the mark; safe to run again, and by several instances at once. */
export async function finishDeletion(services: Services, userId: string): Promise<void> {
  const { models } = services;
  await revokeAllSessions(services, userId, 'ACCOUNT_DELETED');
  // Before anything is deleted, and thrown if it fails: a retry or the sweeper enqueues it (its key makes it once).
  await services.webhooks.enqueue(userId, [accountDeletedEvent(userId)]);
  await models.SecurityEvent.deleteMany({ userId });
  await models.Session.deleteMany({ userId });
  await models.Revocation.deleteMany({ userId });
  await models.SpentRefreshToken.deleteMany({ userId });
  await models.User.deleteOne({ _id: userId, deletingAt: op({ $exists: true }) });
  await clearAccountCache(services, userId);
  // A refused sign-in is recorded in the background (src/timeline/refused-sign-ins.ts): one
  // that looked the user up before it was deleted may have landed meanwhile.
  await models.SecurityEvent.deleteMany({ userId });
}

/**
 * Finishes deletions that a crash interrupted: users marked more than `graceMs`
 * ago (younger ones are probably still in progress), oldest first, at most
 * `limit` per call so one run stays short; the next run takes the rest.
 * Returns how many it finished.
 */
export async function finishPendingDeletions(
  services: Services,
  options: { limit?: number; graceMs?: number } = {},
): Promise<number> {
  const { limit = 20, graceMs = 10_000 } = options;
  const pending = await services.models.User.find(
    { deletingAt: op({ $lte: new Date(Date.now() - graceMs) }) },
    { _id: 1 },
  )
    .sort({ deletingAt: 1 })
    .limit(limit)
    .lean();
  let finished = 0;
  for (const user of pending) {
    try {
      await finishDeletion(services, user._id.toHexString());
      finished += 1;
    } catch (error) {
      services.log.error({ err: (error as Error).message, userId: user._id.toHexString() }, 'pending account deletion not finished');
    }
  }
  return finished;
}
