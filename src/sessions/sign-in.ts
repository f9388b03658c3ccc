import { randomUUID } from 'node:crypto';
import type { Types } from 'mongoose';
import { hashRefreshToken, newRefreshToken } from '../auth/refresh-token.js';
import { signToken } from '../auth/token.js';
import type { RequestInfo, UserView } from '../auth/viewer.js';
import { AppError } from '../errors.js';
import { recordSecurityEvent } from '../timeline/record.js';
import type { Services } from '../services.js';
import { activeSessions } from './active.js';
import { sessionCreatedEvent } from '../webhooks/events.js';
import { capped, toJson, viewOf, type SessionData, type SessionView } from './session.js';

/**
 * Signing in, once the password is verified (src/resolvers/auth.ts): the new
 * session, the per-user cap, and the checks and notices that follow.
 */

/** An access token's end: ACCESS_TOKEN_TTL after `from`, never past its session's absolute end. */
export function accessTokenEnd(services: Pick<Services, 'config'>, from: Date, sessionEnd: Date): Date {
  return new Date(Math.min(from.getTime() + services.config.accessTokenTtlSeconds * 1000, sessionEnd.getTime()));
}

/** A new session's tokens: an access token, and the refresh token that renews it (src/sessions/refresh.ts). */
export interface SessionTokens {
  token: string;
  refreshToken: string;
  session: SessionView;
}

/** Opens a session for a user who just proved who they are, and signs its token. */
export async function createSession(services: Services, user: UserView, request: RequestInfo, deviceInfo: string): Promise<SessionTokens> {
  const { config, models, cache, sessionList, log } = services;
  const userId = user.id;
  const now = new Date();
  // The absolute end: however much it is used, the session ends then.
  const expiresAt = new Date(now.getTime() + config.sessionMaxAgeMs);
  const tokenExpiresAt = accessTokenEnd(services, now, expiresAt);
  const sessionId = randomUUID();
  const refreshToken = newRefreshToken(sessionId);
  const data: SessionData = {
    id: sessionId,
    deviceInfo,
    ipAddress: request.ipAddress,
    // Already cut to its limit, in code points, where the request was read (src/http/request-info.ts).
    userAgent: request.userAgent,
    lastActivity: now,
    createdAt: now,
    expiresAt,
    idleExpiresAt: capped(new Date(now.getTime() + config.sessionIdleTimeoutMs), expiresAt),
  };
  // Its webhook is written first and confirmed by confirmSignIn: a crash in between loses nothing (src/webhooks/outbox.ts).
  await services.webhooks.intend(userId, [sessionCreatedEvent(userId, toJson(data))]);
  const { id: _id, ...fields } = data;
  await models.Session.create({ sessionId, userId, ...fields, freshAt: now, refreshHash: hashRefreshToken(refreshToken) });
  const session = viewOf(data, sessionId);
  // A failed cache write only costs the first request a MongoDB read.
  await Promise.all([
    cache.create(sessionId, user, tokenExpiresAt.getTime() - now.getTime()),
    sessionList.add(userId, session),
    services.deadlines.set(userId, sessionId, session.idleExpiresAt.getTime(), expiresAt.getTime()),
  ]).catch(
    (error: unknown) => log.warn({ err: (error as Error).message }, 'session cache write failed'),
  );
  // The new session stands either way: a cap not enforced now is enforced at the next sign-in.
  await enforceSessionCap(services, userId).catch((error: unknown) =>
    log.warn({ err: (error as Error).message }, 'session cap not enforced on this sign-in'),
  );
  const token = signToken({ userId, sessionId, expiresAt: tokenExpiresAt }, services.tokenKeys);
  return { token, refreshToken, session };
}

/**
 * At most `sessionsPerUser` active sessions: a sign-in beyond it revokes the
 * oldest, announced like any revocation. Up to the cap by the Redis list, no
 * MongoDB read. Over it, the whole list: from Redis when it is whole, else from
 * one MongoDB read that fills it, so that a user who keeps signing in past the
 * cap costs no MongoDB read per sign-in.
 */
async function enforceSessionCap(services: Services, userId: string): Promise<void> {
  const { sessionsPerUser } = services.config.caps;
  // The list (this sign-in's session included) holds every session but those whose list write
  // failed (rare, and caught by a later sign-in once the list is refilled), and maybe some revoked
  // a moment ago: only the whole active list decides which to revoke.
  const listed = await services.sessionList.known(userId);
  if (listed.length <= sessionsPerUser) return;
  const active = await activeSessions(services, userId, null);
  await services.revocations.revoke(userId, active.slice(sessionsPerUser).map((s) => s.id).reverse(), 'SESSION_LIMIT');
}

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
  session: SessionData,
  deviceInfo: string,
  request: RequestInfo,
): Promise<void> {
  const userId = user._id.toHexString();
  const fresh = await services.models.User.findById(user._id).select('+password').lean();
  const created = sessionCreatedEvent(userId, toJson(session));
  if (!fresh || fresh.deletingAt || fresh.password !== user.password) {
    const reason = fresh && !fresh.deletingAt ? 'PASSWORD_CHANGED' : 'ACCOUNT_DELETED';
    await services.webhooks.cancel(userId, [created]);
    await services.revocations.revoke(userId, [session.id], reason);
    throw new AppError('INVALID_CREDENTIALS');
  }
  // Blocked by an administrator since the password was checked (src/admin/users.ts blockUser).
  if (fresh.blockedAt) {
    await services.webhooks.cancel(userId, [created]);
    await services.revocations.revoke(userId, [session.id], 'ADMIN_REVOKED');
    throw new AppError('ACCOUNT_BLOCKED');
  }
  await recordSecurityEvent(services, {
    userId,
    type: 'SIGNED_IN',
    at: session.createdAt,
    ipAddress: request.ipAddress,
    deviceInfo,
    sessionId: session.id,
  });
  await services.webhooks.confirm(userId, [created]);
  await services.pubsub
    .publish('sessionCreated', userId, { userId, session: toJson(session) })
    // The sign-in holds; only the live notice is lost (the timeline has it).
    .catch((error: unknown) => services.log.error({ err: (error as Error).message }, 'sessionCreated publish failed'));
}
