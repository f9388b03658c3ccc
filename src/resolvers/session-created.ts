import type { Types } from 'mongoose';
import { AppError } from '../errors.js';
import { op } from '../models/session.js';
import type { SessionCreatedMessage } from '../pubsub.js';
import type { Services } from '../services.js';
import { recordSecurityEvent } from './security-events.js';
import { revokeSessions } from './sessions.js';
import type { RequestInfo, Viewer } from '../auth/viewer.js';
import { toSessionView, type SessionView } from './views.js';

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
