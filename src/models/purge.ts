import type { Logger } from '../logger.js';
import { op, type SessionModel } from './session.js';

/** Documents removed per batch: each batch is one find and one delete, so neither grows with the backlog. */
export const PURGE_BATCH = 500;
/** Batches per run; the rest waits for the next run, so a large backlog never holds the database for long. */
const MAX_BATCHES_PER_RUN = 20;

/**
 * Deletes sessions that expired or were revoked more than `retentionMs` ago,
 * in bounded batches. Done by the server rather than a TTL index, which
 * FerretDB does not have. Every instance may run it: deleting twice is harmless.
 * Returns how many documents went.
 */
export async function purgeSessions(Session: SessionModel, retentionMs: number, now = Date.now()): Promise<number> {
  const before = new Date(now - retentionMs);
  const filter = { $or: [{ expiresAt: op({ $lt: before }) }, { revokedAt: op({ $lt: before }) }] };
  let removed = 0;
  for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch += 1) {
    const old = await Session.find(filter, { _id: 1 }).limit(PURGE_BATCH).lean();
    if (old.length === 0) break;
    const result = await Session.deleteMany({ _id: op({ $in: old.map((s) => s._id) }) });
    removed += result.deletedCount;
    if (old.length < PURGE_BATCH) break;
  }
  return removed;
}

/** Runs the purge every `intervalMs` (unref'd: it never keeps the process alive); returns the stop function. */
export function schedulePurge(Session: SessionModel, retentionMs: number, intervalMs: number, log: Logger): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    purgeSessions(Session, retentionMs)
      .then((removed) => {
        if (removed > 0) log.info({ removed }, 'purged old sessions');
      })
      .catch((error: unknown) => log.warn({ err: (error as Error).message }, 'session purge failed; retried next run'))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
