import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useOwnRedisClient } from '../../test/support/redis-server.js';
import { ExpiringMap } from '../expiring-map.js';
import { createMemorySessionCache, createRedisSessionCache, type SessionCache } from '../auth/session-cache.js';
import { createMemorySessionList, createRedisSessionList, SESSION_LIST_REFRESH_MS, type ListedSession, type SessionList } from './session-list.js';

const redis = useOwnRedisClient();

const HOUR = 3600_000;
function session(createdAt: number, expiresIn = HOUR): ListedSession {
  const now = Date.now();
  return {
    id: randomUUID(),
    deviceInfo: 'Firefox on Linux',
    ipAddress: '10.0.0.1',
    userAgent: 'Mozilla/5.0',
    createdAt: new Date(now - createdAt),
    lastActivity: new Date(now - createdAt),
    expiresAt: new Date(now + expiresIn),
    idleExpiresAt: new Date(now + expiresIn),
  };
}

// Both implementations keep one contract: the list answers only with the session states beside it.
describe.each([
  ['Redis', (): [SessionCache, SessionList] => [createRedisSessionCache(redis()), createRedisSessionList(redis())]],
  [
    'memory',
    (): [SessionCache, SessionList] => {
      const states = new ExpiringMap<string>();
      return [createMemorySessionCache(Date.now, states), createMemorySessionList(states)];
    },
  ],
] as const)('%s session list', (_name, make) => {
  const user = { id: '', email: 'ada@example.com', name: 'Ada', createdAt: new Date(), updatedAt: new Date() };
  const fresh = () => ({ ...user, id: randomUUID().replace(/-/g, '').slice(0, 24) });
  const open = async (cache: SessionCache, list: SessionList, owner: typeof user, s: ListedSession) => {
    await cache.create(s.id, owner, HOUR);
    await list.add(owner.id, s);
  };

  it('knows nothing until filled, even after a sign-in added one session', async () => {
    const [cache, list] = make();
    const owner = fresh();
    const older = session(5000);
    await cache.fill(owner.id, older.id, { state: 'active', userId: owner.id }, HOUR, await cache.epoch(owner.id));
    expect(await list.read(owner.id)).toBeNull();
    const newer = session(1000);
    await open(cache, list, owner, newer);
    expect(await list.read(owner.id)).toBeNull(); // `add` alone is not the whole list
    await list.fill(owner.id, [older], await cache.epoch(owner.id));
    expect((await list.read(owner.id))?.map((s) => s.id)).toEqual([newer.id, older.id]);
  });

  it('leaves out revoked and expired sessions, and asks for MongoDB when a state is unknown', async () => {
    const [cache, list] = make();
    const owner = fresh();
    const [kept, revoked, expired] = [session(3000), session(2000), session(1000, -1)];
    for (const s of [kept, revoked, expired]) await open(cache, list, owner, s);
    await list.fill(owner.id, [], await cache.epoch(owner.id));
    await cache.revoke(owner.id, [revoked.id], HOUR);
    expect((await list.read(owner.id))?.map((s) => s.id)).toEqual([kept.id]);
    // An evicted state: the list cannot tell, so it does not answer.
    const unknown = session(500);
    await list.add(owner.id, unknown);
    expect(await list.read(owner.id)).toBeNull();
  });

  it('takes no fill whose read began before the epoch moved', async () => {
    const [cache, list] = make();
    const owner = fresh();
    const s = session(1000);
    await open(cache, list, owner, s);
    await list.fill(owner.id, [], 'an epoch this Redis never had');
    expect(await list.read(owner.id)).toBeNull();
    await list.fill(owner.id, [], await cache.epoch(owner.id));
    expect((await list.read(owner.id))?.map((x) => x.id)).toEqual([s.id]);
  });

  it('moves lastActivity forward, and forgets a cleared account', async () => {
    const [cache, list] = make();
    const owner = fresh();
    const s = session(60_000);
    await cache.fill(owner.id, s.id, { state: 'active', userId: owner.id }, HOUR, await cache.epoch(owner.id));
    // The activity lands before a fill whose MongoDB read was older: the later time wins.
    const at = new Date();
    await list.touch(owner.id, s.id, at, s.idleExpiresAt);
    await list.fill(owner.id, [s], await cache.epoch(owner.id));
    expect((await list.read(owner.id))?.[0]?.lastActivity).toEqual(at);
    const later = new Date(at.getTime() + 1000);
    await list.touch(owner.id, s.id, later, s.idleExpiresAt);
    expect((await list.read(owner.id))?.[0]?.lastActivity).toEqual(later);
    await list.clear(owner.id);
    expect(await list.read(owner.id)).toBeNull();
  });

  it('shows a rename in every read, also over a later fill that read the old name from MongoDB', async () => {
    const [cache, list] = make();
    const owner = fresh();
    const s = session(1000);
    await open(cache, list, owner, s);
    await list.rename(owner.id, s.id, 'Work laptop');
    await list.fill(owner.id, [s], await cache.epoch(owner.id));
    expect((await list.read(owner.id))?.map((x) => x.deviceInfo)).toEqual(['Work laptop']);
    expect((await list.known(owner.id)).map((x) => x.deviceInfo)).toEqual(['Work laptop']);
    expect((await list.find(owner.id, s.id))?.deviceInfo).toBe('Work laptop');
  });

  it('tells which sessions it knows of, newest first, whole or not, without the expired ones', async () => {
    const [cache, list] = make();
    const owner = fresh();
    expect(await list.known(owner.id)).toEqual([]);
    const older = session(60_000);
    const newer = session(1_000);
    const expired = session(120_000, -1000);
    // Not filled: what sign-ins added is known, though the list is not whole.
    for (const s of [older, expired, newer]) await open(cache, list, owner, s);
    expect(await list.read(owner.id)).toBeNull();
    expect((await list.known(owner.id)).map((s) => s.id)).toEqual([newer.id, older.id]);
    expect(await list.known(fresh().id)).toEqual([]);
  });
});

describe('a filled session list', () => {
  it('is trusted for SESSION_LIST_REFRESH_MS, then MongoDB is asked again (a sign-in whose cache write failed shows up)', async () => {
    let clock = Date.now();
    const states = new ExpiringMap<string>(() => clock);
    const [cache, list] = [createMemorySessionCache(() => clock, states), createMemorySessionList(states, () => clock)];
    const userId = 'c'.repeat(24);
    const s = session(1000);
    await cache.fill(userId, s.id, { state: 'active', userId }, 24 * HOUR, await cache.epoch(userId));
    await list.fill(userId, [s], await cache.epoch(userId));
    clock += SESSION_LIST_REFRESH_MS - 1000;
    expect((await list.read(userId))?.map((x) => x.id)).toEqual([s.id]);
    clock += 2000;
    expect(await list.read(userId)).toBeNull();
  });
});
