import { createBackgroundQueue } from './background-queue.js';
import { addressGroup } from '../http/ip-address.js';
import type { Logger } from '../logger.js';
import type { Models } from '../models/index.js';
import type { RateLimiter } from '../auth/rate-limit.js';
import { COALESCE_WINDOW_MS, type SecurityEventInput } from './record.js';

/**
 * Refused sign-ins on the owner's timeline (FAILED_SIGN_IN, SIGN_IN_THROTTLED),
 * at a cost that does not grow with the attack.
 *
 * A throttled attempt is answered from Redis (src/auth/rate-limit.ts), and the
 * record of it must not undo that: a flood of refusals once started a MongoDB
 * lookup each and took an instance down. So:
 * - Each refusal asks Redis, and only Redis, whether it is the first of its
 *   kind for its email in the window (the timeline keeps one per account and
 *   window anyway): a flood on one account costs one record per window.
 * - A throttled attempt needs a lookup (is the email an account?), so each
 *   address gets REFUSALS_LOOKED_UP_PER_ADDRESS of those per window: an address
 *   spraying emails costs a few lookups, not one per email.
 * - What is left goes to a fixed-size queue worked one entry at a time after
 *   the answer; when it is full, entries are dropped and counted (logged once
 *   a minute). A refused request holds nothing once it is answered.
 * Known and unknown emails pay the same Redis steps before the answer, so the
 * answer's timing does not tell which accounts exist; the lookup comes later.
 */
export interface RefusedSignIns {
  /** Decides (Redis only) whether to record this refusal, and queues it; never throws. */
  note(refusal: RefusedSignIn): Promise<void>;
  close(): Promise<void>;
}

export interface RefusedSignIn {
  type: 'FAILED_SIGN_IN' | 'SIGN_IN_THROTTLED';
  /** The normalised email the attempt named (an account or not). */
  email: string;
  /** The account, when the refusal already read it (a wrong password); null: no such account. */
  userId?: string | null;
  ipAddress: string;
  deviceInfo: string;
}

/** Throttled attempts one address can have looked up (to find their account) per COALESCE_WINDOW_MS. */
export const REFUSALS_LOOKED_UP_PER_ADDRESS = 10;
/** Refusals waiting to be recorded, per instance; beyond it they are dropped and counted. */
export const REFUSED_SIGN_IN_QUEUE = 1000;
const DROP_REPORT_MS = 60_000;

interface Pending extends RefusedSignIn {
  at: Date;
}

export interface RefusedSignInsDeps {
  models: Pick<Models, 'User'>;
  rateLimiter: RateLimiter;
  log: Logger;
  /** Adds the entry (recordSecurityEvent, bound to the services). */
  record: (event: SecurityEventInput) => Promise<void>;
}

export function createRefusedSignIns({ models, rateLimiter, log, record }: RefusedSignInsDeps): RefusedSignIns {
  const queue = createBackgroundQueue<Pending>({
    capacity: REFUSED_SIGN_IN_QUEUE,
    async run(refusal) {
      const userId = refusal.userId ?? (await models.User.findOne({ email: refusal.email }, { _id: 1 }).lean())?._id;
      if (!userId) return;
      await record({ userId, type: refusal.type, ipAddress: refusal.ipAddress, deviceInfo: refusal.deviceInfo, at: refusal.at });
    },
    failed: (error) => log.error({ err: (error as Error).message }, 'security event not recorded'),
    dropped: (count) => log.warn({ dropped: count }, 'refused sign-ins not recorded: the recording queue was full'),
    reportEveryMs: DROP_REPORT_MS,
  });

  /** Whether this refusal is to be recorded: Redis counters only. */
  async function wanted(refusal: RefusedSignIn): Promise<boolean> {
    const first = await rateLimiter.hit(`refused:${refusal.type}:${refusal.email}`, 1, COALESCE_WINDOW_MS);
    if (!first.allowed) return false;
    // A wrong password read the account already: nothing to look up, no budget spent.
    if (refusal.userId !== undefined) return refusal.userId !== null;
    // An address as the sign-in limits count it (an IPv6 /64 is one).
    const lookup = await rateLimiter.hit(`refused-lookup:${addressGroup(refusal.ipAddress)}`, REFUSALS_LOOKED_UP_PER_ADDRESS, COALESCE_WINDOW_MS);
    return lookup.allowed;
  }

  return {
    async note(refusal) {
      const at = new Date();
      try {
        if (await wanted(refusal)) queue.push({ ...refusal, at });
      } catch (error) {
        // Redis answers the limits too (with an in-memory insurance); a record is not worth an error.
        log.warn({ err: (error as Error).message }, 'refused sign-in not recorded');
      }
    },
    close: () => queue.close(),
  };
}
