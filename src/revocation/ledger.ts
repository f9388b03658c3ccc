import { randomUUID } from 'node:crypto';
import { ExpiringMap } from '../expiring-map.js';
import type { RevocationReason } from '../models/session.js';
import { redisKeys } from '../redis-keys.js';
import type { RedisClient } from '../redis-client.js';
import { RELEASE_LEASE_SCRIPT, RENEW_LEASE_SCRIPT, TAKE_DUE_SCRIPT } from '../redis-scripts.js';

/**
 * One revocation call, as claimed: the sessions it got, and its place in the
 * user's order. Published as is (src/pubsub.ts), and recorded in MongoDB
 * (src/models/revocation.ts).
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

/** A claimed revocation with its outbox entry's id, until it is recorded. */
export interface Claim extends Revocation {
  claimId: string;
}

export interface ClaimRequest {
  userId: string;
  sessionIds: readonly string[];
  reason: RevocationReason;
  revokedAt: string;
  /** When the sweepers may finish it if the caller has not (epoch ms). */
  dueAt: number;
}

/** A lease on one piece of background work: one holder at a time, lapsing if the holder dies. */
export interface Lease {
  /** False once the lease was lost (lapsed and taken by another): stop working. */
  renew(): Promise<boolean>;
  release(): Promise<void>;
}

/**
 * The revocation ledger: who revoked which session, exactly once, in which
 * order. Lives in Redis beside the session states it writes (tombstones), so
 * that a claim and the tombstones it writes are one atomic step.
 *
 * A claim is held by Redis only until the caller has recorded it in MongoDB
 * (the durable ledger, src/models/revocation.ts), which happens before the
 * revocation is announced or answered. Until then it waits in the outbox,
 * from which the sweepers of every instance finish it if the caller dies.
 */
export interface RevocationLedger {
  /**
   * Claims sessions for one revocation call: only the first caller ever gets a
   * given id (a session already tombstoned is not claimed again). When it
   * claims any, in the same atomic step it writes their tombstones (from here
   * no instance accepts their tokens), takes the user's next number and puts
   * the revocation in the outbox. Null when it claimed nothing.
   */
  claim(request: ClaimRequest): Promise<Claim | null>;
  /** The claim could not be recorded: its tombstones and outbox entry go, as if it never happened. */
  unclaim(claim: Claim): Promise<void>;
  /** The user's latest number (created, from the clock, if there is none yet). */
  currentSeq(userId: string): Promise<number>;
  /** Which of the user's sessions have a tombstone (one round trip). */
  revokedAmong(userId: string, sessionIds: readonly string[]): Promise<Set<string>>;
  /** Recorded and announced: out of the outbox. */
  settle(claim: Claim): Promise<void>;
  /** The caller could not finish it: the sweepers may take it at once. */
  dueNow(claim: Claim): Promise<void>;
  /**
   * The user's revocations claimed and not yet recorded: a stream that misses
   * a number finds it here if its record is not written yet.
   */
  inFlight(userId: string): Promise<Revocation[]>;
  /** How many entries the outbox holds, and the due time of the earliest (null when empty): the outbox metrics. */
  outboxState(): Promise<{ depth: number; oldestDueAt: number | null }>;
  /** Outbox entries whose grace period is over, each leased to this caller for `leaseMs`. */
  takeDue(now: number, leaseMs: number, limit: number): Promise<Claim[]>;
  /** A lease on marking one recorded revocation's sessions, or null while another instance holds it. */
  leaseMarking(userId: string, seq: number, leaseMs: number): Promise<Lease | null>;
}

