import { ExpiringMap } from '../expiring-map.js';
import { capped, fromJson, toJson, type SessionData, type SessionJson } from './session.js';
import { redisKeys } from '../redis-keys.js';
import type { RedisClient } from '../redis-client.js';

/** A session as the list holds it, without `current` (that depends on who asks). */
export type ListedSession = SessionData;

/**
 * Each user's sessions, kept in Redis so that listing them needs no MongoDB
 * query: a user's sessions are found by `userId`, and FerretDB answers that
 * with a scan of the whole collection (no index use), a cost that grows with
 * every user's sessions, not the caller's.
 *
 * The list only ever answers together with the per-session state of
 * src/auth/session-cache.ts: an entry counts only while its session key says
 * `active` for this user, so revocations (tombstones) need no change here and
 * a revoked session is never listed. Anything missing (an evicted state key,
 * a list never filled) is `null`: the caller reads MongoDB and fills.
 *
 * Layout: one hash per user, `s:<sid>` → the session, `a:<sid>` → its
 * lastActivity and `i:<sid>` → its idle deadline (moved by the once-a-minute
 * activity write; the later of the two times wins), `n:<sid>` → its name once
 * renamed (src/sessions/rename.ts; it wins over the entry's, which a fill never
 * overwrites), and `*`, the time of the last fill, once the hash holds
 * every session MongoDB had; `add` never sets `*`, so a hash started by a new
 * sign-in is not mistaken for the whole list.
 */
export interface SessionList {
  /** The user's active sessions, newest first, or null when MongoDB must answer. */
  read(userId: string): Promise<ListedSession[] | null>;
  /**
   * The user's unexpired sessions the list holds, newest first, whether or not
   * it is whole: always sessions of this user, but maybe not all of them (a
   * sign-in whose list write failed is missing), and maybe some revoked ones
   * (no session state is read). For what needs no MongoDB round trip: a
   * revocation claims these at once and asks MongoDB for the rest.
   */
  known(userId: string): Promise<ListedSession[]>;
  /** One session of the user as the list holds it (revoked or not: no session state is read), or null. */
  find(userId: string, sessionId: string): Promise<ListedSession | null>;
  /** A new session (after its MongoDB insert). */
  add(userId: string, session: ListedSession): Promise<void>;
  /**
   * The whole list as MongoDB has it; never overwrites what `add`/`touch` wrote
   * meanwhile, and written only while the user's cache epoch is the one read
   * before MongoDB was (src/auth/session-cache.ts).
   */
  fill(userId: string, sessions: readonly ListedSession[], epoch: string): Promise<void>;
  /** A use: its lastActivity, and its idle deadline moved on. */
  touch(userId: string, sessionId: string, at: Date, idleExpiresAt: Date): Promise<void>;
  /** The session's new name (after its MongoDB write): every read from now on shows it. */
  rename(userId: string, sessionId: string, deviceInfo: string): Promise<void>;
  /** The account is gone. */
  clear(userId: string): Promise<void>;
}

/** Idle lists expire; the next read refills from MongoDB. */
export const SESSION_LIST_TTL_MS = 24 * 3600_000;
/**
 * A filled list is trusted this long, then read again from MongoDB. A sign-in
 * whose cache write failed (Redis unreachable for that moment) is missing from
 * the list; this bounds how long, at one MongoDB read per user per period.
 */
export const SESSION_LIST_REFRESH_MS = 10 * 60_000;
const COMPLETE = '*';
const listKey = redisKeys.sessions;

/** An entry is the session as JSON (src/sessions/session.ts), so a field added to the session is kept here too. */
const encode = (s: ListedSession): string => JSON.stringify(toJson(s));

/**
 * The entry, with the later of its own lastActivity (and idle deadline) and the
 * one the activity write left, and its new name if it was renamed; null if unreadable (an older format).
 */
