import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useOwnRedisClient } from '../../test/support/redis-server.js';
import { createMemorySessionCache, createRedisSessionCache, type SessionCache } from './session-cache.js';

const redis = useOwnRedisClient();

// The same contract for both implementations: the development default must behave like production.
describe.each([
  ['Redis', () => createRedisSessionCache(redis())],
  ['memory', () => createMemorySessionCache()],
] as const)('%s session cache', (_name, make: () => SessionCache) => {
  const userId = 'a'.repeat(24);
  const user = { id: userId, email: 'ada@example.com', name: 'Ada', createdAt: new Date(1_000), updatedAt: new Date(2_000) };

  it('answers a miss, then what was created', async () => {
    const cache = make();
    const sid = randomUUID();
    expect((await cache.lookup(sid, userId)).entry).toBeNull();
    await cache.create(sid, user, 60_000);
    expect((await cache.lookup(sid, userId)).entry).toEqual({ state: 'active', userId });
  });

  it('never lets a fill overwrite a revocation (the miss-then-revoke race)', async () => {
    const cache = make();
    const sid = randomUUID();
    // A request read "active" from MongoDB just before a revocation wrote its tombstone...
    await cache.revoke([sid], 60_000);
    await cache.fill(sid, { state: 'active', userId }, 60_000);
    // ...its late fill loses.
    expect((await cache.lookup(sid, userId)).entry).toEqual({ state: 'revoked' });
  });

  it('lets a revocation overwrite an active entry', async () => {
    const cache = make();
    const sid = randomUUID();
    await cache.create(sid, user, 60_000);
    await cache.revoke([sid], 60_000);
    expect((await cache.lookup(sid, userId)).entry).toEqual({ state: 'revoked' });
  });

  it('says a lastActivity write is due at most once per throttle window', async () => {
    const cache = make();
    const sid = randomUUID();
    await cache.create(sid, user, 60_000);
    expect((await cache.lookup(sid, userId)).touchDue).toBe(false); // creation counts as activity
    const other = randomUUID();
    await cache.fill(other, { state: 'active', userId }, 60_000);
    expect((await cache.lookup(other, userId)).touchDue).toBe(true);
    expect((await cache.lookup(other, userId)).touchDue).toBe(false);
  });

  it('keeps the profile beside the session, and lets only a change overwrite a stored one', async () => {
    const cache = make();
    const sid = randomUUID();
    await cache.create(sid, user, 60_000);
    expect(await cache.lookup(sid, userId)).toMatchObject({ entry: { state: 'active', userId }, profile: user });
    // A cold-path fill that read MongoDB before a change must not undo the change.
    const renamed = { ...user, updatedAt: new Date(3_000) };
    await cache.storeProfile(renamed);
    await cache.fillProfile(user);
    expect((await cache.lookup(sid, userId)).profile).toEqual(renamed);
    // Another user's id never reads this profile.
    expect((await cache.lookup(sid, 'b'.repeat(24))).profile).toBeNull();
  });

  it('forgets a deleted account, and a tombstone still beats its profile', async () => {
    const cache = make();
    const sid = randomUUID();
    await cache.create(sid, user, 60_000);
    await cache.revoke([sid], 60_000);
    expect(await cache.lookup(sid, userId)).toMatchObject({ entry: { state: 'revoked' }, profile: user });
    await cache.clearUser(userId);
    expect((await cache.lookup(sid, userId)).profile).toBeNull();
  });
});
