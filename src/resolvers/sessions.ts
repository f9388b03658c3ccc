import { randomUUID } from 'node:crypto';
import { notFound, unauthenticated } from '../errors.js';
import type { RevocationReason } from '../models/session.js';
import { activeSessionRecords, isActiveSession } from '../revocation/durable.js';
import type { Services } from '../services.js';
import { signToken } from '../auth/token.js';
import { validateOptionalBoolean, validateSessionId } from '../auth/validation.js';
import type { RequestInfo, UserView, Viewer } from '../auth/viewer.js';
import { recordViewerEvent } from './security-events.js';
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
  // The new session stands either way: a cap not enforced now is enforced at the next sign-in.
  await enforceSessionCap(services, userId).catch((error: unknown) =>
    log.warn({ err: (error as Error).message }, 'session cap not enforced on this sign-in'),
  );
  const token = signToken({ userId, sessionId, expiresAt }, services.tokenKey);
  return { token, session };
}

/**
 * At most `sessionsPerUser` active sessions: a sign-in beyond it revokes the
 * oldest, announced like any revocation. Up to the cap by the Redis list, no
 * MongoDB read (on FerretDB, a scan of every session per sign-in). Over it, the
 * whole list: from Redis when it is whole, else from one MongoDB read that
 * fills it, so that a user who keeps signing in past the cap costs no MongoDB
 * read per sign-in (it was two: 16.7 logins/s became 6.8 in bench/login-storm.ts).
 */
async function enforceSessionCap(services: Services, userId: string): Promise<void> {
  const { sessionsPerUser } = services.config.caps;
  // The list (this sign-in's session included) holds every session but those whose list write
  // failed (rare, and caught by a later sign-in once the list is refilled), and maybe some revoked
  // a moment ago. Without Redis there is no revoking (revokeSessions claims in Redis): the next
  // sign-in enforces the cap.
  const listed = await services.sessionList.known(userId);
  if (listed.length <= sessionsPerUser) return;
  const active = await activeSessions(services, userId, null);
  await revokeSessions(services, userId, active.slice(sessionsPerUser).map((s) => s.id).reverse(), SESSION_CAP_REASON);
}

/** What the session list shows: nothing else is read. */
const LISTED_FIELDS = { deviceInfo: 1, ipAddress: 1, userAgent: 1, lastActivity: 1, createdAt: 1, expiresAt: 1 } as const;

/**
 * The viewer's active sessions, newest first: from Redis when the list is
 * there (src/auth/session-list.ts), else from MongoDB (durably: a session named
 * by a revocation whose marking is not done is left out), then cached with
 * each session's state, never over a tombstone nor into a Redis that lost its
 * data since the read began (the user's epoch, src/auth/session-cache.ts).
 */
export function listSessions(services: Services, viewer: Viewer): Promise<SessionView[]> {
  return activeSessions(services, viewer.userId, viewer.sessionId);
}

/** A user's active sessions, newest first, `current` for the given one (see listSessions). */
async function activeSessions(services: Services, userId: string, currentSessionId: string | null): Promise<SessionView[]> {
  const { models, cache, ledger, sessionList, log } = services;
  const warn = (error: unknown): void => log.warn({ err: (error as Error).message }, 'session list cache unavailable');
  const cached = await sessionList.read(userId).catch((error: unknown) => {
    warn(error);
    return null;
  });
  if (cached) return cached.map((s) => ({ ...s, current: s.id === currentSessionId }));

  const epoch = await cache.epoch(userId).catch(() => null);
  const now = Date.now();
  const records = await activeSessionRecords(models, userId, LISTED_FIELDS);
  const revoked = await ledger.revokedAmong(userId, records.map((s) => s.sessionId)).catch(() => new Set<string>());
  const sessions = records.filter((s) => !revoked.has(s.sessionId)).map((s) => toSessionView(s, currentSessionId));
  if (epoch !== null) {
    await Promise.all([
      ...sessions.map((s) => cache.fill(userId, s.id, { state: 'active', userId }, s.expiresAt.getTime() - now, epoch)),
      sessionList.fill(userId, sessions, epoch),
    ]).catch(warn);
  }
  return sessions;
}

/** The reason a sign-in beyond the per-user session cap gives the oldest sessions it revokes. */
export const SESSION_CAP_REASON: RevocationReason = 'SESSION_LIMIT';

/** Revokes sessions of one user, durably and exactly once (src/revocation/revocations.ts). */
export function revokeSessions(services: Services, userId: string, sessionIds: readonly string[], reason: RevocationReason): Promise<string[]> {
  return services.revocations.revoke(userId, sessionIds, reason);
}

export async function logout(services: Services, viewer: Viewer, request: RequestInfo): Promise<boolean> {
  const revoked = await revokeSessions(services, viewer.userId, [viewer.sessionId], 'LOGOUT');
  // Another call (a logoutAll) claimed the session after this request was authenticated: as if it
  // had come first, this token is no longer good, and the session is that call's to report.
  if (revoked.length === 0) throw unauthenticated();
  await recordViewerEvent(services, viewer, request, 'SIGNED_OUT');
  return true;
}

/**
 * Revokes every session of the viewer's user (but the viewer's own with
 * `exceptCurrent`): those MongoDB, the durable state, holds active, as one
 * revocation (one record, one announcement). The answer counts the sessions
 * this call revoked; a concurrent call announces its own.
 */
export async function logoutAll(
  services: Services,
  viewer: Viewer,
  args: { exceptCurrent?: unknown },
  request: RequestInfo,
): Promise<LogoutAllPayload> {
  const exceptCurrent = validateOptionalBoolean(args.exceptCurrent, 'exceptCurrent') ?? false;
  const active = await activeSessionRecords(services.models, viewer.userId, {});
  const targets = active.map((s) => s.sessionId).filter((id) => !(exceptCurrent && id === viewer.sessionId));
  const revokedSessionIds = await revokeSessions(services, viewer.userId, targets, 'LOGOUT_ALL');
  await recordViewerEvent(services, viewer, request, 'SIGNED_OUT_EVERYWHERE');
  return { revokedCount: revokedSessionIds.length, revokedSessionIds };
}

/** Revokes one of the viewer's own active sessions; any other id is NOT_FOUND, whoever owns it. */
export async function revokeSession(services: Services, viewer: Viewer, id: unknown, request: RequestInfo): Promise<boolean> {
  const sessionId = validateSessionId(id);
  // Ownership first: revokeSessions writes cache tombstones before MongoDB, and
  // must never be handed another user's session id. The user's whole Redis list
  // (there after the device list was shown) proves it without MongoDB, where on
  // FerretDB a lookup by session id scans the whole collection; anything it
  // does not hold is asked of MongoDB, the authority.
  const listed = await services.sessionList.read(viewer.userId).catch(() => null);
  const owned = listed?.some((s) => s.id === sessionId) || (await isActiveSession(services.models, viewer.userId, sessionId));
  if (!owned) throw notFound('No active session with this id');
  const revoked = await revokeSessions(services, viewer.userId, [sessionId], 'REVOKED');
  if (revoked.length === 0) throw notFound('No active session with this id');
  await recordViewerEvent(services, viewer, request, 'SESSION_REVOKED', sessionId);
  return true;
}
