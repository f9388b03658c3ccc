import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { describe, expect, it } from 'vitest';
import { useOwnRedisClient } from '../../test/support/redis-server.js';
import { ExpiringMap } from '../expiring-map.js';
import { createMemoryDeadlines, createRedisDeadlines, type SessionDeadlines } from './deadlines.js';

const redis = useOwnRedisClient();
const DAY = 86_400_000;

// Both implementations keep one contract: the session check and the expiry sweep read either.
describe.each([
  ['Redis', (): SessionDeadlines => createRedisDeadlines(redis(), 180 * DAY)],
  ['memory', (): SessionDeadlines => createMemoryDeadlines(new ExpiringMap<string>(), 180 * DAY)],
])('session deadlines (%s)', (_name, make) => {
  const fresh = (): { userId: string; sessionId: string } => ({ userId: new Types.ObjectId().toHexString(), sessionId: randomUUID() });

  it('slides forward with use, never back and never past the absolute end', async () => {
    const deadlines = make();
    const { userId, sessionId } = fresh();
    const now = Date.now();
    await deadlines.set(userId, sessionId, now + 1000, now + 5000);
    expect(await deadlines.get(userId, sessionId)).toBe(now + 1000);
    expect(await deadlines.slide(userId, sessionId, now + 500, 2000)).toBe(now + 2500);
    // An older use (a late write) does not move it back.
    expect(await deadlines.slide(userId, sessionId, now, 2000)).toBe(now + 2500);
    expect(await deadlines.slide(userId, sessionId, now + 4000, 2000)).toBe(now + 5000);
    // A fill from MongoDB never overwrites what a use wrote.
    await deadlines.set(userId, sessionId, now + 100, now + 5000, true);
    expect(await deadlines.get(userId, sessionId)).toBe(now + 5000);
    expect(await deadlines.slide(fresh().userId, sessionId, now, 2000)).toBeNull();
  });

  it('hands each due session to one sweeper at a time, until it is removed or indexed again', async () => {
    const deadlines = make();
    const [a, b] = [fresh(), fresh()];
    const now = Date.now() + 365 * DAY;
    await deadlines.set(a.userId, a.sessionId, now - 10, now + DAY);
    await deadlines.set(b.userId, b.sessionId, now + 10, now + DAY);
    const taken = await deadlines.takeDue(now, 30_000, 1000);
    expect(taken).toContainEqual(a);
    expect(taken).not.toContainEqual(b);
    // Leased: another sweeper does not get it before the lease lapses.
    expect(await deadlines.takeDue(now, 30_000, 1000)).not.toContainEqual(a);
    expect(await deadlines.takeDue(now + 30_001, 30_000, 1000)).toContainEqual(a);
    await deadlines.reindex(a.userId, a.sessionId, now + 100_000);
    expect(await deadlines.takeDue(now + 60_001, 30_000, 1000)).not.toContainEqual(a);
    await deadlines.remove(b.userId, b.sessionId);
    expect(await deadlines.get(b.userId, b.sessionId)).toBeNull();
    expect(await deadlines.takeDue(now + 200_000, 30_000, 1000)).not.toContainEqual(b);
  });
});
