import { isPendingRevoked } from '../revocation/durable.js';
import type { Services } from '../services.js';
import { recordSecurityEvent } from '../timeline/record.js';
import { capped } from './session.js';

/**
 * Ending sessions at their deadline (src/sessions/deadlines.ts): idle for
 * SESSION_IDLE_TIMEOUT, or SESSION_MAX_AGE old. Each ending is a revocation
 * with reason EXPIRED, so it is announced like any other (the session's own
 * streams are told and end, the user's other devices see it leave their list)
 * and exactly once: the ledger gives a session to one claimer only, whichever
 * instance's sweep or request check gets there first.
 */

/** The deadline a MongoDB record gives: its idle deadline, never past its absolute end. */
export function deadlineOf(record: { expiresAt: Date; idleExpiresAt: Date | null }): number {
  return capped(record.idleExpiresAt, record.expiresAt).getTime();
}

/** Entries taken per sweep run; the rest wait for the next run. */
const SWEEP_BATCH = 100;
/** A sweeper's hold on an entry: another instance retries it after this if the sweeper died. */
const SWEEP_LEASE_MS = 30_000;

/**
 * Ends the session if its deadline passed and it is still live; true if this
 * call ended it. A deadline that moved on (a use raced the sweep) is indexed
 * again instead.
 */
export async function expireIfDue(services: Services, userId: string, sessionId: string, now = Date.now()): Promise<boolean> {
  const { models, deadlines, revocations } = services;
  const [slid, record, pending] = await Promise.all([
    deadlines.get(userId, sessionId),
    models.Session.findOne({ sessionId, userId }, { revokedAt: 1, expiresAt: 1, idleExpiresAt: 1, deviceInfo: 1, ipAddress: 1 }).lean(),
    isPendingRevoked(models, userId, sessionId),
  ]);
  if (!record || record.revokedAt !== null || pending) {
    await deadlines.remove(userId, sessionId);
    return false;
  }
  // Redis holds the latest slide (MongoDB's copy is written after it, in the background).
  const deadline = Math.min(Math.max(slid ?? 0, deadlineOf(record)), record.expiresAt.getTime());
  if (deadline > now) {
    await deadlines.reindex(userId, sessionId, deadline);
    return false;
  }
  const ended = await revocations.revoke(userId, [sessionId], 'EXPIRED');
  await deadlines.remove(userId, sessionId);
  if (ended.length === 0) return false;
  await recordSecurityEvent(services, {
    userId,
    type: 'EXPIRED',
    at: new Date(Math.min(deadline, now)),
    ipAddress: record.ipAddress,
    deviceInfo: record.deviceInfo,
    sessionId,
  });
  return true;
}

/** One run of the expiry sweep (src/jobs.ts): the sessions whose deadline passed, at most a batch; how many it ended. */
export async function sweepExpiredSessions(services: Services): Promise<number> {
  const now = Date.now();
  const due = await services.deadlines.takeDue(now, SWEEP_LEASE_MS, SWEEP_BATCH);
  let ended = 0;
  for (const { userId, sessionId } of due) {
    try {
      if (await expireIfDue(services, userId, sessionId, now)) ended += 1;
    } catch (error) {
      // Leased: retried once the lease lapses, by whichever instance sweeps then.
      services.log.warn({ err: (error as Error).message, userId }, 'session expiry failed; retried');
    }
  }
  return ended;
}
