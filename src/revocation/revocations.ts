import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Models } from '../models/index.js';
import { op, type RevocationReason } from '../models/session.js';
import type { PubSub } from '../pubsub.js';
import type { SessionCache } from '../auth/session-cache.js';
import { isDuplicateKey } from '../models/errors.js';
import type { Claim, Revocation, RevocationLedger } from './ledger.js';
import { createMarking, type Marking } from './marking.js';

export interface RevocationDeps {
  models: Pick<Models, 'Session' | 'Revocation'>;
  ledger: RevocationLedger;
  /** Where the tombstones are written again once the revocation is durable. */
  cache: SessionCache;
  pubsub: PubSub;
  log: Logger;
  metrics: Pick<Metrics, 'revoked'>;
  /** As long as a token can live: so long are tombstones kept. */
  tombstoneTtlMs: number;
  /**
   * How long a caller has to record its claim, or to mark its record, before
   * the sweepers take it over (REVOCATION_GRACE): far longer than either
   * takes, so that a sweeper never races a caller that is merely slow.
   */
  graceMs: number;
  /**
   * Called once the revocation is durable, before its marking (the webhook
   * outbox, src/webhooks/). May run again for the same revocation (a sweeper
   * completing it), so it must be idempotent. If it throws, the record stays
   * unmarked and the marking sweep calls it again.
   */
  onRecorded?: (revocation: Revocation) => Promise<void>;
}

/** Revoking sessions, exactly once and durably, and finishing what a failed or dead caller left. */
export interface Revocations {
  /**
   * Revokes the given sessions of one user and announces the revocation.
   * Returns the ids this call revoked: a concurrent call may have taken some,
   * and each session is counted and announced by the one call that claimed it.
   * Callers pass only ids known to be this user's sessions (read from MongoDB,
   * or from the user's session list, which holds only those).
   *
   * Throws (SERVICE_UNAVAILABLE for an unreachable dependency) only when
   * nothing was revoked: a revocation that could not be made durable is undone.
   */
  revoke(userId: string, sessionIds: readonly string[], reason: RevocationReason): Promise<string[]>;
  /** One pass of both sweeps now; how many revocations it finished. */
  sweep(): Promise<number>;
  /** Resolves once the markings started so far are done (tests, shutdown). */
  idle(): Promise<void>;
}

/** A sweeper's hold on an outbox entry, or on one record's marking (renewed while it works). */
const SWEEP_LEASE_MS = 30_000;
const SWEEP_BATCH = 50;

/**
 * The revocation path:
 * 1. The ledger claims the sessions (src/revocation/ledger.ts): tombstones, the
 *    user's next number, an outbox entry. If Redis is down the call fails here
 *    and nothing changed.
 * 2. The record, one MongoDB document whatever the number of sessions: from
 *    here the revocation is durable, whatever Redis loses. If it cannot be
 *    written, the claim is undone and the call fails: it is answered success
 *    only once it holds for good.
 * 3. The tombstones are written again, which overwrites any "active" a
 *    concurrent cache fill may have put back if Redis lost the claim's
 *    tombstones between steps 1 and 2; then the announcement, and the outbox
 *    entry is settled. A failure here is finished by the outbox sweep.
 * 4. Once it is durable, in the background, each session's own document is
 *    marked (src/revocation/marking.ts); the record says when that is done.
 * Every step may be repeated (the record is unique per user and number, the
 * marking writes the same values, streams drop a number they have seen),
 * which is what lets a sweeper finish a revocation whose caller died.
 */
