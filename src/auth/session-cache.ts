import type { Redis } from 'ioredis';
import { ExpiringMap } from '../expiring-map.js';
import type { UserView } from './viewer.js';

/** What the cache knows of a session. `revoked` is a tombstone: known bad, no MongoDB needed. */
export type CachedSession = { state: 'active'; userId: string } | { state: 'revoked' };

export interface CacheLookup {
  /** null on a miss: the caller asks MongoDB and fills the cache. */
  entry: CachedSession | null;
  /** The account's public profile, kept so that `me` never reads MongoDB; null on a miss. */
  profile: UserView | null;
  /** True at most once a minute per session: time to record lastActivity. */
  touchDue: boolean;
}

/**
 * The per-request session check's storage. Each method is one round trip.
 *
 * Ordering rules that keep revocation safe without transactions:
 * - `fill` (after a miss) never overwrites, so a tombstone written by a
 *   concurrent revocation always wins over a stale "active" read from MongoDB;
 * - `revoke` always overwrites.
 *
 * The profile is kept per user, beside the per-session state, and is only ever
 * read together with it: the session entry decides who is signed in, the
 * profile never does. A tombstone therefore beats a cached profile, and an
 * account whose profile is cleared (`clearUser`) is re-checked in MongoDB on
 * its next request.
 */
export interface SessionCache {
  lookup(sessionId: string, userId: string): Promise<CacheLookup>;
  /** A brand-new session: mark active, store the profile, start its activity throttle. */
  create(sessionId: string, user: UserView, ttlMs: number): Promise<void>;
  fill(sessionId: string, entry: CachedSession, ttlMs: number): Promise<void>;
  /** After a miss: stores the profile read from MongoDB unless a newer one got there first. */
  fillProfile(user: UserView): Promise<void>;
  /** After the account changed in MongoDB (e.g. a new password moves `updatedAt`): overwrites. */
  storeProfile(user: UserView): Promise<void>;
  /** The account is gone: drop its profile, so the next request of any token asks MongoDB. */
  clearUser(userId: string): Promise<void>;
  revoke(sessionIds: readonly string[], ttlMs: number): Promise<void>;
}

/** lastActivity is written at most this often per session (API.md allows one a minute). */
export const ACTIVITY_THROTTLE_MS = 60_000;
/** A profile unused this long is dropped; the next request refills it from MongoDB. */
export const PROFILE_TTL_MS = 24 * 3600_000;

/** A session's state: `active:<userId>` or `revoked` (src/session-list.ts reads it too). */
export const sessionKey = (sid: string): string => `la:session:${sid}`;
const activityKey = (sid: string): string => `la:activity:${sid}`;
const profileKey = (userId: string): string => `la:user:${userId}`;
const REVOKED = 'revoked';

function encode(entry: CachedSession): string {
  return entry.state === 'revoked' ? REVOKED : `active:${entry.userId}`;
}

function decode(value: string | null): CachedSession | null {
  if (value === null) return null;
  if (value === REVOKED) return { state: 'revoked' };
  if (value.startsWith('active:')) return { state: 'active', userId: value.slice('active:'.length) };
  return null;
}

const encodeProfile = (user: UserView): string =>
  JSON.stringify([user.id, user.email, user.name, user.createdAt.getTime(), user.updatedAt.getTime()]);

/** Anything unreadable (an older format) is a miss, refilled from MongoDB. */
function decodeProfile(value: string | null, userId: string): UserView | null {
  if (value === null) return null;
  try {
    const [id, email, name, createdAt, updatedAt] = JSON.parse(value) as [string, string, string, number, number];
    if (id !== userId || typeof email !== 'string' || typeof name !== 'string') return null;
    return { id, email, name, createdAt: new Date(createdAt), updatedAt: new Date(updatedAt) };
  } catch {
    return null;
  }
}

const positive = (ms: number): number => Math.max(1, Math.ceil(ms));

type Reply = [Error | null, unknown];

