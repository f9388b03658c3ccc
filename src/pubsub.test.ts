import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { useOwnRedisClient } from '../test/support/redis-server.js';
import { createMemoryPubSub, createRedisPubSub, type PubSub, type SessionRevokedMessage } from './pubsub.js';

const redis = useOwnRedisClient();
const subscribers: Redis[] = [];

/** Production's shape: commands on one connection, SUBSCRIBE on another (a subscribing connection can do nothing else). */
async function redisPubSub(): Promise<PubSub> {
  const subscriber = redis().duplicate();
  subscribers.push(subscriber);
  if (subscriber.status !== 'ready') await new Promise((resolve) => subscriber.once('ready', resolve));
  return createRedisPubSub(redis(), subscriber);
}

afterEach(() => {
  for (const subscriber of subscribers.splice(0)) subscriber.disconnect();
});

/** A listener that records what it gets and lets a test wait for its n-th message. */
function recorder<T>(): { seen: T[]; listener: (payload: T) => void; received: (n: number) => Promise<T[]> } {
  const seen: T[] = [];
  const waiters: Array<{ n: number; resolve: (items: T[]) => void }> = [];
  return {
    seen,
    listener(payload) {
      seen.push(payload);
      for (const waiter of waiters.filter((w) => seen.length >= w.n)) waiter.resolve(seen.slice());
    },
    received: (n) => (seen.length >= n ? Promise.resolve(seen.slice()) : new Promise((resolve) => waiters.push({ n, resolve }))),
  };
}

const revocation = (userId: string, seq: number): SessionRevokedMessage => ({
  userId,
  seq,
  sessionIds: [randomUUID()],
  reason: 'LOGOUT',
  revokedAt: new Date(seq).toISOString(),
});

// The same contract for both implementations: the development default must behave like production.
describe.each([
  ['Redis', redisPubSub],
  ['memory', async () => createMemoryPubSub()],
] as const)('%s pub/sub', (_name, make: () => Promise<PubSub>) => {
  it('delivers what is published on a topic and key, in order, to that subscription only', async () => {
    const pubsub = await make();
    const [alice, bob] = [randomUUID(), randomUUID()];
    const mine = recorder<SessionRevokedMessage>();
    const others = recorder<SessionRevokedMessage>();
    const created = recorder<unknown>();
    await pubsub.subscribe('sessionRevoked', alice, mine.listener);
    await pubsub.subscribe('sessionRevoked', bob, others.listener);
    await pubsub.subscribe('sessionCreated', alice, created.listener);

    const messages = [revocation(alice, 1), revocation(alice, 2), revocation(alice, 3)];
    for (const message of messages) await pubsub.publish('sessionRevoked', alice, message);
    // Then one for bob: once it is in, everything published before it has been delivered.
    const bobs = revocation(bob, 4);
    await pubsub.publish('sessionRevoked', bob, bobs);
    expect(await others.received(1)).toEqual([bobs]);
    expect(await mine.received(3)).toEqual(messages);
    expect(created.seen).toEqual([]);
    await pubsub.close();
  });

  it('hands every listener of a channel the same parsed object, a copy of what was published', async () => {
    const pubsub = await make();
    const userId = randomUUID();
    const [first, second] = [recorder<SessionRevokedMessage>(), recorder<SessionRevokedMessage>()];
    await pubsub.subscribe('sessionRevoked', userId, first.listener);
    await pubsub.subscribe('sessionRevoked', userId, second.listener);
    const message = revocation(userId, 1);
    await pubsub.publish('sessionRevoked', userId, message);
    const [[a], [b]] = await Promise.all([first.received(1), second.received(1)]);
    expect(a).toEqual(message);
    // Parsed once per message for all of them (src/streams/feeds.ts relies on it), and not the publisher's object.
    expect(a).toBe(b);
    expect(a).not.toBe(message);
    await pubsub.close();
  });

  it('stops delivering to a listener that unsubscribed, keeps the others, and counts what is left', async () => {
    const pubsub = await make();
    const userId = randomUUID();
    const [leaving, staying] = [recorder<SessionRevokedMessage>(), recorder<SessionRevokedMessage>()];
    const unsubscribe = await pubsub.subscribe('sessionRevoked', userId, leaving.listener);
    const unsubscribeStaying = await pubsub.subscribe('sessionRevoked', userId, staying.listener);
    expect(pubsub.listenerCount()).toBe(2);

    unsubscribe();
    expect(pubsub.listenerCount()).toBe(1);
    await pubsub.publish('sessionRevoked', userId, revocation(userId, 1));
    await staying.received(1);
    expect(leaving.seen).toEqual([]);

    unsubscribeStaying();
    expect(pubsub.listenerCount()).toBe(0);
    // A new subscription after the last one left gets what is published next.
    const again = recorder<SessionRevokedMessage>();
    await pubsub.subscribe('sessionRevoked', userId, again.listener);
    await pubsub.publish('sessionRevoked', userId, revocation(userId, 2));
    expect((await again.received(1)).map((m) => m.seq)).toEqual([2]);
    expect(staying.seen.map((m) => m.seq)).toEqual([1]);
    await pubsub.close();
  });
});

describe('Redis pub/sub, its subscriber connection dropped', () => {
  it('tells its loss listeners (what was published meanwhile is gone), and subscribes again once the connection is back', async () => {
    const pubsub = await redisPubSub();
    let losses = 0;
    pubsub.onLost(() => (losses += 1));
    const userId = randomUUID();
    const before = recorder<SessionRevokedMessage>();
    await pubsub.subscribe('sessionRevoked', userId, before.listener);
    // As Redis itself cuts a subscriber (a full output buffer), or a network blip does.
    await redis().client('KILL', 'TYPE', 'pubsub');
    await expect.poll(() => losses).toBeGreaterThan(0);

    const after = recorder<SessionRevokedMessage>();
    await expect.poll(() => pubsub.subscribe('sessionRevoked', userId, after.listener).then(() => true, () => false)).toBe(true);
    const message = revocation(userId, 1);
    await pubsub.publish('sessionRevoked', userId, message);
    expect(await after.received(1)).toEqual([message]);
    await pubsub.close();
  });
});
