import type { Logger } from './logger.js';
import { op, type SessionModel } from './models/session.js';
import type { PubSub } from './pubsub.js';
import type { Revocation, SessionCache } from './session-cache.js';

/** The record's write is split so that no single update grows with a user's session count. */
const WRITE_BATCH = 1000;

export interface OutboxDeps {
  models: { Session: SessionModel };
  cache: SessionCache;
  pubsub: PubSub;
  log: Logger;
}

/**
 * Completes a claimed revocation: the record in MongoDB, then the announcement,
 * then out of the outbox. Every step may be repeated (the same reason, time and
 * number are written again; streams drop a number they have seen), which is
 * what lets a sweeper finish a revocation whose caller failed or died halfway.
 * The record comes before the announcement: a stream that sees a number
 * skipped reads the record, which then already has it.
 */
export async function completeRevocation(deps: OutboxDeps, revocation: Revocation): Promise<void> {
  const { userId, seq, sessionIds, reason } = revocation;
  const revokedAt = new Date(revocation.revokedAt);
  for (let i = 0; i < sessionIds.length; i += WRITE_BATCH) {
    await deps.models.Session.updateMany(
      // `revokedAt: null`: a session's stored reason is its first claimer's, even if a
      // flushed Redis let a second call claim it again.
      { userId, sessionId: op({ $in: sessionIds.slice(i, i + WRITE_BATCH) }), revokedAt: null },
      { $set: { revokedAt, revokedReason: reason, revokedSeq: seq } },
    );
  }
  await deps.pubsub.publish('sessionRevoked', userId, revocation);
  await deps.cache.settle(revocation);
}

/** How long the caller has to complete its own revocation before the sweepers step in. */
export const OUTBOX_GRACE_MS = 10_000;
/** A sweeper's lease on an entry: another instance retries it after this if the sweeper died. */
const SWEEP_LEASE_MS = 30_000;
const SWEEP_BATCH = 50;

/**
 * Every instance sweeps the outbox: a revocation claimed by a call that could
 * not finish (MongoDB or Redis went away, or the instance died) is completed
 * here once the dependency is back, so that it ends done everywhere.
 */
export function scheduleOutboxSweep(deps: OutboxDeps, intervalMs: number): { stop(): void; sweep(): Promise<number> } {
  let running: Promise<number> | null = null;
  const sweep = (): Promise<number> => {
    running ??= (async () => {
      let done = 0;
      try {
        const due = await deps.cache.takeDue(Date.now(), SWEEP_LEASE_MS, SWEEP_BATCH);
        for (const revocation of due) {
          await completeRevocation(deps, revocation);
          done += 1;
          deps.log.info({ userId: revocation.userId, seq: revocation.seq }, 'completed a revocation left halfway');
        }
      } catch (error) {
        deps.log.warn({ err: (error as Error).message }, 'revocation outbox sweep failed; retried next run');
      } finally {
        running = null;
      }
      return done;
    })();
    return running;
  };
  const timer = setInterval(() => void sweep(), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), sweep };
}
