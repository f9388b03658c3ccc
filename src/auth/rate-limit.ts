import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError, wholeSecondsUp } from '../errors.js';
import { addressGroup } from '../http/ip-address.js';
import { redisKeys } from '../redis-keys.js';
import type { RedisClient } from '../redis-client.js';

/**
 * Sign-in throttling as the systems people trust do it (OWASP's authentication
 * cheat sheet; rate-limiter-flexible's login example): count failures, not
 * attempts, and key them so that an attacker spends his own budget, never the
 * owner's.
 *
 * An address is an IPv4 address, or an IPv6 address's /64: one subscriber
 * usually holds a whole /64 and can sign in from any of its addresses, so
 * counting each apart would give him 2^64 budgets.
 *
 * - account + address: an address that keeps failing on one account is
 *   refused for that account only (`perAccountAddress` failures per window);
 *   a success from that address clears its count.
 * - address: an address failing across many accounts (credential stuffing) is
 *   refused for every account (`perIp` failures per window).
 * - account: an account failing from many addresses is slowed down, never
 *   locked. Past `perAccount` failures in a window, each address gets one
 *   failure on it per window instead of `perAccountAddress`, so a guess costs
 *   the attacker a fresh address. An address that has not failed still signs
 *   in with the right password: the owner is never locked out by someone else.
 *
 * Counters live in Redis so that limits hold across instances; while Redis
 * is unreachable each instance counts in memory, and those counts still count
 * once Redis is back (`counter`), so an outage neither lifts the limits nor
 * locks anyone out.
 */
export interface SignInLimits {
  windowMs: number;
  perAccountAddress: number;
  perAccount: number;
  perIp: number;
}

/** Who is trying: the normalised email (validation.ts) and the client address. */
export interface SignInKey {
  email: string;
  ip: string;
}

/**
 * The small API every password check uses (login, and any operation that asks
 * for the password again): `checkSignIn` before the check, then
 * `recordFailure` or `recordSuccess` after it.
 */
export interface SignInLimiter {
  /** Throws RATE_LIMITED (with `retryAfter`) if this key may not try now. Counts nothing. */
  checkSignIn(key: SignInKey): Promise<void>;
  /** A wrong password (or unknown email) from this key: counts against the pair, the address and the account. */
  recordFailure(key: SignInKey): Promise<void>;
  /** The right password: clears the failures of this account from this address. */
  recordSuccess(key: SignInKey): Promise<void>;
  /** Counts one registration from the address (every attempt, successful or not); throws RATE_LIMITED past `perIp`. */
  checkRegistration(ip: string): Promise<void>;
}

/** A key's count: how many, and when the last window holding any of them ends. */
interface Count {
  count: number;
  msLeft: number;
}

/** One fixed-window count per key: `add` counts one and answers the count with it. */
interface Counter {
  read(key: string): Promise<Count>;
  add(key: string): Promise<Count>;
  clear(key: string): Promise<void>;
}

const countOf = (res: RateLimiterRes | null): Count => ({ count: res?.consumedPoints ?? 0, msLeft: res?.msBeforeNext ?? 0 });

/** Both stores' counts of one key as one: failures counted in either count. */
function sum(a: Count, b: Count): Count {
  return { count: a.count + b.count, msLeft: Math.max(a.count > 0 ? a.msLeft : 0, b.count > 0 ? b.msLeft : 0) };
}

/** `consume` refuses past its points with a RateLimiterRes; here that only means "counted". */
async function consume(limiter: RateLimiterAbstract, key: string): Promise<RateLimiterRes> {
  try {
    return await limiter.consume(key);
  } catch (outcome) {
    if (outcome instanceof RateLimiterRes) return outcome;
    throw outcome;
  }
}

/**
 * Counts in Redis, shared by every instance. While Redis cannot be reached
 * they go to this process's memory instead, and the memory's counts are added
 * to Redis's on every read until their window ends, also once Redis answers
 * again: an outage must not hand anyone a fresh budget. (rate-limiter-flexible's
 * insurance limiter forgets them the moment Redis is back.) Without Redis
 * (development), memory alone.
 */
