import type { ExpiringMap } from '../expiring-map.js';
import { redisKeys } from '../redis-keys.js';
import type { RedisClient } from '../redis-client.js';
import { TAKE_DUE_SCRIPT } from '../redis-scripts.js';

/**
 * When each session ends: its idle deadline (SESSION_IDLE_TIMEOUT after its
 * last use) never past its absolute end (SESSION_MAX_AGE after sign-in).
 *
 * Kept in Redis beside the session state so that the per-request check reads
 * it in the same round trip (src/auth/session-cache.ts `lookup`), and so that
 * the expiry sweep (src/sessions/expiry.ts) finds the sessions whose deadline
 * passed without a timer per session: `la:expiry-due` is a wake-up index over
 * every user's sessions. The per-user sorted set is the authority: a due
 * entry whose session slid meanwhile is moved to its real deadline by the
 * sweep. MongoDB holds the same deadlines (`idleExpiresAt`, `expiresAt`), so a
 * Redis that lost them is refilled by the cold path of the session check.
 */
export interface SessionDeadlines {
  /** A new session, or one read from MongoDB (`onlyIfAbsent`: never overwrite what a request wrote meanwhile). */
  set(userId: string, sessionId: string, deadline: number, end: number, onlyIfAbsent?: boolean): Promise<void>;
  /** A use: the deadline moves to `now + idleMs`, never past the end, never back. The new deadline, or null when unknown here. */
  slide(userId: string, sessionId: string, now: number, idleMs: number): Promise<number | null>;
  /** The session's deadline, or null when unknown. */
  get(userId: string, sessionId: string): Promise<number | null>;
  /** Due entries (`{userId, sessionId}` whose indexed deadline passed), each leased to this caller for `leaseMs`. */
  takeDue(now: number, leaseMs: number, limit: number): Promise<Array<{ userId: string; sessionId: string }>>;
  /** Over: nothing more to wake for. */
  remove(userId: string, sessionId: string): Promise<void>;
  /** The session slid after it was indexed: indexed again at its real deadline. */
  reindex(userId: string, sessionId: string, deadline: number): Promise<void>;
}

const member = (userId: string, sessionId: string): string => `${userId}:${sessionId}`;

function parseMember(value: string): { userId: string; sessionId: string } | null {
  const at = value.indexOf(':');
  return at > 0 ? { userId: value.slice(0, at), sessionId: value.slice(at + 1) } : null;
}

/** KEYS: deadlines, ends. ARGV: session id, now + idle. Moves the deadline forward, capped at the end; returns it. */
const SLIDE_SCRIPT = `
local finish = redis.call('HGET', KEYS[2], ARGV[1])
if not finish then return false end
local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not current then return false end
local next = math.min(tonumber(ARGV[2]), tonumber(finish))
if next > tonumber(current) then
  redis.call('ZADD', KEYS[1], next, ARGV[1])
  return tostring(next)
end
return current
`;

/** The per-user keys live as long as the longest session can: each new session renews them. */
export function createRedisDeadlines(redis: RedisClient, maxAgeMs: number): SessionDeadlines {
  const ttl = Math.max(1, Math.ceil(maxAgeMs));
  return {
    async set(userId, sessionId, deadline, end, onlyIfAbsent = false) {
      const [deadlines, ends] = [redisKeys.sessionDeadlines(userId), redisKeys.sessionEnds(userId)];
      const pipeline = redis.pipeline();
      if (onlyIfAbsent) pipeline.zadd(deadlines, 'NX', deadline, sessionId).hsetnx(ends, sessionId, String(end));
      else pipeline.zadd(deadlines, deadline, sessionId).hset(ends, sessionId, String(end));
      await pipeline.pexpire(deadlines, ttl).pexpire(ends, ttl).exec();
      // The due set is a key of its own (another slot on a cluster): a command apart.
      await (onlyIfAbsent
        ? redis.zadd(redisKeys.expiryDue, 'NX', deadline, member(userId, sessionId))
        : redis.zadd(redisKeys.expiryDue, deadline, member(userId, sessionId)));
    },
    async slide(userId, sessionId, now, idleMs) {
      const reply = await redis.eval(SLIDE_SCRIPT, 2, redisKeys.sessionDeadlines(userId), redisKeys.sessionEnds(userId), sessionId, now + idleMs);
      return typeof reply === 'string' ? Number(reply) : null;
    },
    async get(userId, sessionId) {
      const score = await redis.zscore(redisKeys.sessionDeadlines(userId), sessionId);
      return score === null ? null : Number(score);
    },
    async takeDue(now, leaseMs, limit) {
      const members = (await redis.eval(TAKE_DUE_SCRIPT, 1, redisKeys.expiryDue, now, leaseMs, limit)) as string[];
      return members.map(parseMember).filter((m) => m !== null);
    },
    async remove(userId, sessionId) {
      await redis.pipeline().zrem(redisKeys.sessionDeadlines(userId), sessionId).hdel(redisKeys.sessionEnds(userId), sessionId).exec();
      await redis.zrem(redisKeys.expiryDue, member(userId, sessionId));
    },
    async reindex(userId, sessionId, deadline) {
      await redis.zadd(redisKeys.expiryDue, deadline, member(userId, sessionId));
    },
  };
}

/** The memory stand-in's key for a session's deadline, read by the memory session cache's lookup. */
export const memoryDeadlineKey = (userId: string, sessionId: string): string => `${redisKeys.sessionDeadlines(userId)}:${sessionId}`;

/** The development default (one process): deadlines in the memory session cache's map, the due index in a Map. */
export function createMemoryDeadlines(keys: ExpiringMap<string>, maxAgeMs: number): SessionDeadlines {
  const ends = new Map<string, number>();
  const due = new Map<string, number>();
  const read = (userId: string, sessionId: string): number | null => {
    const value = keys.get(memoryDeadlineKey(userId, sessionId));
    return value === undefined ? null : Number(value);
  };
  return {
    async set(userId, sessionId, deadline, end, onlyIfAbsent = false) {
      if (onlyIfAbsent && read(userId, sessionId) !== null) return;
      keys.set(memoryDeadlineKey(userId, sessionId), String(deadline), maxAgeMs);
      ends.set(member(userId, sessionId), end);
      due.set(member(userId, sessionId), deadline);
    },
    async slide(userId, sessionId, now, idleMs) {
      const current = read(userId, sessionId);
      const end = ends.get(member(userId, sessionId));
      if (current === null || end === undefined) return null;
      const next = Math.max(current, Math.min(now + idleMs, end));
      keys.set(memoryDeadlineKey(userId, sessionId), String(next), maxAgeMs);
      return next;
    },
    get: async (userId, sessionId) => read(userId, sessionId),
    async takeDue(now, leaseMs, limit) {
      const taken: Array<{ userId: string; sessionId: string }> = [];
      for (const [m, at] of due) {
        if (taken.length >= limit) break;
        if (at > now) continue;
        due.set(m, now + leaseMs);
        const parsed = parseMember(m);
        if (parsed) taken.push(parsed);
      }
      return taken;
    },
    async remove(userId, sessionId) {
      keys.delete(memoryDeadlineKey(userId, sessionId));
      ends.delete(member(userId, sessionId));
      due.delete(member(userId, sessionId));
    },
    async reindex(userId, sessionId, deadline) {
      due.set(member(userId, sessionId), deadline);
    },
  };
}
