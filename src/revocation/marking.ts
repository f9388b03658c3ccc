import type { Logger } from '../logger.js';
import type { Models } from '../models/index.js';
import { op } from '../models/session.js';
import type { Lease, Revocation } from './ledger.js';

/**
 * Sessions marked per update: each batch is one indexed update, and a large
 * revocation (thousands of sessions) never holds the database in one command
 * or ahead of other users' requests for long.
 */
export const MARK_BATCH = 100;
/** Markings this instance runs at once: a burst of sign-outs queues here, not in the database's pool. */
const CONCURRENCY = 4;

export interface Marking {
  /** Marks in the background, after the answer; a failure is left to the marking sweep. */
  enqueue(revocation: Revocation): void;
  /**
   * Marks each named session's document revoked (only those not revoked yet:
   * a session's stored reason is its first claimer's), batch by batch, then
   * the record as marked. With a sweeper's `lease`, renewed between batches,
   * and given up if lost (another instance took it over).
   */
  mark(revocation: Revocation, lease?: Lease): Promise<void>;
  /** Resolves once everything enqueued so far is done. */
  idle(): Promise<void>;
  stop(): void;
}

export function createMarking(deps: { models: Pick<Models, 'Session' | 'Revocation'>; log: Logger }): Marking {
  const waiting: Revocation[] = [];
  let running = 0;
  let stopped = false;
  let drained: Array<() => void> = [];

  async function mark(revocation: Revocation, lease?: Lease): Promise<void> {
    const { userId, seq, sessionIds, reason } = revocation;
    const revokedAt = new Date(revocation.revokedAt);
    for (let i = 0; i < sessionIds.length; i += MARK_BATCH) {
      if (lease && i > 0 && !(await lease.renew())) return;
      await deps.models.Session.updateMany(
        { userId, sessionId: op({ $in: sessionIds.slice(i, i + MARK_BATCH) }), revokedAt: null },
        { $set: { revokedAt, revokedReason: reason, revokedSeq: seq } },
      );
    }
    await deps.models.Revocation.updateOne({ userId, seq }, { $set: { marked: true } });
  }

  function next(): void {
    while (!stopped && running < CONCURRENCY && waiting.length > 0) {
      const revocation = waiting.shift()!;
      running += 1;
      mark(revocation)
        .catch((error: unknown) =>
          deps.log.warn({ err: (error as Error).message, userId: revocation.userId, seq: revocation.seq }, 'marking failed; the marking sweep retries it'),
        )
        .finally(() => {
          running -= 1;
          next();
        });
    }
    if (running === 0 && (waiting.length === 0 || stopped)) {
      const resolve = drained;
      drained = [];
      for (const done of resolve) done();
    }
  }

  return {
    enqueue(revocation) {
      if (stopped) return;
      waiting.push(revocation);
      next();
    },
    mark,
    idle() {
      if (running === 0 && waiting.length === 0) return Promise.resolve();
      return new Promise((resolve) => drained.push(resolve));
    },
    stop() {
      // What is still waiting is left to the marking sweep of whichever instance runs next.
      stopped = true;
      waiting.length = 0;
      next();
    },
  };
}
