import { randomUUID } from 'node:crypto';
import { ExpiringMap } from '../expiring-map.js';
import { redisKeys } from '../redis-keys.js';
import { memoryDeadlineKey } from '../sessions/deadlines.js';
import type { UserView } from './viewer.js';
import type { RedisClient } from '../redis-client.js';

/** What the cache knows of a session. `revoked` is a tombstone: known bad, no MongoDB needed. */
export type CachedSession = { state: 'active'; userId: string } | { state: 'revoked' };

export interface CacheLookup {
  /** null on a miss: the caller asks MongoDB and fills the cache. */
  entry: CachedSession | null;
  /** The account's public profile, kept so that `me` never reads MongoDB; null on a miss. */
  profile: UserView | null;
  /** True at most once a minute per session: time to record lastActivity. */
  touchDue: boolean;
  /** The user's cache epoch as it was before the caller reads MongoDB (null: none yet); hand it to `fill`. */
  epoch: string | null;
  /** When the session ends unless used (epoch ms, src/sessions/deadlines.ts); null on a miss. */
  deadline: number | null;
}

/**
 * The per-request session check's storage. Each method is one round trip.
 *
 * Ordering rules that keep revocation safe without transactions:
 * - `fill` (after a miss) never overwrites, so a tombstone written by a
 *   concurrent revocation always wins over a stale "active" read from MongoDB;
 * - `fill` is written only while the user's epoch is the one read before the
 *   MongoDB read: a Redis that lost its data meanwhile (tombstones included)
 *   has no epoch or a new one, and a stale read is never cached into it;
 * - `revoke` always overwrites.
 *
 * The profile is kept per user, beside the per-session state, and is only ever
 * read together with it: the session entry decides who is signed in, the
 * profile never does. A tombstone therefore beats a cached profile, and an
 * account whose profile is cleared (`clearUser`) is re-checked in MongoDB on
 * its next request.
 */
export interface SessionCache {
  lookup(userId: string, sessionId: string): Promise<CacheLookup>;
  /** A brand-new session: mark active, store the profile, start its activity throttle. */
  create(sessionId: string, user: UserView, ttlMs: number): Promise<void>;
  /** The user's epoch, created if there is none (a cold path whose lookup saw none). */
  epoch(userId: string): Promise<string>;
  /** After a miss: stores what MongoDB said, unless a tombstone is there or the epoch moved. */
  fill(userId: string, sessionId: string, entry: CachedSession, ttlMs: number, epoch: string): Promise<void>;
  /** After a miss: stores the profile read from MongoDB unless a newer one got there first. */
  fillProfile(user: UserView): Promise<void>;
  /** After the account changed in MongoDB (e.g. a new password moves `updatedAt`): overwrites. */
  storeProfile(user: UserView): Promise<void>;
  /** The account is gone: drop its profile, so the next request of any token asks MongoDB. */
  clearUser(userId: string): Promise<void>;
  /** Tombstones, overwriting whatever was there. */
  revoke(userId: string, sessionIds: readonly string[], ttlMs: number): Promise<void>;
}

/** lastActivity is written at most this often per session (the contract allows one a minute). */
export const ACTIVITY_THROTTLE_MS = 60_000;
/** A profile unused this long is dropped; the next request refills it from MongoDB. */
export const PROFILE_TTL_MS = 24 * 3600_000;
/** An epoch lives as long as the longest-lived key it guards; a lapsed one only refuses fills in flight. */
const EPOCH_TTL_MS = 30 * 86_400_000;

const REVOKED = 'revoked';

export function encodeState(entry: CachedSession): string {
  return entry.state === 'revoked' ? REVOKED : `active:${entry.userId}`;
}

