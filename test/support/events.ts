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
  if (!services.redis) throw new Error('subscriberCount needs Redis');
  const [, count] = (await services.redis.call('PUBSUB', 'NUMSUB', channel(topic, userId))) as [string, number];
  return Number(count);
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
