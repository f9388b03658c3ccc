import type { Topic } from '../../src/pubsub.js';
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
  const redis = services.redis;
  if (!redis) throw new Error('waitForSubscribers needs Redis');
  const channel = `la:${topic}:${userId}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const reply = (await redis.call('PUBSUB', 'NUMSUB', channel)) as [string, number];
    if (Number(reply[1]) === count) return;
    if (Date.now() > deadline) throw new Error(`${channel} has ${reply[1]} subscriber(s), not ${count}, after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
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