function replies(results: Reply[] | null): unknown[] {
  if (!results) throw new Error('Redis pipeline returned nothing');
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

export function createRedisSessionCache(redis: Redis): SessionCache {
  return {
    async lookup(sessionId, userId) {
      // One round trip: both commands go out together (the state and profile in one MGET, then
      // the activity throttle). Not a pipeline: for two commands its bookkeeping cost about
      // twice the client CPU (≈25 µs against ≈13 µs per lookup, measured), on every request.
      const [[state, profile], touched] = await Promise.all([
        redis.mget(sessionKey(sessionId), profileKey(userId)),
        redis.set(activityKey(sessionId), '1', 'PX', ACTIVITY_THROTTLE_MS, 'NX'),
      ]);
      return { entry: decode(state ?? null), profile: decodeProfile(profile ?? null, userId), touchDue: touched === 'OK' };
    },
    async create(sessionId, user, ttlMs) {
      replies(
        await redis
          .pipeline()
          .set(sessionKey(sessionId), encode({ state: 'active', userId: user.id }), 'PX', positive(ttlMs))
          .set(profileKey(user.id), encodeProfile(user), 'PX', PROFILE_TTL_MS)
          .set(activityKey(sessionId), '1', 'PX', ACTIVITY_THROTTLE_MS)
          .exec(),
      );
    },
    async fill(sessionId, entry, ttlMs) {
      await redis.set(sessionKey(sessionId), encode(entry), 'PX', positive(ttlMs), 'NX');
    },
    async fillProfile(user) {
      await redis.set(profileKey(user.id), encodeProfile(user), 'PX', PROFILE_TTL_MS, 'NX');
    },
    async storeProfile(user) {
      await redis.set(profileKey(user.id), encodeProfile(user), 'PX', PROFILE_TTL_MS);
    },
    async clearUser(userId) {
      await redis.del(profileKey(userId));
    },
    async revoke(sessionIds, ttlMs) {
      if (sessionIds.length === 0) return;
      const pipeline = redis.pipeline();
      for (const sid of sessionIds) pipeline.set(sessionKey(sid), REVOKED, 'PX', positive(ttlMs));
      replies(await pipeline.exec());
    },
  };
}

/** The development default: one process, no Redis. Same contract as the Redis cache. */
export function createMemorySessionCache(now: () => number = Date.now, keys = new ExpiringMap<string>(now)): SessionCache {
  const read = (key: string): string | null => keys.get(key) ?? null;
  const setIfAbsent = (key: string, value: string, ttlMs: number): void => {
    if (read(key) === null) keys.set(key, value, ttlMs);
  };
  return {
    async lookup(sessionId, userId) {
      const entry = decode(read(sessionKey(sessionId)));
      const profile = decodeProfile(read(profileKey(userId)), userId);
      const touchDue = read(activityKey(sessionId)) === null;
      if (touchDue) keys.set(activityKey(sessionId), '1', ACTIVITY_THROTTLE_MS);
      return { entry, profile, touchDue };
    },
    async create(sessionId, user, ttlMs) {
      keys.set(sessionKey(sessionId), encode({ state: 'active', userId: user.id }), ttlMs);
      keys.set(profileKey(user.id), encodeProfile(user), PROFILE_TTL_MS);
      keys.set(activityKey(sessionId), '1', ACTIVITY_THROTTLE_MS);
    },
    async fill(sessionId, entry, ttlMs) {
      setIfAbsent(sessionKey(sessionId), encode(entry), ttlMs);
    },
    async fillProfile(user) {
      setIfAbsent(profileKey(user.id), encodeProfile(user), PROFILE_TTL_MS);
    },
    async storeProfile(user) {
      keys.set(profileKey(user.id), encodeProfile(user), PROFILE_TTL_MS);
    },
    async clearUser(userId) {
      keys.delete(profileKey(userId));
    },
    async revoke(sessionIds, ttlMs) {
      for (const sid of sessionIds) keys.set(sessionKey(sid), REVOKED, ttlMs);
    },
  };
}
