import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useOwnRedisClient } from '../../test/support/redis-server.js';
import { createMemorySessionCache, createRedisSessionCache, type SessionCache } from './session-cache.js';

const redis = useOwnRedisClient();

// The same contract for both implementations: the development default must behave like production.
const makers = [
  ['Redis', () => createRedisSessionCache(redis())],
  ['memory', () => createMemorySessionCache()],
] as const;

describe.each(makers)('%s session cache', (_name, make: () => SessionCache) => {
  const userId = 'a'.repeat(24);
  const user = { id: userId, email: 'ada@example.com', name: 'Ada', createdAt: new Date(1_000), updatedAt: new Date(2_000) };

  it('answers a miss, then what was created', async () => {
    const cache = make();
    const sid = randomUUID();
    expect((await cache.lookup(userId, sid)).entry).toBeNull();
    await cache.create(sid, user, 60_000);
    expect((await cache.lookup(userId, sid)).entry).toEqual({ state: 'active', userId });
  });

  it('never lets a fill overwrite a revocation (the miss-then-revoke race)', async () => {
    const cache = make();
    const sid = randomUUID();
    // A request read "active" from MongoDB just before a revocation wrote its tombstone...
    await cache.revoke(userId, [sid], 60_000);
    await cache.fill(userId, sid, { state: 'active', userId }, 60_000, await cache.epoch(userId));
    // ...its late fill loses.
    expect((await cache.lookup(userId, sid)).entry).toEqual({ state: 'revoked' });
  });

  it('never takes a fill into a Redis that lost its data since the read began (the epoch moved)', async () => {
    const cache = make();
    const sid = randomUUID();
    const other = 'c'.repeat(24);
    // The request's lookup saw this epoch, then read MongoDB...
    const seen = await cache.epoch(other);
    expect(await cache.epoch(other)).toBe(seen);
    // ...meanwhile Redis restarted empty, and someone else's cold path made a new epoch.
    const flushed = make === makers[0][1] ? (await redis().flushall(), cache) : make();
    const now = await flushed.epoch(other);
    expect(now).not.toBe(seen);
    await flushed.fill(other, sid, { state: 'active', userId: other }, 60_000, seen);
    expect((await flushed.lookup(other, sid)).entry).toBeNull();
    await flushed.fill(other, sid, { state: 'active', userId: other }, 60_000, now);
    expect((await flushed.lookup(other, sid)).entry).toEqual({ state: 'active', userId: other });
    expect((await flushed.lookup(other, sid)).epoch).toBe(now);
  });

  it('lets a revocation overwrite an active entry', async () => {
    const cache = make();
    const sid = randomUUID();
    await cache.create(sid, user, 60_000);
    await cache.revoke(userId, [sid], 60_000);
    expect((await cache.lookup(userId, sid)).entry).toEqual({ state: 'revoked' });
  });

  it('says a lastActivity write is due at most once per throttle window', async () => {
    const cache = make();
    const sid = randomUUID();
    await cache.create(sid, user, 60_000);
    expect((await cache.lookup(userId, sid)).touchDue).toBe(false); // creation counts as activity
    const other = randomUUID();
    await cache.fill(userId, other, { state: 'active', userId }, 60_000, await cache.epoch(userId));
    expect((await cache.lookup(userId, other)).touchDue).toBe(true);
    expect((await cache.lookup(userId, other)).touchDue).toBe(false);
  });

  it('keeps the profile beside the session, and lets only a change overwrite a stored one', async () => {
    const cache = make();
    const sid = randomUUID();
    await cache.create(sid, user, 60_000);
    expect(await cache.lookup(userId, sid)).toMatchObject({ entry: { state: 'active', userId }, profile: user });
    // A cold-path fill that read MongoDB before a change must not undo the change.
    const renamed = { ...user, updatedAt: new Date(3_000) };
    await cache.storeProfile(renamed);
    await cache.fillProfile(user);
    expect((await cache.lookup(userId, sid)).profile).toEqual(renamed);
    // Another user's id never reads this profile.
    expect((await cache.lookup('b'.repeat(24), sid)).profile).toBeNull();
  });

  it('forgets a deleted account, and a tombstone still beats its profile', async () => {
    const cache = make();
    const sid = randomUUID();
    await cache.create(sid, user, 60_000);
    await cache.revoke(userId, [sid], 60_000);
    expect(await cache.lookup(userId, sid)).toMatchObject({ entry: { state: 'revoked' }, profile: user });
    await cache.clearUser(userId);
    expect((await cache.lookup(userId, sid)).profile).toBeNull();
  });
});
