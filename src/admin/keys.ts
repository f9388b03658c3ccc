import { createHash, timingSafeEqual } from 'node:crypto';
import { AppError, unauthenticated } from '../errors.js';
import type { RateLimiter } from '../auth/rate-limit.js';
import { addressGroup } from '../http/ip-address.js';

/**
 * The admin API's keys (ADMIN_API_KEYS). A key is never a user's token and a
 * user's token is never a key: user tokens are checked by src/auth/credentials.ts
 * only, on /api/auth and /graphql, and keys here only, on /api/admin.
 */

/** Failed admin authentications an address may make per window before it is refused for the rest of it. */
export const ADMIN_FAILURES_PER_WINDOW = 10;

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** What the logs call a key: a short hash, enough to tell keys apart, useless to anyone who reads it. */
export const keyIdOf = (key: string): string => `key_${digest(`logout-all admin key id:${key}`).toString('hex').slice(0, 12)}`;

export interface AdminKeys {
  /** Whether the admin API is on at all (some key configured). */
  readonly enabled: boolean;
  /**
   * The id of the key an `Authorization: Bearer <key>` header carries, else
   * UNAUTHENTICATED, counted per address toward ADMIN_FAILURES_PER_WINDOW
   * (RATE_LIMITED past it).
   */
  authenticate(authorization: string | null, ip: string): Promise<string>;
}

export function createAdminKeys(keys: readonly string[], limiter: RateLimiter, windowMs: number): AdminKeys {
  // Compared as fixed-length digests, every key every time: neither the length of a
  // key nor which one matched shows in the time taken.
  const known = keys.map((key) => ({ hash: digest(key), id: keyIdOf(key) }));
  const match = (presented: string): string | null => {
    const hash = digest(presented);
    let found: string | null = null;
    for (const key of known) if (timingSafeEqual(hash, key.hash) && found === null) found = key.id;
    return found;
  };
  return {
    enabled: known.length > 0,
    async authenticate(authorization, ip) {
      const presented = /^Bearer ([^\s]+)$/i.exec(authorization?.trim() ?? '')?.[1];
      const id = presented === undefined ? null : match(presented);
      if (id !== null) return id;
      const counted = await limiter.hit(`admin-auth:${addressGroup(ip)}`, ADMIN_FAILURES_PER_WINDOW, windowMs);
      if (!counted.allowed) throw new AppError('RATE_LIMITED', undefined, { retryAfter: counted.retryAfterSeconds });
      throw unauthenticated();
    },
  };
}
