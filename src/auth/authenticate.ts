import { type AppError, toAppError } from '../errors.js';
import { isActive } from '../models/session.js';
import type { Services } from '../services.js';
import type { CacheLookup } from './session-cache.js';
import { verifyToken, type TokenClaims } from './token.js';
import { toUserView, type Viewer } from './viewer.js';

/** The outcome of reading a request's credentials: a viewer, nobody, or "cannot tell right now". */
export type Auth = { viewer: Viewer } | { viewer: null; error: AppError | null };

export const ANONYMOUS: Auth = { viewer: null, error: null };

const MISS: CacheLookup = { entry: null, profile: null, touchDue: false };

/** The fields of a user any client may see: nothing else is read on the cold path. */
const PUBLIC_USER_FIELDS = { email: 1, name: 1, createdAt: 1, updatedAt: 1, deletingAt: 1 } as const;

/**
 * Verifies a token and checks that its session is active, and that its account still exists.
 *
 * Warm path: one Redis round trip (session state, profile, activity throttle),
 * no MongoDB; the viewer carries the profile, so `me` needs nothing else. On a
 * miss (new instance, flushed or evicted cache) MongoDB decides and the answer
 * is cached, so a flushed Redis neither signs anyone out nor lets a revoked
 * token back in. A session whose account is gone counts as revoked.
 * A bad, expired or revoked token is `viewer: null`; an unreachable MongoDB is an
 * error value (SERVICE_UNAVAILABLE), raised only by fields that need a viewer.
 */
export async function authenticate(services: Services, token: string | null): Promise<Auth> {
  if (!token) return ANONYMOUS;
  const claims = verifyToken(token, services.tokenKey);
  if (!claims) return ANONYMOUS;
  const { cache, log } = services;

  let lookup = MISS;
  try {
    lookup = await cache.lookup(claims.sessionId, claims.userId);
  } catch (error) {
    // Redis down: MongoDB is the source of truth, so answer from it rather than refuse everyone.
    log.warn({ err: (error as Error).message }, 'session cache unreachable; checking MongoDB');
  }
  const { entry, profile, touchDue } = lookup;
  // The session's state decides first: a tombstone beats any cached profile.
  if (entry && (entry.state !== 'active' || entry.userId !== claims.userId)) return ANONYMOUS;

  let auth: Auth;
  if (entry && profile) {
    auth = { viewer: { ...claims, user: profile } };
  } else {
    try {
      auth = await checkInMongo(services, claims, entry !== null);
    } catch (error) {
      const known = toAppError(error);
      if (known) return { viewer: null, error: known };
      throw error;
    }
  }
  if (auth.viewer && touchDue) touch(services, claims);
  return auth;
}

/**
 * The cold path: the session (unless the cache already vouched for it) and the
 * account, read side by side, then cached. `fill` never overwrites, so a
 * revocation racing this read keeps its tombstone.
 */
async function checkInMongo(services: Services, claims: TokenClaims, sessionCached: boolean): Promise<Auth> {
  const { models, cache, log } = services;
  const ttlMs = claims.expiresAt.getTime() - Date.now();
  const [session, user] = await Promise.all([
    sessionCached ? null : models.Session.findOne({ sessionId: claims.sessionId }, { userId: 1, revokedAt: 1, expiresAt: 1 }).lean(),
    models.User.findById(claims.userId, PUBLIC_USER_FIELDS).lean(),
  ]);
  const cacheFailed = (error: unknown): void => log.warn({ err: (error as Error).message }, 'session cache write failed');
  if (!user || user.deletingAt) {
    // A deleted account's tokens (or one being deleted) are as good as revoked, whatever the cache said of the session.
    await cache.revoke([claims.sessionId], ttlMs).catch(cacheFailed);
    return ANONYMOUS;
  }
  if (!sessionCached) {
    if (!session || session.userId.toHexString() !== claims.userId || !isActive(session)) {
      await cache.fill(claims.sessionId, { state: 'revoked' }, ttlMs).catch(cacheFailed);
      return ANONYMOUS;
    }
  }
  const view = toUserView(user);
  await Promise.all([
    sessionCached ? undefined : cache.fill(claims.sessionId, { state: 'active', userId: claims.userId }, ttlMs),
    cache.fillProfile(view),
  ]).catch(cacheFailed);
  return { viewer: { ...claims, user: view } };
}

/** Records use of a session, in MongoDB and the cached list. Throttled by the cache to one write a minute; never delays the request. */
function touch(services: Services, { userId, sessionId }: TokenClaims): void {
  const at = new Date();
  const failed = (error: unknown): void => services.log.warn({ err: (error as Error).message }, 'lastActivity write failed');
  services.models.Session.updateOne({ sessionId, revokedAt: null }, { $set: { lastActivity: at } })
    .exec()
    .catch(failed);
  services.sessionList.touch(userId, sessionId, at).catch(failed);
}
