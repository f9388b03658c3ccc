import type { Logger } from './logger.js';
import type { Models } from './models/index.js';
import { op } from './models/session.js';
import type { PubSub } from './pubsub.js';
import type { Revocation, SessionCache } from './auth/session-cache.js';

/**
 * Sessions marked revoked per update. FerretDB's updateMany grows faster than
 * linearly with the documents it changes (1,000 take seconds), so the marking
 * goes in small batches, after the call has answered.
 */
const MARK_BATCH = 100;

export interface OutboxDeps {
  models: Pick<Models, 'Session' | 'Revocation'>;
  cache: SessionCache;
  pubsub: PubSub;
  log: Logger;
}

const isDuplicateKey = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;

/**
 * Completes a claimed revocation:
 * 1. together: the announcement (the outbox already holds the revocation, so a
 *    stream that sees a number skipped finds it there before it is recorded,
 *    and the devices learn of it without waiting for MongoDB) and its record,
 *    one document whatever the number of sessions;
 * 2. each session's own document marked revoked in small batches (the lists,
 *    logoutAll and the purge read these; until then the tombstones already
 *    refuse the tokens and hide the sessions);
 * 3. out of the outbox.
 * `announced` is what a caller waits for before answering (announced and
 * recorded); `done` the whole. Every step may be repeated (the record is
 * unique per user and number, the marking writes the same values, streams
 * drop a number they have seen), which is what lets a sweeper finish a
 * revocation whose caller failed or died halfway.
 */
export function completeRevocation(
  deps: OutboxDeps,
  revocation: Revocation,
  /** Work the caller answers after (a MongoDB read): the marking, which nobody waits for, starts once it is done. */
  markAfter?: Promise<unknown>,
): { announced: Promise<void>; done: Promise<void> } {
  const { userId, seq, sessionIds, reason } = revocation;
  const published = deps.pubsub.publish('sessionRevoked', userId, revocation);
  const recorded = deps.models.Revocation.create({ userId, seq, sessionIds, reason, revokedAt: new Date(revocation.revokedAt) }).then(
    () => undefined,
    (error: unknown) => {
      if (!isDuplicateKey(error)) throw error;
    },
  );
  const announced = Promise.all([published, recorded]).then(() => undefined);
  const marked = Promise.all([recorded, markAfter]).then(() => markSessions(deps, revocation));
  const done = Promise.all([announced, marked]).then(() => deps.cache.settle(revocation));
  // Whoever holds `done` sees any failure; `announced` alone must not be reported as unhandled.
  announced.catch(() => {});
  return { announced, done };
}

async function markSessions(deps: OutboxDeps, revocation: Revocation): Promise<void> {
  const { userId, seq, sessionIds, reason } = revocation;
  const revokedAt = new Date(revocation.revokedAt);
  for (let i = 0; i < sessionIds.length; i += MARK_BATCH) {
    await deps.models.Session.updateMany(
      // `revokedAt: null`: a session's stored reason is its first claimer's, even if a
      // flushed Redis let a second call claim it again.
      { userId, sessionId: op({ $in: sessionIds.slice(i, i + MARK_BATCH) }), revokedAt: null },
      { $set: { revokedAt, revokedReason: reason, revokedSeq: seq } },
    );
  }
}

/** How long the caller has to complete its own revocation before the sweepers step in. */
export const OUTBOX_GRACE_MS = 60_000;
/** A sweeper's lease on an entry: another instance retries it after this if the sweeper died. */
const SWEEP_LEASE_MS = 60_000;
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
          await completeRevocation(deps, revocation).done;
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
