import { randomUUID } from 'node:crypto';
import { notFound } from '../errors.js';
import { activeFilter, op, type RevocationReason } from '../models/session.js';
import type { Services } from '../services.js';
import { signToken } from '../auth/token.js';
import { validateOptionalBoolean, validateSessionId } from '../auth/validation.js';
import type { RequestInfo, UserView, Viewer } from '../auth/viewer.js';
import { toSessionView, type LogoutAllPayload, type SessionView } from './views.js';

/** Opens a session for a user who just proved who they are, and signs its token. */
export async function createSession(
  services: Services,
  user: UserView,
  request: RequestInfo,
  deviceInfo: string,
): Promise<{ token: string; session: SessionView }> {
  const { config, models, cache, sessionList, log } = services;
  const userId = user.id;
  const now = new Date();
  const expiresAt = new Date(now.getTime() + config.jwtExpiresInSeconds * 1000);
  const sessionId = randomUUID();
  const record = await models.Session.create({
    sessionId,
    userId,
    deviceInfo,
    ipAddress: request.ipAddress,
    userAgent: request.userAgent.slice(0, 1000),
    lastActivity: now,
    createdAt: now,
    expiresAt,
  });
  const session = toSessionView(record.toObject(), sessionId);
  // A failed cache write only costs the first request a MongoDB read.
  await Promise.all([cache.create(sessionId, user, expiresAt.getTime() - now.getTime()), sessionList.add(userId, session)]).catch(
    (error: unknown) => log.warn({ err: (error as Error).message }, 'session cache write failed'),
  );
  const token = signToken({ userId, sessionId, expiresAt }, services.tokenKey);
  return { token, session };
}

/** What the session list shows: nothing else is read. */
const LISTED_FIELDS = { sessionId: 1, deviceInfo: 1, ipAddress: 1, userAgent: 1, lastActivity: 1, createdAt: 1, expiresAt: 1 } as const;

/**
 * The viewer's active sessions, newest first: from Redis when the list is
 * there (src/session-list.ts), else from MongoDB, then cached with each
 * session's state (never over a tombstone: `fill` does not overwrite).
 */
export async function listSessions(services: Services, viewer: Viewer): Promise<SessionView[]> {
  const { models, cache, sessionList, log } = services;
  const warn = (error: unknown): void => log.warn({ err: (error as Error).message }, 'session list cache unavailable');
  const cached = await sessionList.read(viewer.userId).catch((error: unknown) => {
    warn(error);
    return null;
  });
  if (cached) return cached.map((s) => ({ ...s, current: s.id === viewer.sessionId }));

  const now = new Date();
  const records = await models.Session.find({ userId: viewer.userId, ...activeFilter(now) }, LISTED_FIELDS)
    .sort({ createdAt: -1, _id: -1 })
    .lean();
  const sessions = records.map((s) => toSessionView(s, viewer.sessionId));
  await Promise.all([
    ...sessions.map((s) => cache.fill(s.id, { state: 'active', userId: viewer.userId }, s.expiresAt.getTime() - now.getTime())),
    sessionList.fill(viewer.userId, sessions),
  ]).catch(warn);
  return sessions;
}

/**
 * Revokes the given active sessions of one user and announces each revocation.
 * Returns the ids this call revoked (a concurrent revocation may have taken some).
 * Callers pass only ids they have read from MongoDB as this user's sessions.
 *
 * Order matters, since there are no transactions to lean on:
 * 1. tombstones in the cache first, so once MongoDB says "revoked" no instance
 *    can still hold an "active" entry (if Redis is down the call fails here and
 *    nothing changed);
 * 2. MongoDB, the record, tagged with a fresh revocationId to learn which
 *    documents this call changed;
 * 3. tombstones again: a cache flushed between 1 and 2 may have been re-filled
 *    from the not-yet-updated MongoDB;
 * 4. publish the sessions this call revoked, in one message: one event each.
 */
export async function revokeSessions(
  services: Services,
  userId: string,
  sessionIds: readonly string[],
  reason: RevocationReason,
): Promise<string[]> {
  if (sessionIds.length === 0) return [];
  const { models, cache, pubsub, config, log } = services;
  // Tokens cannot outlive the configured lifetime, so neither need their tombstones.
  const tombstoneTtlMs = config.jwtExpiresInSeconds * 1000;
  await cache.revoke(sessionIds, tombstoneTtlMs);
  const revokedAt = new Date();
  const revocationId = randomUUID();
  const result = await models.Session.updateMany(
    { userId, sessionId: op({ $in: [...sessionIds] }), revokedAt: null },
    { $set: { revokedAt, revokedReason: reason, revocationId } },
  );
  let revoked = [...sessionIds];
  if (result.modifiedCount !== sessionIds.length) {
    const changed = await models.Session.find({ revocationId }, { sessionId: 1 }).lean();
    const ids = new Set(changed.map((s) => s.sessionId));
    revoked = sessionIds.filter((id) => ids.has(id));
  }
  await cache.revoke(sessionIds, tombstoneTtlMs);
  if (revoked.length > 0) {
    await pubsub
      .publish('sessionRevoked', userId, { userId, sessionIds: revoked, reason, revokedAt: revokedAt.toISOString() })
      .catch((error: unknown) =>
        // The revocation holds (tokens are refused); only the live notice is lost.
        log.error({ err: (error as Error).message, sessionIds: revoked }, 'sessionRevoked publish failed'),
      );
  }
  return revoked;
}

export async function logout(services: Services, viewer: Viewer): Promise<boolean> {
  await revokeSessions(services, viewer.userId, [viewer.sessionId], 'LOGOUT');
  return true;
}

export async function logoutAll(
  services: Services,
  viewer: Viewer,
  args: { exceptCurrent?: unknown },
): Promise<LogoutAllPayload> {
  const exceptCurrent = validateOptionalBoolean(args.exceptCurrent, 'exceptCurrent') ?? false;
  const active = await services.models.Session.find(
    { userId: viewer.userId, ...activeFilter() },
    { sessionId: 1 },
  )
    .sort({ createdAt: -1, _id: -1 })
    .lean();
  const targets = active.map((s) => s.sessionId).filter((id) => !(exceptCurrent && id === viewer.sessionId));
  const revokedSessionIds = await revokeSessions(services, viewer.userId, targets, 'LOGOUT_ALL');
  return { revokedCount: revokedSessionIds.length, revokedSessionIds };
}

/** Revokes one of the viewer's own active sessions; any other id is NOT_FOUND, whoever owns it. */
export async function revokeSession(services: Services, viewer: Viewer, id: unknown): Promise<boolean> {
  const sessionId = validateSessionId(id);
  // Ownership first: revokeSessions writes cache tombstones before MongoDB, and
  // must never be handed another user's session id.
  const owned = await services.models.Session.exists({
    sessionId,
    userId: viewer.userId,
    ...activeFilter(),
  });
  if (!owned) throw notFound('No active session with this id');
  const revoked = await revokeSessions(services, viewer.userId, [sessionId], 'REVOKED');
  if (revoked.length === 0) throw notFound('No active session with this id');
  return true;
}