function counter(redis: RedisClient | null, name: string, points: number, windowMs: number): Counter {
  const options = { keyPrefix: redisKeys.rateLimit(name), points, duration: Math.max(1, Math.ceil(windowMs / 1000)) };
  const memory = new RateLimiterMemory(options);
  // Refused at once while the connection is down, rather than queued behind a reconnection.
  const shared = redis ? new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true }) : null;
  const unreachable = (): null => null;
  return {
    async read(key) {
      const [inMemory, inRedis] = await Promise.all([memory.get(key), shared?.get(key).catch(unreachable) ?? null]);
      return sum(countOf(inMemory), countOf(inRedis));
    },
    async add(key) {
      const inRedis = shared ? await consume(shared, key).catch(unreachable) : null;
      const inMemory = inRedis ? await memory.get(key) : await consume(memory, key);
      return sum(countOf(inMemory), countOf(inRedis));
    },
    async clear(key) {
      await Promise.all([memory.delete(key), shared?.delete(key).catch(unreachable)]);
    },
  };
}

const rateLimited = (msLeft: number): AppError => {
  const retryAfter = wholeSecondsUp(msLeft / 1000);
  return new AppError('RATE_LIMITED', `Too many attempts: try again in ${retryAfter} s`, { retryAfter });
};

// A space cannot occur in a validated email, so the pair key is unambiguous.
const pairKey = (key: SignInKey): string => `${key.email} ${addressGroup(key.ip)}`;

export function createSignInLimiter(limits: SignInLimits, redis: RedisClient | null): SignInLimiter {
  const pair = counter(redis, 'signin:pair', limits.perAccountAddress, limits.windowMs);
  const address = counter(redis, 'signin:ip', limits.perIp, limits.windowMs);
  const account = counter(redis, 'signin:account', limits.perAccount, limits.windowMs);
  const registrations = counter(redis, 'register:ip', limits.perIp, limits.windowMs);

  return {
    async checkSignIn(key) {
      const [byPair, byAddress, byAccount] = await Promise.all([pair.read(pairKey(key)), address.read(addressGroup(key.ip)), account.read(key.email)]);
      const slowedDown = byAccount.count >= limits.perAccount;
      const pairBudget = slowedDown ? 1 : limits.perAccountAddress;
      const waits: number[] = [];
      if (byPair.count >= pairBudget) waits.push(byPair.msLeft);
      if (byAddress.count >= limits.perIp) waits.push(byAddress.msLeft);
      if (waits.length > 0) throw rateLimited(Math.max(...waits));
    },
    async recordFailure(key) {
      await Promise.all([pair.add(pairKey(key)), address.add(addressGroup(key.ip)), account.add(key.email)]);
    },
    async recordSuccess(key) {
      await pair.clear(pairKey(key));
    },
    async checkRegistration(ip) {
      const counted = await registrations.add(addressGroup(ip));
      if (counted.count > limits.perIp) throw rateLimited(counted.msLeft);
    },
  };
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Seconds until the window that counted this hit ends. */
  retryAfterSeconds: number;
}

/**
 * Plain fixed-window counters for other uses (the security timeline keeps the
 * first event of a kind per window with one): `hit` counts and says whether
 * the count is within `limit`. On the same store and insurance as the sign-in limits.
 */
export interface RateLimiter {
  hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision>;
}

export function createRateLimiter(redis: RedisClient | null): RateLimiter {
  // One counter per (limit, window): rate-limiter-flexible fixes both per instance.
  const counters = new Map<string, Counter>();
  return {
    async hit(key, limit, windowMs) {
      const id = `${limit}:${windowMs}`;
      let limiter = counters.get(id);
      if (!limiter) {
        limiter = counter(redis, `hit:${id}`, limit, windowMs);
        counters.set(id, limiter);
      }
      const counted = await limiter.add(key);
      return { allowed: counted.count <= limit, retryAfterSeconds: wholeSecondsUp(counted.msLeft / 1000) };
    },
  };
}
