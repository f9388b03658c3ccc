import type { Redis } from 'ioredis';
import { ExpiringMap } from '../expiring-map.js';
import type { RevocationReason } from '../models/session.js';
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
  /**
   * Claims sessions for one revocation call: only the first caller ever gets a
   * given id (a session already tombstoned is not claimed again). When it claims
   * any, in the same atomic step it writes their tombstones, takes the user's
   * next revocation sequence number and records the revocation in the outbox,
   * which the sweepers finish if the caller cannot (src/revocations.ts).
   */
  claim(request: ClaimRequest, ttlMs: number): Promise<Revocation | null>;
  /** The user's latest sequence number (created, from the clock, if there is none yet). */
  currentSeq(userId: string): Promise<number>;
  /** The revocation is in MongoDB and announced: take it out of the outbox. */
  settle(revocation: Pick<Revocation, 'userId' | 'seq'>): Promise<void>;
  /** Which of these sessions have a tombstone (one round trip). */
  revokedAmong(sessionIds: readonly string[]): Promise<Set<string>>;
  /** The caller could not complete it: the sweepers may take it at once. */
  dueNow(revocation: Pick<Revocation, 'userId' | 'seq'>): Promise<void>;
  /**
   * The user's revocations claimed and not yet completed (the outbox holds
   * them from the claim): a stream that misses a number finds it here if its
   * record is not written yet.
   */
  inFlight(userId: string): Promise<Revocation[]>;
  /** Outbox entries whose grace period is over, each leased to this caller for `leaseMs`. */
  takeDue(now: number, leaseMs: number, limit: number): Promise<Revocation[]>;
}

export interface ClaimRequest {
  userId: string;
  sessionIds: readonly string[];
  reason: RevocationReason;
  revokedAt: string;
  /** When the sweepers may finish it if the caller has not (epoch ms). */
  dueAt: number;
}

/**
 * One revocation call, as claimed: the sessions it got, and its place in the
 * user's order. Published as is (src/pubsub.ts), and stored with each session.
 */
export interface Revocation {
  userId: string;
  /** Per user, increasing; one per revocation call. Starts from the clock, so it never goes back after a Redis flush. */
  seq: number;
  sessionIds: string[];
  reason: RevocationReason;
  /** ISO string: the message travels as JSON. */
  revokedAt: string;
}

/** lastActivity is written at most this often per session (API.md allows one a minute). */
export const ACTIVITY_THROTTLE_MS = 60_000;
/** A profile unused this long is dropped; the next request refills it from MongoDB. */
export const PROFILE_TTL_MS = 24 * 3600_000;

/** A session's state: `active:<userId>` or `revoked` (src/session-list.ts reads it too). */
export const sessionKey = (sid: string): string => `la:session:${sid}`;
const activityKey = (sid: string): string => `la:activity:${sid}`;
const profileKey = (userId: string): string => `la:user:${userId}`;
const seqKey = (userId: string): string => `la:revseq:${userId}`;
/** Per user, seq -> the revocation: what is claimed and not yet completed. */
const outboxKey = (userId: string): string => `la:revoutbox:${userId}`;
/** Every user's entries, `userId:seq`, scored by when the sweepers may take them. */
const OUTBOX_DUE = 'la:revoutbox-due';
const outboxField = (userId: string, seq: number): string => `${userId}:${seq}`;