export function createRevocations(deps: RevocationDeps): Revocations & { stop(): void } {
  const marking = createMarking(deps);

  async function record(revocation: Revocation): Promise<void> {
    const { userId, seq, sessionIds, reason } = revocation;
    try {
      await deps.models.Revocation.create({ userId, seq, sessionIds, reason, revokedAt: new Date(revocation.revokedAt), marked: false });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }

  async function announce(revocation: Revocation): Promise<void> {
    const { userId, seq, sessionIds, reason, revokedAt } = revocation;
    await deps.cache.revoke(userId, sessionIds, deps.tombstoneTtlMs);
    await deps.pubsub.publish('sessionRevoked', userId, { userId, seq, sessionIds, reason, revokedAt, publishedAt: Date.now() });
  }

  /** The claim could not be recorded: undone in Redis, and its record removed if it was written after all. */
  async function undo(claim: Claim, cause: unknown): Promise<void> {
    deps.log.warn({ err: (cause as Error).message, userId: claim.userId, seq: claim.seq }, 'revocation not recorded; undone');
    await deps.ledger.unclaim(claim).catch((error: unknown) =>
      deps.log.warn({ err: (error as Error).message }, 'revocation could not be undone in Redis; the outbox sweep completes it'),
    );
    // A write that timed out may have landed after all: removed if the database answers now (not
    // waited for: it is likely down), else the marking sweep completes that revocation later.
    void deps.models.Revocation.deleteOne({ userId: claim.userId, seq: claim.seq }).catch(() => {});
  }

  async function revoke(userId: string, sessionIds: readonly string[], reason: RevocationReason): Promise<string[]> {
    if (sessionIds.length === 0) return [];
    const claim = await deps.ledger.claim({ userId, sessionIds, reason, revokedAt: new Date().toISOString(), dueAt: Date.now() + deps.graceMs });
    if (!claim) return [];
    // Counted once, by the call that claimed it (a sweeper that finishes it does not count it again).
    deps.metrics.revoked(reason, claim.sessionIds.length);
    try {
      await record(claim);
    } catch (error) {
      await undo(claim, error);
      throw error;
    }
    try {
      await announce(claim);
      await deps.ledger.settle(claim);
    } catch (error) {
      // Durable already: the answer is success, and the outbox sweep announces it.
      deps.log.warn({ err: (error as Error).message, userId, seq: claim.seq }, 'revocation recorded but not announced; the outbox sweep completes it');
      deps.ledger.dueNow(claim).catch(() => {});
    }
    try {
      await deps.onRecorded?.(claim);
      // Durable: the sessions' own documents can be marked.
      marking.enqueue(claim);
    } catch (error) {
      // Left unmarked: the marking sweep calls onRecorded again, then marks.
      deps.log.warn({ err: (error as Error).message, userId, seq: claim.seq }, 'revocation recorded but its webhooks not enqueued; the marking sweep completes it');
    }
    return claim.sessionIds;
  }

  /** Claims whose caller did not record them in time (it failed or died): recorded, announced, marked. */
  async function sweepOutbox(): Promise<number> {
    let done = 0;
    const taken = await deps.ledger.takeDue(Date.now(), SWEEP_LEASE_MS, SWEEP_BATCH);
    for (const [i, claim] of taken.entries()) {
      try {
        await record(claim);
        await announce(claim);
        await deps.ledger.settle(claim);
        await deps.onRecorded?.(claim);
        await marking.mark(claim);
      } catch (error) {
        // This one and the rest are due again at once, for the next sweep: held by this one for
        // the whole lease, their announcements would wait as long. (On a cluster, one user's node
        // may be failing over while the due set's answers.)
        await Promise.all(taken.slice(i).map((left) => deps.ledger.dueNow(left).catch(() => {})));
        throw error;
      }
      done += 1;
      deps.log.info({ userId: claim.userId, seq: claim.seq }, 'completed a revocation left halfway');
    }
    return done;
  }

  /**
   * Records left unmarked past their grace (their caller died while marking, or
   * the database failed): tombstones and the announcement again (the caller
   * may never have made them), then the marking, one sweeper per record.
   */
  async function sweepUnmarked(): Promise<number> {
    let done = 0;
    const stale = await deps.models.Revocation.find({ marked: false, revokedAt: op({ $lt: new Date(Date.now() - deps.graceMs) }) })
      .sort({ revokedAt: 1 })
      .limit(SWEEP_BATCH)
      .lean();
    for (const found of stale) {
      const revocation: Revocation = {
        userId: found.userId.toHexString(),
        seq: found.seq,
        sessionIds: found.sessionIds,
        reason: found.reason,
        revokedAt: found.revokedAt.toISOString(),
      };
      const lease = await deps.ledger.leaseMarking(revocation.userId, revocation.seq, SWEEP_LEASE_MS);
      if (!lease) continue;
      try {
        await announce(revocation);
        await deps.onRecorded?.(revocation);
        await marking.mark(revocation, lease);
        done += 1;
        deps.log.info({ userId: revocation.userId, seq: revocation.seq }, 'completed the marking of a revocation left unmarked');
      } finally {
        await lease.release().catch(() => {});
      }
    }
    return done;
  }

  return {
    revoke,
    async sweep() {
      return (await sweepOutbox()) + (await sweepUnmarked());
    },
    idle: () => marking.idle(),
    stop: () => marking.stop(),
  };
}

export type { Marking };
