import { Cluster } from 'ioredis';
import { expect } from 'vitest';
import { channel, type Topic } from '../../src/pubsub.js';
import type { Services } from '../../src/services.js';

/**
 * Waits until exactly `count` connections listen for `userId`'s revocations
 * (or another topic's messages), asking Redis itself (PUBSUB NUMSUB): the
 * moment a subscription is really live, or (count 0) a closed stream has given
 * its subscription back.
 */
export async function waitForSubscribers(
  services: Services,
  userId: string,
  count: number,
  topic: Topic = 'sessionRevoked',
): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const subscribers = await subscriberCount(services, userId, topic);
    if (subscribers === count) return;
    if (Date.now() > deadline) throw new Error(`${channel(topic, userId)} has ${subscribers} subscriber(s), not ${count}, after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** How many connections listen for `userId`'s messages on `topic`, as Redis counts them (PUBSUB NUMSUB). */
export async function subscriberCount(services: Services, userId: string, topic: Topic = 'sessionRevoked'): Promise<number> {
  const [count = 0] = await subscriberCounts(services, [channel(topic, userId)]);
  return count;
}

/**
 * PUBSUB NUMSUB of each channel. A cluster node counts only the subscribers
 * connected to it, and a server's subscriber may be on any node (src/redis-client.ts):
 * on a cluster, the sum over every node.
 */
export async function subscriberCounts(services: Services, channels: readonly string[]): Promise<number[]> {
  const { redis } = services;
  if (!redis) throw new Error('subscriberCount needs Redis');
  const nodes = redis instanceof Cluster ? redis.nodes('all') : [redis];
  const counts = channels.map(() => 0);
  for (const node of nodes) {
    const reply = (await node.call('PUBSUB', 'NUMSUB', ...channels)) as Array<string | number>;
    channels.forEach((_, i) => (counts[i]! += Number(reply[i * 2 + 1])));
  }
  return counts;
}

/** Every channel matching `pattern` some connection listens on (PUBSUB CHANNELS; on a cluster, over every node). */
export async function liveChannels(services: Services, pattern: string): Promise<string[]> {
  const { redis } = services;
  if (!redis) throw new Error('liveChannels needs Redis');
  const nodes = redis instanceof Cluster ? redis.nodes('all') : [redis];
  const channels = await Promise.all(nodes.map(async (node) => (await node.call('PUBSUB', 'CHANNELS', pattern)) as string[]));
  return [...new Set(channels.flat())];
}

/** Nothing of any stream is left on the server: no listener, no running stream, no Redis subscription. */
export async function expectNoStreamLeft(server: { services: Services }): Promise<void> {
  await expect.poll(() => server.services.pubsub.listenerCount()).toBe(0);
  await expect.poll(() => server.services.streams.running).toBe(0);
  const channels = await liveChannels(server.services, channel('sessionRevoked', '*'));
  const counts = channels.length ? await subscriberCounts(server.services, channels) : [];
  expect(counts.reduce((a, b) => a + b, 0)).toBe(0);
}

/** Reads an async iterable to its end (the server completing the stream), or fails after `timeoutMs`. */
export async function readToEnd<T>(iterable: AsyncIterable<T>, timeoutMs = 10_000): Promise<T[]> {
  const items: T[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`stream did not end within ${timeoutMs} ms; got ${JSON.stringify(items)}`)), timeoutMs);
  });
  const read = (async () => {
    for await (const item of iterable) items.push(item);
    return items;
  })();
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Takes the next `n` items of an iterator without ending it. */
export async function take<T>(iterator: AsyncIterator<T>, n: number, timeoutMs = 10_000): Promise<T[]> {
  const items: T[] = [];
  const deadline = Date.now() + timeoutMs;
  while (items.length < n) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`waited ${timeoutMs} ms for ${n} items; got ${JSON.stringify(items)}`)), Math.max(1, deadline - Date.now()));
    });
    try {
      const next = await Promise.race([iterator.next(), timeout]);
      if (next.done) throw new Error(`stream ended after ${items.length} of ${n} items`);
      items.push(next.value);
    } finally {
      clearTimeout(timer);
    }
  }
  return items;
}
