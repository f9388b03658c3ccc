import { EventQueue } from '../event-queue.js';
import { op } from '../models/session.js';
import type { SessionRevokedMessage } from '../pubsub.js';
import type { Services } from '../services.js';
import type { Viewer } from '../auth/viewer.js';
import type { SessionRevokedEvent } from './views.js';

/**
 * Revocations stamped up to this long before the subscriber authenticated are
 * replayed too: the stamp comes from whichever instance revoked, and instance
 * clocks differ a little. A replayed event is about a session of the same user.
 */
const CLOCK_SKEW_MS = 1000;

// setTimeout's limit; a longer session simply is not cut by the timer.
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The stream behind the `sessionRevoked` subscription and the REST events
 * route: every revocation of any of the viewer's user's sessions, in order,
 * ending after the one that revokes the viewer's own session.
 *
 * Closing the gap between authentication and subscription: listen first (the
 * promise resolves once the broker acknowledged), then read from MongoDB what
 * was revoked since `authenticatedAt`. Live messages that arrive during that
 * read wait behind it; a session can be revoked once, so its id de-duplicates.
 * Before the viewer's own revocation, which ends the stream, the record is read
 * again, so that nothing revoked earlier is lost to a late announcement.
 * The stream also ends when `signal` aborts (the client left) or the session expires.
 */
export async function sessionRevokedEvents(
  services: Services,
  viewer: Viewer,
  authenticatedAt: Date,
  signal: AbortSignal,
): Promise<EventQueue<SessionRevokedEvent>> {
  const queue = new EventQueue<SessionRevokedEvent>();
  // The client going away ends the stream, even while it is still being set up:
  // a transport that abandons a stream it never started would otherwise leave
  // the subscription and its timer running until the session expires.
  const onAbort = (): void => queue.close();
  signal.addEventListener('abort', onAbort, { once: true });
  queue.finally(() => signal.removeEventListener('abort', onAbort));
  if (signal.aborted) queue.close();
  const delivered = new Set<string>();
  let pending: SessionRevokedMessage[] | null = [];
  let ending = false;

  const push = (sessionId: string, message: SessionRevokedMessage): void => {
    delivered.add(sessionId);
    const current = sessionId === viewer.sessionId;
    queue.push({ sessionId, reason: message.reason, revokedAt: new Date(message.revokedAt), current });
    if (current) queue.close();
  };

  /** What MongoDB recorded since the viewer authenticated: other sessions' revocations are delivered, the viewer's own returned. */
  const replayRecord = async (): Promise<SessionRevokedMessage | null> => {
    const revoked = await services.models.Session.find({
      userId: viewer.userId,
      revokedAt: op({ $gte: new Date(authenticatedAt.getTime() - CLOCK_SKEW_MS) }),
    })
      .sort({ revokedAt: 1, _id: 1 })
      .lean();
    let own: SessionRevokedMessage | null = null;
    for (const s of revoked) {
      if (!s.revokedAt || !s.revokedReason || delivered.has(s.sessionId)) continue;
      const message = { userId: viewer.userId, sessionIds: [s.sessionId], reason: s.revokedReason, revokedAt: s.revokedAt.toISOString() };
      if (s.sessionId === viewer.sessionId) own = message;
      else push(s.sessionId, message);
    }
    return own;
  };

  /**
   * The viewer's own revocation ends the stream, so it must come last. Another
   * instance may announce an earlier revocation after this one (publishers on
   * different connections race to Redis): read the record once more first.
   */
  const endWith = async (own: SessionRevokedMessage): Promise<void> => {
    if (ending) return;
    ending = true;
    await replayRecord().catch((error: unknown) =>
      services.log.warn({ err: (error as Error).message }, 'sessionRevoked: final catch-up read failed'),
    );
    push(viewer.sessionId, own);
  };

  const deliver = (message: SessionRevokedMessage): void => {
    for (const sessionId of message.sessionIds) {
      if (delivered.has(sessionId)) continue;
      if (sessionId === viewer.sessionId) void endWith(message);
      else push(sessionId, message);
    }
  };

  try {
    const unsubscribe = await services.pubsub.subscribe('sessionRevoked', viewer.userId, (message) => {
      if (pending) pending.push(message);
      else deliver(message);
    });
    queue.finally(unsubscribe);
    const own = await replayRecord();
    if (own) {
      // Just read from the record: nothing earlier can be missing.
      ending = true;
      push(viewer.sessionId, own);
    }
  } catch (error) {
    queue.close();
    throw error;
  }
  const backlog = pending;
  pending = null;
  for (const message of backlog) deliver(message);

  // An expired session's stream ends with it: its token is no longer good for anything.
  const remaining = viewer.expiresAt.getTime() - Date.now();
  if (remaining < MAX_TIMER_MS) {
    const timer = setTimeout(() => queue.close(), Math.max(0, remaining));
    queue.finally(() => clearTimeout(timer));
  }
  return queue;
}