// The counter starts from the clock in milliseconds (13 digits, exact in Lua's
// doubles), so a counter lost to a flush restarts above every earlier value.
const INIT_SEQ = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  local t = redis.call('TIME')
  redis.call('SET', KEYS[1], t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000)))
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
`;

/**
 * KEYS: seq counter, outbox hash, outbox due set, then one tombstone key per session.
 * ARGV: ttl ms, outbox due time, payload JSON without ids, then the session ids.
 * Returns {} when nothing was claimed, else {seq, claimed ids...}.
 */
const CLAIM_SCRIPT = `
local claimed = {}
for i = 4, #KEYS do
  if redis.call('GET', KEYS[i]) ~= 'revoked' then
    claimed[#claimed + 1] = i
  end
end
if #claimed == 0 then return {} end
${INIT_SEQ}
local seq = redis.call('INCR', KEYS[1])
local reply = {seq}
local ids = {}
for _, i in ipairs(claimed) do
  redis.call('SET', KEYS[i], 'revoked', 'PX', ARGV[1])
  reply[#reply + 1] = ARGV[i]
  ids[#ids + 1] = ARGV[i]
end
local payload = cjson.decode(ARGV[3])
payload['sessionIds'] = ids
redis.call('HSET', KEYS[2], seq, cjson.encode(payload))
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], payload['userId'] .. ':' .. seq)
return reply
`;

const CURRENT_SEQ_SCRIPT = `${INIT_SEQ}
return redis.call('GET', KEYS[1])`;

/** KEYS: due set. ARGV: now, lease ms, limit. Returns member, payload pairs. */
const TAKE_DUE_SCRIPT = `
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
local out = {}
for _, m in ipairs(members) do
  local sep = string.find(m, ':', 1, true)
  local v = redis.call('HGET', 'la:revoutbox:' .. string.sub(m, 1, sep - 1), string.sub(m, sep + 1))
  if v then
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), m)
    out[#out + 1] = m
    out[#out + 1] = v
  else
    redis.call('ZREM', KEYS[1], m)
  end
end
return out
`;

type StoredRevocation = Omit<Revocation, 'seq'>;

function fromOutbox(seq: string, value: string): Revocation {
  const stored = JSON.parse(value) as StoredRevocation;
  return { ...stored, seq: Number(seq) };
}
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
    async claim(request, ttlMs) {
      const { userId, sessionIds, reason, revokedAt, dueAt } = request;
      const payload: Omit<StoredRevocation, 'sessionIds'> = { userId, reason, revokedAt };
      const reply = (await redis.eval(
        CLAIM_SCRIPT,
        3 + sessionIds.length,
        seqKey(userId),
        outboxKey(userId),
        OUTBOX_DUE,
        ...sessionIds.map(sessionKey),
        positive(ttlMs),
        dueAt,
        JSON.stringify(payload),
        ...sessionIds,
      )) as [number, ...string[]] | [];
      if (reply.length === 0) return null;
      const [seq, ...claimed] = reply;
      return { userId, seq: Number(seq), sessionIds: claimed, reason, revokedAt };
    },
    async currentSeq(userId) {
      // The counter lives as long as the tombstones it orders.
      return Number(await redis.eval(CURRENT_SEQ_SCRIPT, 1, seqKey(userId), SEQ_TTL_MS));
    },
    async settle({ userId, seq }) {
      await redis.pipeline().hdel(outboxKey(userId), String(seq)).zrem(OUTBOX_DUE, outboxField(userId, seq)).exec();
    },
    async revokedAmong(sessionIds) {
      if (sessionIds.length === 0) return new Set();
      const values = await redis.mget(sessionIds.map(sessionKey));
      return new Set(sessionIds.filter((_, i) => values[i] === REVOKED));
    },
    async dueNow({ userId, seq }) {
      await redis.zadd(OUTBOX_DUE, 'XX', Date.now(), outboxField(userId, seq));
    },
    async takeDue(now, leaseMs, limit) {
      const flat = (await redis.eval(TAKE_DUE_SCRIPT, 1, OUTBOX_DUE, now, leaseMs, limit)) as string[];
      const due: Revocation[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const member = flat[i]!;
        due.push(fromOutbox(member.slice(member.indexOf(':') + 1), flat[i + 1]!));
      }
      return due;
    },
    async inFlight(userId) {
      const entries = await redis.hgetall(outboxKey(userId));
      return Object.entries(entries).map(([seq, value]) => fromOutbox(seq, value));
    },
  };
}

/** How long an idle user's sequence counter is kept (it restarts from the clock anyway). */
const SEQ_TTL_MS = 30 * 86_400_000;

/** The development default: one process, no Redis. Same contract as the Redis cache. */
export function createMemorySessionCache(now: () => number = Date.now, keys = new ExpiringMap<string>(now)): SessionCache {
  const read = (key: string): string | null => keys.get(key) ?? null;
  const setIfAbsent = (key: string, value: string, ttlMs: number): void => {
    if (read(key) === null) keys.set(key, value, ttlMs);
  };
  const seqs = new Map<string, number>();
  const nextSeq = (userId: string): number => {
    const seq = (seqs.get(userId) ?? now()) + 1;
    seqs.set(userId, seq);
    return seq;
  };
  const outbox = new Map<string, { revocation: Revocation; dueAt: number }>();
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
    async claim({ userId, sessionIds, reason, revokedAt, dueAt }, ttlMs) {
      const claimed = sessionIds.filter((sid) => read(sessionKey(sid)) !== REVOKED);
      if (claimed.length === 0) return null;
      for (const sid of claimed) keys.set(sessionKey(sid), REVOKED, ttlMs);
      const seq = nextSeq(userId);
      const revocation: Revocation = { userId, seq, sessionIds: claimed, reason, revokedAt };
      outbox.set(outboxField(userId, seq), { revocation, dueAt });
      return revocation;
    },
    async currentSeq(userId) {
      return seqs.get(userId) ?? seqs.set(userId, now()).get(userId)!;
    },
    async settle({ userId, seq }) {
      outbox.delete(outboxField(userId, seq));
    },
    async inFlight(userId) {
      return [...outbox.values()].filter((entry) => entry.revocation.userId === userId).map((entry) => entry.revocation);
    },
    async revokedAmong(sessionIds) {
      return new Set(sessionIds.filter((sid) => read(sessionKey(sid)) === REVOKED));
    },
    async dueNow({ userId, seq }) {
      const entry = outbox.get(outboxField(userId, seq));
      if (entry) entry.dueAt = now();
    },
    async takeDue(at, leaseMs, limit) {
      const due: Revocation[] = [];
      for (const entry of outbox.values()) {
        if (due.length >= limit) break;
        if (entry.dueAt > at) continue;
        entry.dueAt = at + leaseMs;
        due.push(entry.revocation);
      }
      return due;
    },
  };
}