function decode(value: string, lastActivity: string | undefined, name: string | undefined, idleExpiresAt?: string): ListedSession | null {
  try {
    const session = fromJson(JSON.parse(value) as SessionJson);
    if (Number.isNaN(session.createdAt.getTime()) || Number.isNaN(session.expiresAt.getTime())) return null;
    if (lastActivity !== undefined && Number(lastActivity) > session.lastActivity.getTime()) session.lastActivity = new Date(Number(lastActivity));
    if (name !== undefined) session.deviceInfo = name;
    if (idleExpiresAt !== undefined && Number(idleExpiresAt) > session.idleExpiresAt.getTime()) {
      session.idleExpiresAt = capped(new Date(Number(idleExpiresAt)), session.expiresAt);
    }
    return session;
  } catch {
    return null;
  }
}

/** Newest first, as MongoDB sorts them (ties by id, for a stable order). */
const newestFirst = (a: ListedSession, b: ListedSession): number => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1);

/**
 * The live sessions of a hash, given each one's session state (null if the
 * hash is not a whole list or some state is unknown: MongoDB must answer),
 * and the entries to prune: revoked, expired, or unreadable (an older
 * format, which the next fill then writes anew).
 */
function resolve(
  userId: string,
  hash: Record<string, string>,
  stateOf: (sid: string) => string | null,
  now = Date.now(),
): { sessions: ListedSession[] | null; stale: string[] } {
  const filledAt = Number(hash[COMPLETE]);
  let whole = now - filledAt < SESSION_LIST_REFRESH_MS;
  const sessions: ListedSession[] = [];
  const stale: string[] = [];
  for (const [field, value] of Object.entries(hash)) {
    if (!field.startsWith('s:')) continue;
    const sid = field.slice(2);
    const session = decode(value, hash[`a:${sid}`], hash[`n:${sid}`], hash[`i:${sid}`]);
    if (session === null) {
      stale.push(sid);
      whole = false;
      continue;
    }
    if (session.expiresAt.getTime() <= now) {
      stale.push(sid);
      continue;
    }
    // Idle past its deadline: not listed, but not pruned either (a lost `i:` write must not drop a live session for good).
    if (session.idleExpiresAt.getTime() <= now) continue;
    const state = stateOf(sid);
    if (state === null) whole = false;
    else if (state === `active:${userId}`) sessions.push(session);
    else stale.push(sid);
  }
  return { sessions: whole ? sessions.sort(newestFirst) : null, stale };
}

/** The unexpired sessions in a hash, whole or not, newest first (as MongoDB sorts them). */
function unexpired(hash: Record<string, string>, now = Date.now()): ListedSession[] {
  const sessions: ListedSession[] = [];
  for (const [field, value] of Object.entries(hash)) {
    if (!field.startsWith('s:')) continue;
    const session = decode(value, undefined, hash[`n:${field.slice(2)}`]);
    if (session && session.expiresAt.getTime() > now) sessions.push(session);
  }
  return sessions.sort(newestFirst);
}