export function decodeState(value: string | null): CachedSession | null {
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

/** KEYS: epoch, session state. ARGV: the epoch read before MongoDB, value, ttl ms. */
const FILL_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3], 'NX') then return 1 end
return 0
`;

type Reply = [Error | null, unknown];

function replies(results: Reply[] | null): unknown[] {
  if (!results) throw new Error('Redis pipeline returned nothing');
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/**
 * The activity write's period: a minute, or less when sessions idle out sooner
 * (a tenth of SESSION_IDLE_TIMEOUT), so that use always moves the idle deadline
 * well before it is reached.
 */
export const activityThrottleFor = (idleTimeoutMs: number): number => Math.max(100, Math.min(ACTIVITY_THROTTLE_MS, Math.floor(idleTimeoutMs / 10)));

export function createRedisSessionCache(redis: RedisClient, activityThrottleMs = ACTIVITY_THROTTLE_MS): SessionCache {
  return {
    async lookup(userId, sessionId) {
      // One round trip: both commands go out together (state, profile and epoch in one MGET, then
      // the activity throttle). Not a pipeline: auto-pipelining already sends them in one
      // write, and a pipeline's own bookkeeping would cost client CPU on every request.
      const [[state, profile, epoch], deadline, touched] = await Promise.all([
        redis.mget(redisKeys.session(userId, sessionId), redisKeys.profile(userId), redisKeys.epoch(userId)),
        redis.zscore(redisKeys.sessionDeadlines(userId), sessionId),
        redis.set(redisKeys.activity(userId, sessionId), '1', 'PX', activityThrottleMs, 'NX'),
      ]);
      return {
        entry: decodeState(state ?? null),
        profile: decodeProfile(profile ?? null, userId),
        touchDue: touched === 'OK',
        epoch: epoch ?? null,
        deadline: deadline === null ? null : Number(deadline),
      };
    },
    async create(sessionId, user, ttlMs) {
      replies(
        await redis
          .pipeline()
          .set(redisKeys.session(user.id, sessionId), encodeState({ state: 'active', userId: user.id }), 'PX', positive(ttlMs))
          .set(redisKeys.profile(user.id), encodeProfile(user), 'PX', PROFILE_TTL_MS)
          .set(redisKeys.activity(user.id, sessionId), '1', 'PX', activityThrottleMs)
          .exec(),
      );
    },
    async epoch(userId) {
      const mine = randomUUID();
      // SET … NX GET: the value already there, or null when this one was set.
      const before = await redis.set(redisKeys.epoch(userId), mine, 'PX', EPOCH_TTL_MS, 'NX', 'GET');
      return before ?? mine;
    },
    async fill(userId, sessionId, entry, ttlMs, epoch) {
      await redis.eval(FILL_SCRIPT, 2, redisKeys.epoch(userId), redisKeys.session(userId, sessionId), epoch, encodeState(entry), positive(ttlMs));
    },
    async fillProfile(user) {
      await redis.set(redisKeys.profile(user.id), encodeProfile(user), 'PX', PROFILE_TTL_MS, 'NX');
    },
    async storeProfile(user) {
      await redis.set(redisKeys.profile(user.id), encodeProfile(user), 'PX', PROFILE_TTL_MS);
    },
    async clearUser(userId) {
      await redis.del(redisKeys.profile(userId));
    },
    async revoke(userId, sessionIds, ttlMs) {
      if (sessionIds.length === 0) return;
      const pipeline = redis.pipeline();
      for (const sid of sessionIds) pipeline.set(redisKeys.session(userId, sid), REVOKED, 'PX', positive(ttlMs));
      replies(await pipeline.exec());
    },
  };
}

/**
 * The development default: one process, no Redis. Same contract as the Redis
 * cache; `keys` holds the session states, which the memory session list and
 * ledger read too.
 */
export function createMemorySessionCache(
  now: () => number = Date.now,
  keys = new ExpiringMap<string>(now),
  activityThrottleMs = ACTIVITY_THROTTLE_MS,
): SessionCache {
  const read = (key: string): string | null => keys.get(key) ?? null;
  return {
    async lookup(userId, sessionId) {
      const entry = decodeState(read(redisKeys.session(userId, sessionId)));
      const profile = decodeProfile(read(redisKeys.profile(userId)), userId);
      const touchDue = read(redisKeys.activity(userId, sessionId)) === null;
      if (touchDue) keys.set(redisKeys.activity(userId, sessionId), '1', activityThrottleMs);
      const deadline = read(memoryDeadlineKey(userId, sessionId));
      return { entry, profile, touchDue, epoch: read(redisKeys.epoch(userId)), deadline: deadline === null ? null : Number(deadline) };
    },
    async create(sessionId, user, ttlMs) {
      keys.set(redisKeys.session(user.id, sessionId), encodeState({ state: 'active', userId: user.id }), ttlMs);
      keys.set(redisKeys.profile(user.id), encodeProfile(user), PROFILE_TTL_MS);
      keys.set(redisKeys.activity(user.id, sessionId), '1', activityThrottleMs);
    },
    async epoch(userId) {
      return read(redisKeys.epoch(userId)) ?? keys.set(redisKeys.epoch(userId), randomUUID(), EPOCH_TTL_MS).value;
    },
    async fill(userId, sessionId, entry, ttlMs, epoch) {
      const key = redisKeys.session(userId, sessionId);
      if (read(redisKeys.epoch(userId)) === epoch && read(key) === null) keys.set(key, encodeState(entry), ttlMs);
    },
    async fillProfile(user) {
      if (read(redisKeys.profile(user.id)) === null) keys.set(redisKeys.profile(user.id), encodeProfile(user), PROFILE_TTL_MS);
    },
    async storeProfile(user) {
      keys.set(redisKeys.profile(user.id), encodeProfile(user), PROFILE_TTL_MS);
    },
    async clearUser(userId) {
      keys.delete(redisKeys.profile(userId));
    },
    async revoke(userId, sessionIds, ttlMs) {
      for (const sid of sessionIds) keys.set(redisKeys.session(userId, sid), REVOKED, ttlMs);
    },
  };
}
