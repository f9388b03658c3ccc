import type { Redis } from 'ioredis';
import { ExpiringMap } from '../expiring-map.js';

/** What the cache knows of a session. `revoked` is a tombstone: known bad, no MongoDB needed. */
export type CachedSession = { state: 'active'; userId: string } | { state: 'revoked' };

export interface CacheLookup {
  /** null on a miss: the caller asks MongoDB and fills the cache. */
  entry: CachedSession | null;
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
 */
export interface SessionCache {
  lookup(sessionId: string): Promise<CacheLookup>;
  /** A brand-new session: mark active and start its activity throttle. */
  create(sessionId: string, userId: string, ttlMs: number): Promise<void>;
  fill(sessionId: string, entry: CachedSession, ttlMs: number): Promise<void>;
  revoke(sessionIds: readonly string[], ttlMs: number): Promise<void>;
}

/** lastActivity is written at most this often per session (API.md allows one a minute). */
export const ACTIVITY_THROTTLE_MS = 60_000;

const sessionKey = (sid: string): string => `la:session:${sid}`;
const activityKey = (sid: string): string => `la:activity:${sid}`;
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

const positive = (ms: number): number => Math.max(1, Math.ceil(ms));

export function createRedisSessionCache(redis: Redis): SessionCache {
  return {
    async lookup(sessionId) {
      // One pipeline, one round trip: the state, and the activity throttle.
      const results = await redis
        .pipeline()
        .get(sessionKey(sessionId))
        .set(activityKey(sessionId), '1', 'PX', ACTIVITY_THROTTLE_MS, 'NX')
        .exec();
      if (!results) throw new Error('Redis pipeline returned nothing');
      const [[getError, value], [setError, setResult]] = results as [[Error | null, string | null], [Error | null, string | null]];
      if (getError) throw getError;
      if (setError) throw setError;
      return { entry: decode(value), touchDue: setResult === 'OK' };
    },
    async create(sessionId, userId, ttlMs) {
      await redis
        .pipeline()
        .set(sessionKey(sessionId), encode({ state: 'active', userId }), 'PX', positive(ttlMs))
        .set(activityKey(sessionId), '1', 'PX', ACTIVITY_THROTTLE_MS)
        .exec();
    },
    async fill(sessionId, entry, ttlMs) {
      await redis.set(sessionKey(sessionId), encode(entry), 'PX', positive(ttlMs), 'NX');
    },
    async revoke(sessionIds, ttlMs) {
      if (sessionIds.length === 0) return;
      const pipeline = redis.pipeline();
      for (const sid of sessionIds) pipeline.set(sessionKey(sid), REVOKED, 'PX', positive(ttlMs));
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error !== null);
      if (failed?.[0]) throw failed[0];
    },
  };
}

/** The development default: one process, no Redis. Same contract as the Redis cache. */
export function createMemorySessionCache(now: () => number = Date.now): SessionCache {
  const keys = new ExpiringMap<string>(now);
  const read = (key: string): string | null => keys.get(key) ?? null;
  return {
    async lookup(sessionId) {
      const entry = decode(read(sessionKey(sessionId)));
      const touchDue = read(activityKey(sessionId)) === null;
      if (touchDue) keys.set(activityKey(sessionId), '1', ACTIVITY_THROTTLE_MS);
      return { entry, touchDue };
    },
    async create(sessionId, userId, ttlMs) {
      keys.set(sessionKey(sessionId), encode({ state: 'active', userId }), ttlMs);
      keys.set(activityKey(sessionId), '1', ACTIVITY_THROTTLE_MS);
    },
    async fill(sessionId, entry, ttlMs) {
      if (read(sessionKey(sessionId)) === null) keys.set(sessionKey(sessionId), encode(entry), ttlMs);
    },
    async revoke(sessionIds, ttlMs) {
      for (const sid of sessionIds) keys.set(sessionKey(sid), REVOKED, ttlMs);
    },
  };
}
