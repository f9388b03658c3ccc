import type { Services } from '../services.js';
import { toUserView } from '../auth/viewer.js';
import type { UserRecord } from '../models/user.js';

/**
 * What an account change must tell the caches, so that the Redis-only reads
 * (`me`, the session list) stay in step with MongoDB.
 */

/** After the user document changed (a new password moves `updatedAt`): the cached profile follows. */
export async function refreshCachedProfile(
  services: Services,
  user: Pick<UserRecord, '_id' | 'email' | 'name' | 'createdAt' | 'updatedAt'>,
): Promise<void> {
  await services.cache.storeProfile(toUserView(user));
}

/**
 * After the account is deleted (its sessions revoked first, as every
 * revocation does): drops its profile and session list. Any token of it that
 * still reaches the server then asks MongoDB, finds no account, and is refused.
 */
export async function clearAccountCache(services: Services, userId: string): Promise<void> {
  await Promise.all([services.cache.clearUser(userId), services.sessionList.clear(userId)]);
}
