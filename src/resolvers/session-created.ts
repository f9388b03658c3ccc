import { Repeater } from 'graphql-yoga';
import type { Types } from 'mongoose';
import { AppError, toAppError } from '../errors.js';
import { op } from '../models/session.js';
import type { SessionCreatedMessage } from '../pubsub.js';
import type { Services } from '../services.js';
import { recordSecurityEvent } from './security-events.js';
import { revokeSessions } from './sessions.js';
import type { RequestInfo, Viewer } from '../auth/viewer.js';
import { toSessionView, type SessionView } from './views.js';

// setTimeout's limit; a longer session simply is not cut by the timer.
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The last step of every sign-in (login and register), once the session exists:
 * checks that the account was neither deleted nor given a new password since
 * the password was verified, then records SIGNED_IN and tells the user's other
 * streams.
 *
 * The check closes a race without transactions: deleteAccount marks the user
 * and changePassword stores the hash *before* reading the sessions to revoke,
 * and this reads the user *after* inserting the session. Either that read sees
 * the change (and the new session is revoked here), or the other side's read
 * sees the new session (and revokes it there).
 */
export async function confirmSignIn(
  services: Services,
  user: { _id: Types.ObjectId; password: string },
  session: SessionView,
  deviceInfo: string,
  request: RequestInfo,
): Promise<void> {
  const userId = user._id.toHexString();
  const fresh = await services.models.User.findById(user._id).select('+password').lean();
  if (!fresh || fresh.deletingAt || fresh.password !== user.password) {
    const reason = fresh && !fresh.deletingAt ? 'PASSWORD_CHANGED' : 'ACCOUNT_DELETED';
    await revokeSessions(services, userId, [session.id], reason);
    throw new AppError('INVALID_CREDENTIALS');
  }
  await recordSecurityEvent(services, {
    userId,
    type: 'SIGNED_IN',
    at: session.createdAt,
    ipAddress: request.ipAddress,
    deviceInfo,
    sessionId: session.id,
  });
  const message: SessionCreatedMessage = {
    userId,
    session: {
      id: session.id,
      deviceInfo: session.deviceInfo,
      ipAddress: session.ipAddress,
      userAgent: session.userAgent,
      lastActivity: session.lastActivity.toISOString(),
      createdAt: session.createdAt.toISOString(),
      expiresAt: session.expiresAt.toISOString(),
    },
  };
  await services.pubsub
    .publish('sessionCreated', userId, message)
    // The sign-in holds; only the live notice is lost (the timeline has it).
    .catch((error: unknown) => services.log.error({ err: (error as Error).message }, 'sessionCreated publish failed'));
}

/** A sessionCreated message's session, as the streams deliver it. */
export const fromMessage = ({ session: s }: SessionCreatedMessage): SessionView => ({
  ...s,
  lastActivity: new Date(s.lastActivity),
  createdAt: new Date(s.createdAt),
  expiresAt: new Date(s.expiresAt),
  current: false,
});

/**
 * The viewer's user's sessions created since `since`, oldest first. From the
 * Redis session list: every sign-in writes it before it announces the new
 * session, so a sign-in announced before the stream listened is there, with
 * no MongoDB query (on FerretDB a scan of every session, per stream start).
 * MongoDB answers only when Redis cannot. A sign-in whose list write failed
 * is missing from the replay (its notice is lost; the timeline has it), as
 * it is from the list until the next refill.
 */
export async function createdSince(services: Services, viewer: Pick<Viewer, 'userId' | 'sessionId'>, since: Date): Promise<SessionView[]> {
  const listed = await services.sessionList.known(viewer.userId).catch(() => null);
  if (listed) {
    return listed
      .filter((s) => s.createdAt.getTime() >= since.getTime())
      .reverse()
      .map((s) => ({ ...s, current: s.id === viewer.sessionId }));
  }
  const records = await services.models.Session.find({ userId: viewer.userId, createdAt: op({ $gte: since }) })
    .sort({ createdAt: 1, _id: 1 })
    .lean();
  return records.map((s) => toSessionView(s, viewer.sessionId));
}

/**
 * The stream behind the `sessionCreated` subscription and the REST stream's
 * `session-created` events: every new session of the viewer's user but the
 * viewer's own, until the viewer's session is revoked or expires, or the
 * client leaves (a signed-out device must stop hearing of sign-ins).
 *
 * No gap, as for revocations: listen first, then replay the sessions
 * created since `authenticatedAt` (createdSince) and check that the viewer's own is
 * still active; live messages wait behind that read, and the session id
 * de-duplicates. Unlike revocations, the replay does not reach back a second
 * for clock skew: a device that opens its stream just after others signed in
 * would be told of sign-ins it did not wait for, and a missed notice costs
 * less than a missed revocation (the timeline has every sign-in). Instance
 * clocks are assumed to agree as NTP keeps them.
 */
export function sessionCreatedEvents(
  services: Services,
  viewer: Viewer,
  authenticatedAt: Date,
  signal: AbortSignal,
  /** Called once the stream listens and has replayed (or has ended): from then on nothing is missed. */
  onReady: () => void = () => {},
): Repeater<SessionView> {
  return new Repeater<SessionView>(async (push, stop) => {
    const onAbort = (): void => stop();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) stop();
    const delivered = new Set<string>([viewer.sessionId]);
    const deliver = (session: SessionView): void => {
      if (delivered.has(session.id)) return;
      delivered.add(session.id);
      void push(session);
    };
    let backlog: SessionCreatedMessage[] | null = [];
    const unsubscribes: Array<() => void> = [];
    let timer: NodeJS.Timeout | undefined;
    try {
      unsubscribes.push(
        await services.pubsub.subscribe('sessionCreated', viewer.userId, (message) => {
          if (backlog) backlog.push(message);
          else deliver(fromMessage(message));
        }),
      );
      unsubscribes.push(
        await services.pubsub.subscribe('sessionRevoked', viewer.userId, (message) => {
          if (message.sessionIds.includes(viewer.sessionId)) stop();
        }),
      );
      // The viewer's own session: its tombstone in the cache says if it went meanwhile (no MongoDB read).
      const [ownRevoked, created] = await Promise.all([
        services.cache.revokedAmong([viewer.sessionId]),
        createdSince(services, viewer, authenticatedAt),
      ]);
      if (ownRevoked.size > 0 || viewer.expiresAt.getTime() <= Date.now()) {
        stop();
      } else {
        for (const session of created) deliver(session);
        for (const message of backlog) deliver(fromMessage(message));
        const remaining = viewer.expiresAt.getTime() - Date.now();
        if (remaining < MAX_TIMER_MS) timer = setTimeout(() => stop(), Math.max(0, remaining));
      }
      backlog = null;
    } catch (error) {
      const known = toAppError(error);
      if (!known) services.log.error({ err: (error as Error).message }, 'sessionCreated stream failed');
      stop(known ?? new AppError('INTERNAL_SERVER_ERROR'));
    }
    onReady();
    await stop;
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    for (const unsubscribe of unsubscribes) unsubscribe();
  });
}
