import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOwnRedis, type OwnRedis } from '../../test/support/redis-server.js';
import { createMemorySessionCache, createRedisSessionCache, type SessionCache } from './session-cache.js';

let redisServer: OwnRedis;
let redis: Redis;
beforeAll(async () => {
  redisServer = await startOwnRedis();
  redis = new Redis(redisServer.url);
});
afterAll(async () => {
  redis?.disconnect();
  await redisServer?.stop();
});

// The same contract for both implementations: the development default must behave like production.
describe.each([
  ['Redis', () => createRedisSessionCache(redis)],
  ['memory', () => createMemorySessionCache()],
] as const)('%s session cache', (_name, make: () => SessionCache) => {
  const userId = 'a'.repeat(24);

  it('answers a miss, then what was created', async () => {
    const cache = make();
    const sid = randomUUID();
    expect((await cache.lookup(sid)).entry).toBeNull();
    await cache.create(sid, userId, 60_000);
    expect((await cache.lookup(sid)).entry).toEqual({ state: 'active', userId });
  });

  it('never lets a fill overwrite a revocation (the miss-then-revoke race)', async () => {
    const cache = make();
    const sid = randomUUID();
    // A request read "active" from MongoDB just before a revocation wrote its tombstone...
    await cache.revoke([sid], 60_000);
    await cache.fill(sid, { state: 'active', userId }, 60_000);
    // ...its late fill loses.
    expect((await cache.lookup(sid)).entry).toEqual({ state: 'revoked' });
  });

  it('lets a revocation overwrite an active entry', async () => {
    const cache = make();
    const sid = randomUUID();
    await cache.create(sid, userId, 60_000);
    await cache.revoke([sid], 60_000);
    expect((await cache.lookup(sid)).entry).toEqual({ state: 'revoked' });
  });

  it('says a lastActivity write is due at most once per throttle window', async () => {
    const cache = make();
    const sid = randomUUID();
    await cache.create(sid, userId, 60_000);
    expect((await cache.lookup(sid)).touchDue).toBe(false); // creation counts as activity
    const other = randomUUID();
    await cache.fill(other, { state: 'active', userId }, 60_000);
    expect((await cache.lookup(other)).touchDue).toBe(true);
    expect((await cache.lookup(other)).touchDue).toBe(false);
  });
});