/** How long an idle user's counter is kept (it restarts from the clock anyway). */
const SEQ_TTL_MS = 30 * 86_400_000;
const REVOKED = 'revoked';
const dueMember = (claim: Pick<Claim, 'userId' | 'claimId'>): string => `${claim.userId}:${claim.claimId}`;
const positive = (ms: number): number => Math.max(1, Math.ceil(ms));

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
 * KEYS: seq counter, outbox hash, then one tombstone key per session (all in the user's slot).
 * ARGV: counter ttl, tombstone ttl, claim id, payload JSON without seq and ids, then the session ids.
 * Returns {} when nothing was claimed, else {seq, claimed ids...}. Run again with the same claim
 * id, it returns what the first run claimed: a client resends a script whose connection dropped
 * (ioredis does, to follow a cluster's failover), and Redis may have run it before the drop.
 */
const CLAIM_SCRIPT = `
local done = redis.call('HGET', KEYS[2], ARGV[3])
if done then
  local first = cjson.decode(done)
  local reply = {first['seq']}
  for _, id in ipairs(first['sessionIds']) do reply[#reply + 1] = id end
  return reply
end
local claimed = {}
for i = 3, #KEYS do
  if redis.call('GET', KEYS[i]) ~= '${REVOKED}' then
    claimed[#claimed + 1] = i
  end
end
if #claimed == 0 then return {} end
${INIT_SEQ}
local seq = redis.call('INCR', KEYS[1])
local reply = {seq}
local ids = {}
for _, i in ipairs(claimed) do
  redis.call('SET', KEYS[i], '${REVOKED}', 'PX', ARGV[2])
  reply[#reply + 1] = ARGV[i + 2]
  ids[#ids + 1] = ARGV[i + 2]
end
local payload = cjson.decode(ARGV[4])
payload['seq'] = seq
payload['sessionIds'] = ids
redis.call('HSET', KEYS[2], ARGV[3], cjson.encode(payload))
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return reply
`;

const CURRENT_SEQ_SCRIPT = `${INIT_SEQ}
return redis.call('GET', KEYS[1])`;

/** KEYS: outbox hash, then the claim's tombstones. ARGV: claim id. */
const UNCLAIM_SCRIPT = `
redis.call('HDEL', KEYS[1], ARGV[1])
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == '${REVOKED}' then redis.call('DEL', KEYS[i]) end
end
return 1
`;

type StoredClaim = Omit<Claim, 'claimId'>;

function parseClaim(claimId: string, value: string): Claim {
  const stored = JSON.parse(value) as StoredClaim & { dueAt?: number };
  return { userId: stored.userId, seq: Number(stored.seq), sessionIds: stored.sessionIds, reason: stored.reason, revokedAt: stored.revokedAt, claimId };
}

export interface LedgerOptions {
  /** How long a tombstone is kept: as long as a token can live. */
  tombstoneTtlMs: number;
}

export function createRedisLedger(redis: RedisClient, { tombstoneTtlMs }: LedgerOptions): RevocationLedger {
  const ttl = positive(tombstoneTtlMs);
  return {
    async claim({ userId, sessionIds, reason, revokedAt, dueAt }) {
      const claimId = randomUUID();
      const member = dueMember({ userId, claimId });
      // The due entry first (it lives in its own slot): an instance that dies right
      // after the claim still leaves the sweepers a way to its outbox entry.
      await redis.zadd(redisKeys.revocationDue, dueAt, member);
      const reply = (await redis.eval(
        CLAIM_SCRIPT,
        2 + sessionIds.length,
        redisKeys.revocationSeq(userId),
        redisKeys.revocationOutbox(userId),
        ...sessionIds.map((sid) => redisKeys.session(userId, sid)),
        SEQ_TTL_MS,
        ttl,
        claimId,
        JSON.stringify({ userId, reason, revokedAt }),
        ...sessionIds,
      )) as [number, ...string[]] | [];
      if (reply.length === 0) {
        await redis.zrem(redisKeys.revocationDue, member).catch(() => {
          // A sweeper finds no entry behind it and drops it.
        });
        return null;
      }
      const [seq, ...claimed] = reply;
      return { userId, seq: Number(seq), sessionIds: claimed, reason, revokedAt, claimId };
    },
    async unclaim(claim) {
      await redis.eval(
        UNCLAIM_SCRIPT,
        1 + claim.sessionIds.length,
        redisKeys.revocationOutbox(claim.userId),
        ...claim.sessionIds.map((sid) => redisKeys.session(claim.userId, sid)),
        claim.claimId,
      );
      await redis.zrem(redisKeys.revocationDue, dueMember(claim));
    },
    async currentSeq(userId) {
      return Number(await redis.eval(CURRENT_SEQ_SCRIPT, 1, redisKeys.revocationSeq(userId), SEQ_TTL_MS));
    },
    async revokedAmong(userId, sessionIds) {
      if (sessionIds.length === 0) return new Set();
      const values = await redis.mget(sessionIds.map((sid) => redisKeys.session(userId, sid)));
      return new Set(sessionIds.filter((_, i) => values[i] === REVOKED));
    },
    async settle(claim) {
      // Two slots (on a cluster, maybe two nodes, one of them failing): the entry first, so that
      // a due entry is never gone while its outbox entry stays, which no sweeper would then find.
      await redis.hdel(redisKeys.revocationOutbox(claim.userId), claim.claimId);
      await redis.zrem(redisKeys.revocationDue, dueMember(claim));
    },
    async dueNow(claim) {
      await redis.zadd(redisKeys.revocationDue, 'XX', Date.now(), dueMember(claim));
    },
    async inFlight(userId) {
      const entries = await redis.hgetall(redisKeys.revocationOutbox(userId));
      return Object.entries(entries).map(([claimId, value]) => parseClaim(claimId, value));
    },
    async outboxState() {
      const [depth, first] = await Promise.all([redis.zcard(redisKeys.revocationDue), redis.zrange(redisKeys.revocationDue, 0, 0, 'WITHSCORES')]);
      return { depth, oldestDueAt: first[1] === undefined ? null : Number(first[1]) };
    },
    async takeDue(now, leaseMs, limit) {
      const members = (await redis.eval(TAKE_DUE_SCRIPT, 1, redisKeys.revocationDue, now, leaseMs, limit)) as string[];
      const due: Claim[] = [];
      for (const member of members) {
        const at = member.indexOf(':');
        const userId = member.slice(0, at);
        const claimId = member.slice(at + 1);
        let value: string | null;
        try {
          value = await redis.hget(redisKeys.revocationOutbox(userId), claimId);
        } catch {
          // The user's node does not answer while the due set's does (a cluster failing over): due
          // again at once for the next sweep, rather than held by this one for the whole lease.
          await redis.zadd(redisKeys.revocationDue, 'XX', now, member).catch(() => {});
          continue;
        }
        // Settled meanwhile, or never claimed (the claim found nothing): nothing to do.
        if (value === null) await redis.zrem(redisKeys.revocationDue, member);
        else due.push(parseClaim(claimId, value));
      }
      return due;
    },
    async leaseMarking(userId, seq, leaseMs) {
      const key = redisKeys.markingLease(userId, seq);
      const holder = randomUUID();
      if ((await redis.set(key, holder, 'PX', positive(leaseMs), 'NX')) !== 'OK') return null;
      return {
        renew: async () => Number(await redis.eval(RENEW_LEASE_SCRIPT, 1, key, holder, positive(leaseMs))) === 1,
        release: async () => void (await redis.eval(RELEASE_LEASE_SCRIPT, 1, key, holder)),
      };
    },
  };
}

/**
 * The development default: one process, no Redis. The same contract as the
 * Redis ledger; `states` is the session cache's map, where the tombstones live.
 */
export function createMemoryLedger(states: ExpiringMap<string>, { tombstoneTtlMs }: LedgerOptions, now: () => number = Date.now): RevocationLedger {
  const seqs = new Map<string, number>();
  const outbox = new Map<string, { claim: Claim; dueAt: number }>();
  const leases = new ExpiringMap<string>(now);
  const isRevoked = (userId: string, sid: string): boolean => states.get(redisKeys.session(userId, sid)) === REVOKED;
  return {
    async claim({ userId, sessionIds, reason, revokedAt, dueAt }) {
      const claimed = sessionIds.filter((sid) => !isRevoked(userId, sid));
      if (claimed.length === 0) return null;
      for (const sid of claimed) states.set(redisKeys.session(userId, sid), REVOKED, tombstoneTtlMs);
      const seq = (seqs.get(userId) ?? now()) + 1;
      seqs.set(userId, seq);
      const claim: Claim = { userId, seq, sessionIds: claimed, reason, revokedAt, claimId: randomUUID() };
      outbox.set(dueMember(claim), { claim, dueAt });
      return claim;
    },
    async unclaim(claim) {
      outbox.delete(dueMember(claim));
      for (const sid of claim.sessionIds) if (isRevoked(claim.userId, sid)) states.delete(redisKeys.session(claim.userId, sid));
    },
    async currentSeq(userId) {
      return seqs.get(userId) ?? seqs.set(userId, now()).get(userId)!;
    },
    async revokedAmong(userId, sessionIds) {
      return new Set(sessionIds.filter((sid) => isRevoked(userId, sid)));
    },
    async settle(claim) {
      outbox.delete(dueMember(claim));
    },
    async dueNow(claim) {
      const entry = outbox.get(dueMember(claim));
      if (entry) entry.dueAt = now();
    },
    async inFlight(userId) {
      return [...outbox.values()].filter((entry) => entry.claim.userId === userId).map((entry) => entry.claim);
    },
    async outboxState() {
      const dues = [...outbox.values()].map((entry) => entry.dueAt);
      return { depth: dues.length, oldestDueAt: dues.length === 0 ? null : Math.min(...dues) };
    },
    async takeDue(at, leaseMs, limit) {
      const due: Claim[] = [];
      for (const entry of outbox.values()) {
        if (due.length >= limit) break;
        if (entry.dueAt > at) continue;
        entry.dueAt = at + leaseMs;
        due.push(entry.claim);
      }
      return due;
    },
    async leaseMarking(userId, seq, leaseMs) {
      const key = redisKeys.markingLease(userId, seq);
      if (leases.get(key) !== undefined) return null;
      const holder = randomUUID();
      leases.set(key, holder, leaseMs);
      return {
        renew: async () => {
          if (leases.get(key) !== holder) return false;
          leases.set(key, holder, leaseMs);
          return true;
        },
        release: async () => {
          if (leases.get(key) === holder) leases.delete(key);
        },
      };
    },
  };
}
