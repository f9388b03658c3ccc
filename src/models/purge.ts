import type { Types } from 'mongoose';
import type { Logger } from '../logger.js';
import type { Models } from './index.js';
import { op } from './session.js';

/** Documents removed per batch: each batch is one find and one delete, so neither grows with the backlog. */
export const PURGE_BATCH = 500;
/** Batches per run and collection; the rest waits for the next run, so a large backlog never holds the database for long. */
const MAX_BATCHES_PER_RUN = 20;

interface Purgeable {
  find(filter: object, projection: { _id: 1 }): { limit(n: number): { lean(): PromiseLike<Array<{ _id: Types.ObjectId }>> } };
  deleteMany(filter: object): PromiseLike<{ deletedCount: number }>;
}

async function purgeBatches(model: Purgeable, filter: object): Promise<number> {
  let removed = 0;
  for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch += 1) {
    const old = await model.find(filter, { _id: 1 }).limit(PURGE_BATCH).lean();
    if (old.length === 0) break;
    const result = await model.deleteMany({ _id: op({ $in: old.map((d) => d._id) }) });
    removed += result.deletedCount;
    if (old.length < PURGE_BATCH) break;
  }
  return removed;
}

/**
 * Deletes sessions that expired or were revoked more than `retentionMs` ago,
 * and revocation records as old, in bounded batches. Done by the server rather
 * than a TTL index, which FerretDB does not have. Every instance may run it:
 * deleting twice is harmless. Returns how many documents went.
 */
export async function purgeOld(models: Pick<Models, 'Session' | 'Revocation'>, retentionMs: number, now = Date.now()): Promise<number> {
  const before = new Date(now - retentionMs);
  const sessions = await purgeBatches(models.Session, { $or: [{ expiresAt: op({ $lt: before }) }, { revokedAt: op({ $lt: before }) }] });
  const records = await purgeBatches(models.Revocation, { revokedAt: op({ $lt: before }) });
  return sessions + records;
}

/** Runs the purge every `intervalMs` (unref'd: it never keeps the process alive); returns the stop function. */
export function schedulePurge(models: Pick<Models, 'Session' | 'Revocation'>, retentionMs: number, intervalMs: number, log: Logger): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    purgeOld(models, retentionMs)
      .then((removed) => {
        if (removed > 0) log.info({ removed }, 'purged old sessions and revocation records');
      })
      .catch((error: unknown) => log.warn({ err: (error as Error).message }, 'purge failed; retried next run'))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
