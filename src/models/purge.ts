import type { SortOrder, Types } from 'mongoose';
import type { Models } from './index.js';
import { op } from './session.js';

/** Documents removed per batch: each batch is one find and one delete, so neither grows with the backlog. */
export const PURGE_BATCH = 500;
/** Batches per run and collection; the rest waits for the next run, so a large backlog never holds the database for long. */
const MAX_BATCHES_PER_RUN = 20;

interface Purgeable {
  find(filter: object, projection: { _id: 1 }): { sort(order: Record<string, SortOrder>): { limit(n: number): { lean(): PromiseLike<Array<{ _id: Types.ObjectId | string }>> } } };
  deleteMany(filter: object): PromiseLike<{ deletedCount: number }>;
}

/**
 * Deletes what `filter` matches, `order` first (oldest first), in bounded
 * batches: no TTL index does it for us (FerretDB has none). Every instance may
 * run it; deleting twice is harmless. Returns how many documents went.
 */
export async function purgeBatches(
  model: Purgeable,
  filter: object,
  order: Record<string, SortOrder>,
  { batchSize = PURGE_BATCH, maxBatches = MAX_BATCHES_PER_RUN }: { batchSize?: number; maxBatches?: number } = {},
): Promise<number> {
  let removed = 0;
  for (let batch = 0; batch < maxBatches; batch += 1) {
    const old = await model.find(filter, { _id: 1 }).sort(order).limit(batchSize).lean();
    if (old.length === 0) break;
    const result = await model.deleteMany({ _id: op({ $in: old.map((d) => d._id) }) });
    removed += result.deletedCount;
    if (old.length < batchSize) break;
  }
  return removed;
}

/** Sessions that expired or were revoked more than `retentionMs` ago, and revocation records as old. */
export async function purgeOldSessions(
  models: Pick<Models, 'Session' | 'Revocation' | 'SpentRefreshToken'>,
  retentionMs: number,
  now = Date.now(),
): Promise<number> {
  const before = new Date(now - retentionMs);
  const sessions = await purgeBatches(models.Session, { $or: [{ expiresAt: op({ $lt: before }) }, { revokedAt: op({ $lt: before }) }] }, { _id: 1 });
  const records = await purgeBatches(models.Revocation, { revokedAt: op({ $lt: before }) }, { revokedAt: 1 });
  // Spent refresh tokens of sessions over: no one can present them to any effect any more.
  const spent = await purgeBatches(models.SpentRefreshToken, { expiresAt: op({ $lt: before }) }, { expiresAt: 1 });
  return sessions + records + spent;
}

/** Security timeline entries older than SECURITY_EVENTS_RETENTION, oldest first. */
export function purgeOldSecurityEvents(
  models: Pick<Models, 'SecurityEvent'>,
  retentionMs: number,
  options: { batchSize?: number; maxBatches?: number; now?: Date } = {},
): Promise<number> {
  const cutoff = new Date((options.now ?? new Date()).getTime() - retentionMs);
  return purgeBatches(models.SecurityEvent, { at: op({ $lt: cutoff }) }, { at: 1 }, options);
}
