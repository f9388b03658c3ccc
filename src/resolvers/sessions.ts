import { randomUUID } from 'node:crypto';
import { notFound, unauthenticated } from '../errors.js';
import { completeRevocation, OUTBOX_GRACE_MS } from '../revocation-outbox.js';
import { activeFilter, type RevocationReason } from '../models/session.js';
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
const LISTED_FIELDS = { sessionId: 1, deviceInfo: 1, ipAddress: 1, userAgent: 1, lastActivity: 1, createdAt: 1, expiresAt: 1 } as const;

/**
 * The viewer's active sessions, newest first: from Redis when the list is
 * there (src/auth/session-list.ts), else from MongoDB, then cached with each
 * session's state (never over a tombstone: `fill` does not overwrite).
 * A session revoked a moment ago may not be marked in its document yet (the
 * marking follows the revocation's answer): its tombstone already says so,
 * and it is left out.
 */
export function listSessions(services: Services, viewer: Viewer): Promise<SessionView[]> {
  return activeSessions(services, viewer.userId, viewer.sessionId);
}

/** A user's active sessions, newest first, `current` for the given one (see listSessions). */
async function activeSessions(services: Services, userId: string, currentSessionId: string | null): Promise<SessionView[]> {
  const { models, cache, sessionList, log } = services;
  const warn = (error: unknown): void => log.warn({ err: (error as Error).message }, 'session list cache unavailable');
  const cached = await sessionList.read(userId).catch((error: unknown) => {
    warn(error);
    return null;
  });
  if (cached) return cached.map((s) => ({ ...s, current: s.id === currentSessionId }));

  const now = new Date();
  const records = await models.Session.find({ userId, ...activeFilter(now) }, LISTED_FIELDS)
    .sort({ createdAt: -1, _id: -1 })
    .lean();
  const revoked = await cache.revokedAmong(records.map((s) => s.sessionId)).catch(() => new Set<string>());
  const sessions = records.filter((s) => !revoked.has(s.sessionId)).map((s) => toSessionView(s, currentSessionId));
  await Promise.all([
    ...sessions.map((s) => cache.fill(s.id, { state: 'active', userId }, s.expiresAt.getTime() - now.getTime())),
    sessionList.fill(userId, sessions),
  ]).catch(warn);
  return sessions;
}

/** The reason a sign-in beyond the per-user session cap gives the oldest sessions it revokes. */
export const SESSION_CAP_REASON: RevocationReason = 'SESSION_LIMIT';

/**
 * Revokes the given sessions of one user and announces each revocation, exactly
 * once whatever races it. Returns the ids this call revoked: a concurrent call
 * may have taken some, and each session is counted and announced by the one
 * call that claimed it. Callers pass only ids known to be this user's sessions:
 * read from MongoDB, or from the user's session list (which holds only those).
 *
 * 1. One Redis script claims the ids no earlier call claimed, writes their
 *    tombstones (from here no instance accepts their tokens), numbers the call
 *    in the user's order and records it in the outbox. If Redis is down the call
 *    fails here and nothing changed.
 * 2. The announcement, and its record in MongoDB (one document), together (the
 *    outbox lets a stream find a revocation not recorded yet); the call
 *    answers after both. Each session's own document is marked meanwhile, in
 *    the background (src/revocation-outbox.ts).
 * If MongoDB or Redis fails after step 1, or this process dies, the revocation
 * already holds and the outbox sweepers of every instance complete it when the
 * dependency is back: the call answers success, since retrying could not do more.
 */
export async function revokeSessions(
  services: Services,
  userId: string,
  sessionIds: readonly string[],
  reason: RevocationReason,
  /** The session documents are marked after this settles (see completeRevocation). */
  markAfter?: Promise<unknown>,
): Promise<string[]> {
  if (sessionIds.length === 0) return [];
  const { cache, config, log } = services;
  const revocation = await cache.claim(
    { userId, sessionIds, reason, revokedAt: new Date().toISOString(), dueAt: Date.now() + OUTBOX_GRACE_MS },
    // Tokens cannot outlive the configured lifetime, so neither need their tombstones.
    config.jwtExpiresInSeconds * 1000,
  );
  if (!revocation) return [];
  const handOver = (error: unknown): void => {
    log.warn(
      { err: (error as Error).message, userId, seq: revocation.seq },
      'revocation holds but was not completed; the outbox sweep completes it',
    );
    cache.dueNow(revocation).catch(() => {
      // Redis is what failed: the entry falls due after its grace period anyway.
    });
  };
  const { announced, done } = completeRevocation(services, revocation, markAfter);
  done.catch(handOver);
  await announced.catch(() => {
    // Reported once, through `done`.
  });
  return revocation.sessionIds;
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
 * `exceptCurrent`). The sessions the Redis list knows of are revoked and
 * announced at once, so the devices learn of it without waiting for MongoDB
 * (on FerretDB a user's sessions are found by a scan of the whole
 * collection); MongoDB, the authority, is read meanwhile, and whatever the
 * list missed is revoked right after, as a second revocation. The answer
 * covers both.
 */
export async function logoutAll(
  services: Services,
  viewer: Viewer,
  args: { exceptCurrent?: unknown },
  request: RequestInfo,
): Promise<LogoutAllPayload> {
  const exceptCurrent = validateOptionalBoolean(args.exceptCurrent, 'exceptCurrent') ?? false;
  const { models, sessionList, log } = services;
  const targets = (ids: readonly string[]): string[] => ids.filter((id) => !(exceptCurrent && id === viewer.sessionId));
  const listed = await sessionList.known(viewer.userId).catch((error: unknown) => {
    log.warn({ err: (error as Error).message }, 'session list unavailable: logoutAll waits for MongoDB');
    return [];
  });
  // Unsorted: only what the list missed is taken from it, usually nothing.
  const read = models.Session.find({ userId: viewer.userId, ...activeFilter() }, { sessionId: 1 }).lean().exec();
  // The marking of these sessions' documents waits for the read: on FerretDB both are scans of the
  // collection, and the answer waits for the read, not for the marking.
  const first = revokeSessions(services, viewer.userId, targets(listed.map((s) => s.id)), 'LOGOUT_ALL', read.catch(() => {}));
  // Settled either way before this call returns: its failure is the call's failure.
  first.catch(() => {});
  const active = await read;
  const revokedFirst = await first;
  // Only what no call claimed yet is claimed again: usually nothing, and no second announcement.
  const revokedAfter = await revokeSessions(services, viewer.userId, targets(active.map((s) => s.sessionId)), 'LOGOUT_ALL');
  const revokedSessionIds = [...revokedFirst, ...revokedAfter];
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
  const owned =
    listed?.some((s) => s.id === sessionId) ||
    (await services.models.Session.exists({ sessionId, userId: viewer.userId, ...activeFilter() }));
  if (!owned) throw notFound('No active session with this id');
  const revoked = await revokeSessions(services, viewer.userId, [sessionId], 'REVOKED');
  if (revoked.length === 0) throw notFound('No active session with this id');
  await recordViewerEvent(services, viewer, request, 'SESSION_REVOKED', sessionId);
  return true;
}
