import type { Redis } from 'ioredis';
import { AppError, wholeSecondsUp } from '../errors.js';
import { ExpiringMap } from '../expiring-map.js';
import type { Logger } from '../logger.js';

export interface RateLimitDecision {
  allowed: boolean;
  /** Seconds until the window that refused this attempt ends. */
  retryAfterSeconds: number;
}

/** Fixed-window attempt counters: `hit` counts one attempt and says whether it is within `limit`. */
export interface RateLimiter {
  hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision>;
}

const decide = (count: number, limit: number, ttlMs: number): RateLimitDecision => ({
  allowed: count <= limit,
  retryAfterSeconds: wholeSecondsUp(ttlMs / 1000),
});

export function createMemoryRateLimiter(now: () => number = Date.now): RateLimiter {
  const windows = new ExpiringMap<{ count: number }>(now);
  return {
    async hit(key, limit, windowMs) {
      const window = windows.entry(key) ?? windows.set(key, { count: 0 }, windowMs);
      window.value.count += 1;
      return decide(window.value.count, limit, window.expiresAt - now());
    },
  };
}

// INCR and the window's expiry in one atomic step, so concurrent attempts on
// several instances cannot slip between the count and the check.
const HIT_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
`;

/**
 * Counts in Redis so that limits hold across instances. If Redis cannot be
 * reached the attempt is counted in this process instead: a Redis outage must
 * neither lock everyone out nor lift the limit.
 */
export function createRedisRateLimiter(redis: Redis, log: Logger): RateLimiter {
  const fallback = createMemoryRateLimiter();
  return {
    async hit(key, limit, windowMs) {
      try {
        const [count, ttl] = (await redis.eval(HIT_SCRIPT, 1, `la:rl:${key}`, String(windowMs))) as [number, number];
        return decide(Number(count), limit, Number(ttl));
      } catch (error) {
        log.warn({ err: (error as Error).message }, 'rate limiter: Redis unreachable, counting in memory');
        return fallback.hit(key, limit, windowMs);
      }
    },
  };
}

export interface AttemptLimits {
  windowMs: number;
  perAccount: number;
  perIp: number;
}

/**
 * Counts one login or registration attempt against the account and the client
 * address. Every attempt counts, successful ones too: a success never gives an
 * attacker's address its budget back. Throws RATE_LIMITED when either is spent.
 */
export async function limitAttempt(
  limiter: RateLimiter,
  limits: AttemptLimits,
  attempt: { action: 'login' | 'register'; email: string; ip: string },
): Promise<void> {
  const [account, address] = await Promise.all([
    limiter.hit(`${attempt.action}:account:${attempt.email}`, limits.perAccount, limits.windowMs),
    limiter.hit(`${attempt.action}:ip:${attempt.ip}`, limits.perIp, limits.windowMs),
  ]);
  const refused = [account, address].filter((d) => !d.allowed);
  if (refused.length > 0) {
    const retryAfter = Math.max(...refused.map((d) => d.retryAfterSeconds));
    throw new AppError('RATE_LIMITED', `Too many attempts: try again in ${retryAfter} s`, { retryAfter });
  }
}
