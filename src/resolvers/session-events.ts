import { EventQueue } from '../event-queue.js';
import { op } from '../models/session.js';
import type { SessionRevokedMessage } from '../pubsub.js';
import type { Services } from '../services.js';
import type { SessionRevokedEvent, Viewer } from './views.js';

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

  // One event per revoked session; the viewer's own comes last, since it ends the stream.
  const deliver = (message: SessionRevokedMessage): void => {
    const fresh = message.sessionIds.filter((id) => !delivered.has(id));
    const ordered = [...fresh.filter((id) => id !== viewer.sessionId), ...fresh.filter((id) => id === viewer.sessionId)];
    for (const sessionId of ordered) {
      delivered.add(sessionId);
      const current = sessionId === viewer.sessionId;
      queue.push({ sessionId, reason: message.reason, revokedAt: new Date(message.revokedAt), current });
      if (current) queue.close();
    }
  };

  try {
    const unsubscribe = await services.pubsub.subscribe('sessionRevoked', viewer.userId, (message) => {
      if (pending) pending.push(message);
      else deliver(message);
    });
    queue.finally(unsubscribe);

    const missed = await services.models.Session.find({
      userId: viewer.userId,
      revokedAt: op({ $gte: new Date(authenticatedAt.getTime() - CLOCK_SKEW_MS) }),
    })
      .sort({ revokedAt: 1, _id: 1 })
      .lean();
    // Replayed in the order they happened, the viewer's own (if any) last.
    const replay = missed.flatMap((s) =>
      s.revokedAt && s.revokedReason
        ? [{ userId: viewer.userId, sessionIds: [s.sessionId], reason: s.revokedReason, revokedAt: s.revokedAt.toISOString() }]
        : [],
    );
    const own = (m: SessionRevokedMessage): boolean => m.sessionIds[0] === viewer.sessionId;
    for (const message of [...replay.filter((m) => !own(m)), ...replay.filter(own)]) deliver(message);
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
