import { type AppError, toAppError } from '../errors.js';
import { isActive } from '../models/session.js';
import { isPendingRevoked } from '../revocation/durable.js';
import { deadlineOf, expireIfDue } from '../sessions/expiry.js';
import type { Services } from '../services.js';
import type { CacheLookup, CachedSession } from './session-cache.js';
import { verifyToken, type TokenClaims } from './token.js';
import { PUBLIC_USER_FIELDS, toUserView, type Viewer } from './viewer.js';

/** The outcome of reading a request's credentials: a viewer, nobody, or "cannot tell right now". */
export type Auth = { viewer: Viewer } | { viewer: null; error: AppError | null };

export const ANONYMOUS: Auth = { viewer: null, error: null };

const MISS: CacheLookup = { entry: null, profile: null, touchDue: false, epoch: null, deadline: null };


/**
 * Verifies a token and checks that its session is active, and that its account still exists.
 *
 * Warm path: one Redis round trip (session state, profile, activity throttle),
 * no MongoDB; the viewer carries the profile, so `me` needs nothing else. On a
 * miss (new instance, flushed or evicted cache) MongoDB decides, durably (a
 * session named by a recorded revocation is revoked, marked or not), and the
 * answer is cached, so a flushed Redis neither signs anyone out nor lets a
 * revoked token back in. A session whose account is gone counts as revoked.
 * `activity`: the request is a use of the session (not a stream's).
 * A bad, expired or revoked token is `viewer: null`; an unreachable MongoDB is an
 * error value (SERVICE_UNAVAILABLE), raised only by fields that need a viewer.
 */
export async function authenticate(services: Services, token: string | null, activity = true): Promise<Auth> {
  if (!token) return ANONYMOUS;
  const claims = verifyToken(token, services.tokenKeys);
  if (!claims) return ANONYMOUS;
  const { cache, log } = services;

  let lookup = MISS;
  try {
    lookup = await cache.lookup(claims.userId, claims.sessionId);
  } catch (error) {
    // Redis down: MongoDB is the source of truth, so answer from it rather than refuse everyone.
    log.warn({ err: (error as Error).message }, 'session cache unreachable; checking MongoDB');
  }
  const { entry, profile, touchDue, deadline } = lookup;
  // The session's state decides first: a tombstone beats any cached profile.
  if (entry && (entry.state !== 'active' || entry.userId !== claims.userId)) return ANONYMOUS;
  // Past its idle or absolute deadline: refused at once, and ended (announced) now if the sweep has not yet.
  if (deadline !== null && deadline <= Date.now()) return expired(services, claims);

  let auth: Auth;
  if (entry && profile && deadline !== null) {
    auth = { viewer: { ...claims, user: profile } };
  } else {
    try {
      // Without a known deadline the session itself is read (a Redis that lost it, or a session older than idle expiry).
      auth = await checkInMongo(services, claims, entry !== null && deadline !== null, lookup.epoch);
    } catch (error) {
      const known = toAppError(error);
      if (known) return { viewer: null, error: known };
      throw error;
    }
  }
  // Not for a stream's request (`activity` false): its throttle window passes without a write, which at
  // worst delays the next request's write by that window.
  if (auth.viewer && touchDue && activity) touch(services, claims);
  return auth;
}

/**
 * The cold path: the session (unless the cache already vouched for it), the
 * user's unmarked revocation records and the account, read side by side, then
 * cached. The fill can never bring a revoked session back: it does not
 * overwrite (a revocation racing this read keeps its tombstone), and it is
 * refused if Redis lost its data since the user's epoch was read (`seen`, by
 * the lookup; taken here when there was none).
 */
async function checkInMongo(services: Services, claims: TokenClaims, sessionCached: boolean, seen: string | null): Promise<Auth> {
  const { models, cache, log } = services;
  const { userId, sessionId } = claims;
  const ttlMs = claims.expiresAt.getTime() - Date.now();
  const cacheFailed = (error: unknown): void => log.warn({ err: (error as Error).message }, 'session cache write failed');
  // Taken before MongoDB is read: a fill is written only into the Redis that was there then.
  const epoch = seen ?? (await cache.epoch(userId).catch(() => null));
  const [session, pending, user] = await Promise.all([
    sessionCached ? null : models.Session.findOne({ sessionId }, { userId: 1, revokedAt: 1, expiresAt: 1, idleExpiresAt: 1 }).lean(),
    sessionCached ? false : isPendingRevoked(models, userId, sessionId),
    models.User.findById(userId, PUBLIC_USER_FIELDS).lean(),
  ]);
  const fill = (entry: CachedSession): Promise<void> =>
    epoch === null ? Promise.resolve() : cache.fill(userId, sessionId, entry, ttlMs, epoch).catch(cacheFailed);
  if (!user || user.deletingAt) {
    // A deleted account's tokens (or one being deleted) are as good as revoked, whatever the cache said of the session.
    await cache.revoke(userId, [sessionId], ttlMs).catch(cacheFailed);
    return ANONYMOUS;
  }
  if (!sessionCached && (!session || session.userId.toHexString() !== userId || pending || session.revokedAt !== null)) {
    await fill({ state: 'revoked' });
    return ANONYMOUS;
  }
  if (session) {
    if (!isActive(session) || deadlineOf(session) <= Date.now()) return expired(services, claims);
    // Known again to the check and to the expiry sweep; never over what a use wrote meanwhile.
    await services.deadlines.set(userId, sessionId, deadlineOf(session), session.expiresAt.getTime(), true).catch(cacheFailed);
  }
  const view = toUserView(user);
  await Promise.all([sessionCached ? undefined : fill({ state: 'active', userId }), cache.fillProfile(view).catch(cacheFailed)]);
  return { viewer: { ...claims, user: view } };
}

/** A session past its deadline: refused, and ended now (in the background) unless the sweep or another request got there first. */
function expired(services: Services, { userId, sessionId }: TokenClaims): Auth {
  expireIfDue(services, userId, sessionId).catch((error: unknown) =>
    services.log.warn({ err: (error as Error).message }, 'session expiry failed; the sweep retries'),
  );
  return ANONYMOUS;
}

/**
 * Records use of a session: lastActivity, and the idle deadline moved to
 * SESSION_IDLE_TIMEOUT from now (Redis, where the check and the sweep read it;
 * MongoDB; the cached list). Throttled by the cache (at most one write a
 * minute); never delays the request.
 */
function touch(services: Services, { userId, sessionId }: TokenClaims): void {
  const at = new Date();
  // Capped at the absolute end where it is read (src/sessions/session.ts, src/sessions/deadlines.ts).
  const idleExpiresAt = new Date(at.getTime() + services.config.sessionIdleTimeoutMs);
  const failed = (error: unknown): void => services.log.warn({ err: (error as Error).message }, 'lastActivity write failed');
  services.deadlines.slide(userId, sessionId, at.getTime(), services.config.sessionIdleTimeoutMs).catch(failed);
  services.models.Session.updateOne({ sessionId, revokedAt: null }, { $set: { lastActivity: at, idleExpiresAt } })
    .exec()
    .catch(failed);
  services.sessionList.touch(userId, sessionId, at, idleExpiresAt).catch(failed);
}