/** KEYS: the user's epoch, the list. ARGV: the epoch read before MongoDB, now, ttl ms, then field, value pairs. */
const FILL_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 4, #ARGV, 2 do redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[2], '${COMPLETE}', ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
`;

export function createRedisSessionList(redis: RedisClient): SessionList {
  return {
    async read(userId) {
      const hash = await redis.hgetall(listKey(userId));
      if (hash[COMPLETE] === undefined) return null;
      const ids = Object.keys(hash).filter((f) => f.startsWith('s:')).map((f) => f.slice(2));
      const states = ids.length > 0 ? await redis.mget(ids.map((sid) => redisKeys.session(userId, sid))) : [];
      const byId = new Map(ids.map((sid, i) => [sid, states[i] ?? null]));
      const result = resolve(userId, hash, (sid) => byId.get(sid) ?? null);
      if (result.stale.length > 0) {
        // Housekeeping only: a stale entry is filtered out whether or not this succeeds.
        redis.hdel(listKey(userId), ...result.stale.flatMap((sid) => [`s:${sid}`, `a:${sid}`, `n:${sid}`, `i:${sid}`])).catch(() => {});
      }
      return result.sessions;
    },
    async known(userId) {
      return unexpired(await redis.hgetall(listKey(userId)));
    },
    async find(userId, sessionId) {
      const [value, name] = await redis.hmget(listKey(userId), `s:${sessionId}`, `n:${sessionId}`);
      return value === null || value === undefined ? null : decode(value, undefined, name ?? undefined);
    },
    async add(userId, session) {
      await redis.pipeline().hset(listKey(userId), `s:${session.id}`, encode(session)).pexpire(listKey(userId), SESSION_LIST_TTL_MS).exec();
    },
    async fill(userId, sessions, epoch) {
      await redis.eval(
        FILL_SCRIPT,
        2,
        redisKeys.epoch(userId),
        listKey(userId),
        epoch,
        String(Date.now()),
        SESSION_LIST_TTL_MS,
        ...sessions.flatMap((s) => [`s:${s.id}`, encode(s)]),
      );
    },
    async touch(userId, sessionId, at, idleExpiresAt) {
      // Written even where the list is not (yet) filled: a fill that read MongoDB
      // before this activity's write landed would otherwise keep the older time.
      await redis
        .pipeline()
        .hset(listKey(userId), `a:${sessionId}`, String(at.getTime()), `i:${sessionId}`, String(idleExpiresAt.getTime()))
        .pexpire(listKey(userId), SESSION_LIST_TTL_MS)
        .exec();
    },
    async rename(userId, sessionId, deviceInfo) {
      // Written even where the list is not (yet) filled, as `touch`: a fill that read MongoDB before the rename keeps the old name in `s:`.
      await redis.pipeline().hset(listKey(userId), `n:${sessionId}`, deviceInfo).pexpire(listKey(userId), SESSION_LIST_TTL_MS).exec();
    },
    async clear(userId) {
      await redis.del(listKey(userId));
    },
  };
}

/** The development default, with the same contract, reading states from the memory session cache's map. */
export function createMemorySessionList(states: ExpiringMap<string>, now: () => number = Date.now): SessionList {
  const lists = new ExpiringMap<Record<string, string>>(now);
  const hashOf = (userId: string): Record<string, string> => {
    const hash = lists.get(listKey(userId)) ?? {};
    lists.set(listKey(userId), hash, SESSION_LIST_TTL_MS);
    return hash;
  };
  return {
    async read(userId) {
      const hash = lists.get(listKey(userId));
      if (!hash) return null;
      const result = resolve(userId, hash, (sid) => states.get(redisKeys.session(userId, sid)) ?? null, now());
      for (const sid of result?.stale ?? []) {
        delete hash[`s:${sid}`];
        delete hash[`a:${sid}`];
        delete hash[`n:${sid}`];
        delete hash[`i:${sid}`];
      }
      return result.sessions;
    },
    async known(userId) {
      return unexpired(lists.get(listKey(userId)) ?? {}, now());
    },
    async find(userId, sessionId) {
      const hash = lists.get(listKey(userId));
      const value = hash?.[`s:${sessionId}`];
      return value === undefined ? null : decode(value, undefined, hash?.[`n:${sessionId}`]);
    },
    async add(userId, session) {
      hashOf(userId)[`s:${session.id}`] = encode(session);
    },
    async fill(userId, sessions, epoch) {
      if (states.get(redisKeys.epoch(userId)) !== epoch) return;
      const hash = hashOf(userId);
      for (const s of sessions) hash[`s:${s.id}`] ??= encode(s);
      hash[COMPLETE] = String(now());
    },
    async touch(userId, sessionId, at, idleExpiresAt) {
      hashOf(userId)[`a:${sessionId}`] = String(at.getTime());
      hashOf(userId)[`i:${sessionId}`] = String(idleExpiresAt.getTime());
    },
    async rename(userId, sessionId, deviceInfo) {
      hashOf(userId)[`n:${sessionId}`] = deviceInfo;
    },
    async clear(userId) {
      lists.delete(listKey(userId));
    },
  };
}
