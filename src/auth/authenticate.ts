import { type AppError, toAppError } from '../errors.js';
import { isActive } from '../models/session.js';
import type { Services } from '../services.js';
import { verifyToken } from './token.js';
import type { Viewer } from './viewer.js';

/** The outcome of reading a request's credentials: a viewer, nobody, or "cannot tell right now". */
export type Auth = { viewer: Viewer } | { viewer: null; error: AppError | null };

export const ANONYMOUS: Auth = { viewer: null, error: null };

/**
 * Verifies a token and checks that its session is active.
 *
 * Warm path: one Redis round trip, no MongoDB. On a miss (new instance,
 * flushed or evicted cache) MongoDB decides and the answer is cached, so a
 * flushed Redis neither signs anyone out nor lets a revoked token back in.
 * A bad, expired or revoked token is `viewer: null`; an unreachable MongoDB is an
 * error value (SERVICE_UNAVAILABLE), raised only by fields that need a viewer.
 */
export async function authenticate(services: Services, token: string | null): Promise<Auth> {
  if (!token) return ANONYMOUS;
  const claims = verifyToken(token, services.config.jwtSecret);
  if (!claims) return ANONYMOUS;
  const { cache, models, log } = services;

  let lookup: Awaited<ReturnType<typeof cache.lookup>> = { entry: null, touchDue: false };
  try {
    lookup = await cache.lookup(claims.sessionId);
  } catch (error) {
    // Redis down: MongoDB is the source of truth, so answer from it rather than refuse everyone.
    log.warn({ err: (error as Error).message }, 'session cache unreachable; checking MongoDB');
  }

  const viewer: Viewer = { userId: claims.userId, sessionId: claims.sessionId, expiresAt: claims.expiresAt };
  if (lookup.entry) {
    if (lookup.entry.state === 'active' && lookup.entry.userId === claims.userId) {
      if (lookup.touchDue) touch(services, claims.sessionId);
      return { viewer };
    }
    return ANONYMOUS;
  }

  try {
    // The account too: a session whose account is gone counts as revoked.
    const [session, account] = await Promise.all([
      models.Session.findOne({ sessionId: claims.sessionId }).lean(),
      models.User.exists({ _id: claims.userId }),
    ]);
    const ttlMs = claims.expiresAt.getTime() - Date.now();
    if (!session || !account || session.userId.toHexString() !== claims.userId || !isActive(session)) {
      await cache.fill(claims.sessionId, { state: 'revoked' }, ttlMs).catch(() => {});
      return ANONYMOUS;
    }
    await cache.fill(claims.sessionId, { state: 'active', userId: claims.userId }, ttlMs).catch(() => {});
    if (lookup.touchDue) touch(services, claims.sessionId);
    return { viewer };
  } catch (error) {
    const known = toAppError(error);
    if (known) return { viewer: null, error: known };
    throw error;
  }
}

/** Records use of a session. Throttled by the cache to one write a minute; never delays the request. */
function touch(services: Services, sessionId: string): void {
  services.models.Session.updateOne({ sessionId, revokedAt: null }, { $set: { lastActivity: new Date() } })
    .exec()
    .catch((error: unknown) => services.log.warn({ err: (error as Error).message }, 'lastActivity write failed'));
}
